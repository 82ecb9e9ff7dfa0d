import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { eachDatabase, startTestApp, type TestApp } from '../helpers/app.js';
import { startTestOp, type TestOp } from './helpers/op.js';
import { apis, seedTenant } from './helpers/setup.js';

eachDatabase((kind) => {
  let t: TestApp;
  let op: TestOp;
  let api: ReturnType<typeof apis>;
  let junk: http.Server;
  let junkUrl: string;

  before(async () => {
    t = await startTestApp(kind, { accessCacheTtlMs: 0, oidcJwksCooldownMs: 0 });
    api = apis(t);
    op = await startTestOp();
    op.user('alice', { oid: 'oid-alice', preferred_username: 'alice@contoso.example', groups: [] });
    op.user('nobody', { oid: 'oid-nobody' });
    // A misbehaving "IdP": 404s, HTML, oversized JSON, a redirect, and a hang.
    junk = http.createServer((req, res) => {
      if (req.url === '/html') res.writeHead(200, { 'content-type': 'text/html' }).end('<html>login</html>');
      else if (req.url === '/huge') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [], pad: 'x'.repeat(600_000) }));
      else if (req.url === '/redirect') res.writeHead(302, { location: 'https://elsewhere.example/' }).end();
      else if (req.url === '/wrong-issuer/.well-known/openid-configuration') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer: 'https://someone-else.example', jwks_uri: op.jwksUri }));
      } else if (req.url === '/no-keys') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [{ kty: 'oct', k: 'c2VjcmV0', kid: 'hmac' }] }));
      else res.writeHead(404).end('not found');
    });
    await new Promise<void>((r) => junk.listen(0, '127.0.0.1', r));
    junkUrl = `http://127.0.0.1:${(junk.address() as AddressInfo).port}`;
  });

  after(async () => {
    await t?.close();
    await op?.close();
    junk?.closeAllConnections();
    await new Promise((r) => junk?.close(r));
  });

  test('PUT validates and fills provider defaults; GET shows it; DELETE removes it', async () => {
    const url = `/tenants/${t.tenantId}/oidc`;
    assert.equal((await api.admin('GET', url)).statusCode, 404);
    const bad = [
      { issuer: op.issuer },
      { issuer: 'not a url', audience: 'x' },
      { issuer: op.issuer, audience: 'x', algorithms: ['HS256'] },
      { issuer: op.issuer, audience: 'x', algorithms: ['none'] },
      { issuer: op.issuer, audience: 'x', algorithms: ['XX999'] },
      { issuer: op.issuer, audience: 'x', identityClaims: [{ claim: 'oid', attribute: 'password' }] },
      { issuer: op.issuer, audience: 'x', clockToleranceSeconds: 3600 },
      { issuer: op.issuer, audience: 'x', unknownField: true },
    ];
    for (const body of bad) {
      const r = await api.admin('PUT', url, body);
      assert.equal(r.statusCode, 400, `${JSON.stringify(body)} → ${r.statusCode} ${r.body}`);
      assert.equal(typeof r.json().message, 'string');
    }
    const okta = await api.ok('PUT', url, { provider: 'okta', issuer: 'https://acme.okta.com/oauth2/default', audience: 'api://default' });
    assert.equal(okta.discoveryUrl, 'https://acme.okta.com/oauth2/default/.well-known/openid-configuration');
    assert.deepEqual(okta.identityClaims.map((c: { claim: string }) => c.claim), ['uid', 'sub', 'email', 'preferred_username']);
    assert.equal(okta.groupsMatch, 'displayName');
    assert.deepEqual(okta.algorithms, ['RS256']);
    // The Entra "authority" form is understood: both token issuers are accepted.
    const tid = '9188040d-6c67-4c5b-b112-36a304b66dad';
    const entra = await api.ok('PUT', url, { issuer: `https://login.microsoftonline.com/${tid}`, audience: 'api://contoso-app' });
    assert.equal(entra.provider, 'entra');
    assert.equal(entra.issuer, `https://login.microsoftonline.com/${tid}/v2.0`);
    assert.ok(entra.acceptedIssuers.includes(`https://sts.windows.net/${tid}/`));
    assert.equal(entra.discoveryUrl, `https://login.microsoftonline.com/${tid}/v2.0/.well-known/openid-configuration`);
    assert.deepEqual(entra.identityClaims.map((c: { claim: string }) => c.claim), ['oid', 'preferred_username', 'upn']);
    assert.equal(entra.groupsMatch, 'externalId');
    assert.equal(entra.version, 2);
    assert.equal((await api.ok('GET', url)).issuer, entra.issuer);
    assert.equal((await api.admin('DELETE', url)).statusCode, 204);
    assert.equal((await api.admin('DELETE', url)).statusCode, 404);
    assert.equal((await api.admin('GET', '/tenants/00000000-0000-4000-8000-000000000000/oidc')).statusCode, 404);
    assert.equal((await api.admin('PUT', '/tenants/00000000-0000-4000-8000-000000000000/oidc', { issuer: op.issuer, audience: 'x' })).statusCode, 404);
    const unauth = await t.app.inject({ method: 'GET', url: `/admin/v1${url}` });
    assert.equal(unauth.statusCode, 401);
    const spec = (await t.app.inject({ method: 'GET', url: '/admin/v1/openapi.json' })).json();
    assert.ok(spec.paths['/admin/v1/tenants/{tenantId}/oidc/test']);
  });

  test('POST …/oidc/test: every check ok against the real OP; a sample token is verified and resolved', async () => {
    const tn = await t.newTenant('test ok');
    await api.ok('PUT', `/tenants/${tn.tenantId}/oidc`, { issuer: op.issuer, discoveryUrl: op.discoveryUrl, audience: op.audience, provider: 'entra' });
    const r = await api.ok('POST', `/tenants/${tn.tenantId}/oidc/test`, {});
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.deepEqual(r.checks.map((c: { name: string; status: string }) => `${c.name}:${c.status}`), ['discovery:ok', 'issuer:ok', 'jwks:ok', 'algorithms:ok']);
    const nobody = await api.ok('POST', `/tenants/${tn.tenantId}/oidc/test`, { token: await op.token('nobody') });
    assert.equal(nobody.ok, true);
    const idCheck = nobody.checks.find((c: { name: string }) => c.name === 'identity');
    assert.equal(idCheck.status, 'warn');
    assert.match(idCheck.message, /no provisioned identity matches/);
    await seedTenant(api, tn.tenantId, tn.scimToken, { users: { alice: { userName: 'alice@contoso.example', externalId: 'oid-alice' } } });
    const alice = await api.ok('POST', `/tenants/${tn.tenantId}/oidc/test`, { token: await op.token('alice') });
    assert.equal(alice.checks.find((c: { name: string }) => c.name === 'identity').status, 'ok');
    const wrongAud = await api.ok('POST', `/tenants/${tn.tenantId}/oidc/test`, { token: await op.token('alice', { audience: 'api://other' }) });
    assert.equal(wrongAud.ok, false);
    assert.match(wrongAud.checks.find((c: { name: string }) => c.name === 'token').message, /^wrong_audience/);
  });

  test('POST …/oidc/test reports precisely what is wrong', async () => {
    const tn = await t.newTenant('test failures');
    const run = async (cfg: Record<string, unknown>) => {
      await api.ok('PUT', `/tenants/${tn.tenantId}/oidc`, { audience: 'api://x', ...cfg });
      return api.ok('POST', `/tenants/${tn.tenantId}/oidc/test`);
    };
    const check = (r: { checks: { name: string; status: string; message: string; details?: { kind?: string } }[] }, name: string) => r.checks.find((c) => c.name === name)!;

    const notFound = await run({ issuer: op.issuer, discoveryUrl: `${junkUrl}/missing` });
    assert.equal(notFound.ok, false);
    assert.equal(check(notFound, 'discovery').details?.kind, 'http_status');
    assert.match(check(notFound, 'discovery').message, /HTTP 404/);

    const html = await run({ issuer: op.issuer, discoveryUrl: `${junkUrl}/html` });
    assert.equal(check(html, 'discovery').details?.kind, 'not_json');

    const huge = await run({ issuer: op.issuer, discoveryUrl: `${junkUrl}/huge` });
    assert.equal(check(huge, 'discovery').details?.kind, 'too_large');

    const redirect = await run({ issuer: op.issuer, discoveryUrl: `${junkUrl}/redirect` });
    assert.equal(check(redirect, 'discovery').details?.kind, 'redirect');

    const refused = await run({ issuer: op.issuer, discoveryUrl: 'http://127.0.0.1:1/.well-known/openid-configuration' });
    assert.equal(check(refused, 'discovery').details?.kind, 'network');

    const insecure = await run({ issuer: op.issuer, discoveryUrl: 'http://idp.example.com/.well-known/openid-configuration' });
    assert.equal(check(insecure, 'discovery').details?.kind, 'insecure_url');

    const wrongIssuer = await run({ issuer: op.issuer, discoveryUrl: `${junkUrl}/wrong-issuer/.well-known/openid-configuration` });
    assert.equal(check(wrongIssuer, 'discovery').status, 'ok');
    assert.equal(check(wrongIssuer, 'issuer').status, 'fail');
    assert.match(check(wrongIssuer, 'issuer').message, /someone-else/);

    const noKeys = await run({ issuer: op.issuer, discoveryUrl: op.discoveryUrl, jwksUri: `${junkUrl}/no-keys` });
    assert.equal(check(noKeys, 'jwks').status, 'fail');
    assert.match(check(noKeys, 'jwks').message, /none usable/);

    const es = await run({ issuer: op.issuer, discoveryUrl: op.discoveryUrl, algorithms: ['ES256'] });
    assert.equal(check(es, 'jwks').status, 'fail');

    assert.equal((await api.admin('POST', `/tenants/${(await t.newTenant('none')).tenantId}/oidc/test`)).statusCode, 404);
  });

  test('/v1 answers 503 (not 401, not 500) when the IdP keys cannot be fetched and none are cached', async () => {
    const tn = await t.newTenant('idp down');
    await api.ok('PUT', `/tenants/${tn.tenantId}/oidc`, { issuer: op.issuer, discoveryUrl: `${junkUrl}/missing`, audience: op.audience });
    const r = await api.authorize(tn.tenantId, await op.token('alice'), 'x');
    assert.equal(r.statusCode, 503, r.body);
    assert.equal(r.json().code, 'ERR_IDP_UNAVAILABLE');
    assert.equal(r.headers['retry-after'], '5');
  });

  test('stale-while-error: with the IdP down, cached keys keep verifying', async () => {
    const tn = await t.newTenant('stale');
    await api.ok('PUT', `/tenants/${tn.tenantId}/oidc`, { provider: 'entra', issuer: op.issuer, audience: op.audience });
    await seedTenant(api, tn.tenantId, tn.scimToken, { users: { alice: { userName: 'alice@contoso.example', externalId: 'oid-alice' } }, datasets: { d: null } });
    const t1 = await op.token('alice');
    const t2 = await op.token('alice');
    assert.equal((await api.authorize(tn.tenantId, t1, 'd')).json().reason, 'not_granted');
    op.failWith = 503;
    try {
      // t2 was never seen: verified with the cached JWKS while the IdP answers 503.
      const r = await api.authorize(tn.tenantId, t2, 'd');
      assert.equal(r.statusCode, 200, r.body);
      // an unknown kid triggers a refetch that fails: the cached set stays, the token is refused as unknown.
      const [, p] = t2.split('.');
      const header = Buffer.from(JSON.stringify({ alg: 'RS256', kid: 'not-published' })).toString('base64url');
      const r2 = await api.authorize(tn.tenantId, `${header}.${p}.AAAA`, 'd');
      assert.equal(r2.statusCode, 401);
      assert.equal(r2.json().code, 'ERR_UNKNOWN_KEY');
    } finally {
      op.failWith = undefined;
    }
  });

  test('staged identities are activated by their first successful decision', async () => {
    const tn = await t.newTenant('staged');
    await api.ok('PUT', `/tenants/${tn.tenantId}/settings`, { newUserStatus: 'staged' });
    await api.ok('PUT', `/tenants/${tn.tenantId}/oidc`, { provider: 'entra', issuer: op.issuer, audience: op.audience });
    const s = await seedTenant(api, tn.tenantId, tn.scimToken, {
      users: { alice: { userName: 'alice@contoso.example', externalId: 'oid-alice' } },
      groups: { G: { members: ['alice'] } }, datasets: { d: null }, accessGroups: { G: ['d'] },
    });
    const before = await api.ok('GET', `/tenants/${tn.tenantId}/users/${s.users.alice}`);
    assert.equal(before.status, 'staged');
    const r = (await api.authorize(tn.tenantId, await op.token('alice'), 'd')).json();
    assert.equal(r.allowed, true);
    assert.equal(r.identity.status, 'active');
    assert.equal((await api.ok('GET', `/tenants/${tn.tenantId}/users/${s.users.alice}`)).status, 'active');
  });

  test('first-use activation is the same for every credential: /me with an API key activates; a refusal does not', async () => {
    const tn = await t.newTenant('staged key');
    await api.ok('PUT', `/tenants/${tn.tenantId}/settings`, { newUserStatus: 'staged' });
    const s = await seedTenant(api, tn.tenantId, tn.scimToken, { users: { bob: { userName: 'bob@contoso.example' } }, datasets: { d: null } });
    const status = async () => (await api.ok('GET', `/tenants/${tn.tenantId}/users/${s.users.bob}`)).status;
    assert.equal(await status(), 'staged');
    const { key } = await api.ok('POST', `/tenants/${tn.tenantId}/users/${s.users.bob}/api-keys`, { name: 'ci' });
    // not granted: a refused decision leaves the identity staged
    assert.equal((await api.authorize(tn.tenantId, key, 'd')).json().reason, 'not_granted');
    assert.equal(await status(), 'staged');
    const me = await api.v1(tn.tenantId, key, 'GET', '/me');
    assert.equal(me.statusCode, 200, me.body);
    assert.deepEqual([me.json().credential.type, me.json().identity.status], ['api_key', 'active']);
    assert.equal(await status(), 'active');
  });
});

