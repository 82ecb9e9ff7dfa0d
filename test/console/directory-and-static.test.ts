import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../../src/app.js';
import { eachDatabase, startTestApp, testConfig, type TestApp } from '../helpers/app.js';

eachDatabase((kind) => {
  let t: TestApp;
  before(async () => { t = await startTestApp(kind); });
  after(async () => { await t.close(); });
  const admin = () => ({ authorization: `Bearer ${t.adminToken}` });
  const scim = (method: string, path: string, payload?: unknown) => t.app.inject({
    method: method as 'GET', url: `${t.scimBase}${path}`, payload: payload as object,
    headers: { authorization: `Bearer ${t.scimToken}`, 'content-type': 'application/scim+json' },
  });

  test('scim-users: search and paging; provisioned users are read-only, manual ones are not', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const r = await scim('POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: `dir.user${i}@contoso.example`, displayName: `Dir User ${i}`, emails: [{ value: `dir${i}@contoso.example`, primary: true }] });
      assert.equal(r.statusCode, 201, r.body);
      ids.push(r.json().id);
    }
    const manual = await t.app.inject({ method: 'POST', url: `/admin/v1/tenants/${t.tenantId}/users`, headers: admin(), payload: { userName: 'manual.person@contoso.example' } });
    assert.equal(manual.statusCode, 201, manual.body);

    const page1 = await t.app.inject({ method: 'GET', url: `/admin/v1/tenants/${t.tenantId}/scim-users?search=dir.user&limit=3`, headers: admin() });
    assert.equal(page1.statusCode, 200, page1.body);
    assert.equal(page1.json().total, 7);
    assert.deepEqual(page1.json().users.map((u: { userName: string }) => u.userName), ['dir.user0@contoso.example', 'dir.user1@contoso.example', 'dir.user2@contoso.example']);
    assert.equal(page1.json().users[0].readOnly, true);
    assert.equal(page1.json().users[0].source, 'scim');
    assert.equal(page1.json().users[0].email, 'dir0@contoso.example');
    const page3 = await t.app.inject({ method: 'GET', url: `/admin/v1/tenants/${t.tenantId}/scim-users?search=dir.user&limit=3&offset=6`, headers: admin() });
    assert.equal(page3.json().users.length, 1);
    assert.equal(page3.json().total, 7);

    const byDisplay = await t.app.inject({ method: 'GET', url: `/admin/v1/tenants/${t.tenantId}/scim-users?search=${encodeURIComponent('User 4')}`, headers: admin() });
    assert.equal(byDisplay.json().users.length, 1);
    const m = await t.app.inject({ method: 'GET', url: `/admin/v1/tenants/${t.tenantId}/scim-users?search=manual.person`, headers: admin() });
    assert.equal(m.json().users[0].readOnly, false);
    // quotes in the search text are data, not filter syntax
    const q = await t.app.inject({ method: 'GET', url: `/admin/v1/tenants/${t.tenantId}/scim-users?search=${encodeURIComponent('" or userName pr or "')}`, headers: admin() });
    assert.equal(q.statusCode, 200);
    assert.equal(q.json().total, 0);
    const huge = await t.app.inject({ method: 'GET', url: `/admin/v1/tenants/${t.tenantId}/scim-users?offset=99999999999999999999`, headers: admin() });
    assert.equal(huge.statusCode, 400, 'an absurd offset is a 400, not a database error');
  });

  test('scim-groups: member counts and the access group linked by exact name', async () => {
    const u = await scim('POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'grp.member@contoso.example' });
    const g = await scim('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Finance Team', members: [{ value: u.json().id }] });
    assert.equal(g.statusCode, 201, g.body);
    await scim('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'finance team archive' });
    const before = await t.app.inject({ method: 'GET', url: `/admin/v1/tenants/${t.tenantId}/scim-groups?search=finance`, headers: admin() });
    assert.equal(before.json().total, 2);
    const fin = before.json().groups.find((x: { displayName: string }) => x.displayName === 'Finance Team');
    assert.equal(fin.memberCount, 1);
    assert.equal(fin.linkedAccessGroup, null);

    // case-sensitive: "finance team" does not link
    await t.app.inject({ method: 'POST', url: `/admin/v1/tenants/${t.tenantId}/access-groups`, headers: admin(), payload: { name: 'finance team' } });
    const ag = await t.app.inject({ method: 'POST', url: `/admin/v1/tenants/${t.tenantId}/access-groups`, headers: admin(), payload: { name: 'Finance Team' } });
    const after = await t.app.inject({ method: 'GET', url: `/admin/v1/tenants/${t.tenantId}/scim-groups?search=Finance%20Team`, headers: admin() });
    const fin2 = after.json().groups.find((x: { displayName: string }) => x.displayName === 'Finance Team');
    assert.deepEqual(fin2.linkedAccessGroup, { id: ag.json().id, name: 'Finance Team' });

    const members = await t.app.inject({ method: 'GET', url: `/admin/v1/tenants/${t.tenantId}/scim-groups/${g.json().id}/members`, headers: admin() });
    assert.equal(members.statusCode, 200);
    assert.equal(members.json().members[0].userName, 'grp.member@contoso.example');
    assert.equal(members.json().group.linkedAccessGroup.name, 'Finance Team');

    const other = await t.newTenant('Elsewhere');
    const cross = await t.app.inject({ method: 'GET', url: `/admin/v1/tenants/${other.tenantId}/scim-groups/${g.json().id}/members`, headers: admin() });
    assert.equal(cross.statusCode, 404, 'groups are per tenant');
  });

  test('the console is served at /console with a strict CSP', async () => {
    // A stand-in build (the real one is exercised by test/browser): index.html + one hashed asset.
    const dir = mkdtempSync(join(tmpdir(), 'idpb-console-built-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><div id="root"></div><script type="module" src="/console/assets/index-abc123.js"></script>');
    writeFileSync(join(dir, 'assets/index-abc123.js'), 'console.log(1)');
    const built = await buildApp({ config: testConfig({ consoleDir: dir }), db: t.db, logger: false, skipMigrations: true });
    try {
      for (const url of ['/console/', '/console']) {
        const r = await built.app.inject({ method: 'GET', url });
        assert.equal(r.statusCode, 200, url);
        assert.match(r.headers['content-type'] as string, /text\/html/);
        assert.match(r.body, /<div id="root">/);
        assert.match(r.headers['content-security-policy'] as string, /script-src 'self'/);
        assert.match(r.headers['content-security-policy'] as string, /frame-ancestors 'none'/);
        assert.equal(r.headers['cache-control'], 'no-cache');
      }
      const a = await built.app.inject({ method: 'GET', url: '/console/assets/index-abc123.js' });
      assert.equal(a.statusCode, 200);
      assert.match(a.headers['cache-control'] as string, /immutable/);
      assert.match(a.headers['content-security-policy'] as string, /default-src 'self'/);
      const missing = await built.app.inject({ method: 'GET', url: '/console/assets/nope.js' });
      assert.equal(missing.statusCode, 404);
      const traversal = await built.app.inject({ method: 'GET', url: '/console/..%2f..%2fpackage.json' });
      assert.notEqual(traversal.statusCode, 200);
    } finally {
      await built.app.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('without a build, /console answers 503 saying to run npm run build', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'idpb-console-'));
    try {
      const built = await buildApp({ config: testConfig({ consoleDir: empty }), db: t.db, logger: false, skipMigrations: true });
      try {
        for (const url of ['/console', '/console/', '/console/anything']) {
          const r = await built.app.inject({ method: 'GET', url });
          assert.equal(r.statusCode, 503, url);
          assert.match(r.body, /npm run build/);
          assert.match(r.headers['content-type'] as string, /text\/html/);
        }
        // the session API still works
        const s = await built.app.inject({ method: 'GET', url: '/console/api/session' });
        assert.equal(s.statusCode, 401);
      } finally {
        await built.app.close();
      }
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
