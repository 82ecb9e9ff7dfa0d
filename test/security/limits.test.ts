/**
 * Limits, exactly at their boundaries: the per-tenant rate limit (429 + Retry-After, SCIM and /v1),
 * the body limit advertised as maxPayloadSize and the Bulk maxOperations of /ServiceProviderConfig.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eachDatabase, startTestApp } from '../helpers/app.js';
import { USER } from '../scim/helpers.js';
import { adminProblem, scimProblem } from './helpers.js';

const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';

/** A JSON document of exactly `size` bytes (UTF-8), padded in one string attribute. */
function exactly(size: number, base: Record<string, unknown>, pad = 'title'): string {
  const empty = JSON.stringify({ ...base, [pad]: '' });
  const fill = size - Buffer.byteLength(empty);
  assert.ok(fill >= 0, `base document longer than ${size}`);
  const doc = JSON.stringify({ ...base, [pad]: 'x'.repeat(fill) });
  assert.equal(Buffer.byteLength(doc), size);
  return doc;
}

eachDatabase((kind) => {
  test('body limit = maxPayloadSize: accepted at the limit, 413 one byte over (SCIM, Bulk, admin)', async () => {
    const t = await startTestApp(kind, { bodyLimit: 8192, bulkMaxOperations: 5 });
    try {
      const h = { authorization: `Bearer ${t.scimToken}`, 'content-type': 'application/scim+json' };
      const spc = (await t.app.inject({ method: 'GET', url: `${t.scimBase}/ServiceProviderConfig`, headers: h })).json();
      const max = spc.bulk.maxPayloadSize as number;
      assert.equal(max, 8192);
      assert.equal(spc.bulk.supported, true);
      assert.equal(spc.bulk.maxOperations, 5);

      const atLimit = exactly(max, { schemas: [USER], userName: 'at.limit@example.com' });
      const ok = await t.app.inject({ method: 'POST', url: `${t.scimBase}/Users`, headers: h, payload: atLimit });
      assert.equal(ok.statusCode, 201, ok.body);
      const over = exactly(max + 1, { schemas: [USER], userName: 'over.limit@example.com' });
      const big = await t.app.inject({ method: 'POST', url: `${t.scimBase}/Users`, headers: h, payload: over });
      assert.equal(big.statusCode, 413, big.body);
      assert.equal(scimProblem({ status: big.statusCode, headers: big.headers, body: big.body }), undefined, big.body);
      const none = await t.app.inject({ method: 'GET', url: `${t.scimBase}/Users?filter=${encodeURIComponent('userName eq "over.limit@example.com"')}`, headers: h });
      assert.equal(none.json().totalResults, 0);

      // Bulk: the same byte limit.
      const bulkOp = (i: number) => ({ method: 'POST', bulkId: `b${i}`, path: '/Users', data: { schemas: [USER], userName: `bulk${i}.${max}@example.com` } });
      const bulkAt = exactly(max, { schemas: [BULK], Operations: [bulkOp(0)] }, 'padding');
      // (an unknown top-level key is ignored by the Bulk parser)
      const b1 = await t.app.inject({ method: 'POST', url: `${t.scimBase}/Bulk`, headers: h, payload: bulkAt });
      assert.equal(b1.statusCode, 200, b1.body);
      const b2 = await t.app.inject({ method: 'POST', url: `${t.scimBase}/Bulk`, headers: h, payload: exactly(max + 1, { schemas: [BULK], Operations: [bulkOp(1)] }, 'padding') });
      assert.equal(b2.statusCode, 413);
      assert.equal(scimProblem({ status: b2.statusCode, headers: b2.headers, body: b2.body }), undefined, b2.body);

      // Bulk: maxOperations operations pass, one more is refused as a whole (RFC 7644 §3.7.3: 413).
      const ops = (n: number, tag: string) => Array.from({ length: n }, (_, i) => ({ method: 'POST', bulkId: `${tag}${i}`, path: '/Users', data: { schemas: [USER], userName: `${tag}${i}@example.com` } }));
      const five = await t.app.inject({ method: 'POST', url: `${t.scimBase}/Bulk`, headers: h, payload: JSON.stringify({ schemas: [BULK], Operations: ops(5, 'five') }) });
      assert.equal(five.statusCode, 200);
      assert.deepEqual(five.json().Operations.map((o: { status: string }) => o.status), ['201', '201', '201', '201', '201']);
      const six = await t.app.inject({ method: 'POST', url: `${t.scimBase}/Bulk`, headers: h, payload: JSON.stringify({ schemas: [BULK], Operations: ops(6, 'six') }) });
      assert.equal(six.statusCode, 413, six.body);
      assert.equal(scimProblem({ status: six.statusCode, headers: six.headers, body: six.body }), undefined, six.body);
      assert.match(six.json().detail, /6 operations.*maximum is 5/);
      const sixCreated = await t.app.inject({ method: 'GET', url: `${t.scimBase}/Users?filter=${encodeURIComponent('userName sw "six"')}`, headers: h });
      assert.equal(sixCreated.json().totalResults, 0, 'a refused Bulk runs none of its operations');

      // Admin API: the same limit, in the admin error format.
      const ah = { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/json' };
      const adminAt = exactly(max, { name: 'n' }, 'description');
      const a1 = await t.app.inject({ method: 'POST', url: `/admin/v1/tenants/${t.tenantId}/datasets`, headers: ah, payload: adminAt });
      assert.ok(a1.statusCode === 400 || a1.statusCode === 201, `at the limit the body is read (and judged by its schema): ${a1.statusCode}`);
      const a2 = await t.app.inject({ method: 'POST', url: `/admin/v1/tenants/${t.tenantId}/datasets`, headers: ah, payload: exactly(max + 1, { name: 'n' }, 'description') });
      assert.equal(a2.statusCode, 413);
      assert.equal(adminProblem({ status: a2.statusCode, headers: a2.headers, body: a2.body }), undefined, a2.body);
    } finally {
      await t.close();
    }
  });

  test('per-tenant rate limit: 429 with Retry-After on SCIM and /v1, other tenants unaffected, counted per tenant not per IP', async () => {
    const t = await startTestApp(kind, { rateLimitPerMinute: 5 });
    try {
      const other = await t.newTenant('other');
      const get = (base: string, token: string, ip = '127.0.0.1') =>
        t.app.inject({ method: 'GET', url: `${base}/Users`, headers: { authorization: `Bearer ${token}` }, remoteAddress: ip });
      const codes: number[] = [];
      let last;
      // Different client IPs: one tenant's budget whatever the source address.
      for (let i = 0; i < 7; i++) {
        last = await get(t.scimBase, t.scimToken, `10.0.0.${i}`);
        codes.push(last.statusCode);
      }
      assert.deepEqual(codes, [200, 200, 200, 200, 200, 429, 429]);
      assert.ok(Number(last!.headers['retry-after']) > 0 && Number(last!.headers['retry-after']) <= 60, `Retry-After ${last!.headers['retry-after']}`);
      assert.equal(scimProblem({ status: last!.statusCode, headers: last!.headers, body: last!.body }), undefined, last!.body);
      // Writes are limited too, and nothing is written.
      const w = await t.app.inject({ method: 'POST', url: `${t.scimBase}/Users`, headers: { authorization: `Bearer ${t.scimToken}`, 'content-type': 'application/scim+json' }, payload: JSON.stringify({ schemas: [USER], userName: 'limited@example.com' }) });
      assert.equal(w.statusCode, 429);
      const { rows } = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM scim_users WHERE tenant_id = $1 AND user_name = $2', [t.tenantId, 'limited@example.com']);
      assert.equal(rows[0]!.n, 0);
      // The other tenant still has its whole budget.
      assert.equal((await get(other.scimBase, other.scimToken)).statusCode, 200);

      // /v1 has its own per-tenant budget with the same answer shape (admin format).
      const ds = await t.app.inject({ method: 'POST', url: `/admin/v1/tenants/${other.tenantId}/users`, headers: { authorization: `Bearer ${t.adminToken}` }, payload: { userName: 'v1@example.com' } });
      const key = (await t.app.inject({ method: 'POST', url: `/admin/v1/tenants/${other.tenantId}/users/${ds.json().id}/api-keys`, headers: { authorization: `Bearer ${t.adminToken}` }, payload: { name: 'k' } })).json().key;
      const v1: number[] = [];
      let lastV1;
      for (let i = 0; i < 7; i++) {
        lastV1 = await t.app.inject({ method: 'POST', url: `/v1/${other.tenantId}/authorize`, headers: { authorization: `Bearer ${key}` }, payload: { dataset: 'x' } });
        v1.push(lastV1.statusCode);
      }
      assert.deepEqual(v1, [200, 200, 200, 200, 200, 429, 429]);
      assert.ok(Number(lastV1!.headers['retry-after']) > 0, `Retry-After ${lastV1!.headers['retry-after']}`);
      assert.equal(adminProblem({ status: lastV1!.statusCode, headers: lastV1!.headers, body: lastV1!.body }), undefined, lastV1!.body);
      // An unauthenticated request is not counted against the tenant: it spends its own address's
      // failure budget (test/security/request-bounds.test.ts).
      assert.equal((await t.app.inject({ method: 'GET', url: `/v1/${other.tenantId}/me`, headers: { authorization: 'Bearer nope' } })).statusCode, 401);
    } finally {
      await t.close();
    }
  });
});
