// RFC 8252 redirect URIs for native apps: private-use schemes and loopback IPs on any port, with
// everything else exact and nothing that opens a redirect; at registration and at sign-in (OIDC
// through a real OpenID provider, and the guest password form), on both databases.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import { eachDatabase, type TestApp } from '../helpers/app.js';
import { apis } from '../idp-tokens/helpers/setup.js';
import { classifyRedirectUri, redirectUriMatches, redirectUriProblem } from '../../src/sso/redirect-uris.js';
import type { SsoTestOp } from './helpers/op.js';
import { startSsoTenant } from './helpers/tenant.js';
import { CookieJar, request, signInAtIdp } from './helpers/flow.js';

const ACCEPTED = [
  'https://app.example.com/auth/callback',
  'msauth.com.example.app://auth',
  'myapp://callback',
  'com.example.app:/oauth2redirect/example-provider',
  'http://127.0.0.1/callback',
  'http://127.0.0.1:8400/callback',
  'http://[::1]/callback',
  'http://localhost:3000/cb',
];

const REFUSED = [
  'javascript:alert(1)', 'JavaScript://%0aalert(1)', 'data:text/html,<script>alert(1)</script>', 'file:///etc/passwd',
  'vbscript:msgbox', 'blob:https://app.example.com/x', 'about:blank', 'http://app.example.com/cb', 'http://127.0.0.1.evil.example/cb',
  'https://app.example.com/cb#frag', 'https://app.example.com/cb#', 'myapp://callback#x', 'https://u:p@app.example.com/cb',
  'myapp://user@callback', 'http://user@127.0.0.1/cb', 'not a url', '/relative/cb', 'https://app.example.com/a b', 'myapp://cb\\x',
];

describe('redirect URI rules (unit)', () => {
  test('registration accepts https, private-use schemes and loopback http; refuses the rest with a reason', () => {
    for (const uri of ACCEPTED) assert.equal(redirectUriProblem(uri), undefined, uri);
    for (const uri of REFUSED) assert.ok(redirectUriProblem(uri), `${uri} must be refused`);
    assert.deepEqual(ACCEPTED.map((u) => { const c = classifyRedirectUri(u); return 'kind' in c ? c.kind : c.problem; }),
      ['web', 'native', 'native', 'native', 'loopback', 'loopback', 'loopback', 'web']);
  });

  test('loopback IP literals match on any port; everything else exactly', () => {
    const yes: [string, string][] = [
      ['http://127.0.0.1/callback', 'http://127.0.0.1:51234/callback'],
      ['http://127.0.0.1:8400/callback', 'http://127.0.0.1:9/callback'],
      ['http://127.0.0.1:8400/callback', 'http://127.0.0.1/callback'],
      ['http://[::1]/callback', 'http://[::1]:60000/callback'],
      ['http://127.0.0.1/cb?app=1', 'http://127.0.0.1:5000/cb?app=1'],
      ['myapp://callback', 'myapp://callback'],
    ];
    const no: [string, string][] = [
      ['http://127.0.0.1/callback', 'http://127.0.0.1:5000/callback/'],
      ['http://127.0.0.1/callback', 'http://127.0.0.1:5000/Callback'],
      ['http://127.0.0.1/callback', 'http://127.0.0.1:5000/callback?x=1'],
      ['http://127.0.0.1/callback', 'http://127.0.0.1:5000/callback#x'],
      ['http://127.0.0.1/callback', 'http://u@127.0.0.1:5000/callback'],
      ['http://127.0.0.1/callback', 'http://[::1]:5000/callback'],
      ['http://127.0.0.1/callback', 'https://127.0.0.1:5000/callback'],
      ['http://127.0.0.1/callback', 'http://127.0.0.2:5000/callback'],
      ['http://127.0.0.1/callback', 'http://127.0.0.1:5000/./callback'],
      ['http://localhost/cb', 'http://localhost:5000/cb'],
      ['https://app.example.com/cb', 'https://app.example.com:444/cb'],
      ['myapp://callback', 'myapp://callback/'],
      ['myapp://callback', 'MYAPP://callback'],
      ['msauth.com.example.app://auth', 'msauth.com.example.app://auth?x=1'],
    ];
    for (const [reg, req] of yes) assert.equal(redirectUriMatches(reg, req), true, `${reg} ← ${req}`);
    for (const [reg, req] of no) assert.equal(redirectUriMatches(reg, req), false, `${reg} ← ${req}`);
  });
});

