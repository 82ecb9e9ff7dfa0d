// Tenant admins sign in to the console through their organisation's IdP (a real OpenID provider),
// by way of the sign-in broker: the identity is linked to a console account by login = userName and
// gets that account's tenant-scoped session. Refusals: no linked account, a disabled one, another
// browser, a host product's token, a tampered state. Over HTTP, on both databases.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { eachDatabase, startTestApp, type TestApp } from '../helpers/app.js';
import { apis } from '../idp-tokens/helpers/setup.js';
import { startSsoTestOp, WEB_CLIENT_ID, WEB_CLIENT_SECRET, type SsoTestOp } from './helpers/op.js';
import { CookieJar, request, signInAtIdp } from './helpers/flow.js';

const HOST_CB = 'http://127.0.0.1:9/host/callback';

eachDatabase((kind) => {
  let t: TestApp;
  let op: SsoTestOp;
  let api: ReturnType<typeof apis>;
  let base: string;
  let other: { tenantId: string };
  let adminAccountId: string;

  const start = (tenantId = t.tenantId) => `${base}/console/api/sso/start?tenantId=${tenantId}`;

  /** Console start → broker → IdP login → broker callback → console callback; returns the console callback's answer. */
  async function consoleSignIn(jar: CookieJar, login: string, password: string, tenantId = t.tenantId): Promise<Response> {
    const s = await request(jar, start(tenantId));
    assert.equal(s.status, 302, await s.text());
    const brokerLogin = new URL(s.headers.get('location')!, base).href;
    assert.ok(brokerLogin.startsWith(`${base}/sso/${tenantId}/login?`), brokerLogin);
    const { callbackUrl } = await signInAtIdp(jar, brokerLogin, login, password);
    const cb = await request(jar, callbackUrl);
    assert.equal(cb.status, 303, await cb.text());
    const consoleCb = new URL(cb.headers.get('location')!, base).href;
    assert.ok(consoleCb.startsWith(`${base}/console/api/sso/callback?`), consoleCb);
    return request(jar, consoleCb);
  }

  const errorOf = (res: Response) => {
    const l = res.headers.get('location') ?? '';
    return new URLSearchParams(l.slice(l.indexOf('?') + 1)).get('sso_error');
  };

  before(async () => {
    t = await startTestApp(kind, { accessCacheTtlMs: 0, oidcJwksCooldownMs: 0 });
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
    api = apis(t);
    op = await startSsoTestOp();
    other = await t.newTenant('Other');
    for (const id of [t.tenantId, other.tenantId]) {
      op.allowRedirect(`${base}/sso/${id}/callback`);
      await api.ok('PUT', `/tenants/${id}/oidc`, {
        provider: 'okta', issuer: op.issuer, discoveryUrl: op.discoveryUrl, audience: op.audience,
        clientId: WEB_CLIENT_ID, clientSecret: WEB_CLIENT_SECRET, clockToleranceSeconds: 5,
      });
    }
    const user = (userName: string, externalId: string) => api.scim(t.scimToken, t.tenantId, 'POST', '/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName, externalId,
    });
    await user('it.admin@acme.example', '00uADMIN');
    await user('worker@acme.example', '00uWORKER');
    await user('former.admin@acme.example', '00uFORMER');
    op.account('admin', 'admin-idp-pw', { uid: '00uADMIN', email: 'it.admin@acme.example' });
    op.account('worker', 'worker-idp-pw', { uid: '00uWORKER', email: 'worker@acme.example' });
    op.account('former', 'former-idp-pw', { uid: '00uFORMER', email: 'former.admin@acme.example' });
    // The link: console accounts whose login is the identity's userName (case-insensitive).
    adminAccountId = (await api.ok('POST', `/tenants/${t.tenantId}/console-accounts`, { login: 'IT.Admin@acme.example', password: 'a long console password 1' })).id;
    const former = await api.ok('POST', `/tenants/${t.tenantId}/console-accounts`, { login: 'former.admin@acme.example', password: 'a long console password 2' });
    await api.ok('PATCH', `/tenants/${t.tenantId}/console-accounts/${former.id}`, { disabled: true });
    await api.ok('POST', `/tenants/${t.tenantId}/sso/redirect-uris`, { uri: HOST_CB });
  });

  after(async () => {
    await t?.close();
    await op?.close();
  });

  test('an IT admin linked to a console account gets that account\'s session, scoped to the tenant', async () => {
    const jar = new CookieJar();
    const res = await consoleSignIn(jar, 'admin', 'admin-idp-pw');
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), `/console#/t/${t.tenantId}/integration`);
    const cookies = res.headers.getSetCookie();
    assert.ok(cookies.some((c) => /^idpb_session=[^;]+;.*HttpOnly/.test(c)), cookies.join(' | '));
    assert.ok(cookies.some((c) => /^idpb_console_sso=;.*Max-Age=0/.test(c)), 'the state cookie is cleared');

    const session = await request(jar, `${base}/console/api/session`);
    assert.equal(session.status, 200);
    const { principal } = await session.json() as { principal: Record<string, unknown> };
    assert.deepEqual([principal.kind, principal.tenantId, principal.login, principal.accountId, principal.setupLink],
      ['tenant_admin', t.tenantId, 'IT.Admin@acme.example', adminAccountId, false]);

    assert.equal((await request(jar, `${base}/admin/v1/tenants/${t.tenantId}/sso`)).status, 200, 'its own tenant');
    assert.equal((await request(jar, `${base}/admin/v1/tenants/${other.tenantId}/sso`)).status, 403, 'never another tenant');
    assert.equal((await request(jar, `${base}/admin/v1/tenants`)).status, 403, 'never operator pages');

    const acct = (await api.ok('GET', `/tenants/${t.tenantId}/console-accounts`)).accounts.find((a: { id: string }) => a.id === adminAccountId);
    assert.ok(acct.lastLoginAt, 'the sign-in is recorded');
  });

  test('refused: an identity with no console account, a disabled account, the wrong tenant', async () => {
    const worker = await consoleSignIn(new CookieJar(), 'worker', 'worker-idp-pw');
    assert.match(errorOf(worker) ?? '', /signed in as worker@acme\.example, but no console account/);
    assert.ok(!worker.headers.getSetCookie().some((c) => c.startsWith('idpb_session=')), 'no session');

    const former = await consoleSignIn(new CookieJar(), 'former', 'former-idp-pw');
    assert.match(errorOf(former) ?? '', /disabled/);
    assert.ok(!former.headers.getSetCookie().some((c) => c.startsWith('idpb_session=')));

    // The same person through the other tenant's IdP set-up: no identity there, the broker refuses.
    const jar = new CookieJar();
    const s = await request(jar, start(other.tenantId));
    const { callbackUrl } = await signInAtIdp(jar, new URL(s.headers.get('location')!, base).href, 'admin', 'admin-idp-pw');
    const cb = await request(jar, callbackUrl);
    const back = await request(jar, new URL(cb.headers.get('location')!, base).href);
    assert.match(errorOf(back) ?? '', /no provisioned identity matches/);
    assert.ok(!back.headers.getSetCookie().some((c) => c.startsWith('idpb_session=')));

    const unknown = await request(new CookieJar(), start('00000000-0000-4000-8000-000000000000'));
    assert.equal(unknown.status, 303);
    assert.match(errorOf(unknown) ?? '', /no organisation with this id/);
  });

  test('login CSRF and token substitution are refused', async () => {
    // Another browser: the attacker's finished sign-in replayed into the victim's browser.
    const attacker = new CookieJar();
    const s = await request(attacker, start());
    const { callbackUrl } = await signInAtIdp(attacker, new URL(s.headers.get('location')!, base).href, 'admin', 'admin-idp-pw');
    const cb = await request(attacker, callbackUrl);
    const consoleCb = new URL(cb.headers.get('location')!, base).href;
    const victim = new CookieJar();
    await request(victim, start());
    const replay = await request(victim, consoleCb);
    assert.match(errorOf(replay) ?? '', /another browser/);
    assert.ok(!replay.headers.getSetCookie().some((c) => c.startsWith('idpb_session=')));

    // A host product's token (audience: its redirect URI) pasted into the console callback.
    const host = new CookieJar();
    const { callbackUrl: hostCb } = await signInAtIdp(host, `${base}/sso/${t.tenantId}/login?redirect_uri=${encodeURIComponent(HOST_CB)}&state=x`, 'admin', 'admin-idp-pw');
    const hostToken = new URL((await request(host, hostCb)).headers.get('location')!).searchParams.get('token')!;
    assert.ok(hostToken);
    const jar = new CookieJar();
    const started = await request(jar, start());
    const state = new URL(started.headers.get('location')!, base).searchParams.get('state')!;
    const forged = await request(jar, `${base}/console/api/sso/callback?token=${encodeURIComponent(hostToken)}&state=${encodeURIComponent(state)}`);
    assert.match(errorOf(forged) ?? '', /could not be verified/);
    assert.ok(!forged.headers.getSetCookie().some((c) => c.startsWith('idpb_session=')));

    // No cookie at all.
    const none = await request(new CookieJar(), `${base}/console/api/sso/callback?token=x&state=y`);
    assert.match(errorOf(none) ?? '', /another browser/);
  });

  test('the console callback needs no registration; other unregistered URIs still do', async () => {
    const ok = await request(new CookieJar(), `${base}/sso/${t.tenantId}/login?redirect_uri=${encodeURIComponent(`${base}/console/api/sso/callback`)}&state=s`);
    assert.equal(ok.status, 302);
    const bad = await request(new CookieJar(), `${base}/sso/${t.tenantId}/login?redirect_uri=${encodeURIComponent(`${base}/console/api/sso/callbackx`)}&state=s`);
    assert.equal(bad.status, 400);
  });
});
