// The sign-in broker against a real OpenID provider over HTTP (the browser run is in browser.test.ts):
// authorization code + PKCE, state / nonce / verifier tampering, redirect URI registration,
// identity resolution and refusal, the idpbridge token and its JWKS, guest passwords.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { eachDatabase, type TestApp } from '../helpers/app.js';
import { apis, seedTenant, type SeededTenant } from '../idp-tokens/helpers/setup.js';
import { sha256Hex } from '../../src/lib/secrets.js';
import { WEB_CLIENT_ID, WEB_CLIENT_SECRET, type SsoTestOp } from './helpers/op.js';
import { startSsoTenant } from './helpers/tenant.js';
import { CookieJar, finishAtCallback, request, signInAtIdp } from './helpers/flow.js';

const HOST_CB = 'http://127.0.0.1:9/auth/callback';

eachDatabase((kind) => {
  let t: TestApp;
  let op: SsoTestOp;
  let api: ReturnType<typeof apis>;
  let base: string;
  let S: SeededTenant;
  const loginUrl = (redirect = HOST_CB, state = 'host-state-123') =>
    `${base}/sso/${t.tenantId}/login?redirect_uri=${encodeURIComponent(redirect)}&state=${encodeURIComponent(state)}`;
  const stateOf = (callbackUrl: string) => new URL(callbackUrl).searchParams.get('state')!;

  before(async () => {
    ({ t, op, api, base } = await startSsoTenant(kind));
    S = await seedTenant(api, t.tenantId, t.scimToken, {
      users: {
        alice: { userName: 'alice@acme.example', externalId: '00uALICE' },
        sam: { userName: 'sam@acme.example', externalId: '00uSAM', active: false },
        pat: { userName: 'pat@acme.example', externalId: '00uPAT' },
      },
      groups: { Engineering: { members: ['alice'] } },
      datasets: { repo: 'ds-repo', wiki: null },
      accessGroups: { Engineering: ['repo'] },
    });
    await api.scim(t.scimToken, t.tenantId, 'PATCH', `/Users/${S.users.alice}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'add', path: 'roles', value: [{ value: 'editor' }] }],
    });
    op.account('alice', 'alice-idp-pw', { uid: '00uALICE', email: 'alice@acme.example', groups: ['Engineering'] });
    op.account('sam', 'sam-idp-pw', { uid: '00uSAM', email: 'sam@acme.example' });
    op.account('pat', 'pat-idp-pw', { uid: '00uPAT', email: 'pat@acme.example' });
    op.account('nobody', 'nobody-pw', { uid: '00uNOBODY', email: 'nobody@acme.example' });
    await api.ok('POST', `/tenants/${t.tenantId}/sso/redirect-uris`, { uri: HOST_CB });
  });

  after(async () => {
    await t?.close();
    await op?.close();
  });

  test('admin API: callback URL to register, client secret write-only, redirect URIs validated', async () => {
    const sso = await api.ok('GET', `/tenants/${t.tenantId}/sso`);
    assert.equal(sso.issuer, sso.callbackUrl.replace(/\/callback$/, ''), 'each tenant has its own issuer: {public URL}/sso/{tenantId}');
    assert.match(sso.callbackUrl, new RegExp(`/sso/${t.tenantId}/callback$`));
    assert.equal(sso.clientId, WEB_CLIENT_ID);
    assert.equal(sso.clientSecretSet, true);
    assert.equal(sso.ready, true);
    assert.deepEqual(sso.redirectUris.map((r: { uri: string }) => r.uri), [HOST_CB]);
    assert.match(sso.jwksUrl, /\/\.well-known\/jwks\.json$/);

    const oidc = await api.admin('GET', `/tenants/${t.tenantId}/oidc`);
    assert.equal(oidc.statusCode, 200);
    assert.ok(!oidc.body.includes(WEB_CLIENT_SECRET), 'the secret is never returned');
    assert.equal(oidc.json().clientSecretSet, true);
    assert.match(oidc.json().signInCallbackUrl, /\/callback$/);
    const doc = (await t.app.inject({ url: '/admin/v1/openapi.json' })).json();
    assert.ok(doc.paths['/admin/v1/tenants/{tenantId}/sso/redirect-uris'], 'documented in OpenAPI');

    for (const uri of ['http://app.example.com/cb', 'https://app.example.com/cb#frag', 'not a url', 'https://u:p@app.example.com/cb']) {
      const r = await api.admin('POST', `/tenants/${t.tenantId}/sso/redirect-uris`, { uri });
      assert.equal(r.statusCode, 400, `${uri} → ${r.statusCode}`);
    }
    assert.equal((await api.admin('POST', `/tenants/${t.tenantId}/sso/redirect-uris`, { uri: HOST_CB })).statusCode, 409);
    const extra = await api.ok('POST', `/tenants/${t.tenantId}/sso/redirect-uris`, { uri: 'https://app.example.com/other' });
    assert.equal((await api.admin('DELETE', `/tenants/${t.tenantId}/sso/redirect-uris/${extra.id}`)).statusCode, 204);
    assert.equal((await api.admin('DELETE', `/tenants/${t.tenantId}/sso/redirect-uris/${extra.id}`)).statusCode, 404);
  });

  test('a PUT without clientSecret keeps the stored one; null removes it', async () => {
    const other = await t.newTenant('secret keeper');
    const url = `/tenants/${other.tenantId}/oidc`;
    const body = { issuer: op.issuer, audience: op.audience, clientId: 'c1' };
    assert.equal((await api.ok('PUT', url, { ...body, clientSecret: 's3cret' })).clientSecretSet, true);
    assert.equal((await api.ok('PUT', url, body)).clientSecretSet, true);
    assert.equal((await api.ok('PUT', url, { ...body, clientSecret: null })).clientSecretSet, false);
    assert.equal((await api.ok('PUT', url, { ...body, clientSecret: 'again' })).clientSecretSet, true);
    const kept = await api.ok('PUT', url, { issuer: op.issuer, audience: op.audience });
    assert.equal(kept.clientId, 'c1', 'a PUT that leaves out the client keeps it (docs/idp-tokens.md, PUT semantics)');
    assert.equal(kept.clientSecretSet, true);
    assert.equal((await api.ok('PUT', url, { issuer: op.issuer, audience: op.audience, clientId: null })).clientSecretSet, false, 'no client id, no secret');
  });

  test('full sign-in: code + PKCE S256, the host product gets a signed token with the identity and its access', async () => {
    const jar = new CookieJar();
    const { callbackUrl, authorizeUrl } = await signInAtIdp(jar, loginUrl(), 'alice', 'alice-idp-pw');
    const a = new URL(authorizeUrl);
    assert.equal(a.origin, op.issuer);
    assert.equal(a.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(a.searchParams.get('response_type'), 'code');
    assert.equal(a.searchParams.get('client_id'), WEB_CLIENT_ID);
    assert.equal(a.searchParams.get('redirect_uri'), `${base}/sso/${t.tenantId}/callback`);
    assert.ok(a.searchParams.get('nonce') && a.searchParams.get('code_challenge'));
    assert.notEqual(a.searchParams.get('state'), 'host-state-123', 'the host product\'s state is not what the IdP sees');
    assert.ok(!authorizeUrl.includes(WEB_CLIENT_SECRET));

    const done = await finishAtCallback(jar, callbackUrl);
    assert.equal(done.status, 303, done.body);
    assert.equal(`${done.location!.origin}${done.location!.pathname}`, HOST_CB);
    assert.equal(done.location!.searchParams.get('state'), 'host-state-123');
    const token = done.location!.searchParams.get('token')!;
    assert.ok(token, done.location!.href);

    const jwks = createRemoteJWKSet(new URL(`${base}/.well-known/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(token, jwks, { issuer: `${base}/sso/${t.tenantId}`, audience: HOST_CB });
    assert.equal(protectedHeader.alg, 'ES256');
    assert.equal(payload.sub, S.users.alice);
    assert.equal(payload.tenant, t.tenantId);
    const p = payload as Record<string, any>;
    assert.equal(p.identity.userName, 'alice@acme.example');
    assert.deepEqual(p.groups.map((g: { displayName: string }) => g.displayName), ['Engineering']);
    assert.deepEqual(p.accessGroups.map((g: { name: string }) => g.name), ['Engineering']);
    assert.deepEqual(p.datasets.map((d: { name: string }) => d.name), ['repo']);
    assert.deepEqual(p.roles, ['editor']);
    assert.deepEqual(p.amr, ['idp']);
    assert.equal(p.idp.iss, op.issuer);
    assert.ok((payload.exp! - payload.iat!) <= 300);
  });

  test('the callback is single use: a replayed callback URL is refused', async () => {
    const jar = new CookieJar();
    const { callbackUrl } = await signInAtIdp(jar, loginUrl(), 'alice', 'alice-idp-pw');
    assert.equal((await finishAtCallback(jar, callbackUrl)).status, 303);
    const again = await finishAtCallback(jar, callbackUrl);
    assert.equal(again.status, 400);
    assert.match(again.body, /invalid_state/);
    assert.equal(again.location, undefined);
  });

  test('a tampered state, a missing browser cookie and an expired state are refused', async () => {
    const jar = new CookieJar();
    const { callbackUrl } = await signInAtIdp(jar, loginUrl(), 'alice', 'alice-idp-pw');
    const tampered = new URL(callbackUrl);
    tampered.searchParams.set('state', `${stateOf(callbackUrl).slice(0, -2)}xx`);
    const r1 = await finishAtCallback(jar, tampered.href);
    assert.equal(r1.status, 400);
    assert.match(r1.body, /invalid_state/);

    // Started in one browser, finished in another (login CSRF): refused, and the state is spent.
    const other = new CookieJar();
    const r2 = await finishAtCallback(other, callbackUrl);
    assert.equal(r2.status, 400);
    assert.match(r2.body, /another browser/);
    assert.equal((await finishAtCallback(jar, callbackUrl)).status, 400);

    const jar3 = new CookieJar();
    const s3 = await signInAtIdp(jar3, loginUrl(), 'alice', 'alice-idp-pw');
    await t.db.query(`UPDATE sso_states SET expires_at = now() - interval '1 second' WHERE state_hash = $1`, [sha256Hex(stateOf(s3.callbackUrl))]);
    const r3 = await finishAtCallback(jar3, s3.callbackUrl);
    assert.equal(r3.status, 400);
    assert.match(r3.body, /expired/);
  });

  test('an ID token whose nonce is not this sign-in\'s is refused', async () => {
    const jar = new CookieJar();
    const { callbackUrl } = await signInAtIdp(jar, loginUrl(), 'alice', 'alice-idp-pw');
    await t.db.query(`UPDATE sso_states SET nonce = 'another-sign-in-nonce' WHERE state_hash = $1`, [sha256Hex(stateOf(callbackUrl))]);
    const r = await finishAtCallback(jar, callbackUrl);
    assert.equal(r.status, 303);
    assert.equal(r.location!.searchParams.get('token'), null);
    assert.equal(r.location!.searchParams.get('error_code'), 'invalid_id_token');
    assert.match(r.location!.searchParams.get('error_description')!, /nonce/);
    assert.equal(r.location!.searchParams.get('state'), 'host-state-123');
  });

  test('a PKCE verifier that does not match the challenge is refused by the IdP, and so is the sign-in', async () => {
    const jar = new CookieJar();
    const { callbackUrl } = await signInAtIdp(jar, loginUrl(), 'alice', 'alice-idp-pw');
    await t.db.query(`UPDATE sso_states SET code_verifier = $2 WHERE state_hash = $1`, [sha256Hex(stateOf(callbackUrl)), 'x'.repeat(64)]);
    const r = await finishAtCallback(jar, callbackUrl);
    assert.equal(r.status, 303);
    assert.equal(r.location!.searchParams.get('token'), null);
    assert.equal(r.location!.searchParams.get('error_code'), 'token_exchange_failed');
    assert.match(r.location!.searchParams.get('error_description')!, /invalid_grant/);
  });

  test('unregistered redirect URIs are refused without redirecting (exact match only)', async () => {
    for (const uri of ['https://evil.example/cb', `${HOST_CB}/`, `${HOST_CB}?x=1`, HOST_CB.toUpperCase(), '']) {
      const res = await request(new CookieJar(), loginUrl(uri));
      assert.equal(res.status, 400, uri);
      assert.equal(res.headers.get('location'), null);
      assert.match(await res.text(), uri === '' ? /redirect_uri is required/ : /unregistered_redirect_uri/);
    }
    const other = await t.newTenant('no sso');
    const res = await request(new CookieJar(), `${base}/sso/${other.tenantId}/login?redirect_uri=${encodeURIComponent(HOST_CB)}`);
    assert.equal(res.status, 400, 'registered for another tenant only');
  });

  test('a user not provisioned, or suspended, is refused with a clear reason', async () => {
    const jar = new CookieJar();
    const nobody = await finishAtCallback(jar, (await signInAtIdp(jar, loginUrl(), 'nobody', 'nobody-pw')).callbackUrl);
    assert.equal(nobody.location!.searchParams.get('error'), 'access_denied');
    assert.equal(nobody.location!.searchParams.get('error_code'), 'identity_not_found');
    assert.match(nobody.location!.searchParams.get('error_description')!, /no provisioned identity matches/);

    const jar2 = new CookieJar();
    const sam = await finishAtCallback(jar2, (await signInAtIdp(jar2, loginUrl(), 'sam', 'sam-idp-pw')).callbackUrl);
    assert.equal(sam.location!.searchParams.get('error_code'), 'identity_suspended');
    assert.equal(sam.location!.searchParams.get('token'), null);
  });

  test('guests sign in with a built-in password; refused for IdP identities, wrong passwords and suspended ones', async () => {
    const guest = await api.ok('POST', `/tenants/${t.tenantId}/users`, { userName: 'guest@partner.example', displayName: 'Guest' });
    const lm = `/tenants/${t.tenantId}/users/${guest.id}/login-method`;
    assert.deepEqual((await api.ok('GET', lm)).method, 'idp');
    assert.equal((await api.admin('PUT', lm, { method: 'password' })).statusCode, 400, 'a password is needed first');
    assert.equal((await api.admin('PUT', lm, { method: 'password', password: 'short' })).statusCode, 400);
    const set = await api.ok('PUT', lm, { method: 'password', password: 'correct horse battery staple' });
    assert.deepEqual([set.method, set.passwordSet], ['password', true]);
    assert.ok(!JSON.stringify(set).includes('staple'));

    const pw = (userName: string, password: string, redirect = HOST_CB) => t.app.inject({
      method: 'POST', url: `/sso/${t.tenantId}/password-login`, payload: { userName, password, redirect_uri: redirect, state: 's1' },
    });
    const ok = await pw('GUEST@partner.example', 'correct horse battery staple');
    assert.equal(ok.statusCode, 200, ok.body);
    const claims = decodeJwt(ok.json().token) as Record<string, any>;
    assert.equal(claims.sub, guest.id);
    assert.deepEqual(claims.amr, ['pwd']);
    assert.equal(claims.aud, HOST_CB);
    assert.match(ok.json().redirectUri, /token=.*state=s1/);

    assert.equal((await pw('guest@partner.example', 'wrong password')).statusCode, 401);
    const idpUser = await pw('alice@acme.example', 'alice-idp-pw');
    assert.equal(idpUser.statusCode, 401, 'identities set to idp have no password login');
    assert.equal(idpUser.json().code, 'ERR_INVALID_CREDENTIALS');
    assert.equal((await pw('ghost@partner.example', 'whatever')).statusCode, 401);
    assert.equal((await pw('guest@partner.example', 'correct horse battery staple', 'https://evil.example/cb')).statusCode, 400);

    // An HTML form posts urlencoded and is redirected to the host product.
    const page = await t.app.inject({ url: `/sso/${t.tenantId}/password-login?redirect_uri=${encodeURIComponent(HOST_CB)}&state=s2` });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<form method="post"/);
    const form = await t.app.inject({
      method: 'POST', url: `/sso/${t.tenantId}/password-login`, headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ userName: 'guest@partner.example', password: 'correct horse battery staple', redirect_uri: HOST_CB, state: 's2' }).toString(),
    });
    assert.equal(form.statusCode, 303);
    assert.match(form.headers.location as string, /^http:\/\/127\.0\.0\.1:9\/auth\/callback\?token=.+&state=s2$/);

    // A guest set to password cannot come in through the IdP either.
    await api.ok('PUT', `/tenants/${t.tenantId}/users/${S.users.pat}/login-method`, { method: 'password', password: 'pat-guest-password-123' });
    const jar = new CookieJar();
    const viaIdp = await finishAtCallback(jar, (await signInAtIdp(jar, loginUrl(), 'pat', 'pat-idp-pw')).callbackUrl);
    assert.equal(viaIdp.location!.searchParams.get('error_code'), 'login_method_password');
    assert.equal((await pw('pat@acme.example', 'pat-guest-password-123')).statusCode, 200);
    // Back to idp: the password is forgotten and refused.
    assert.equal((await api.ok('PUT', `/tenants/${t.tenantId}/users/${S.users.pat}/login-method`, { method: 'idp' })).passwordSet, false);
    assert.equal((await pw('pat@acme.example', 'pat-guest-password-123')).statusCode, 401);

    // Suspended (deactivated) identities with a password are refused.
    await api.ok('PUT', `/tenants/${t.tenantId}/users/${S.users.sam}/login-method`, { method: 'password', password: 'sam-guest-password-123' });
    const suspended = await pw('sam@acme.example', 'sam-guest-password-123');
    assert.equal(suspended.statusCode, 403);
    assert.equal(suspended.json().code, 'ERR_IDENTITY_SUSPENDED');
  });

  test('repeated wrong passwords lock password sign-in for a while', async () => {
    const g = await api.ok('POST', `/tenants/${t.tenantId}/users`, { userName: 'locked@partner.example' });
    await api.ok('PUT', `/tenants/${t.tenantId}/users/${g.id}/login-method`, { method: 'password', password: 'the-right-password-1' });
    const pw = (password: string) => t.app.inject({
      method: 'POST', url: `/sso/${t.tenantId}/password-login`, payload: { userName: 'locked@partner.example', password, redirect_uri: HOST_CB },
    });
    for (let i = 0; i < 10; i++) assert.equal((await pw(`wrong-${i}`)).statusCode, 401);
    const locked = await pw('the-right-password-1');
    assert.equal(locked.statusCode, 429);
    assert.ok((await api.ok('GET', `/tenants/${t.tenantId}/users/${g.id}/login-method`)).lockedUntil);
  });
});
