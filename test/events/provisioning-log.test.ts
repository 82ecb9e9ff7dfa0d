/** Provisioning log: one row per authenticated SCIM request, redacted, queryable, retained per tenant. */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { eachDatabase, startTestApp } from '../helpers/app.js';
import { admin, scim, userBody } from './helpers.js';
import { cleanupExpired } from '../../src/events/retention.js';

const ENTRA_UA = 'Azure Active Directory SCIM Client (Microsoft Entra ID)';
const OKTA_UA = 'Okta SCIM Client 1.0.0';

eachDatabase((kind) => {
  it('logs each SCIM request with IdP, outcome, resource and a redacted summary; queryable and paged', async () => {
    const t = await startTestApp(kind, { worker: false });
    try {
      const entra = (m: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', p: string, b?: unknown) => scim(t.app, t.scimToken, t.scimBase)(m, p, b, { 'user-agent': ENTRA_UA });
      const okta = (m: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', p: string, b?: unknown) => scim(t.app, t.scimToken, t.scimBase)(m, p, b, { 'user-agent': OKTA_UA });
      assert.equal((await entra('GET', '/Users?filter=userName eq "nobody"')).status, 200);
      const u = await okta('POST', '/Users', userBody('erin@example.com', { password: 'Pa55word-very-secret', displayName: 'Erin' }));
      assert.equal(u.status, 201);
      const id = u.body.id as string;
      assert.equal((await okta('POST', '/Users', userBody('erin@example.com', { password: 'Pa55word-very-secret' }))).status, 409);
      await okta('PATCH', `/Users/${id}`, {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op: 'replace', path: 'password', value: 'N3w-secret-password' }, { op: 'replace', value: { active: false, password: 'other-secret-xyz' } }],
      });
      await entra('DELETE', `/Users/${id}`);
      // unauthenticated: not attributed to the tenant
      await t.app.inject({ method: 'GET', url: `${t.scimBase}/Users?access_token=leaked-token-value`, headers: { authorization: 'Bearer wrong-token-123456' } });
      await t.deps.provisioningLog.flush();

      const all = await admin(t.app, 'GET', `/tenants/${t.tenantId}/provisioning-log?limit=100`);
      assert.equal(all.status, 200);
      const entries = all.body.entries as any[];
      assert.equal(entries.length, 5);
      const text = JSON.stringify(entries);
      for (const secret of ['Pa55word-very-secret', 'N3w-secret-password', 'other-secret-xyz', t.scimToken, 'leaked-token-value', 'wrong-token']) {
        assert.ok(!text.includes(secret), `log must not contain ${secret}`);
      }
      // newest first
      assert.deepEqual(entries.map((e) => `${e.method} ${e.status}`), ['DELETE 204', entries[1].method === 'PATCH' ? `PATCH ${entries[1].status}` : 'x', 'POST 409', 'POST 201', 'GET 200']);
      const [del, patch, conflict, create, probe] = entries;
      assert.equal(probe.idp, 'entra');
      assert.equal(probe.operation, 'list');
      assert.equal(create.idp, 'okta');
      assert.equal(create.outcome, 'success');
      assert.equal(create.resourceType, 'User');
      assert.equal(create.resourceId, id);
      assert.equal(create.summary.userName, 'erin@example.com');
      assert.ok(create.summary.attributes.includes('password'), 'the attribute name, never its value');
      assert.equal(conflict.outcome, 'failure');
      assert.equal(conflict.error.scimType, 'uniqueness');
      assert.equal(patch.summary.operations[0].path, 'password');
      assert.equal(patch.summary.operations[0].value, undefined);
      assert.equal(patch.summary.operations[1].active, false);
      assert.equal(del.resourceId, id);
      assert.equal(del.operation, 'delete');
      assert.ok(typeof del.durationMs === 'number');

      const failures = await admin(t.app, 'GET', `/tenants/${t.tenantId}/provisioning-log?outcome=failure`);
      assert.deepEqual(failures.body.entries.map((e: any) => e.status), [409]);
      const byResource = await admin(t.app, 'GET', `/tenants/${t.tenantId}/provisioning-log?resourceId=${id}`);
      assert.equal(byResource.body.entries.length, 3);
      const future = new Date(Date.now() + 3_600_000).toISOString();
      assert.equal((await admin(t.app, 'GET', `/tenants/${t.tenantId}/provisioning-log?from=${encodeURIComponent(future)}`)).body.entries.length, 0);
      const past = new Date(Date.now() - 3_600_000).toISOString();
      assert.equal((await admin(t.app, 'GET', `/tenants/${t.tenantId}/provisioning-log?from=${encodeURIComponent(past)}&to=${encodeURIComponent(future)}`)).body.entries.length, 5);
      // paging
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { body: { entries: { id: string }[]; nextCursor: string | null } } = await admin(
          t.app, 'GET', `/tenants/${t.tenantId}/provisioning-log?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        );
        seen.push(...page.body.entries.map((e) => e.id));
        cursor = page.body.nextCursor;
      } while (cursor);
      assert.deepEqual(seen, entries.map((e) => e.id));
      assert.equal((await admin(t.app, 'GET', `/tenants/${t.tenantId}/provisioning-log?outcome=maybe`)).status, 400);
    } finally {
      await admin(t.app, 'DELETE', `/tenants/${t.tenantId}`);
      await t.close();
    }
  });

  it('retention: rows older than the tenant setting are removed by the cleanup', async () => {
    const t = await startTestApp(kind, { worker: false });
    try {
      assert.equal((await admin(t.app, 'PUT', `/tenants/${t.tenantId}/settings`, { logRetentionDays: 2 })).status, 200);
      const other = await t.newTenant('keeps 30 days');
      for (const [tenant, days] of [[t.tenantId, 3], [t.tenantId, 1], [other.tenantId, 3]] as const) {
        await t.db.query(
          `INSERT INTO provisioning_log (tenant_id, at, method, path, idp, operation, outcome, status)
           VALUES ($1, now() - $2 * interval '1 day', 'GET', '/x', 'other', 'list', 'success', 200)`,
          [tenant, days],
        );
      }
      await cleanupExpired(t.db);
      const mine = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM provisioning_log WHERE tenant_id = $1', [t.tenantId]);
      const theirs = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM provisioning_log WHERE tenant_id = $1', [other.tenantId]);
      assert.equal(mine.rows[0]!.n, 1);
      assert.equal(theirs.rows[0]!.n, 1);
      await admin(t.app, 'DELETE', `/tenants/${other.tenantId}`);
    } finally {
      await admin(t.app, 'DELETE', `/tenants/${t.tenantId}`);
      await t.close();
    }
  });
});
