import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { eachDatabase, startTestApp, type TestApp } from '../helpers/app.js';

eachDatabase((kind) => {
  let t: TestApp;
  before(async () => { t = await startTestApp(kind); });
  after(async () => { await t.close(); });
  const admin = () => ({ authorization: `Bearer ${t.adminToken}` });

  test('tenant lifecycle: create, get, list, delete', async () => {
    const c = await t.app.inject({ method: 'POST', url: '/admin/v1/tenants', headers: admin(), payload: { name: 'Contoso' } });
    assert.equal(c.statusCode, 201);
    const tenant = c.json();
    assert.match(tenant.id, /^[0-9a-f-]{36}$/);
    assert.equal(tenant.name, 'Contoso');
    assert.ok(tenant.scimBaseUrl.endsWith(`/scim/v2/${tenant.id}`));

    const g = await t.app.inject({ method: 'GET', url: `/admin/v1/tenants/${tenant.id}`, headers: admin() });
    assert.equal(g.statusCode, 200);
    assert.equal(g.json().name, 'Contoso');

    const l = await t.app.inject({ method: 'GET', url: '/admin/v1/tenants', headers: admin() });
    assert.ok(l.json().tenants.some((x: { id: string }) => x.id === tenant.id));

    const d = await t.app.inject({ method: 'DELETE', url: `/admin/v1/tenants/${tenant.id}`, headers: admin() });
    assert.equal(d.statusCode, 204);
    const g2 = await t.app.inject({ method: 'GET', url: `/admin/v1/tenants/${tenant.id}`, headers: admin() });
    assert.equal(g2.statusCode, 404);
    assert.equal(g2.json().code, 'ERR_NOT_FOUND');
  });

  test('operator token is required on every admin route', async () => {
    for (const [method, url] of [['GET', '/admin/v1/tenants'], ['POST', '/admin/v1/tenants'], ['GET', `/admin/v1/tenants/${t.tenantId}/scim-tokens`]] as const) {
      const none = await t.app.inject({ method, url, payload: method === 'POST' ? { name: 'x' } : undefined });
      assert.equal(none.statusCode, 401, `${method} ${url}`);
      const wrong = await t.app.inject({ method, url, headers: { authorization: 'Bearer idpb_admin_wrong' }, payload: method === 'POST' ? { name: 'x' } : undefined });
      assert.equal(wrong.statusCode, 401);
      assert.equal(wrong.json().code, 'ERR_UNAUTHORIZED');
    }
    // A SCIM token is not an operator token.
    const scim = await t.app.inject({ method: 'GET', url: '/admin/v1/tenants', headers: { authorization: `Bearer ${t.scimToken}` } });
    assert.equal(scim.statusCode, 401);
  });

  test('SCIM tokens: secret shown once, listed without secret, hashed at rest, revocable', async () => {
    const c = await t.app.inject({
      method: 'POST', url: `/admin/v1/tenants/${t.tenantId}/scim-tokens`, headers: admin(), payload: { name: 'Entra provisioning' },
    });
    assert.equal(c.statusCode, 201);
    const tok = c.json();
    assert.match(tok.token, /^idpb_scim_[A-Za-z0-9_-]{43}$/);
    assert.equal(tok.name, 'Entra provisioning');
    assert.equal(tok.status, 'active');
    assert.equal(c.headers['cache-control'], 'no-store');

    const l = await t.app.inject({ method: 'GET', url: `/admin/v1/tenants/${t.tenantId}/scim-tokens`, headers: admin() });
    const listed = l.json().tokens.find((x: { id: string }) => x.id === tok.id);
    assert.ok(listed);
    assert.equal(listed.token, undefined);
    assert.ok(!l.body.includes(tok.token));
    assert.equal(listed.tokenHint, `…${tok.token.slice(-4)}`);

    const { rows } = await t.db.query<{ token_hash: string }>('SELECT token_hash FROM scim_tokens WHERE tenant_id = $1 AND id = $2', [t.tenantId, tok.id]);
    assert.match(rows[0]!.token_hash, /^[0-9a-f]{64}$/);
    assert.notEqual(rows[0]!.token_hash, tok.token);

    const ok = await t.app.inject({ method: 'GET', url: `${t.scimBase}/Users`, headers: { authorization: `Bearer ${tok.token}` } });
    assert.equal(ok.statusCode, 200);
    const r = await t.app.inject({ method: 'DELETE', url: `/admin/v1/tenants/${t.tenantId}/scim-tokens/${tok.id}`, headers: admin() });
    assert.equal(r.statusCode, 204);
    const refused = await t.app.inject({ method: 'GET', url: `${t.scimBase}/Users`, headers: { authorization: `Bearer ${tok.token}` } });
    assert.equal(refused.statusCode, 401, 'revocation is effective at once in the same process');
    const again = await t.app.inject({ method: 'DELETE', url: `/admin/v1/tenants/${t.tenantId}/scim-tokens/${tok.id}`, headers: admin() });
    assert.equal(again.statusCode, 404);
  });

  test('token create validates input', async () => {
    const past = await t.app.inject({
      method: 'POST', url: `/admin/v1/tenants/${t.tenantId}/scim-tokens`, headers: admin(), payload: { expiresAt: '2000-01-01T00:00:00Z' },
    });
    assert.equal(past.statusCode, 400);
    const extra = await t.app.inject({
      method: 'POST', url: `/admin/v1/tenants/${t.tenantId}/scim-tokens`, headers: admin(), payload: { name: 'x', bogus: 1 },
    });
    assert.equal(extra.statusCode, 400);
    const missing = await t.app.inject({
      method: 'POST', url: '/admin/v1/tenants/00000000-0000-4000-8000-000000000000/scim-tokens', headers: admin(), payload: {},
    });
    assert.equal(missing.statusCode, 404);
    const badId = await t.app.inject({ method: 'GET', url: '/admin/v1/tenants/not-a-uuid', headers: admin() });
    assert.equal(badId.statusCode, 400);
  });

  test('settings: defaults, merge on PUT, validation', async () => {
    const g = await t.app.inject({ method: 'GET', url: `/admin/v1/tenants/${t.tenantId}/settings`, headers: admin() });
    assert.equal(g.statusCode, 200);
    assert.equal(g.json().newUserStatus, 'active');
    const p = await t.app.inject({ method: 'PUT', url: `/admin/v1/tenants/${t.tenantId}/settings`, headers: admin(), payload: { newUserStatus: 'staged' } });
    assert.equal(p.statusCode, 200);
    assert.equal(p.json().newUserStatus, 'staged');
    assert.equal(p.json().grantsAttribute, 'urn:ietf:params:scim:schemas:extension:2.0:CustomExtensionName:folders');
    const bad = await t.app.inject({ method: 'PUT', url: `/admin/v1/tenants/${t.tenantId}/settings`, headers: admin(), payload: { newUserStatus: 'sometimes' } });
    assert.equal(bad.statusCode, 400);
    const clash = await t.app.inject({
      method: 'PUT', url: `/admin/v1/tenants/${t.tenantId}/settings`, headers: admin(),
      payload: { extensionAttributes: [
        { schema: 'urn:ietf:params:scim:schemas:extension:2.0:Acme', name: 'code', type: 'string' },
        { schema: 'urn:ietf:params:scim:schemas:extension:2.0:Acme', name: 'CODE', type: 'integer' },
      ] },
    });
    assert.equal(clash.statusCode, 400);
    assert.match(clash.json().message, /code/i);
    const after = await t.app.inject({ method: 'GET', url: `/admin/v1/tenants/${t.tenantId}/settings`, headers: admin() });
    assert.deepEqual(after.json().extensionAttributes, [], 'a refused change stores nothing');
    await t.app.inject({ method: 'PUT', url: `/admin/v1/tenants/${t.tenantId}/settings`, headers: admin(), payload: { newUserStatus: 'active' } });
  });

  test('OpenAPI document lists the admin routes and no SCIM routes', async () => {
    const r = await t.app.inject({ method: 'GET', url: '/admin/v1/openapi.json' });
    assert.equal(r.statusCode, 200);
    const doc = r.json();
    assert.equal(doc.openapi, '3.0.3');
    assert.ok(doc.paths['/admin/v1/tenants']?.post);
    assert.ok(doc.paths['/admin/v1/tenants/{tenantId}/scim-tokens/{tokenId}']?.delete);
    assert.ok(!Object.keys(doc.paths).some((p) => p.startsWith('/scim')));
  });
});
