/**
 * The database going away, simulated at the Database interface with the errors `pg` raises
 * (refused connection, admin shutdown, terminated connection, starting up, connect timeout):
 * SCIM answers 503 in the SCIM error format, the admin API and /v1 503 in theirs, /readyz 503;
 * when the database is back everything answers again without a restart. The real thing —
 * PostgreSQL restarted under load — is test/soak/postgres-restart.test.ts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildApp } from '../../src/app.js';
import type { Database } from '../../src/db/types.js';
import { eachDatabase, openTestDatabase, testConfig, ADMIN_TOKEN } from '../helpers/app.js';
import { USER } from '../scim/helpers.js';
import { adminProblem, captureLogs, scimProblem } from '../security/helpers.js';

const FAILURES: Array<[string, () => Error]> = [
  ['ECONNREFUSED', () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })],
  ['57P01 admin shutdown', () => Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })],
  ['connection terminated', () => new Error('Connection terminated unexpectedly')],
  ['57P03 starting up', () => Object.assign(new Error('the database system is starting up'), { code: '57P03' })],
  ['pool connect timeout', () => new Error('timeout exceeded when trying to connect')],
];

eachDatabase((kind) => {
  let real: Database;
  let failure: (() => Error) | undefined;
  let app: Awaited<ReturnType<typeof buildApp>>['app'];
  let tenantId = '';
  let scimToken = '';
  let apiKey = '';
  const logs = captureLogs();

  before(async () => {
    real = await openTestDatabase(kind);
    const check = () => { if (failure) throw failure(); };
    const flaky: Database = {
      kind: real.kind,
      query: async (sql, params) => { check(); return real.query(sql, params); },
      exec: async (sql) => { check(); return real.exec(sql); },
      transaction: async (fn) => { check(); return real.transaction(fn); },
      listen: (channel, fn) => real.listen(channel, fn),
      close: async () => {},
    };
    ({ app } = await buildApp({ config: testConfig({ worker: false, logLevel: 'info', accessCacheTtlMs: 0 }), db: flaky, skipMigrations: true, loggerStream: logs.stream }));
    await app.ready();
    const h = { authorization: `Bearer ${ADMIN_TOKEN}` };
    tenantId = (await app.inject({ method: 'POST', url: '/admin/v1/tenants', headers: h, payload: { name: 'down' } })).json().id;
    scimToken = (await app.inject({ method: 'POST', url: `/admin/v1/tenants/${tenantId}/scim-tokens`, headers: h, payload: {} })).json().token;
    const u = (await app.inject({ method: 'POST', url: `/admin/v1/tenants/${tenantId}/users`, headers: h, payload: { userName: 'k@example.com' } })).json();
    apiKey = (await app.inject({ method: 'POST', url: `/admin/v1/tenants/${tenantId}/users/${u.id}/api-keys`, headers: h, payload: {} })).json().key;
  });
  after(async () => {
    failure = undefined;
    await app.close();
    if (kind === 'postgres') await real.close();
  });

  const scim = (method: string, path: string, body?: unknown) => app.inject({
    method: method as 'GET', url: `/scim/v2/${tenantId}${path}`,
    headers: { authorization: `Bearer ${scimToken}`, ...(body ? { 'content-type': 'application/scim+json' } : {}) },
    payload: body ? JSON.stringify(body) : undefined,
  });

  for (const [name, make] of FAILURES) {
    test(`database down (${name}): 503 everywhere in the right format, then recovery without restart`, async () => {
      // Warm: the token is verified (and possibly cached) while the database is up.
      assert.equal((await scim('GET', '/Users')).statusCode, 200);
      failure = make;
      try {
        for (const [method, path, body] of [['GET', '/Users', undefined], ['GET', '/Users?filter=userName%20eq%20%22x%22', undefined],
          ['POST', '/Users', { schemas: [USER], userName: `down-${name}@example.com` }], ['POST', '/Bulk', { schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'], Operations: [{ method: 'POST', bulkId: 'a', path: '/Users', data: { schemas: [USER], userName: 'bulk-down@example.com' } }] }]] as const) {
          const r = await scim(method, path, body);
          assert.equal(r.statusCode, 503, `${method} ${path}: ${r.statusCode} ${r.body}`);
          assert.equal(scimProblem({ status: 400, headers: r.headers, body: r.body.replace('"status":"503"', '"status":"400","scimType":"invalidValue"') }), undefined, r.body);
          assert.equal(r.json().status, '503');
          assert.equal(r.headers['retry-after'], '5');
        }
        const a = await app.inject({ method: 'GET', url: `/admin/v1/tenants/${tenantId}/datasets`, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
        assert.equal(a.statusCode, 503, a.body);
        assert.equal(adminProblem({ ...a, status: 400, body: a.body.replace('"statusCode":503', '"statusCode":400') }), undefined, a.body);
        const v = await app.inject({ method: 'POST', url: `/v1/${tenantId}/authorize`, headers: { authorization: `Bearer ${apiKey}` }, payload: { dataset: 'x' } });
        assert.equal(v.statusCode, 503, v.body);
        const ready = await app.inject({ method: 'GET', url: '/readyz' });
        assert.equal(ready.statusCode, 503);
        assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'the process itself is healthy');
      } finally {
        failure = undefined;
      }
      assert.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
      assert.equal((await scim('GET', '/Users')).statusCode, 200);
      const created = await scim('POST', '/Users', { schemas: [USER], userName: `after-${name}@example.com` });
      assert.equal(created.statusCode, 201, created.body);
      // Nothing written by the failed requests.
      const none = await scim('GET', `/Users?filter=${encodeURIComponent(`userName eq "down-${name}@example.com"`)}`);
      assert.equal(none.json().totalResults, 0);
    });
  }

  test('a database outage is logged (warn or error) but never as an unhandled crash', () => {
    assert.ok(!logs.lines.some((l) => /uncaught|unhandled/i.test(l)));
  });
});
