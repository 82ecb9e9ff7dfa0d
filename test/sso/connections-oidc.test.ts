// Several OIDC connections per tenant, against two real OpenID providers (oidc-provider) on
// 127.0.0.1: the tenant's OIDC configuration (PUT …/oidc) stays its first OIDC connection and
// /sso/{tenant}/login keeps using it; a further connection has its own client and is chosen with
// `connection=`; the callback finishes each sign-in with the client it started with.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import { eachDatabase, startTestApp, type TestApp } from '../helpers/app.js';
import { apis, seedTenant } from '../idp-tokens/helpers/setup.js';
import { startSsoTestOp, WEB_CLIENT_ID, WEB_CLIENT_SECRET, type SsoTestOp } from './helpers/op.js';
import { CookieJar, finishAtCallback, request, signInAtIdp } from './helpers/flow.js';

const HOST_CB = 'http://127.0.0.1:9/auth/callback';

eachDatabase((kind) => {
  let t: TestApp;
  let parent: SsoTestOp;
  let subsidiary: SsoTestOp;
  let api: ReturnType<typeof apis>;
  let base: string;
  let second: { id: string; oidc: { loginUrl: string; configUrl: string | null; clientSecretSet: boolean; issuer: string; clientId: string } };

  const login = (extra = '') => `${base}/sso/${t.tenantId}/login?redirect_uri=${encodeURIComponent(HOST_CB)}&state=s1${extra}`;
  const signIn = async (url: string, user: string, pw: string) => {
    const jar = new CookieJar();
    const { callbackUrl, authorizeUrl } = await signInAtIdp(jar, url, user, pw);
    const done = await finishAtCallback(jar, callbackUrl);
    assert.equal(done.status, 303, done.body);
    return { authorizeUrl, q: done.location!.searchParams };
  };

  before(async () => {
    t = await startTestApp(kind, { accessCacheTtlMs: 0, oidcJwksCooldownMs: 0 });
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
    api = apis(t);
    parent = await startSsoTestOp();
    subsidiary = await startSsoTestOp();
    for (const op of [parent, subsidiary]) op.allowRedirect(`${base}/sso/${t.tenantId}/callback`);
    await api.ok('PUT', `/tenants/${t.tenantId}/oidc`, {
      provider: 'okta', issuer: parent.issuer, discoveryUrl: parent.discoveryUrl, audience: parent.audience,
      clientId: WEB_CLIENT_ID, clientSecret: WEB_CLIENT_SECRET, clockToleranceSeconds: 5,
    });
    await seedTenant(api, t.tenantId, t.scimToken, {
      users: { alice: { userName: 'alice@parent.example', externalId: '00uALICE' }, sub: { userName: 'sue@subsidiary.example', externalId: 'sub-sue' } },
      datasets: {},
      accessGroups: {},
    });
    parent.account('alice', 'alice-pw', { uid: '00uALICE', email: 'alice@parent.example' });
    subsidiary.account('sue', 'sue-pw', { email: 'sue@subsidiary.example' });
    // The same login at the subsidiary's IdP is another person: only the parent's IdP vouches for alice.
    subsidiary.account('alice', 'alice-pw', { email: 'alice@parent.example' });
    await api.ok('POST', `/tenants/${t.tenantId}/sso/redirect-uris`, { uri: HOST_CB });
  });

  after(async () => {
    await t?.close();
    await parent?.close();
    await subsidiary?.close();
  });

  test('a second OIDC connection with its own client; the tenant\'s configuration stays the first', async () => {
    const res = await api.admin('POST', `/tenants/${t.tenantId}/connections`, {
      type: 'oidc', name: 'Subsidiary', domains: ['subsidiary.example'],
      oidc: { issuer: subsidiary.issuer, discoveryUrl: subsidiary.discoveryUrl, clientId: WEB_CLIENT_ID, clientSecret: WEB_CLIENT_SECRET, identityClaims: [{ claim: 'email', attribute: 'userName' }] },
    });
    assert.equal(res.statusCode, 201, res.body);
    assert.ok(!res.body.includes(WEB_CLIENT_SECRET), 'the secret is never returned');
    second = res.json();
    assert.equal(second.oidc.configUrl, null);
    assert.equal(second.oidc.clientSecretSet, true);
    assert.equal(second.oidc.issuer, subsidiary.issuer);
    assert.match(second.oidc.loginUrl, new RegExp(`/sso/${t.tenantId}/login\\?connection=${second.id}$`));
    const list = await api.ok('GET', `/tenants/${t.tenantId}/connections`) as { id: string; type: string; oidc?: { configUrl: string | null } }[];
    const oidc = list.filter((c) => c.type === 'oidc');
    assert.equal(oidc.length, 2);
    assert.equal(oidc[0]!.oidc!.configUrl, `/admin/v1/tenants/${t.tenantId}/oidc`, 'the configuration\'s connection is listed first');
    // Still one connection standing for the tenant's configuration.
    assert.equal((await api.admin('POST', `/tenants/${t.tenantId}/connections`, { type: 'oidc' })).statusCode, 409);
    // Its client is validated like an OIDC configuration; SAML settings do not apply.
    assert.equal((await api.admin('POST', `/tenants/${t.tenantId}/connections`, { type: 'oidc', oidc: { issuer: 'not a url', clientId: 'x' } })).statusCode, 400);
    assert.equal((await api.admin('PATCH', `/tenants/${t.tenantId}/connections/${second.id}`, { jitProvisioning: true })).statusCode, 400);
    assert.equal((await api.admin('PATCH', `/tenants/${t.tenantId}/connections/${oidc[0]!.id as string}`, {
      oidc: { issuer: subsidiary.issuer, clientId: 'x' },
    })).statusCode, 400, 'the configuration\'s connection is changed with PUT …/oidc');
  });

  test('/sso/{tenant}/login without `connection` signs in at the tenant\'s configured IdP, as before', async () => {
    const { authorizeUrl, q } = await signIn(login(), 'alice', 'alice-pw');
    assert.ok(authorizeUrl.startsWith(parent.issuer), authorizeUrl);
    assert.ok(q.get('token'), q.get('error_description') ?? '');
    assert.deepEqual((decodeJwt(q.get('token')!) as { idp: unknown }).idp, { iss: parent.issuer, sub: 'alice' });
  });

  test('`connection=` picks the second connection: its IdP, its client, its identity claims', async () => {
    const { authorizeUrl, q } = await signIn(login(`&connection=${second.id}`), 'sue', 'sue-pw');
    assert.ok(authorizeUrl.startsWith(subsidiary.issuer), authorizeUrl);
    assert.ok(q.get('token'), q.get('error_description') ?? '');
    const claims = decodeJwt(q.get('token')!) as { idp: unknown; identity: { userName: string } };
    assert.deepEqual(claims.idp, { iss: subsidiary.issuer, sub: 'sue' });
    assert.equal(claims.identity.userName, 'sue@subsidiary.example');
    assert.equal(q.get('state'), 's1');
  });

  test('an unknown connection, or one of another tenant, is refused on the broker\'s page', async () => {
    const res = await request(new CookieJar(), login(`&connection=00000000-0000-4000-8000-000000000000`));
    assert.equal(res.status, 409);
    assert.match(await res.text(), /sso_not_configured/);
    const other = await api.ok('POST', '/tenants', { name: 'Other tenant' });
    await api.ok('POST', `/tenants/${other.id}/sso/redirect-uris`, { uri: HOST_CB });
    const foreign = await request(new CookieJar(), `${base}/sso/${other.id}/login?redirect_uri=${encodeURIComponent(HOST_CB)}&connection=${second.id}`);
    assert.equal(foreign.status, 409, 'another tenant\'s connection id names nothing here');
  });

  test('changing the issuer forgets the connection\'s secret; deleting it leaves the tenant\'s configuration', async () => {
    const moved = await api.ok('PATCH', `/tenants/${t.tenantId}/connections/${second.id}`, {
      oidc: { issuer: parent.issuer, discoveryUrl: parent.discoveryUrl, clientId: WEB_CLIENT_ID },
    });
    assert.equal(moved.oidc.clientSecretSet, false, 'a secret never follows its client to another IdP');
    const res = await request(new CookieJar(), login(`&connection=${second.id}`));
    assert.equal(res.status, 409, 'no secret: not set up');
    assert.equal((await api.admin('DELETE', `/tenants/${t.tenantId}/connections/${second.id}`)).statusCode, 204);
    assert.equal((await api.admin('GET', `/tenants/${t.tenantId}/oidc`)).statusCode, 200, 'the configuration stays');
    const again = await signIn(login(), 'alice', 'alice-pw');
    assert.ok(again.q.get('token'));
  });
});