eachDatabase((kind) => {
  test('with caching on: a grant change shows within the access TTL, never later', async () => {
    const t = await startTestApp(kind, { accessCacheTtlMs: 300, tokenCache: true });
    const op = await startTestOp();
    try {
      const api = apis(t);
      op.user('alice', { oid: 'oid-alice' });
      await api.ok('PUT', `/tenants/${t.tenantId}/oidc`, { provider: 'entra', issuer: op.issuer, audience: op.audience });
      const s = await seedTenant(api, t.tenantId, t.scimToken, {
        users: { alice: { userName: 'alice@contoso.example', externalId: 'oid-alice' } },
        groups: { G: { members: ['alice'] } }, datasets: { d: null }, accessGroups: { G: ['d'] },
      });
      const token = await op.token('alice');
      const jwksBefore = op.hits.get('/jwks') ?? 0;
      assert.equal((await api.authorize(t.tenantId, token, 'd')).json().allowed, true);
      await api.ok('DELETE', `/tenants/${t.tenantId}/access-groups/${s.accessGroups.G}/datasets/${s.datasets.d!.id}`);
      await new Promise((r) => setTimeout(r, 350));
      assert.equal((await api.authorize(t.tenantId, token, 'd')).json().reason, 'not_granted');
      // deprovisioned: the cached token still verifies, but the identity is gone after the TTL
      await api.scim(t.scimToken, t.tenantId, 'DELETE', `/Users/${s.users.alice}`);
      await new Promise((r) => setTimeout(r, 350));
      assert.equal((await api.authorize(t.tenantId, token, 'd')).json().reason, 'identity_not_found');
      assert.equal(op.hits.get('/jwks') ?? 0, jwksBefore === 0 ? 1 : jwksBefore, 'JWKS fetched once and cached');
    } finally {
      await t.close();
      await op.close();
    }
  });

  test('failed /v1 authentications are limited per client address, not against the tenant (429 JSON)', async () => {
    const t = await startTestApp(kind, { rateLimitPerMinute: 3 });
    try {
      const other = await t.newTenant('other');
      const hit = (tenantId: string, ip: string) =>
        t.app.inject({ method: 'GET', url: `/v1/${tenantId}/me`, headers: { authorization: 'Bearer x.y.z' }, remoteAddress: ip });
      for (let i = 0; i < 3; i++) assert.equal((await hit(t.tenantId, '10.1.0.1')).statusCode, 401);
      const limited = await hit(t.tenantId, '10.1.0.1');
      assert.equal(limited.statusCode, 429);
      assert.equal(limited.json().code, 'ERR_RATE_LIMITED');
      assert.ok(limited.headers['retry-after']);
      assert.equal((await hit(other.tenantId, '10.1.0.1')).statusCode, 429, 'the address is limited whichever tenant it tries');
      assert.equal((await hit(t.tenantId, '10.1.0.2')).statusCode, 401, "another client of the tenant keeps its budget: the tenant's bucket was not spent");
    } finally {
      await t.close();
    }
  });
});

