/**
 * Issue 17, item 3: a list or search page of Groups renders at most IDPBRIDGE_GROUP_MEMBERS_PAGE_MAX
 * members in all (besides IDPBRIDGE_GROUP_MEMBERS_INLINE_MAX per group), earlier groups of the page
 * first, so that no response grows with count × group size; both are published in
 * /ServiceProviderConfig.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eachDatabase, startTestApp } from '../helpers/app.js';
import { GROUP } from './helpers.js';

const LIMITS = 'urn:idpbridge:params:scim:schemas:extension:2.0:ServiceProviderConfig:limits';

eachDatabase((kind) => {
  test('members rendered per page are bounded in total; the rest are paged with groups.value eq', async () => {
    const t = await startTestApp(kind, { groupMembersInlineMax: 25, groupMembersPageMax: 60 });
    try {
      const h = { authorization: `Bearer ${t.scimToken}`, 'content-type': 'application/scim+json' };
      const spc = (await t.app.inject({ method: 'GET', url: `${t.scimBase}/ServiceProviderConfig`, headers: h })).json();
      assert.ok(spc.schemas.includes(LIMITS));
      assert.equal(spc[LIMITS].groupMembersInlineMax, 25);
      assert.equal(spc[LIMITS].groupMembersPageMax, 60);
      const { rows } = await t.db.query<{ id: string }>(
        `INSERT INTO scim_users (tenant_id, id, user_name, active, data, source, status)
         SELECT $1, gen_random_uuid(), 'm' || g || '@example.com', true, jsonb_build_object('userName', 'm' || g || '@example.com'), 'scim', 'active'
           FROM generate_series(1, 30) g RETURNING id::text AS id`,
        [t.tenantId],
      );
      const ids = rows.map((r) => r.id);
      const groups: string[] = [];
      for (let g = 0; g < 4; g++) {
        const r = await t.app.inject({ method: 'POST', url: `${t.scimBase}/Groups`, headers: h, payload: { schemas: [GROUP], displayName: `big${g}`, members: ids.map((value) => ({ value })) } });
        assert.equal(r.statusCode, 201, r.body);
        groups.push(r.json().id);
      }
      const list = async (url: string, init: { method: 'GET' | 'POST'; payload?: unknown } = { method: 'GET' }) => {
        const r = await t.app.inject({ method: init.method, url, headers: h, ...(init.payload ? { payload: init.payload as object } : {}) });
        assert.equal(r.statusCode, 200, r.body);
        return { body: r.body, groups: r.json().Resources as Array<{ id: string; members?: unknown[] }> };
      };
      for (const page of [
        await list(`${t.scimBase}/Groups?count=1000&sortBy=displayName`),
        await list(`${t.scimBase}/Groups/.search`, { method: 'POST', payload: { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], count: 1000, sortBy: 'displayName' } }),
      ]) {
        const counts = page.groups.map((g) => g.members?.length ?? 0);
        // In page order: 25 (the per-group cap), 25, the 10 left of the page's 60, then none.
        assert.deepEqual(counts, [25, 25, 10, 0]);
        // The size follows the budget, not count × group size (~150 bytes a member).
        assert.ok(page.body.length < 60 * 300 + 4 * 2_000, `${page.body.length} bytes`);
      }
      // A single group still renders up to the per-group cap; the members are all reachable by paging.
      const one = (await t.app.inject({ method: 'GET', url: `${t.scimBase}/Groups/${groups[3]}`, headers: h })).json();
      assert.equal(one.members.length, 25);
      const paged = (await t.app.inject({ method: 'GET', url: `${t.scimBase}/Users?count=100&filter=${encodeURIComponent(`groups.value eq "${groups[3]}"`)}`, headers: h })).json();
      assert.equal(paged.totalResults, 30);
    } finally {
      await t.close();
    }
  });
});
