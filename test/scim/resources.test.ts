import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { eachDatabase, startTestApp, type TestApp } from '../helpers/app.js';
import { scimClient, USER, GROUP } from './helpers.js';

eachDatabase((kind) => {
  let t: TestApp;
  let c: ReturnType<typeof scimClient>;
  before(async () => {
    t = await startTestApp(kind);
    c = scimClient(t, t.scimBase, t.scimToken);
  });
  after(async () => { await t.close(); });

  test('POST /Users: 201, Location, ETag, meta; password never returned', async () => {
    const r = await c.call('POST', '/Users', { schemas: [USER], userName: 'bjensen@example.com', password: 't1meMa$heen', name: { givenName: 'Barbara' } });
    assert.equal(r.status, 201);
    assert.equal(r.headers.location, r.body.meta.location);
    assert.ok(r.body.meta.location.endsWith(`/scim/v2/${t.tenantId}/Users/${r.body.id}`));
    assert.equal(r.headers.etag, r.body.meta.version);
    assert.match(r.body.meta.version, /^W\/"\d+"$/);
    assert.equal(r.body.meta.resourceType, 'User');
    assert.equal(r.body.password, undefined);
    const g = await c.call('GET', `/Users/${r.body.id}`);
    assert.ok(!g.raw.includes('t1meMa$heen') && !g.raw.includes('password'));
    const { rows } = await t.db.query<{ password_hash: string }>('SELECT password_hash FROM scim_users WHERE tenant_id = $1 AND id = $2', [t.tenantId, r.body.id]);
    assert.match(rows[0]!.password_hash, /^scrypt\$/);
  });

  test('userName is unique per tenant, case-insensitively (409 uniqueness), but not across tenants', async () => {
    await c.createUser('Case@Example.com');
    const dup = await c.call('POST', '/Users', { schemas: [USER], userName: 'case@EXAMPLE.com' });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.scimType, 'uniqueness');
    assert.match(dup.body.detail, /case@EXAMPLE\.com/);
    const other = await t.newTenant('other');
    const oc = scimClient(t, other.scimBase, other.scimToken);
    await oc.createUser('case@example.com');
  });

  test('ETags: If-Match mismatch → 412 and no change; If-None-Match → 304', async () => {
    const u = await c.createUser('etag@example.com');
    const stale = u.meta.version;
    const p = await c.patch(`/Users/${u.id}`, [{ op: 'replace', path: 'displayName', value: 'First' }], { 'if-match': stale });
    assert.equal(p.status, 204);
    const fresh = p.headers.etag as string;
    assert.notEqual(fresh, stale);
    const lost = await c.patch(`/Users/${u.id}`, [{ op: 'replace', path: 'displayName', value: 'Second' }], { 'if-match': stale });
    assert.equal(lost.status, 412);
    assert.equal((await c.call('GET', `/Users/${u.id}`)).body.displayName, 'First');
    const nm = await c.call('GET', `/Users/${u.id}`, undefined, { 'if-none-match': fresh });
    assert.equal(nm.status, 304);
    const m = await c.call('GET', `/Users/${u.id}`, undefined, { 'if-none-match': stale });
    assert.equal(m.status, 200);
    const del = await c.call('DELETE', `/Users/${u.id}`, undefined, { 'if-match': stale });
    assert.equal(del.status, 412);
  });

  test('a bad PATCH changes nothing (one transaction)', async () => {
    const u = await c.createUser('atomic@example.com', { title: 'Before' });
    const r = await c.patch(`/Users/${u.id}`, [
      { op: 'replace', path: 'title', value: 'After' },
      { op: 'replace', path: 'id', value: 'nope' },
    ]);
    assert.equal(r.status, 400);
    assert.equal(r.body.scimType, 'mutability');
    const g = await c.call('GET', `/Users/${u.id}`);
    assert.equal(g.body.title, 'Before');
    assert.equal(g.body.meta.version, u.meta.version);
  });

  test('paging, sorting and exact totalResults', async () => {
    const t2 = await t.newTenant('paging');
    const pc = scimClient(t, t2.scimBase, t2.scimToken);
    for (const n of ['delta', 'alpha', 'Charlie', 'bravo', 'echo']) await pc.createUser(n);
    const p1 = await pc.call('GET', '/Users?startIndex=1&count=2&sortBy=userName');
    assert.equal(p1.body.totalResults, 5);
    assert.equal(p1.body.itemsPerPage, 2);
    assert.equal(p1.body.startIndex, 1);
    assert.deepEqual(p1.body.Resources.map((u: { userName: string }) => u.userName), ['alpha', 'bravo']);
    const p3 = await pc.call('GET', '/Users?startIndex=5&count=2&sortBy=userName');
    assert.deepEqual(p3.body.Resources.map((u: { userName: string }) => u.userName), ['echo']);
    assert.equal(p3.body.totalResults, 5);
    const desc = await pc.call('GET', '/Users?sortBy=userName&sortOrder=descending&count=1');
    assert.equal(desc.body.Resources[0].userName, 'echo');
    const zero = await pc.call('GET', '/Users?count=0');
    assert.equal(zero.body.totalResults, 5);
    assert.deepEqual(zero.body.Resources, []);
    const badSort = await pc.call('GET', '/Users?sortBy=nonsense');
    assert.equal(badSort.status, 400);
  });

  test('attributes / excludedAttributes projection', async () => {
    const u = await c.createUser('proj@example.com', { name: { givenName: 'P', familyName: 'Q' }, title: 'T' });
    const a = await c.call('GET', `/Users/${u.id}?attributes=name.givenName`);
    assert.deepEqual(Object.keys(a.body).sort(), ['id', 'name', 'schemas']);
    assert.deepEqual(a.body.name, { givenName: 'P' });
    const e = await c.call('GET', `/Users/${u.id}?excludedAttributes=title,name`);
    assert.equal(e.body.title, undefined);
    assert.equal(e.body.name, undefined);
    assert.equal(e.body.userName, 'proj@example.com');
  });

  test('/.search on Users, Groups and root', async () => {
    const t3 = await t.newTenant('search');
    const sc = scimClient(t, t3.scimBase, t3.scimToken);
    const u = await sc.createUser('searchme@example.com');
    await sc.createGroup('Searchers', [u.id]);
    const s = await sc.call('POST', '/Users/.search', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter: 'userName sw "search"', attributes: ['userName'] });
    assert.equal(s.status, 200);
    assert.equal(s.body.totalResults, 1);
    assert.deepEqual(Object.keys(s.body.Resources[0]).sort(), ['id', 'schemas', 'userName']);
    const root = await sc.call('POST', '/.search', { filter: 'meta.created pr', count: 10 });
    assert.equal(root.body.totalResults, 2);
    assert.deepEqual(root.body.Resources.map((r: { meta: { resourceType: string } }) => r.meta.resourceType).sort(), ['Group', 'User']);
    const bad = await sc.call('POST', '/Groups/.search', { filter: 'displayName eq' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.scimType, 'invalidFilter');
  });

  test('filters never cross tenants, even with id of another tenant', async () => {
    const other = await t.newTenant('victim');
    const vc = scimClient(t, other.scimBase, other.scimToken);
    const victim = await vc.createUser('victim@example.com');
    const vg = await vc.createGroup('Victims', [victim.id]);
    for (const path of [
      `/Users?filter=${encodeURIComponent(`id eq "${victim.id}"`)}`,
      `/Users?filter=${encodeURIComponent('userName eq "victim@example.com"')}`,
      `/Groups?filter=${encodeURIComponent(`members[value eq "${victim.id}"]`)}`,
      `/Users?filter=${encodeURIComponent(`groups.value eq "${vg.id}"`)}`,
    ]) {
      const r = await c.call('GET', path);
      assert.equal(r.status, 200, path);
      assert.equal(r.body.totalResults, 0, path);
    }
    assert.equal((await c.call('GET', `/Users/${victim.id}`)).status, 404);
    assert.equal((await c.call('DELETE', `/Groups/${vg.id}`)).status, 404);
    // Another tenant's user cannot be added as a member.
    const mine = await c.createGroup('Mine');
    await c.patch(`/Groups/${mine.id}`, [{ op: 'add', path: 'members', value: [{ value: victim.id }] }]);
    const g = await c.call('GET', `/Groups/${mine.id}`);
    assert.equal(g.body.members, undefined);
    assert.equal((await vc.call('GET', `/Users/${victim.id}`)).status, 200);
  });

  test('Entra PATCH of a multi-valued extension attribute with [{"value": x}] elements', async () => {
    const u = await c.createUser('folders@example.com');
    const folders = 'urn:ietf:params:scim:schemas:extension:2.0:CustomExtensionName:folders';
    const r = await c.patch(`/Users/${u.id}`, [{ op: 'Add', path: folders, value: [{ value: 'Folder 1' }, { value: 'Folder 2' }] }]);
    assert.equal(r.status, 204);
    const g = await c.call('GET', `/Users/${u.id}`);
    assert.deepEqual(g.body['urn:ietf:params:scim:schemas:extension:2.0:CustomExtensionName'].folders, ['Folder 1', 'Folder 2']);
  });

  test('deleting a user removes its memberships in the same transaction', async () => {
    const u = await c.createUser('leaver@example.com');
    const g = await c.createGroup('Leavers', [u.id]);
    assert.equal((await c.call('DELETE', `/Users/${u.id}`)).status, 204);
    const after = await c.call('GET', `/Groups/${g.id}`);
    assert.equal(after.body.members, undefined);
    const { rows } = await t.db.query('SELECT 1 FROM scim_group_members WHERE tenant_id = $1 AND member_id = $2', [t.tenantId, u.id]);
    assert.equal(rows.length, 0);
    assert.equal((await c.call('GET', `/Users/${u.id}`)).status, 404);
  });

  test('group displayName unique (409), members add/remove by row, PUT replaces the member list', async () => {
    const [a, b, d] = [await c.createUser('m-a'), await c.createUser('m-b'), await c.createUser('m-d')];
    const g = await c.createGroup('Members', [a.id, b.id]);
    assert.equal((await c.call('POST', '/Groups', { schemas: [GROUP], displayName: 'members' })).status, 409);
    const put = await c.call('PUT', `/Groups/${g.id}`, { schemas: [GROUP], displayName: 'Members renamed', members: [{ value: b.id }, { value: d.id }] });
    assert.equal(put.status, 200);
    assert.deepEqual(put.body.members.map((m: { value: string }) => m.value).sort(), [b.id, d.id].sort());
    assert.equal(put.body.displayName, 'Members renamed');
    const ex = await c.call('GET', `/Groups/${g.id}?excludedAttributes=members`);
    assert.equal(ex.body.members, undefined);
    assert.equal(ex.body.displayName, 'Members renamed');
  });

  test('group members over the inline cap are paged through /Users?filter=groups.value eq', async () => {
    const capped = await startTestApp(kind, { groupMembersInlineMax: 3 });
    try {
      const cc = scimClient(capped, capped.scimBase, capped.scimToken);
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await cc.createUser(`cap${i}`)).id);
      const g = await cc.createGroup('Big', ids);
      const r = await cc.call('GET', `/Groups/${g.id}`);
      assert.equal(r.body.members.length, 3);
      const page = await cc.call('GET', `/Users?filter=${encodeURIComponent(`groups.value eq "${g.id}"`)}&count=2&attributes=userName`);
      assert.equal(page.body.totalResults, 5);
      assert.equal(page.body.Resources.length, 2);
    } finally {
      await capped.close();
    }
  });

  test('Bulk: bulkId references, per-operation results, failOnErrors, maxOperations', async () => {
    const r = await c.call('POST', '/Bulk', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations: [
        { method: 'POST', path: '/Groups', bulkId: 'g1', data: { schemas: [GROUP], displayName: 'Bulk group', members: [{ type: 'User', value: 'bulkId:u1' }] } },
        { method: 'POST', path: '/Users', bulkId: 'u1', data: { schemas: [USER], userName: 'bulk1@example.com' } },
        { method: 'PATCH', path: '/Users/bulkId:u1', data: { Operations: [{ op: 'replace', path: 'title', value: 'Bulked' }] } },
        { method: 'POST', path: '/Users', bulkId: 'dup', data: { schemas: [USER], userName: 'BULK1@example.com' } },
      ],
    });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.schemas, ['urn:ietf:params:scim:api:messages:2.0:BulkResponse']);
    const byId = Object.fromEntries(r.body.Operations.map((o: { bulkId?: string; method: string }) => [o.bulkId ?? o.method, o]));
    assert.equal(byId.u1.status, '201');
    assert.equal(byId.g1.status, '201');
    assert.equal(byId.PATCH.status, '200');
    assert.equal(byId.dup.status, '409');
    assert.equal(byId.dup.response.scimType, 'uniqueness');
    const gid = byId.g1.location.split('/').pop();
    const uid = byId.u1.location.split('/').pop();
    const g = await c.call('GET', `/Groups/${gid}`);
    assert.deepEqual(g.body.members.map((m: { value: string }) => m.value), [uid]);
    assert.equal((await c.call('GET', `/Users/${uid}`)).body.title, 'Bulked');

    const stop = await c.call('POST', '/Bulk', {
      failOnErrors: 1,
      Operations: [
        { method: 'POST', path: '/Users', bulkId: 'x1', data: { schemas: [USER] } },
        { method: 'POST', path: '/Users', bulkId: 'x2', data: { schemas: [USER], userName: 'never-created' } },
      ],
    });
    assert.equal(stop.body.Operations.length, 1);
    assert.equal(stop.body.Operations[0].status, '400');
    assert.equal((await c.call('GET', `/Users?filter=${encodeURIComponent('userName eq "never-created"')}`)).body.totalResults, 0);

    const many = await c.call('POST', '/Bulk', { Operations: Array.from({ length: 1001 }, (_, i) => ({ method: 'DELETE', path: `/Users/${i}` })) });
    assert.equal(many.status, 413);
  });

  test('discovery: ServiceProviderConfig, ResourceTypes, Schemas with tenant extensions', async () => {
    const spc = await c.call('GET', '/ServiceProviderConfig');
    assert.equal(spc.body.patch.supported, true);
    assert.equal(spc.body.bulk.maxOperations, 1000);
    assert.equal(spc.body.filter.maxResults, 1000);
    assert.equal(spc.body.etag.supported, true);
    const put = await t.app.inject({
      method: 'PUT', url: `/admin/v1/tenants/${t.tenantId}/settings`, headers: { authorization: `Bearer ${t.adminToken}` },
      payload: { extensionAttributes: [{ schema: 'urn:ietf:params:scim:schemas:extension:2.0:Acme', name: 'costCode', type: 'string', multiValued: false, canonicalValues: ['A1', 'B2'] }] },
    });
    assert.equal(put.statusCode, 200);
    await new Promise((r) => setTimeout(r, 1100)); // settings reach SCIM within the 1 s credential cache
    const schemas = await c.call('GET', '/Schemas');
    const acme = schemas.body.Resources.find((s: { id: string }) => s.id === 'urn:ietf:params:scim:schemas:extension:2.0:Acme');
    assert.ok(acme);
    assert.equal(acme.attributes[0].name, 'costCode');
    const rt = await c.call('GET', '/ResourceTypes/User');
    assert.ok(rt.body.schemaExtensions.some((e: { schema: string }) => e.schema === 'urn:ietf:params:scim:schemas:extension:2.0:Acme'));
    const ok = await c.call('POST', '/Users', { schemas: [USER], userName: 'acme1', 'urn:ietf:params:scim:schemas:extension:2.0:Acme': { costCode: 'A1' } });
    assert.equal(ok.status, 201);
    assert.equal(ok.body['urn:ietf:params:scim:schemas:extension:2.0:Acme'].costCode, 'A1');
    const refused = await c.call('POST', '/Users', { schemas: [USER], userName: 'acme2', 'urn:ietf:params:scim:schemas:extension:2.0:Acme': { costCode: 'Z9' } });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.scimType, 'invalidValue');
    assert.match(refused.body.detail, /A1/);
    const found = await c.call('GET', `/Users?filter=${encodeURIComponent('urn:ietf:params:scim:schemas:extension:2.0:Acme:costCode eq "A1"')}`);
    assert.equal(found.body.totalResults, 1);
  });
});
