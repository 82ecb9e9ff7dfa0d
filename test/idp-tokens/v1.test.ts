import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, createHmac } from 'node:crypto';
import { SignJWT, base64url } from 'jose';
import { eachDatabase, startTestApp, type TestApp } from '../helpers/app.js';
import { startTestOp, newSigningKey, type TestOp } from './helpers/op.js';
import { apis, seedTenant, type SeededTenant } from './helpers/setup.js';

const ENTRA_TID = '72f988bf-86f1-41af-91ab-2d7cd011db47';

eachDatabase((kind) => {
  let t: TestApp;
  let opA: TestOp;
  let opB: TestOp;
  let api: ReturnType<typeof apis>;
  let A: SeededTenant;
  let tenantB: { tenantId: string; scimToken: string };
  let B: SeededTenant;

  before(async () => {
    // accessCacheTtlMs 0: every request sees the database as it is now (the TTL has its own test).
    t = await startTestApp(kind, { accessCacheTtlMs: 0, oidcJwksCooldownMs: 0 });
    api = apis(t);
    opA = await startTestOp();
    opB = await startTestOp({ audience: 'api://default' });

    // Tenant A: Entra-style claims (oid → externalId, groups = object ids) against the test OP.
    await api.ok('PUT', `/tenants/${t.tenantId}/oidc`, {
      provider: 'entra', issuer: opA.issuer, discoveryUrl: opA.discoveryUrl, audience: opA.audience, clockToleranceSeconds: 0,
    });
    A = await seedTenant(api, t.tenantId, t.scimToken, {
      users: {
        alice: { userName: 'alice@contoso.example', externalId: 'oid-alice' },
        bob: { userName: 'bob@contoso.example', externalId: 'oid-bob' },
        carol: { userName: 'carol@contoso.example' },
        erin: { userName: 'erin@contoso.example', externalId: 'oid-erin' },
      },
      groups: {
        Finance: { externalId: 'gid-finance', members: ['alice', 'bob', 'carol'] },
        Sales: { externalId: 'gid-sales', members: ['erin'] },
      },
      datasets: { ledger: 'ds-ledger', payroll: 'ds-payroll', leads: null },
      accessGroups: { Finance: ['ledger'], Sales: ['leads'] },
    });
    opA.user('alice', { oid: 'oid-alice', preferred_username: 'alice@contoso.example', groups: ['gid-finance', 'gid-unknown'] });
    opA.user('bob', { oid: 'oid-bob', preferred_username: 'bob@contoso.example', groups: ['gid-finance'] });
    // carol has no externalId in SCIM: matched by preferred_username → userName (case-insensitive).
    opA.user('carol', { oid: 'oid-carol-not-in-scim', preferred_username: 'Carol@Contoso.example' });
    opA.user('dave', { oid: 'oid-dave', preferred_username: 'dave@contoso.example', groups: ['gid-finance'] });
    // Entra groups overage: no groups claim, a pointer to Graph instead.
    opA.user('erin', {
      oid: 'oid-erin', preferred_username: 'erin@contoso.example',
      _claim_names: { groups: 'src1' }, _claim_sources: { src1: { endpoint: 'https://graph.microsoft.com/v1.0/users/oid-erin/getMemberObjects' } },
    });

    // Tenant B: Okta-style (uid → externalId, groups by name) on another issuer.
    const tb = await t.newTenant('Tenant B');
    tenantB = tb;
    await api.ok('PUT', `/tenants/${tb.tenantId}/oidc`, { provider: 'okta', issuer: opB.issuer, audience: 'api://default' });
    B = await seedTenant(api, tb.tenantId, tb.scimToken, {
      users: { olga: { userName: 'olga@acme.example', externalId: '00uOLGA' } },
      groups: { Engineering: { members: ['olga'] } },
      datasets: { repo: 'ds-repo' },
      accessGroups: { Engineering: ['repo'] },
    });
    opB.user('olga', { uid: '00uOLGA', email: 'olga@acme.example', groups: ['Engineering', 'Everyone'] });
    // Same oid as tenant A's alice, but only tenant A's issuer may speak for tenant A.
    opB.user('alice-b', { uid: 'oid-alice', oid: 'oid-alice', groups: [] });
  });

  after(async () => {
    await t?.close();
    await opA?.close();
    await opB?.close();
  });

  test('a provisioned user in a linked group is granted the dataset by name, externalId and id', async () => {
    const token = await opA.token('alice');
    for (const ref of ['ledger', 'ds-ledger', A.datasets.ledger!.id]) {
      const res = await api.authorize(t.tenantId, token, ref);
      assert.equal(res.statusCode, 200, res.body);
      const body = res.json();
      assert.equal(body.allowed, true);
      assert.equal(body.reason, 'granted');
      assert.equal(body.dataset.id, A.datasets.ledger!.id);
      assert.equal(body.identity.userName, 'alice@contoso.example');
    }
    assert.equal(ok200(await api.authorize(t.tenantId, token, 'payroll')).reason, 'not_granted');
    const unknown = ok200(await api.authorize(t.tenantId, token, 'no-such-dataset'));
    assert.deepEqual([unknown.allowed, unknown.reason], [false, 'dataset_not_found']);
  });

  test('GET /me: identity, groups, access groups, datasets, and the token groups matched to provisioned groups', async () => {
    const res = await api.v1(t.tenantId, await opA.token('alice'), 'GET', '/me');
    assert.equal(res.statusCode, 200, res.body);
    const me = res.json();
    assert.equal(me.identity.id, A.users.alice);
    assert.deepEqual(me.groups.map((g: { displayName: string }) => g.displayName), ['Finance']);
    assert.deepEqual(me.accessGroups.map((g: { name: string }) => g.name), ['Finance']);
    assert.deepEqual(me.datasets.map((d: { name: string }) => d.name), ['ledger']);
    assert.equal(me.credential.type, 'jwt');
    assert.equal(me.credential.issuer, opA.issuer);
    assert.deepEqual(me.credential.matchedBy, { claim: 'oid', attribute: 'externalId', value: 'oid-alice' });
    assert.equal(me.credential.groups.source, 'claim');
    assert.deepEqual(me.credential.groups.matched.map((g: { externalId: string }) => g.externalId), ['gid-finance']);
    assert.deepEqual(me.credential.groups.notProvisioned, ['gid-unknown']);
    assert.equal(res.headers['cache-control'], 'no-store');
  });

  test('falls back to preferred_username → userName when the oid matches no externalId', async () => {
    const res = await api.v1(t.tenantId, await opA.token('carol'), 'GET', '/me');
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().identity.id, A.users.carol);
    assert.equal(res.json().credential.matchedBy.claim, 'preferred_username');
    assert.equal(ok200(await api.authorize(t.tenantId, await opA.token('carol'), 'ledger')).allowed, true);
  });

  test('Entra groups overage (_claim_names) is detected; groups come from provisioned memberships', async () => {
    const token = await opA.token('erin');
    const me = (await api.v1(t.tenantId, token, 'GET', '/me')).json();
    assert.equal(me.credential.groups.source, 'overage');
    assert.deepEqual(me.credential.groups.matched.map((g: { displayName: string }) => g.displayName), ['Sales']);
    assert.equal(ok200(await api.authorize(t.tenantId, token, 'leads')).allowed, true);
    assert.equal(ok200(await api.authorize(t.tenantId, token, 'ledger')).reason, 'not_granted');
  });

  test('a valid token of a never-provisioned user: allowed false with a reason; /me 403', async () => {
    const token = await opA.token('dave');
    const body = ok200(await api.authorize(t.tenantId, token, 'ledger'));
    assert.equal(body.allowed, false);
    assert.equal(body.reason, 'identity_not_found');
    assert.match(body.message, /oid → externalId "oid-dave"/);
    assert.match(body.message, /preferred_username → userName "dave@contoso.example"/);
    const me = await api.v1(t.tenantId, token, 'GET', '/me');
    assert.equal(me.statusCode, 403);
    assert.equal(me.json().code, 'ERR_IDENTITY_NOT_FOUND');
  });

  test('a suspended user (SCIM active false) is refused; reactivated, allowed again', async () => {
    const token = await opA.token('bob');
    assert.equal(ok200(await api.authorize(t.tenantId, token, 'ledger')).allowed, true);
    const patch = (active: boolean) => api.scim(t.scimToken, t.tenantId, 'PATCH', `/Users/${A.users.bob}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'Replace', path: 'active', value: active ? 'True' : 'False' }],
    });
    await patch(false);
    const body = ok200(await api.authorize(t.tenantId, token, 'ledger'));
    assert.deepEqual([body.allowed, body.reason], [false, 'identity_suspended']);
    const me = await api.v1(t.tenantId, token, 'GET', '/me');
    assert.equal(me.statusCode, 403);
    assert.equal(me.json().code, 'ERR_IDENTITY_SUSPENDED');
    await patch(true);
    assert.equal(ok200(await api.authorize(t.tenantId, token, 'ledger')).allowed, true);
  });

  test('group membership change is reflected (derived, not copied)', async () => {
    const token = await opA.token('carol');
    assert.equal(ok200(await api.authorize(t.tenantId, token, 'ledger')).allowed, true);
    await api.scim(t.scimToken, t.tenantId, 'PATCH', `/Groups/${A.groups.Finance}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'Remove', path: `members[value eq "${A.users.carol}"]` }],
    });
    assert.equal(ok200(await api.authorize(t.tenantId, token, 'ledger')).reason, 'not_granted');
  });

  test('401 with a JSON error: missing, garbage, expired, wrong audience, tampered, alg none, HS256 with the public key', async () => {
    const expectRefused = async (token: string | undefined, code: string) => {
      const r = await api.authorize(t.tenantId, token, 'ledger');
      assert.equal(r.statusCode, 401, `${code}: ${r.body}`);
      assert.equal(r.json().code, code, r.body);
      assert.match(String(r.headers['www-authenticate']), /^Bearer realm="idpbridge", error="invalid_token"/);
      const me = await api.v1(t.tenantId, token, 'GET', '/me');
      assert.equal(me.statusCode, 401);
    };
    await expectRefused(undefined, 'ERR_MISSING_TOKEN');
    await expectRefused('not-a-token', 'ERR_MALFORMED_TOKEN');
    await expectRefused('a.b.c', 'ERR_MALFORMED_TOKEN');
    await expectRefused('x'.repeat(20_000), 'ERR_MALFORMED_TOKEN');

    // Wrong audience: the OP issues it for another resource.
    await expectRefused(await opA.token('alice', { audience: 'api://some-other-api' }), 'ERR_WRONG_AUDIENCE');

    // Tampered: payload changed (oid of another user), signature kept.
    const good = await opA.token('alice');
    const [h, p, s] = good.split('.') as [string, string, string];
    const claims = JSON.parse(new TextDecoder().decode(base64url.decode(p)));
    const forged = `${h}.${base64url.encode(JSON.stringify({ ...claims, oid: 'oid-bob' }))}.${s}`;
    await expectRefused(forged, 'ERR_BAD_SIGNATURE');
    await expectRefused(`${h}.${p}.${s.slice(0, -4)}${s.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`, 'ERR_BAD_SIGNATURE');

    // oidc-provider refuses to mint these (it never signs with none or HMAC-with-a-public-key), so
    // they are built by hand from the provider's own token claims and its published key.
    const noneHeader = base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }));
    await expectRefused(`${noneHeader}.${p}.`, 'ERR_ALG_NOT_ALLOWED');
    const pem = createPublicKey({ key: opA.current.publicJwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string;
    const hsHeader = base64url.encode(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: opA.current.kid }));
    const hsSig = createHmac('sha256', pem).update(`${hsHeader}.${p}`).digest('base64url');
    await expectRefused(`${hsHeader}.${p}.${hsSig}`, 'ERR_ALG_NOT_ALLOWED');
    const hsJose = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: opA.current.kid }).sign(new TextEncoder().encode(pem));
    await expectRefused(hsJose, 'ERR_ALG_NOT_ALLOWED');

    // Signed by a key the IdP does not publish (attacker key, kid reused and unknown).
    const rogue = await newSigningKey('rogue-kid');
    const rogueToken = await new SignJWT({ ...claims, exp: Math.floor(Date.now() / 1000) + 300 })
      .setProtectedHeader({ alg: 'RS256', kid: 'rogue-kid' }).sign(rogue.privateKey);
    await expectRefused(rogueToken, 'ERR_UNKNOWN_KEY');
    const rogueSameKid = await new SignJWT({ ...claims, exp: Math.floor(Date.now() / 1000) + 300 })
      .setProtectedHeader({ alg: 'RS256', kid: opA.current.kid }).sign(rogue.privateKey);
    await expectRefused(rogueSameKid, 'ERR_BAD_SIGNATURE');

    // Expired: issued by the OP with a short lifetime (tenant A's clock tolerance is 0); long enough
    // that a loaded machine still checks it before it expires, then waited out to past its exp.
    const shortLived = await opA.token('alice', { ttlSeconds: 4 });
    assert.equal(ok200(await api.authorize(t.tenantId, shortLived, 'ledger')).allowed, true); // cached until exp
    const exp = (JSON.parse(Buffer.from(shortLived.split('.')[1]!, 'base64url').toString()) as { exp: number }).exp;
    await new Promise((r) => setTimeout(r, Math.max(0, exp * 1000 - Date.now()) + 1_100));
    await expectRefused(shortLived, 'ERR_TOKEN_EXPIRED');
  });

  test('tenant isolation: a token valid for tenant B\'s issuer is refused at tenant A, and the reverse', async () => {
    const olga = await opB.token('olga');
    assert.equal(ok200(await api.authorize(tenantB.tenantId, olga, 'repo')).allowed, true);
    const me = (await api.v1(tenantB.tenantId, olga, 'GET', '/me')).json();
    assert.equal(me.identity.id, B.users.olga);
    assert.equal(me.credential.matchedBy.claim, 'uid');
    assert.deepEqual(me.credential.groups.notProvisioned, ['Everyone']);

    const aliceAtB = await opB.token('alice-b', { audience: 'api://default' });
    const r = await api.authorize(t.tenantId, aliceAtB, 'ledger');
    assert.equal(r.statusCode, 401);
    assert.equal(r.json().code, 'ERR_WRONG_ISSUER');
    const r2 = await api.authorize(tenantB.tenantId, await opA.token('alice'), 'repo');
    assert.equal(r2.statusCode, 401);
    assert.equal(r2.json().code, 'ERR_WRONG_ISSUER');
    // A tenant without OIDC configuration refuses every JWT; an unknown tenant looks the same.
    const tc = await t.newTenant('no oidc');
    for (const id of [tc.tenantId, '00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
      const r3 = await api.authorize(id, olga, 'repo');
      assert.equal(r3.statusCode, 401, r3.body);
      assert.equal(r3.json().code, 'ERR_OIDC_NOT_CONFIGURED');
    }
  });

  test('key rotation: a new kid is picked up without restart; old tokens keep working while published', async () => {
    const before = await opA.token('alice');
    assert.equal(ok200(await api.authorize(t.tenantId, before, 'ledger')).allowed, true);
    const fetchesBefore = opA.hits.get('/jwks') ?? 0;
    const next = await opA.rotate();
    const after = await opA.token('alice');
    assert.notEqual(after.split('.')[0], before.split('.')[0]);
    const body = ok200(await api.authorize(t.tenantId, after, 'ledger'));
    assert.equal(body.allowed, true, JSON.stringify(body));
    assert.ok((opA.hits.get('/jwks') ?? 0) > fetchesBefore, 'JWKS refetched for the unknown kid');
    assert.equal(JSON.parse(new TextDecoder().decode(base64url.decode(after.split('.')[0]!))).kid, next.kid);
    assert.equal(ok200(await api.authorize(t.tenantId, before, 'ledger')).allowed, true);
  });

  test('Entra v1 (sts.windows.net) and v2 (login.microsoftonline.com/…/v2.0) issuers are both accepted', async () => {
    const tc = await t.newTenant('Entra tenant');
    const put = await api.ok('PUT', `/tenants/${tc.tenantId}/oidc`, {
      issuer: `https://sts.windows.net/${ENTRA_TID}/`, audience: ['api://idpbridge-entra', '11111111-2222-3333-4444-555555555555'],
      // Entra's keys stand in for the test OP's (a real Entra is not reachable from tests).
      jwksUri: opA.jwksUri,
    });
    assert.equal(put.provider, 'entra');
    assert.deepEqual(put.acceptedIssuers.sort(), [`https://login.microsoftonline.com/${ENTRA_TID}/v2.0`, `https://sts.windows.net/${ENTRA_TID}/`].sort());
    const C = await seedTenant(api, tc.tenantId, tc.scimToken, {
      users: { alice: { userName: 'alice@contoso.example', externalId: 'oid-alice' } },
      groups: { Finance: { externalId: 'gid-finance', members: ['alice'] } },
      datasets: { ledger: null }, accessGroups: { Finance: ['ledger'] },
    });
    void C;
    // Entra-shaped tokens are minted with jose using the OP's signing key: oidc-provider cannot
    // issue a token whose iss is not its own issuer.
    const mint = (iss: string, aud: string, extra: Record<string, unknown> = {}) => new SignJWT({ oid: 'oid-alice', tid: ENTRA_TID, groups: ['gid-finance'], ...extra })
      .setProtectedHeader({ alg: 'RS256', kid: opA.current.kid, typ: 'JWT' })
      .setIssuer(iss).setAudience(aud).setIssuedAt().setNotBefore('0s').setExpirationTime('5m')
      .sign(opA.current.privateKey);
    const v1 = await mint(`https://sts.windows.net/${ENTRA_TID}/`, 'api://idpbridge-entra');
    const v2 = await mint(`https://login.microsoftonline.com/${ENTRA_TID}/v2.0`, '11111111-2222-3333-4444-555555555555');
    assert.equal(ok200(await api.authorize(tc.tenantId, v1, 'ledger')).allowed, true);
    assert.equal(ok200(await api.authorize(tc.tenantId, v2, 'ledger')).allowed, true);
    const otherDirectory = await mint('https://sts.windows.net/00000000-1111-2222-3333-444444444444/', 'api://idpbridge-entra');
    assert.equal((await api.authorize(tc.tenantId, otherDirectory, 'ledger')).json().code, 'ERR_WRONG_ISSUER');
    // nbf in the future beyond the 60 s default tolerance; exp 30 s ago is within it.
    const early = await new SignJWT({ oid: 'oid-alice' }).setProtectedHeader({ alg: 'RS256', kid: opA.current.kid })
      .setIssuer(`https://sts.windows.net/${ENTRA_TID}/`).setAudience('api://idpbridge-entra').setExpirationTime('1h')
      .setNotBefore(Math.floor(Date.now() / 1000) + 600).sign(opA.current.privateKey);
    assert.equal((await api.authorize(tc.tenantId, early, 'ledger')).json().code, 'ERR_TOKEN_NOT_YET_VALID');
    const justExpired = await new SignJWT({ oid: 'oid-alice' }).setProtectedHeader({ alg: 'RS256', kid: opA.current.kid })
      .setIssuer(`https://sts.windows.net/${ENTRA_TID}/`).setAudience('api://idpbridge-entra').setExpirationTime(Math.floor(Date.now() / 1000) - 30)
      .sign(opA.current.privateKey);
    assert.equal(ok200(await api.authorize(tc.tenantId, justExpired, 'ledger')).allowed, true);
    const noExp = await new SignJWT({ oid: 'oid-alice' }).setProtectedHeader({ alg: 'RS256', kid: opA.current.kid })
      .setIssuer(`https://sts.windows.net/${ENTRA_TID}/`).setAudience('api://idpbridge-entra').sign(opA.current.privateKey);
    assert.equal((await api.authorize(tc.tenantId, noExp, 'ledger')).json().code, 'ERR_MISSING_CLAIM');
  });

  test('identity API key: authorize and /me; a disabled or unknown key gets 401', async () => {
    const created = await api.ok('POST', `/tenants/${t.tenantId}/users/${A.users.alice}/api-keys`, { name: 'ci' });
    const key = created.key as string;
    assert.match(key, /^idpb_key_/);
    assert.equal(ok200(await api.authorize(t.tenantId, key, 'ledger')).allowed, true);
    const me = (await api.v1(t.tenantId, key, 'GET', '/me')).json();
    assert.deepEqual([me.identity.id, me.credential.type, me.credential.keyId], [A.users.alice, 'api_key', created.id]);
    await api.ok('PATCH', `/tenants/${t.tenantId}/users/${A.users.alice}/api-keys/${created.id}`, { enabled: false });
    const r = await api.authorize(t.tenantId, key, 'ledger');
    assert.equal(r.statusCode, 401);
    assert.equal(r.json().code, 'ERR_INVALID_API_KEY');
    assert.equal((await api.authorize(t.tenantId, `idpb_key_${'A'.repeat(43)}`, 'ledger')).statusCode, 401);
    // a key of tenant A is not a key of tenant B
    const k2 = await api.ok('POST', `/tenants/${t.tenantId}/users/${A.users.alice}/api-keys`, { name: 'ci2' });
    assert.equal((await api.authorize(tenantB.tenantId, k2.key, 'repo')).statusCode, 401);
  });

  test('never a 500 on client input', async () => {
    const token = await opA.token('alice');
    const cases = [
      { method: 'POST' as const, url: `/v1/${t.tenantId}/authorize`, payload: '{not json', ct: 'application/json' },
      { method: 'POST' as const, url: `/v1/${t.tenantId}/authorize`, payload: '{}', ct: 'application/json' },
      { method: 'POST' as const, url: `/v1/${t.tenantId}/authorize`, payload: '{"dataset": 42}', ct: 'application/json' },
      { method: 'POST' as const, url: `/v1/${t.tenantId}/authorize`, payload: '{"dataset": ""}', ct: 'application/json' },
      { method: 'POST' as const, url: `/v1/${t.tenantId}/authorize`, payload: '', ct: 'application/json' },
      { method: 'POST' as const, url: `/v1/${t.tenantId}/authorize`, payload: 'dataset=x', ct: 'application/x-www-form-urlencoded' },
      { method: 'POST' as const, url: `/v1/${t.tenantId}/authorize`, payload: JSON.stringify({ dataset: 'x'.repeat(600) }), ct: 'application/json' },
      { method: 'POST' as const, url: `/v1/${t.tenantId}/authorize`, payload: JSON.stringify({ dataset: '\u0000\ud800' }), ct: 'application/json' },
      { method: 'GET' as const, url: `/v1/${'x'.repeat(100)}/me`, payload: undefined, ct: undefined },
    ];
    for (const c of cases) {
      const r = await t.app.inject({
        method: c.method, url: c.url, headers: { authorization: `Bearer ${token}`, ...(c.ct ? { 'content-type': c.ct } : {}) },
        ...(c.payload !== undefined ? { payload: c.payload } : {}),
      });
      assert.ok(r.statusCode >= 200 && r.statusCode < 500, `${c.url} ${c.payload}: ${r.statusCode} ${r.body}`);
      assert.equal(typeof r.json().code === 'string' || typeof r.json().allowed === 'boolean', true, r.body);
    }
    const weird = [`Bearer`, `Basic dXNlcjpwYXNz`, `Bearer ${'.'.repeat(3)}`, `Bearer eyJhbGciOiJSUzI1NiJ9.e30.`, `Bearer eyJ.eyJ.eyJ`];
    for (const h of weird) {
      const r = await t.app.inject({ method: 'GET', url: `/v1/${t.tenantId}/me`, headers: { authorization: h } });
      assert.equal(r.statusCode, 401, `${h}: ${r.body}`);
    }
  });

  test('changing the OIDC configuration invalidates cached tokens at once', async () => {
    const tc = await t.newTenant('Reconfigured');
    await api.ok('PUT', `/tenants/${tc.tenantId}/oidc`, { provider: 'entra', issuer: opA.issuer, audience: opA.audience });
    await seedTenant(api, tc.tenantId, tc.scimToken, {
      users: { alice: { userName: 'alice@contoso.example', externalId: 'oid-alice' } }, datasets: { d: null },
    });
    const token = await opA.token('alice');
    assert.equal(ok200(await api.authorize(tc.tenantId, token, 'd')).reason, 'not_granted');
    await api.ok('PUT', `/tenants/${tc.tenantId}/oidc`, { provider: 'entra', issuer: opA.issuer, audience: 'api://something-else' });
    assert.equal((await api.authorize(tc.tenantId, token, 'd')).json().code, 'ERR_WRONG_AUDIENCE');
    await api.ok('DELETE', `/tenants/${tc.tenantId}/oidc`);
    assert.equal((await api.authorize(tc.tenantId, token, 'd')).json().code, 'ERR_OIDC_NOT_CONFIGURED');
  });
});

function ok200(r: { statusCode: number; body: string; json(): any }): any {
  assert.equal(r.statusCode, 200, r.body);
  return r.json();
}
