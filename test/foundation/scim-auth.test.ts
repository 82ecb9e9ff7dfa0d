import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { eachDatabase, startTestApp, type TestApp } from '../helpers/app.js';

const ROUTES: [string, string][] = [
  ['GET', '/Users'], ['POST', '/Users'], ['GET', '/Users/00000000-0000-4000-8000-000000000001'],
  ['PUT', '/Users/00000000-0000-4000-8000-000000000001'], ['PATCH', '/Users/00000000-0000-4000-8000-000000000001'],
  ['DELETE', '/Users/00000000-0000-4000-8000-000000000001'], ['GET', '/Groups'], ['POST', '/Groups'],
  ['GET', '/Groups/00000000-0000-4000-8000-000000000001'], ['PATCH', '/Groups/00000000-0000-4000-8000-000000000001'],
  ['DELETE', '/Groups/00000000-0000-4000-8000-000000000001'], ['POST', '/Users/.search'], ['POST', '/Groups/.search'],
  ['POST', '/.search'], ['POST', '/Bulk'], ['GET', '/ServiceProviderConfig'], ['GET', '/ResourceTypes'], ['GET', '/Schemas'],
];

eachDatabase((kind) => {
  let t: TestApp;
  before(async () => { t = await startTestApp(kind); });
  after(async () => { await t.close(); });

  test('another tenant\'s token is refused on every SCIM route, with the SCIM error format', async () => {
    const other = await t.newTenant('Other');
    for (const [method, path] of ROUTES) {
      const r = await t.app.inject({
        method: method as 'GET', url: `${t.scimBase}${path}`,
        headers: { authorization: `Bearer ${other.scimToken}`, 'content-type': 'application/scim+json' }, payload: method === 'GET' || method === 'DELETE' ? undefined : {},
      });
      assert.equal(r.statusCode, 401, `${method} ${path}`);
      assert.match(String(r.headers['content-type']), /^application\/scim\+json/);
      const body = r.json();
      assert.deepEqual(body.schemas, ['urn:ietf:params:scim:api:messages:2.0:Error']);
      assert.equal(body.status, '401');
    }
  });

  test('401 is identical for a missing tenant, a wrong token and no token (no tenant enumeration)', async () => {
    const missing = await t.app.inject({ method: 'GET', url: '/scim/v2/00000000-0000-4000-8000-00000000abcd/Users', headers: { authorization: `Bearer ${t.scimToken}` } });
    const wrong = await t.app.inject({ method: 'GET', url: `${t.scimBase}/Users`, headers: { authorization: 'Bearer idpb_scim_wrongwrongwrongwrong' } });
    const none = await t.app.inject({ method: 'GET', url: `${t.scimBase}/Users` });
    const garbage = await t.app.inject({ method: 'GET', url: '/scim/v2/not-a-uuid/Users', headers: { authorization: `Bearer ${t.scimToken}` } });
    for (const r of [missing, wrong, none, garbage]) {
      assert.equal(r.statusCode, 401);
      assert.equal(r.body, missing.body);
    }
  });

  test('expired token is refused', async () => {
    const c = await t.app.inject({
      method: 'POST', url: `/admin/v1/tenants/${t.tenantId}/scim-tokens`, headers: { authorization: `Bearer ${t.adminToken}` },
      payload: { name: 'short', expiresAt: new Date(Date.now() + 1500).toISOString() },
    });
    const tok = c.json().token as string;
    const ok = await t.app.inject({ method: 'GET', url: `${t.scimBase}/Users`, headers: { authorization: `Bearer ${tok}` } });
    assert.equal(ok.statusCode, 200);
    await new Promise((r) => setTimeout(r, 1700));
    const expired = await t.app.inject({ method: 'GET', url: `${t.scimBase}/Users`, headers: { authorization: `Bearer ${tok}` } });
    assert.equal(expired.statusCode, 401);
  });

  test('optional HTTP Basic credential', async () => {
    const admin = { authorization: `Bearer ${t.adminToken}` };
    const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
    const before = await t.app.inject({ method: 'GET', url: `${t.scimBase}/Users`, headers: { authorization: basic('okta', 'correct horse battery staple') } });
    assert.equal(before.statusCode, 401);
    const set = await t.app.inject({ method: 'PUT', url: `/admin/v1/tenants/${t.tenantId}/scim-basic`, headers: admin, payload: { username: 'okta', password: 'correct horse battery staple' } });
    assert.equal(set.statusCode, 204);
    const ok = await t.app.inject({ method: 'GET', url: `${t.scimBase}/Users`, headers: { authorization: basic('okta', 'correct horse battery staple') } });
    assert.equal(ok.statusCode, 200);
    const wrongPw = await t.app.inject({ method: 'GET', url: `${t.scimBase}/Users`, headers: { authorization: basic('okta', 'wrong') } });
    assert.equal(wrongPw.statusCode, 401);
    const wrongUser = await t.app.inject({ method: 'GET', url: `${t.scimBase}/Users`, headers: { authorization: basic('other', 'correct horse battery staple') } });
    assert.equal(wrongUser.statusCode, 401);
    const shown = await t.app.inject({ method: 'GET', url: `/admin/v1/tenants/${t.tenantId}/scim-basic`, headers: admin });
    assert.deepEqual(shown.json(), { username: 'okta' });
    await t.app.inject({ method: 'DELETE', url: `/admin/v1/tenants/${t.tenantId}/scim-basic`, headers: admin });
    const gone = await t.app.inject({ method: 'GET', url: `${t.scimBase}/Users`, headers: { authorization: basic('okta', 'correct horse battery staple') } });
    assert.equal(gone.statusCode, 401);
  });

  test('lastUsedAt is recorded (batched, not per request)', async () => {
    const admin = { authorization: `Bearer ${t.adminToken}` };
    const c = await t.app.inject({ method: 'POST', url: `/admin/v1/tenants/${t.tenantId}/scim-tokens`, headers: admin, payload: { name: 'last-used' } });
    const { id, token } = c.json() as { id: string; token: string };
    await t.app.inject({ method: 'GET', url: `${t.scimBase}/Users`, headers: { authorization: `Bearer ${token}` } });
    const { rows } = await t.db.query<{ last_used_at: Date | null }>('SELECT last_used_at FROM scim_tokens WHERE tenant_id = $1 AND id = $2', [t.tenantId, id]);
    assert.equal(rows[0]!.last_used_at, null, 'not written on the request path');
    // The flush normally runs on a 5 s timer (and at close); call it directly here.
    await t.deps.scimVerifier.flushLastUsed();
    const l = await t.app.inject({ method: 'GET', url: `/admin/v1/tenants/${t.tenantId}/scim-tokens`, headers: admin });
    const used = l.json().tokens.find((x: { id: string }) => x.id === id).lastUsedAt as string;
    assert.ok(used && Date.now() - Date.parse(used) < 60_000);
  });
});
