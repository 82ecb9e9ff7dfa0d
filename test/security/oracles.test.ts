// Issue 17, items 10 and 18: answers that would tell an outsider something about a tenant (its IdP
// issuer, whether SCIM Basic is configured, which console logins exist) are alike; a correctly
// signed IdP token with an absurd exp is a 401, not a 500.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CompactSign } from 'jose';
import { eachDatabase, startTestApp, type TestApp } from '../helpers/app.js';
import { startTestOp, type TestOp } from '../idp-tokens/helpers/op.js';
import { apis } from '../idp-tokens/helpers/setup.js';
import { client } from '../console/helpers.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

eachDatabase((kind) => {
  let t: TestApp;
  let op: TestOp;
  let api: ReturnType<typeof apis>;

  before(async () => {
    t = await startTestApp(kind, { accessCacheTtlMs: 0, oidcJwksCooldownMs: 0 });
    api = apis(t);
    op = await startTestOp();
    await api.ok('PUT', `/tenants/${t.tenantId}/oidc`, { provider: 'generic', issuer: op.issuer, discoveryUrl: op.discoveryUrl, audience: op.audience });
  });

  after(async () => {
    await t?.close();
    await op?.close();
  });

  /** A token signed by the tenant's IdP key, with the payload exactly as given (numbers JSON cannot round-trip). */
  const signRaw = (payloadJson: string) =>
    new CompactSign(new TextEncoder().encode(payloadJson)).setProtectedHeader({ alg: 'RS256', kid: op.current.kid, typ: 'JWT' }).sign(op.current.privateKey);

  test('a correctly signed token whose exp is beyond any date (9007199254740993, 1e20) is a 401, not a 500', async () => {
    const now = Math.floor(Date.now() / 1000);
    for (const exp of ['9007199254740993', '1e20', '1e308', '253402300800']) {
      const token = await signRaw(`{"iss":${JSON.stringify(op.issuer)},"aud":${JSON.stringify(op.audience)},"sub":"s1","iat":${now},"exp":${exp}}`);
      for (const path of ['/me', '/authorize']) {
        const res = await api.v1(t.tenantId, token, path === '/me' ? 'GET' : 'POST', path, path === '/me' ? undefined : { dataset: 'x' });
        assert.equal(res.statusCode, 401, `exp ${exp} ${path}: ${res.body}`);
        assert.equal(res.json().code, 'ERR_MALFORMED_TOKEN', res.body);
      }
    }
  });

  test('/v1 refusals never name the tenant\'s issuer or audience', async () => {
    const now = Math.floor(Date.now() / 1000);
    const cases = [
      { iss: 'https://attacker.example', aud: op.audience },
      { iss: op.issuer, aud: 'api://guess' },
    ];
    for (const c of cases) {
      const token = await signRaw(JSON.stringify({ ...c, sub: 's1', iat: now, exp: now + 300 }));
      const res = await api.v1(t.tenantId, token, 'GET', '/me');
      assert.equal(res.statusCode, 401, res.body);
      const text = `${res.body} ${String(res.headers['www-authenticate'])}`;
      if (c.iss !== op.issuer) assert.ok(!text.includes(op.issuer), `the answer names the issuer: ${text}`);
      assert.ok(!text.includes(op.audience), `the answer names the audience: ${text}`);
    }
  });

  test('a wrong SCIM Basic password costs the same whether the tenant has a Basic credential or not', async () => {
    const other = await t.newTenant(`No Basic ${kind}`);
    await api.ok('PUT', `/tenants/${t.tenantId}/scim-basic`, { username: 'okta', password: 'the-basic-password-0123' });
    const basic = `Basic ${Buffer.from('okta:wrong-password-0123').toString('base64')}`;
    const timeOne = async (tenantId: string) => {
      const t0 = performance.now();
      const res = await t.app.inject({ method: 'GET', url: `/scim/v2/${tenantId}/Users`, headers: { authorization: basic } });
      assert.equal(res.statusCode, 401, res.body);
      return performance.now() - t0;
    };
    await timeOne(t.tenantId);
    await timeOne(other.tenantId);
    const withBasic: number[] = [];
    const without: number[] = [];
    for (let i = 0; i < 3; i++) {
      withBasic.push(await timeOne(t.tenantId));
      without.push(await timeOne(other.tenantId));
    }
    // Before: ~130 ms against ~2 ms. A scrypt check is tens of ms; allow a wide margin for load.
    assert.ok(median(without) * 4 >= median(withBasic), `without Basic ${median(without).toFixed(1)} ms, with ${median(withBasic).toFixed(1)} ms`);
  });

  test('the console lockout answers alike for a login that does not exist', async () => {
    const password = 'correct horse battery staple';
    const known = `known-${kind}-${Date.now()}@oracle.example`;
    const unknown = `nobody-${kind}-${Date.now()}@oracle.example`;
    const created = await t.app.inject({
      method: 'POST', url: `/admin/v1/tenants/${t.tenantId}/console-accounts`, headers: { authorization: `Bearer ${t.adminToken}` }, payload: { login: known, password },
    });
    assert.equal(created.statusCode, 201, created.body);
    const answers = async (login: string) => {
      const out: string[] = [];
      for (let i = 0; i < 11; i++) {
        const r = await client(t.app).req('POST', '/console/api/session', { login, password: `wrong-${i}-password` }, { csrf: false });
        out.push(`${r.statusCode} ${r.json().code}`);
      }
      return out;
    };
    const a = await answers(known);
    const b = await answers(unknown);
    assert.equal(a.at(-1), '429 ERR_ACCOUNT_LOCKED');
    assert.deepEqual(b, a);
  });
});
