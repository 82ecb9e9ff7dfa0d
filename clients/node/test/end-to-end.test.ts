// @idpbridge/client against a running idpbridge and a real OpenID provider: the typed admin API
// sets a tenant up, IdP tokens are obtained with the client-credentials and the (Okta) password
// grant, /v1 decides; a delivered webhook verifies; a sign-in token verifies with the JWKS.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { eachDatabase, startTestApp, type TestApp } from '../../../test/helpers/app.js';
import { FAST_WORKER } from '../../../test/events/helpers.js';
import { startSsoTestOp, NATIVE_CLIENT_ID, NATIVE_CLIENT_SECRET, type SsoTestOp } from '../../../test/sso/helpers/op.js';
import {
  AdminClient, IdpbridgeClient, IdpbridgeError, IdpTokenClient, IdpTokenError, IdpbridgeTokenError, verifyWebhookSignature, SIGNATURE_HEADER,
} from '../src/index.js';

eachDatabase((kind) => {
  let t: TestApp;
  let op: SsoTestOp;
  let base: string;
  let client: IdpbridgeClient;
  let admin: AdminClient;
  let tenantId: string;
  let hook: http.Server;
  const received: { header: string | undefined; body: string }[] = [];
  let hookUrl: string;

  const scim = async (token: string, method: string, path: string, body: unknown) => {
    const res = await fetch(`${base}/scim/v2/${tenantId}${path}`, {
      method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' }, body: JSON.stringify(body),
    });
    assert.ok(res.ok, `${method} ${path} → ${res.status} ${await res.clone().text()}`);
    return res.json() as Promise<{ id: string }>;
  };

  before(async () => {
    t = await startTestApp(kind, { ...FAST_WORKER, accessCacheTtlMs: 0, oidcJwksCooldownMs: 0 });
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    op = await startSsoTestOp({ audience: 'api://default' });
    client = new IdpbridgeClient({ baseUrl: base, adminToken: t.adminToken });
    admin = client.admin!;
    hook = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ header: req.headers[SIGNATURE_HEADER] as string | undefined, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hooks`;
  });

  after(async () => {
    await t?.close();
    await op?.close();
    hook?.closeAllConnections();
    await new Promise((r) => hook?.close(r));
  });

  test('the typed admin API sets a tenant up (types generated from the OpenAPI document)', async () => {
    const tenant = await admin.request('post', '/tenants', { body: { name: 'Acme (client test)' } });
    tenantId = tenant.id!;
    assert.match(tenant.scimBaseUrl!, new RegExp(`/scim/v2/${tenantId}$`));
    const oidc = await admin.request('put', '/tenants/{tenantId}/oidc', {
      path: { tenantId }, body: { provider: 'okta', issuer: op.issuer, discoveryUrl: op.discoveryUrl, audience: 'api://default', clockToleranceSeconds: 5 },
    });
    assert.deepEqual(oidc.acceptedIssuers, [op.issuer]);
    const repo = await admin.request('post', '/tenants/{tenantId}/datasets', { path: { tenantId }, body: { name: 'repo', externalId: 'ds-repo' } });
    const ag = await admin.request('post', '/tenants/{tenantId}/access-groups', { path: { tenantId }, body: { name: 'Engineering' } });
    await admin.request('post', '/tenants/{tenantId}/access-groups/{agId}/datasets', { path: { tenantId, agId: ag.id! }, body: { datasetId: repo.id! } });
    const listed = await admin.request('get', '/tenants/{tenantId}/datasets', { path: { tenantId }, query: { limit: 10 } });
    assert.deepEqual(listed.datasets?.map((d) => d.name), ['repo']);
    const err = await admin.request('get', '/tenants/{tenantId}', { path: { tenantId: '00000000-0000-4000-8000-000000000000' } }).catch((e: unknown) => e);
    assert.ok(err instanceof IdpbridgeError);
    assert.equal(err.status, 404);

    const hookRes = await admin.request('post', '/tenants/{tenantId}/webhooks', { path: { tenantId }, body: { url: hookUrl, secret: 'whsec_client-test-0123456789' } });
    assert.ok(hookRes.id);
  });

  test('password grant (Okta) and client credentials tokens get authorize decisions end to end', async () => {
    const tok = await admin.request('post', '/tenants/{tenantId}/scim-tokens', { path: { tenantId }, body: { name: 'okta' } });
    const olga = await scim(tok.token!, 'POST', '/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'olga@acme.example', externalId: '00uOLGA', active: true,
    });
    await scim(tok.token!, 'POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Engineering', members: [{ value: olga.id }] });
    // A service (no person): a manual identity whose externalId is the service's IdP id, granted the dataset directly.
    await admin.request('post', '/tenants/{tenantId}/users', { path: { tenantId }, body: { userName: 'reporting-service', externalId: '00uSVC', grants: ['ds-repo'] } });
    op.account('olga', 'olga-okta-password', { uid: '00uOLGA', email: 'olga@acme.example', groups: ['Engineering'] });
    op.service('reporting', 'reporting-secret-0123456789abcdef0123456789', { uid: '00uSVC' });

    // The Okta guide's configuration file, as is (tenant_id is the Okta client id there).
    const okta = new IdpTokenClient({ idp: {
      type: 'okta', customer_id: tenantId, token_endpoint_url: op.tokenUrl, tenant_id: NATIVE_CLIENT_ID, client_secret: NATIVE_CLIENT_SECRET,
    } });
    const user = await okta.password('olga', 'olga-okta-password');
    assert.equal(user.tokenType, 'Bearer');
    assert.ok(user.expiresAt > Date.now());
    const access = client.tenant(okta.config.customerId!);
    const allowed = await access.authorize(user.accessToken, 'repo');
    assert.deepEqual([allowed.allowed, allowed.reason], [true, 'granted']);
    assert.equal(allowed.identity?.userName, 'olga@acme.example');
    assert.equal((await access.authorize(user.accessToken, 'nope')).reason, 'dataset_not_found');
    const me = await access.me(user.accessToken);
    assert.equal(me.identity.userName, 'olga@acme.example');
    assert.deepEqual(me.accessGroups.map((g) => g.name), ['Engineering']);
    assert.deepEqual(me.credential.groups?.values, ['Engineering']);

    const wrong = await okta.password('olga', 'not-her-password').catch((e: unknown) => e);
    assert.ok(wrong instanceof IdpTokenError);
    assert.equal(wrong.error, 'invalid_grant');

    const svc = new IdpTokenClient({
      type: 'okta', customerId: tenantId, tokenUrl: op.tokenUrl, clientId: 'reporting', clientSecret: 'reporting-secret-0123456789abcdef0123456789',
      authMethod: 'client_secret_post', scope: 'read',
    });
    const app1 = await svc.clientCredentials();
    assert.equal((await svc.clientCredentials()).accessToken, app1.accessToken, 'reused until shortly before expiry');
    const d = await access.authorize(app1.accessToken, 'ds-repo');
    assert.deepEqual([d.allowed, d.identity?.userName], [true, 'reporting-service']);

    const refused = await access.me('not-a-token').catch((e: unknown) => e);
    assert.ok(refused instanceof IdpbridgeError);
    assert.equal(refused.status, 401);
  });

  test('a webhook idpbridge delivered verifies with verifyWebhookSignature', async () => {
    const deadline = Date.now() + 15_000;
    while (received.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(received.length > 0, 'a webhook was delivered');
    for (const r of received) {
      assert.equal(verifyWebhookSignature('whsec_client-test-0123456789', r.body, r.header), true);
      assert.equal(verifyWebhookSignature('whsec_wrong-secret-0123456789', r.body, r.header), false);
    }
    assert.ok(received.some((r) => JSON.parse(r.body).type?.startsWith('user.')));
  });

  test('a sign-in token (guest password) verifies with the JWKS through IdpbridgeTokenVerifier', async () => {
    const cb = 'https://app.example.com/auth/callback';
    await admin.request('post', '/tenants/{tenantId}/sso/redirect-uris', { path: { tenantId }, body: { uri: cb } });
    const guest = await admin.request('post', '/tenants/{tenantId}/users', { path: { tenantId }, body: { userName: 'guest@partner.example' } });
    await admin.request('put', '/tenants/{tenantId}/users/{userId}/login-method', {
      path: { tenantId, userId: guest.id! }, body: { method: 'password', password: 'guest-password-0123' },
    });
    const res = await fetch(`${base}/sso/${tenantId}/password-login`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userName: 'guest@partner.example', password: 'guest-password-0123', redirect_uri: cb }),
    });
    assert.equal(res.status, 200);
    const { token } = (await res.json()) as { token: string };
    const claims = await client.tokens.verify(token, { tenantId, audience: cb });
    assert.equal(claims.tenant, tenantId);
    assert.equal(claims.iss, `${base}/sso/${tenantId}`);
    assert.equal(claims.identity.userName, 'guest@partner.example');
    assert.deepEqual(claims.amr, ['pwd']);
    await assert.rejects(client.tokens.verify(token, { tenantId, audience: 'https://other.example/cb' }), IdpbridgeTokenError);
    // The expected tenant is required (a verifier cannot forget it).
    await assert.rejects(client.tokens.verify(token, cb as never), TypeError);
    const [h, p, s] = token.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, roles: ['admin'] })).toString('base64url')}.${s}`;
    await assert.rejects(client.tokens.verify(forged, { tenantId, audience: cb }), /bad signature/);
    void p;
  });

  test('a sign-in token minted for tenant A is refused by a verifier expecting tenant B (same redirect URI in both)', async () => {
    const cb = 'https://shared.example.com/auth/callback';
    const b = await admin.request('post', '/tenants', { body: { name: `Tenant B ${kind}` } });
    for (const id of [tenantId, b.id!]) await admin.request('post', '/tenants/{tenantId}/sso/redirect-uris', { path: { tenantId: id }, body: { uri: cb } });
    const guest = await admin.request('post', '/tenants/{tenantId}/users', { path: { tenantId }, body: { userName: 'ceo@b.example' } });
    await admin.request('put', '/tenants/{tenantId}/users/{userId}/login-method', {
      path: { tenantId, userId: guest.id! }, body: { method: 'password', password: 'ceo-password-0123456' },
    });
    const res = await fetch(`${base}/sso/${tenantId}/password-login`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userName: 'ceo@b.example', password: 'ceo-password-0123456', redirect_uri: cb }),
    });
    assert.equal(res.status, 200);
    const { token } = (await res.json()) as { token: string };
    assert.equal((await client.tokens.verify(token, { tenantId, audience: cb })).tenant, tenantId);
    await assert.rejects(client.tokens.verify(token, { tenantId: b.id!, audience: cb }), (err: Error) => err instanceof IdpbridgeTokenError && /issuer/.test(err.message));
    // The admin API names each tenant's own issuer.
    const ssoA = await admin.request('get', '/tenants/{tenantId}/sso', { path: { tenantId } });
    const ssoB = await admin.request('get', '/tenants/{tenantId}/sso', { path: { tenantId: b.id! } });
    assert.equal(ssoA.issuer, `${base}/sso/${tenantId}`);
    assert.equal(ssoB.issuer, `${base}/sso/${b.id}`);
  });
});
