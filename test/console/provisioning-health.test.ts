// Provisioning health (issue 19): the provisioning log aggregated by time bucket, IdP and cause of
// failure, for one tenant and across tenants. Real SCIM requests with Entra's and Okta's
// User-Agents feed the log; rows placed at chosen times check the buckets exactly; a second
// tenant's failures never show in the first tenant's health.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { eachDatabase, startTestApp, type TestApp } from '../helpers/app.js';
import { insertLogEntries, type LogEntry } from '../../src/events/provisioning-log.js';
import { healthWindow } from '../../src/events/provisioning-health.js';
import { loadMigrations } from '../../src/db/migrate.js';
import { signInAccount } from './helpers.js';

const ENTRA_UA = 'Microsoft.Identity.Provisioning (SCIM) Azure AD';
const OKTA_UA = 'Okta SCIM Client 1.0.0';

function row(tenantId: string, at: Date, status: number, extra: Partial<LogEntry> = {}): LogEntry {
  return {
    tenant_id: tenantId, at: at.toISOString(), method: 'POST', path: `/scim/v2/${tenantId}/Users`, idp: 'entra', user_agent: ENTRA_UA,
    credential_id: null, operation: 'create', outcome: status >= 500 ? 'error' : status >= 400 ? 'failure' : 'success', status,
    resource_type: 'User', resource_id: null, summary: null,
    error: status === 409 ? { scimType: 'uniqueness', code: 'ERR_SCIM_UNIQUENESS', detail: 'userName "ada@contoso.example" is already taken' } : null,
    duration_ms: 1, ...extra,
  };
}

test('the health window has at most 48 aligned buckets ending after now', () => {
  const now = new Date('2026-12-06T10:37:12Z');
  const w = healthWindow(24, now);
  assert.equal(w.bucketSeconds, 1800);
  assert.equal(w.to.toISOString(), '2026-12-06T11:00:00.000Z');
  assert.equal((w.to.getTime() - w.from.getTime()) / 1000 / w.bucketSeconds, 48);
  assert.equal(healthWindow(1, now).bucketSeconds, 300);
  assert.equal(healthWindow(720, now).bucketSeconds, 86_400);
});

test('the index the health queries rely on is added by its migration (found by name)', () => {
  const m = loadMigrations().find((x) => x.name.endsWith('_provisioning_log_idp.sql'));
  assert.ok(m, 'migration provisioning_log_idp');
  assert.match(m.sql, /CREATE INDEX provisioning_log_idp_at ON provisioning_log \(tenant_id, idp, at\)/);
});

