import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { eachDatabase, startTestApp, type TestApp } from '../helpers/app.js';

eachDatabase((kind) => {
  let t: TestApp;
  before(async () => { t = await startTestApp(kind, { bodyLimit: 64 * 1024 }); });
  after(async () => { await t.close(); });
  const scim = () => ({ authorization: `Bearer ${t.scimToken}` });
  const admin = () => ({ authorization: `Bearer ${t.adminToken}` });

  async function usersCount() {
    const { rows } = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM scim_users WHERE tenant_id = $1', [t.tenantId]);
    return rows[0]!.n;
  }

  test('SCIM: malformed JSON → 400 invalidSyntax, nothing written', async () => {
    const n = await usersCount();
    for (const payload of ['{', '{"userName": }', 'null', '[]', '"x"', '{"userName":"a"}garbage']) {
      const r = await t.app.inject({ method: 'POST', url: `${t.scimBase}/Users`, headers: { ...scim(), 'content-type': 'application/scim+json' }, payload });
      assert.equal(r.statusCode, 400, payload);
      assert.equal(r.json().scimType, 'invalidSyntax', payload);
      assert.equal(r.json().status, '400');
      assert.ok(r.json().detail.length > 10);
    }
    assert.equal(await usersCount(), n);
  });

  test('SCIM: wrong content type → 415, oversized body → 413, both in SCIM format', async () => {
    const ct = await t.app.inject({ method: 'POST', url: `${t.scimBase}/Users`, headers: { ...scim(), 'content-type': 'text/xml' }, payload: '<user/>' });
    assert.equal(ct.statusCode, 415);
    assert.deepEqual(ct.json().schemas, ['urn:ietf:params:scim:api:messages:2.0:Error']);
    const big = JSON.stringify({ userName: 'big', title: 'x'.repeat(70 * 1024) });
    const r = await t.app.inject({ method: 'POST', url: `${t.scimBase}/Users`, headers: { ...scim(), 'content-type': 'application/scim+json' }, payload: big });
    assert.equal(r.statusCode, 413);
    assert.equal(r.json().status, '413');
  });

  test('SCIM: unknown route → 404 in SCIM format; unknown method → 404/405, never 500', async () => {
    const r = await t.app.inject({ method: 'GET', url: `${t.scimBase}/Nope`, headers: scim() });
    assert.equal(r.statusCode, 404);
    assert.deepEqual(r.json().schemas, ['urn:ietf:params:scim:api:messages:2.0:Error']);
    const m = await t.app.inject({ method: 'PUT', url: `${t.scimBase}/Users`, headers: { ...scim(), 'content-type': 'application/scim+json' }, payload: '{}' });
    assert.ok(m.statusCode >= 400 && m.statusCode < 500);
  });

  test('admin: malformed JSON, wrong content type, oversized, unknown route → clean 4xx JSON', async () => {
    const bad = await t.app.inject({ method: 'POST', url: '/admin/v1/tenants', headers: { ...admin(), 'content-type': 'application/json' }, payload: '{"name":' });
    assert.equal(bad.statusCode, 400);
    assert.equal(typeof bad.json().message, 'string');
    const ct = await t.app.inject({ method: 'POST', url: '/admin/v1/tenants', headers: { ...admin(), 'content-type': 'text/plain' }, payload: 'name=x' });
    assert.equal(ct.statusCode, 415);
    const big = await t.app.inject({ method: 'POST', url: '/admin/v1/tenants', headers: { ...admin(), 'content-type': 'application/json' }, payload: JSON.stringify({ name: 'x'.repeat(70 * 1024) }) });
    assert.equal(big.statusCode, 413);
    const nf = await t.app.inject({ method: 'GET', url: '/admin/v1/nothing-here', headers: admin() });
    assert.equal(nf.statusCode, 404);
    assert.equal(nf.json().code, 'ERR_NOT_FOUND');
    const wrongType = await t.app.inject({ method: 'POST', url: '/admin/v1/tenants', headers: admin(), payload: { name: { first: 'x' } } });
    assert.equal(wrongType.statusCode, 400);
  });

  test('ops endpoints: healthz, readyz, metrics', async () => {
    assert.equal((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
    const ready = await t.app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(ready.statusCode, 200);
    assert.equal(ready.json().database, kind === 'postgres' ? 'postgres' : 'pglite');
    await t.app.inject({ method: 'GET', url: `${t.scimBase}/Users`, headers: scim() });
    const m = await t.app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(m.statusCode, 200);
    assert.match(m.body, /idpbridge_http_requests_total\{method="GET",route="\/scim\/v2\/:tenantId\/Users",status="200"\} \d+/);
    assert.match(m.body, /idpbridge_http_request_duration_seconds_bucket/);
    assert.ok(!m.body.includes(t.tenantId), 'route templates, not tenant ids, label the metrics');
  });

  test('per-tenant rate limit answers 429 with Retry-After in SCIM format', async () => {
    const limited = await startTestApp(kind, { rateLimitPerMinute: 3 });
    try {
      const codes: number[] = [];
      let last;
      for (let i = 0; i < 5; i++) {
        last = await limited.app.inject({ method: 'GET', url: `${limited.scimBase}/Users`, headers: { authorization: `Bearer ${limited.scimToken}` } });
        codes.push(last.statusCode);
      }
      assert.deepEqual(codes, [200, 200, 200, 429, 429]);
      assert.ok(Number(last!.headers['retry-after']) > 0);
      assert.equal(last!.json().status, '429');
      // Another tenant is not affected.
      const other = await limited.newTenant('other');
      const o = await limited.app.inject({ method: 'GET', url: `${other.scimBase}/Users`, headers: { authorization: `Bearer ${other.scimToken}` } });
      assert.equal(o.statusCode, 200);
    } finally {
      await limited.close();
    }
  });
});