eachDatabase((kind) => {
  let t: TestApp;
  let op: SsoTestOp;
  let api: ReturnType<typeof apis>;
  let base: string;
  const path = () => `/tenants/${t.tenantId}/sso/redirect-uris`;
  const loginUrl = (redirect: string) => `${base}/sso/${t.tenantId}/login?redirect_uri=${encodeURIComponent(redirect)}&state=st-1`;

  before(async () => {
    ({ t, op, api, base } = await startSsoTenant(kind));
    await api.scim(t.scimToken, t.tenantId, 'POST', '/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'nina@acme.example', externalId: '00uNINA',
    });
    op.account('nina', 'nina-idp-pw', { uid: '00uNINA', email: 'nina@acme.example' });
  });

  after(async () => {
    await t?.close();
    await op?.close();
  });

  test('registration: native and loopback URIs are accepted; dangerous ones refused with 400 and nothing stored', async () => {
    for (const uri of ['msauth.com.example.app://auth', 'myapp://callback', 'http://127.0.0.1/native/cb', 'http://[::1]/native/cb', 'https://app.example.com/cb']) {
      const r = await api.admin('POST', path(), { uri });
      assert.equal(r.statusCode, 201, `${uri}: ${r.body}`);
    }
    for (const uri of REFUSED) {
      const r = await api.admin('POST', path(), { uri });
      assert.equal(r.statusCode, 400, uri);
      assert.equal(r.json().code, 'ERR_BAD_REQUEST');
    }
    const listed = (await api.ok('GET', path())).redirectUris.map((r: { uri: string }) => r.uri).sort();
    assert.deepEqual(listed, ['http://127.0.0.1/native/cb', 'http://[::1]/native/cb', 'https://app.example.com/cb', 'msauth.com.example.app://auth', 'myapp://callback']);
  });

  test('sign-in start: loopback on any port and exact native schemes go to the IdP; near misses are refused without redirecting', async () => {
    for (const uri of ['msauth.com.example.app://auth', 'myapp://callback', 'http://127.0.0.1:53682/native/cb', 'http://127.0.0.1/native/cb', 'http://[::1]:1234/native/cb', 'https://app.example.com/cb']) {
      const res = await request(new CookieJar(), loginUrl(uri));
      assert.equal(res.status, 302, `${uri}: ${res.status} ${await res.text()}`);
      assert.ok(res.headers.get('location')!.startsWith(op.issuer), uri);
    }
    for (const uri of [
      'myapp://callback/', 'myapp://callback?x=1', 'MYAPP://callback', 'otherapp://callback', 'javascript:alert(1)', 'data:text/html,x',
      'http://127.0.0.1:53682/native/cb/', 'http://127.0.0.1:53682/native/cb#x', 'http://evil@127.0.0.1:53682/native/cb',
      'http://localhost:53682/native/cb', 'http://127.0.0.2:53682/native/cb', 'https://app.example.com:8443/cb', 'https://app.example.com/cb?x=1',
    ]) {
      const res = await request(new CookieJar(), loginUrl(uri));
      assert.equal(res.status, 400, uri);
      assert.equal(res.headers.get('location'), null, uri);
      assert.match(await res.text(), /unregistered_redirect_uri/, uri);
    }
    const other = await t.newTenant('no native uris');
    const res = await request(new CookieJar(), `${base}/sso/${other.tenantId}/login?redirect_uri=${encodeURIComponent('http://127.0.0.1:53682/native/cb')}`);
    assert.equal(res.status, 400, 'another tenant\'s loopback URI does not match');
  });

  test('a full sign-in returns to the native app: the loopback port asked for, and the private-use scheme', async () => {
    for (const uri of ['http://127.0.0.1:53682/native/cb', 'msauth.com.example.app://auth']) {
      const jar = new CookieJar();
      const { callbackUrl } = await signInAtIdp(jar, loginUrl(uri), 'nina', 'nina-idp-pw');
      const res = await request(jar, callbackUrl);
      assert.equal(res.status, 303);
      const back = res.headers.get('location')!;
      assert.ok(back.startsWith(`${uri}?`), `${back} goes back to ${uri}`);
      const q = new URL(back).searchParams;
      assert.equal(q.get('state'), 'st-1');
      const claims = decodeJwt(q.get('token')!);
      assert.equal(claims.aud, uri, 'the token is bound to the URI the app asked for');
    }
  });

  test('guest password sign-in uses the same rule', async () => {
    const guest = await api.ok('POST', `/tenants/${t.tenantId}/users`, { userName: 'guest@partner.example' });
    await api.ok('PUT', `/tenants/${t.tenantId}/users/${guest.id}/login-method`, { method: 'password', password: 'correct horse battery staple' });
    const pw = (redirect: string) => t.app.inject({
      method: 'POST', url: `/sso/${t.tenantId}/password-login`,
      payload: { userName: 'guest@partner.example', password: 'correct horse battery staple', redirect_uri: redirect },
    });
    assert.equal((await pw('http://[::1]:40001/native/cb')).statusCode, 200);
    assert.equal((await pw('myapp://callback')).statusCode, 200);
    const bad = await pw('myapp://callback.evil');
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().code, 'ERR_UNREGISTERED_REDIRECT_URI');
  });
});
