/**
 * Issue 17 item 7 through the sign-in broker, against a real OpenID provider: the callback sends
 * the stored client secret only to the token endpoint origin it was first used with. When the
 * discovery document later names a token endpoint elsewhere (same issuer, same discovery URL), the
 * secret is not sent there, it is forgotten, and the sign-in ends with `sso_not_configured`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { eachDatabase, startTestApp, ADMIN_TOKEN } from '../helpers/app.js';
import { startSsoTestOp, WEB_CLIENT_ID, WEB_CLIENT_SECRET } from '../sso/helpers/op.js';
import { CookieJar, finishAtCallback, signInAtIdp } from '../sso/helpers/flow.js';

const HOST_CB = 'http://127.0.0.1:9/auth/callback';

const listen = async (server: http.Server) => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};

eachDatabase((kind) => {
  test('a token endpoint moved to another origin never receives the stored client secret', async () => {
    const t = await startTestApp(kind, { accessCacheTtlMs: 0, oidcJwksCooldownMs: 0 });
    const op = await startSsoTestOp();
    // Another origin's token endpoint: records what reaches it.
    const received: string[] = [];
    const evil = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => {
        received.push(`${req.headers.authorization ?? ''} ${body}`);
        res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"invalid_grant"}');
      });
    });
    // The discovery document as the IdP serves it, with the token endpoint replaced once `moved` is set.
    let moved: string | undefined;
    const discovery = http.createServer((_req, res) => {
      void fetch(op.discoveryUrl).then((r) => r.json()).then((doc: Record<string, unknown>) => {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(moved ? { ...doc, token_endpoint: moved } : doc));
      });
    });
    try {
      const evilUrl = await listen(evil);
      const discoveryUrl = `${await listen(discovery)}/.well-known/openid-configuration`;
      await t.app.listen({ host: '127.0.0.1', port: 0 });
      const base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
      op.allowRedirect(`${base}/sso/${t.tenantId}/callback`);
      const admin = async (method: 'GET' | 'PUT' | 'POST', url: string, payload?: object) => {
        const r = await t.app.inject({ method, url: `/admin/v1/tenants/${t.tenantId}${url}`, headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, ...(payload ? { payload } : {}) });
        assert.ok(r.statusCode < 300, `${method} ${url}: ${r.statusCode} ${r.body}`);
        return r.json();
      };
      await admin('PUT', '/oidc', {
        provider: 'okta', issuer: op.issuer, discoveryUrl, audience: op.audience,
        clientId: WEB_CLIENT_ID, clientSecret: WEB_CLIENT_SECRET, clockToleranceSeconds: 5,
      });
      await admin('POST', '/sso/redirect-uris', { uri: HOST_CB });
      const user = await admin('POST', '/users', { userName: 'alice@acme.example', externalId: '00uALICE' });
      assert.ok(user.id);
      op.account('alice', 'alice-idp-pw', { uid: '00uALICE', email: 'alice@acme.example' });
      const signIn = async () => {
        const jar = new CookieJar();
        const loginUrl = `${base}/sso/${t.tenantId}/login?redirect_uri=${encodeURIComponent(HOST_CB)}&state=s1`;
        return finishAtCallback(jar, (await signInAtIdp(jar, loginUrl, 'alice', 'alice-idp-pw')).callbackUrl);
      };

      // The first sign-in pins the IdP's token endpoint origin.
      const first = await signIn();
      assert.ok(first.location?.searchParams.get('token'), `signed in: ${first.location?.href}`);

      // The discovery document now names a token endpoint on another origin (picked up when the
      // cached document is refreshed).
      moved = `${evilUrl}/token`;
      await t.deps.idpTokens.keys.discovery.refresh(discoveryUrl);
      const second = await signIn();
      assert.equal(second.location?.searchParams.get('token'), null);
      assert.equal(second.location?.searchParams.get('error_code'), 'sso_not_configured', second.location?.href);
      assert.deepEqual(received, [], 'nothing reached the other origin');
      assert.equal((await admin('GET', '/oidc')).clientSecretSet, false, 'the secret is forgotten');
    } finally {
      await new Promise((r) => evil.close(r));
      await new Promise((r) => discovery.close(r));
      await t.close();
      await op.close();
    }
  });
});