if (process.env.TEST_DATABASE_URL) {
  test('[postgres] two processes on one database: an OIDC change in one is seen by the other at once (NOTIFY)', async () => {
    const a = await startTestApp('postgres', { accessCacheTtlMs: 5_000 });
    const b = await startTestApp('postgres', { accessCacheTtlMs: 5_000 });
    const op = await startTestOp();
    try {
      const api = apis(a);
      const apiB = apis(b);
      op.user('alice', { oid: 'oid-alice' });
      await api.ok('PUT', `/tenants/${a.tenantId}/oidc`, { provider: 'entra', issuer: op.issuer, audience: op.audience });
      await seedTenant(api, a.tenantId, a.scimToken, { users: { alice: { userName: 'alice@contoso.example', externalId: 'oid-alice' } }, datasets: { d: null } });
      const token = await op.token('alice');
      assert.equal((await apiB.authorize(a.tenantId, token, 'd')).statusCode, 200);
      await api.ok('PUT', `/tenants/${a.tenantId}/oidc`, { provider: 'entra', issuer: op.issuer, audience: 'api://changed' });
      let code: string | undefined;
      for (let i = 0; i < 20 && code === undefined; i++) {
        await new Promise((r) => setTimeout(r, 25));
        const r = await apiB.authorize(a.tenantId, token, 'd');
        if (r.statusCode === 401) code = r.json().code;
      }
      assert.equal(code, 'ERR_WRONG_AUDIENCE', 'process B refused the token within 0.5 s (config TTL is 2 s)');
    } finally {
      await a.close();
      await b.close();
      await op.close();
    }
  });
}