eachDatabase((kind) => {
  let t: TestApp;
  let b: { tenantId: string; scimToken: string; scimBase: string };
  const admin = (url: string) => t.app.inject({ method: 'GET', url: `/admin/v1${url}`, headers: { authorization: `Bearer ${t.adminToken}` } });
  const scim = (tenant: { scimToken: string; scimBase: string }, ua: string, method: string, path: string, payload?: unknown) => t.app.inject({
    method: method as 'GET', url: `${tenant.scimBase}${path}`, payload: payload as object,
    headers: { authorization: `Bearer ${tenant.scimToken}`, 'user-agent': ua, 'content-type': 'application/scim+json' },
  });

  before(async () => {
    t = await startTestApp(kind);
    b = await t.newTenant('Other org');
  });
  after(async () => { await t.close(); });

  test('real SCIM requests: the last request of each IdP, counts and causes with the fix', async () => {
    const user = { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: `ada-${kind}@contoso.example` };
    assert.equal((await scim(t, ENTRA_UA, 'GET', '/Users?filter=userName%20eq%20%22x%22')).statusCode, 200);
    assert.equal((await scim(t, ENTRA_UA, 'POST', '/Users', user)).statusCode, 201);
    assert.equal((await scim(t, ENTRA_UA, 'POST', '/Users', user)).statusCode, 409);
    assert.equal((await scim(t, OKTA_UA, 'GET', '/Users/not-a-user')).statusCode, 404);
    // Tenant B: many failures of its own, which A's health must never count.
    for (let i = 0; i < 3; i++) assert.equal((await scim(b, OKTA_UA, 'POST', '/Users', { schemas: [], userName: '' })).statusCode, 400);
    await t.deps.provisioningLog.flush();

    const r = await admin(`/tenants/${t.tenantId}/provisioning-health`);
    assert.equal(r.statusCode, 200, r.body);
    const h = r.json();
    assert.deepEqual(h.totals, { requests: 4, failures: 2, errors: 0 });
    assert.equal(h.bucketSeconds, 1800);
    assert.equal(h.buckets.length, 48);
    assert.equal(h.buckets.reduce((n: number, x: { requests: number }) => n + x.requests, 0), 4);
    assert.deepEqual(h.buckets.at(-1), { at: h.buckets.at(-1).at, requests: 4, failures: 2, errors: 0 }, 'now is in the last bucket');

    assert.deepEqual(h.idps.map((i: { idp: string }) => i.idp), ['okta', 'entra'], 'newest first');
    const okta = h.idps[0];
    assert.equal(okta.lastUserAgent, OKTA_UA);
    assert.equal(okta.lastStatus, 404);
    assert.equal(okta.lastOutcome, 'failure');
    assert.deepEqual([okta.requests, okta.failures], [1, 1]);
    const entra = h.idps[1];
    assert.deepEqual([entra.lastMethod, entra.lastOperation, entra.lastResourceType, entra.lastStatus, entra.requests, entra.failures], ['POST', 'create', 'User', 409, 3, 1]);
    assert.equal(okta.lastOperation, 'read');
    assert.ok(!r.body.includes(`/scim/v2/${t.tenantId}`), 'no request path: the latest error detail is all the log text it shows');

    const byStatus = Object.fromEntries(h.causes.map((c: { status: number }) => [c.status, c]));
    assert.equal(h.causes.length, 2);
    assert.equal(byStatus[409].code, 'ERR_SCIM_UNIQUENESS');
    assert.equal(byStatus[409].scimType, 'uniqueness');
    assert.equal(byStatus[409].count, 1);
    assert.match(byStatus[409].example, /already/);
    assert.match(byStatus[409].fix, /userName mapping/);
    assert.match(byStatus[404].fix, /SCIM base URL/);

    const hb = (await admin(`/tenants/${b.tenantId}/provisioning-health`)).json();
    assert.deepEqual(hb.totals, { requests: 3, failures: 3, errors: 0 });
    assert.deepEqual(hb.idps.map((i: { idp: string }) => i.idp), ['okta']);
    assert.equal(hb.causes[0].count, 3);
    assert.match(hb.causes[0].fix, /value|accept/);
  });

  test('rows at chosen times land in their buckets; older rows stay out of the window but keep the IdP\'s last request', async () => {
    const c = await t.newTenant('Buckets Ltd');
    const w = healthWindow(24);
    const bucket = (i: number, offsetSec = 7) => new Date(w.from.getTime() + i * w.bucketSeconds * 1000 + offsetSec * 1000);
    await insertLogEntries(t.db, [
      row(c.tenantId, bucket(3), 201), row(c.tenantId, bucket(3, 900), 409), row(c.tenantId, bucket(3, 1799), 500),
      row(c.tenantId, bucket(10), 201, { idp: 'okta', user_agent: OKTA_UA }),
      // Outside the window: counted nowhere, but the last request of "onelogin" is still shown.
      row(c.tenantId, new Date(w.from.getTime() - 60_000), 409, { idp: 'onelogin', user_agent: 'OneLogin SCIM' }),
    ]);
    const h = (await admin(`/tenants/${c.tenantId}/provisioning-health?hours=24`)).json();
    assert.deepEqual(h.totals, { requests: 4, failures: 1, errors: 1 });
    assert.deepEqual(h.buckets[3], { at: bucket(3, 0).toISOString(), requests: 3, failures: 1, errors: 1 });
    assert.deepEqual(h.buckets[10], { at: bucket(10, 0).toISOString(), requests: 1, failures: 0, errors: 0 });
    assert.equal(h.buckets.filter((x: { requests: number }) => x.requests > 0).length, 2);
    assert.deepEqual(h.idps.map((i: { idp: string; requests: number }) => [i.idp, i.requests]), [['okta', 1], ['entra', 3], ['onelogin', 0]]);
    const causes = h.causes.map((x: { status: number; count: number }) => [x.status, x.count]).sort();
    assert.deepEqual(causes, [[409, 1], [500, 1]]);
    assert.match(h.causes.find((x: { status: number }) => x.status === 500).fix, /retries/);

    // A one-hour window leaves the 20-hour-old rows out.
    const short = (await admin(`/tenants/${c.tenantId}/provisioning-health?hours=1`)).json();
    assert.equal(short.bucketSeconds, 300);
    assert.deepEqual(short.totals, { requests: 0, failures: 0, errors: 0 });
  });

  test('bad input is refused in the admin format; an unknown tenant is 404', async () => {
    for (const q of ['hours=0', 'hours=721', 'hours=abc', 'days=1']) {
      const r = await admin(`/tenants/${t.tenantId}/provisioning-health?${q}`);
      assert.equal(r.statusCode, 400, q);
      assert.equal(r.json().code, 'ERR_VALIDATION');
    }
    assert.equal((await admin('/tenants/00000000-0000-4000-8000-000000000000/provisioning-health')).statusCode, 404);
    assert.equal((await admin('/tenants/not-a-uuid/provisioning-health')).statusCode, 400);
  });

  test('operator-wide health counts every tenant, per tenant and in total; tenant admins may not read it', async () => {
    const d = await t.newTenant('Failing Ltd');
    const w = healthWindow(24);
    // An odd moment in an early bucket no other test writes to; 300 failures put this tenant first.
    const at = new Date(w.from.getTime() + 2 * w.bucketSeconds * 1000 + 1234);
    await insertLogEntries(t.db, Array.from({ length: 300 }, () => row(d.tenantId, at, 409)));
    const o = await admin('/provisioning-health');
    assert.equal(o.statusCode, 200, o.body);
    const h = o.json();
    assert.ok(h.tenantCount >= 4);
    const mine = h.tenants.find((x: { tenantId: string }) => x.tenantId === d.tenantId);
    assert.deepEqual({ ...mine, lastAt: undefined }, {
      tenantId: d.tenantId, name: 'Failing Ltd', requests: 300, failures: 300, errors: 0, lastAt: undefined, lastIdp: 'entra', lastStatus: 409, lastOutcome: 'failure',
    });
    assert.equal(h.tenants[0].tenantId, d.tenantId, 'most failures first');
    const a = h.tenants.find((x: { tenantId: string }) => x.tenantId === t.tenantId);
    assert.deepEqual([a.requests, a.failures], [4, 2]);
    assert.ok(h.buckets[2].failures >= 300);
    const uniq = h.causes.find((x: { code: string | null }) => x.code === 'ERR_SCIM_UNIQUENESS');
    assert.ok(uniq.count >= 301 && uniq.tenants >= 2, JSON.stringify(uniq));
    assert.ok(h.totals.requests >= 300 + 4 + 3);

    // A tenant admin reads its own tenant's health, never the operator-wide one.
    const login = `health-${kind}-${Date.now()}@contoso.example`;
    const password = 'correct horse battery staple';
    const acc = await t.app.inject({
      method: 'POST', url: `/admin/v1/tenants/${t.tenantId}/console-accounts`, headers: { authorization: `Bearer ${t.adminToken}` }, payload: { login, password },
    });
    assert.equal(acc.statusCode, 201, acc.body);
    const c = await signInAccount(t.app, login, password);
    assert.equal((await c.req('GET', `/admin/v1/tenants/${t.tenantId}/provisioning-health`)).statusCode, 200);
    assert.equal((await c.req('GET', `/admin/v1/tenants/${d.tenantId}/provisioning-health`)).statusCode, 403);
    assert.equal((await c.req('GET', '/admin/v1/provisioning-health')).statusCode, 403);
  });
});
