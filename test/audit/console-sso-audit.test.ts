// A tenant admin signing in to the console through the tenant's IdP (the real OpenID provider of
// the console-SSO tests, by way of the broker) is recorded as console.signed_in, with the account,
// its login, the client address and User-Agent; a refused IdP sign-in as console.sign_in_refused.
// Over HTTP, on both databases.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually } from './helpers.js';
import { eachDatabase, type TestApp } from '../helpers/app.js';
import { apis } from '../idp-tokens/helpers/setup.js';
import type { SsoTestOp } from '../sso/helpers/op.js';
import { startSsoTenant } from '../sso/helpers/tenant.js';
import { CookieJar, request, signInAtIdp } from '../sso/helpers/flow.js';

interface EntryView {
  tenantId: string | null; action: string; outcome: string;
  actor: { kind: string; id: string | null; login: string | null }; target: { type: string; id: string | null } | null;
  changes: Record<string, { after?: unknown }>; clientIp: string | null; userAgent: string | null; requestId: string | null;
}

eachDatabase((kind) => {
  let t: TestApp;
  let op: SsoTestOp;
  let api: ReturnType<typeof apis>;
  let base: string;
  let accountId: string;
  // Console logins are unique across tenants, and the PostgreSQL test database keeps earlier runs.
  const run = Math.random().toString(36).slice(2, 8);
  const adminLogin = `it.admin.${run}@acme.example`;
  const workerLogin = `worker.${run}@acme.example`;

  /** Console start → broker → IdP → broker callback; then the console callback with this User-Agent. */
  async function consoleSignIn(jar: CookieJar, login: string, password: string, userAgent: string): Promise<Response> {
    const s = await request(jar, `${base}/console/api/sso/start?tenantId=${t.tenantId}`);
    assert.equal(s.status, 302, await s.text());
    const { callbackUrl } = await signInAtIdp(jar, new URL(s.headers.get('location')!, base).href, login, password);
    const cb = await request(jar, callbackUrl);
    assert.equal(cb.status, 303, await cb.text());
    const consoleCb = new URL(cb.headers.get('location')!, base).href;
    assert.ok(consoleCb.startsWith(`${base}/console/api/sso/callback?`), consoleCb);
    const res = await fetch(consoleCb, { headers: { cookie: jar.header(consoleCb) ?? '', 'user-agent': userAgent }, redirect: 'manual' });
    jar.store(consoleCb, res);
    return res;
  }

  const log = async (query: string): Promise<EntryView[]> => (await api.ok('GET', `/tenants/${t.tenantId}/audit-log?${query}`)).entries;

  before(async () => {
    ({ t, op, api, base } = await startSsoTenant(kind));
    for (const [userName, externalId] of [[adminLogin, '00uADMIN'], [workerLogin, '00uWORKER']]) {
      await api.scim(t.scimToken, t.tenantId, 'POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName, externalId });
    }
    op.account('admin', 'admin-idp-pw', { uid: '00uADMIN', email: adminLogin });
    op.account('worker', 'worker-idp-pw', { uid: '00uWORKER', email: workerLogin });
    accountId = (await api.ok('POST', `/tenants/${t.tenantId}/console-accounts`, { login: adminLogin.toUpperCase(), password: 'a long console password 1' })).id;
  });

  after(async () => {
    await t?.close();
    await op?.close();
  });

  test('a sign-in through the IdP is recorded as console.signed_in with the account, its login and the request facts', async () => {
    const res = await consoleSignIn(new CookieJar(), 'admin', 'admin-idp-pw', 'sso-audit-test/1.0');
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), `/console#/t/${t.tenantId}/integration`);
    assert.ok(res.headers.getSetCookie().some((c) => c.startsWith('idpb_session=')), 'a session');
    // Written in the session's transaction, before the answer: no waiting.
    const entries = (await log('action=console.signed_in')).filter((e) => e.userAgent === 'sso-audit-test/1.0');
    assert.equal(entries.length, 1, JSON.stringify(entries));
    const e = entries[0]!;
    assert.equal(e.tenantId, t.tenantId);
    assert.equal(e.outcome, 'success');
    assert.deepEqual(e.actor, { kind: 'console-account', id: accountId, login: adminLogin.toUpperCase() });
    assert.deepEqual(e.target, { type: 'console_session', id: null });
    assert.deepEqual(e.changes.via, { after: 'idp' });
    assert.equal(e.clientIp, '127.0.0.1');
    assert.ok(e.requestId);
  });

  test('an IdP sign-in without a console account is recorded as console.sign_in_refused in the tenant chain', async () => {
    const res = await consoleSignIn(new CookieJar(), 'worker', 'worker-idp-pw', 'sso-audit-refused/1.0');
    assert.equal(res.status, 303);
    const l = res.headers.get('location') ?? '';
    assert.match(new URLSearchParams(l.slice(l.indexOf('?') + 1)).get('sso_error') ?? '', /no console account/);
    const refused = await eventually(async () => {
      const l = (await log('action=console.sign_in_refused')).filter((e) => e.userAgent === 'sso-audit-refused/1.0');
      return l.length ? l : undefined;
    });
    assert.equal(refused.length, 1);
    assert.equal(refused[0]!.outcome, 'refused');
    assert.deepEqual(refused[0]!.actor, { kind: 'console-account', id: null, login: workerLogin });
    assert.deepEqual(refused[0]!.changes.reason, { after: 'no_console_account' });
    assert.deepEqual(refused[0]!.changes.count, { after: 1 });
    assert.equal((await log('action=console.signed_in')).filter((e) => e.userAgent === 'sso-audit-refused/1.0').length, 0, 'no sign-in recorded');
  });
});
