/**
 * Property-based fuzzing of every admin API route (read from /admin/v1/openapi.json, so routes
 * added later are covered) and of /v1: hostile path parameters, query strings and bodies, both
 * near the documented schema and far from it. Every answer is a 4xx `{statusCode, code, error,
 * message}` (or a 2xx for valid input), never a 5xx; rejected requests change nothing; nothing
 * is logged at level error.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { eachDatabase, startTestApp, type TestApp } from '../helpers/app.js';
import { scimClient } from '../scim/helpers.js';
import { adminProblem, captureLogs, Findings, show, tenantSnapshotter, UnchangedChecker } from './helpers.js';
import { anyJson, nastyString, rawBody, toJson } from './arbitraries.js';

const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
const RUNS = Number(process.env.FUZZ_RUNS ?? 1);
const runs = (n: number) => Math.max(1, Math.round(n * RUNS));

type Schema = Record<string, any>;
interface Route { method: string; path: string; params: string[]; query: Array<{ name: string; schema: Schema }>; body: Schema | undefined; public?: boolean }

/** Values near a JSON schema: mostly valid, sometimes at or past its bounds, sometimes hostile. */
function nearSchema(s: Schema | undefined, depth = 0): fc.Arbitrary<unknown> {
  if (!s || depth > 4) return anyJson;
  const types: string[] = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
  const hostile = fc.oneof(nastyString, anyJson);
  const valid: fc.Arbitrary<unknown>[] = [];
  if (s.enum) valid.push(fc.constantFrom(...s.enum));
  for (const t of types) {
    switch (t) {
      case 'string': {
        const min = s.minLength ?? 0;
        const max = s.maxLength ?? 64;
        if (s.format === 'uuid') valid.push(fc.uuid());
        else if (s.format === 'date-time') valid.push(fc.constantFrom('2030-01-01T00:00:00Z', '1970-01-01T00:00:00Z', '2020-02-30T25:61:61Z', '9999-12-31T23:59:59.999Z', '+275760-09-13T00:00:00.000Z'));
        else if (s.pattern === '^https?://') valid.push(fc.constantFrom('http://127.0.0.1:9/hook', 'https://example.invalid/x', 'http://[::1]:9/', 'https://user:pw@example.invalid/', 'http://' + 'a'.repeat(1990)));
        else if (s.pattern) valid.push(fc.constantFrom('0', '1', '99999999999999999999', '-1', '1e3'));
        valid.push(fc.string({ minLength: min, maxLength: Math.min(max, 80) }));
        valid.push(fc.constantFrom('x'.repeat(Math.max(min, 1)), 'x'.repeat(Math.min(max, 100_000)), 'x'.repeat(Math.min(max + 1, 100_001)), '\u0000'.repeat(Math.max(min, 1))));
        break;
      }
      case 'integer': case 'number':
        valid.push(fc.oneof(fc.integer({ min: (s.minimum ?? -5) - 1, max: (s.maximum ?? 1000) + 1 }), fc.constantFrom(2 ** 53, -(2 ** 53), 1.5, 1e308)));
        break;
      case 'boolean': valid.push(fc.boolean()); break;
      case 'null': valid.push(fc.constant(null)); break;
      case 'array': valid.push(fc.array(nearSchema(s.items, depth + 1), { maxLength: Math.min(s.maxItems ?? 5, 5) + 1 })); break;
      case 'object': {
        const props = Object.entries<Schema>(s.properties ?? {});
        valid.push(fc.record(Object.fromEntries([...props.map(([k, v]) => [k, nearSchema(v, depth + 1)]), ['__extra__', hostile]]),
          { requiredKeys: (s.required ?? []).filter((k: string) => props.some(([p]) => p === k)) })
          .map((o) => { const r = { ...(o as Record<string, unknown>) }; if (JSON.stringify(r.__extra__ ?? '').length % 5 !== 0) delete r.__extra__; return r; }));
        if (s.additionalProperties && typeof s.additionalProperties === 'object') valid.push(fc.dictionary(nastyString, nearSchema(s.additionalProperties, depth + 1), { maxKeys: 3 }));
        break;
      }
    }
  }
  if (valid.length === 0) return hostile;
  return fc.oneof({ weight: 4, arbitrary: fc.oneof(...valid) }, { weight: 1, arbitrary: hostile });
}

/** A query-string value for a parameter: boundaries of its schema and hostile text. */
function queryValue(s: Schema): fc.Arbitrary<string | undefined> {
  const types: string[] = Array.isArray(s.type) ? s.type : [s.type ?? 'string'];
  const options: fc.Arbitrary<string>[] = [nastyString, fc.constantFrom('\u0000', 'a\u0000', '', ' ', '%', '[]', 'null')];
  if (types.includes('integer') || types.includes('number')) {
    options.push(fc.constantFrom('99999999999999999999', '9223372036854775808', '9007199254740993', '-1', '0', '1.5', '1e3', '0x10', 'abc', '-0'));
    options.push(fc.integer({ min: (s.minimum ?? 0) - 2, max: (s.maximum ?? 1000) + 2 }).map(String));
  }
  if (s.format === 'date-time') options.push(fc.constantFrom('0000-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '-000001-01-01T00:00:00Z', '+275760-09-13T00:00:00Z', '1970-01-01T00:00:00Z', '2024-02-29T12:00:00+14:00'));
  if (s.format === 'uuid') options.push(fc.uuid(), fc.constantFrom('00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff'));
  if (s.enum) options.push(fc.constantFrom(...s.enum.map(String)));
  if (s.pattern) options.push(fc.constantFrom('99999999999999999999', '1', '0', '-1', '123456789012345678901234567890'));
  if (s.maxLength) options.push(fc.constantFrom('x'.repeat(s.maxLength), 'x'.repeat(s.maxLength + 1)));
  return fc.option(fc.oneof(...options), { nil: undefined, freq: 2 });
}

eachDatabase((kind) => {
  let t: TestApp;
  const logs = captureLogs();
  const findings = new Findings();
  let checker: UnchangedChecker;
  let routes: Route[] = [];
  const ids: Record<string, string> = {};
  let apiKey = '';
  const hist = new Map<string, number>();

  before(async () => {
    t = await startTestApp(kind, { logLevel: 'info', worker: false }, { loggerStream: logs.stream });
    const snap = await tenantSnapshotter(t.db);
    checker = new UnchangedChecker(() => snap(t.tenantId), findings);
    const admin = async (method: string, url: string, payload?: unknown) => {
      const r = await t.app.inject({ method: method as 'GET', url: `/admin/v1/tenants/${t.tenantId}${url}`, headers: { authorization: `Bearer ${t.adminToken}` }, payload: payload as object });
      assert.ok(r.statusCode < 300, `${method} ${url}: ${r.statusCode} ${r.body}`);
      return r.json();
    };
    ids.tenantId = t.tenantId;
    ids.datasetId = (await admin('POST', '/datasets', { name: 'fuzz dataset', externalId: 'fuzz-ext' })).id;
    ids.agId = (await admin('POST', '/access-groups', { name: 'Fuzz Group' })).id;
    ids.userId = ids.identityId = (await admin('POST', '/users', { userName: 'manual@example.com' })).id;
    ids.keyId = (await admin('POST', `/users/${ids.userId}/api-keys`, { name: 'k' })).id;
    apiKey = (await admin('POST', `/users/${ids.userId}/api-keys`, { name: 'for /v1' })).key;
    ids.webhookId = (await admin('POST', '/webhooks', { url: 'http://127.0.0.1:9/hook' })).id;
    ids.tokenId = (await admin('POST', '/scim-tokens', { name: 'spare' })).id;
    const c = scimClient(t, t.scimBase, t.scimToken);
    const su = await c.createUser('scim.user@example.com');
    ids.groupId = (await c.createGroup('Fuzz Group', [su.id])).id;
    await admin('POST', `/access-groups/${ids.agId}/datasets`, { datasetId: ids.datasetId });
    const ev = await admin('GET', '/events');
    ids.eventId = ev.events?.[0]?.id ?? '00000000-0000-4000-8000-000000000000';

    const doc = (await t.app.inject({ method: 'GET', url: '/admin/v1/openapi.json' })).json();
    for (const [path, methods] of Object.entries<Record<string, Schema>>(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        const parameters: Schema[] = op.parameters ?? [];
        routes.push({
          method: method.toUpperCase(),
          path,
          params: parameters.filter((p) => p.in === 'path').map((p) => p.name),
          query: parameters.filter((p) => p.in === 'query').map((p) => ({ name: p.name, schema: p.schema ?? {} })),
          body: op.requestBody?.content?.['application/json']?.schema,
        });
      }
    }
    // Not in the OpenAPI document: the access-decision API.
    routes.push({ method: 'GET', path: '/v1/{tenantId}/me', params: ['tenantId'], query: [], body: undefined });
    routes.push({ method: 'POST', path: '/v1/{tenantId}/authorize', params: ['tenantId'], query: [], body: { type: 'object', required: ['dataset'], properties: { dataset: { type: 'string', minLength: 1, maxLength: 500 } } } });
    // Public sign-in routes of the console and the SSO broker: no operator token; errors may be HTML pages.
    const str = (max = 500) => ({ type: 'string', minLength: 1, maxLength: max });
    routes.push({ method: 'POST', path: '/console/api/session', params: [], query: [], body: { type: 'object', properties: { operatorToken: str(512), login: str(320), password: str(1024) } }, public: true });
    routes.push({ method: 'GET', path: '/console/api/session', params: [], query: [], body: undefined, public: true });
    routes.push({ method: 'DELETE', path: '/console/api/session', params: [], query: [], body: undefined, public: true });
    routes.push({ method: 'GET', path: '/.well-known/jwks.json', params: [], query: [], body: undefined, public: true });
    const ssoQuery = ['redirect_uri', 'state', 'nonce', 'login_hint', 'prompt', 'code', 'error', 'error_description'].map((name) => ({ name, schema: str(2000) }));
    routes.push({ method: 'GET', path: '/sso/{tenantId}/login', params: ['tenantId'], query: ssoQuery, body: undefined, public: true });
    routes.push({ method: 'GET', path: '/sso/{tenantId}/callback', params: ['tenantId'], query: ssoQuery, body: undefined, public: true });
    routes.push({ method: 'GET', path: '/sso/{tenantId}/password-login', params: ['tenantId'], query: ssoQuery, body: undefined, public: true });
    routes.push({ method: 'POST', path: '/sso/{tenantId}/password-login', params: ['tenantId'], query: [], body: { type: 'object', required: ['userName', 'password', 'redirect_uri'], properties: { userName: str(), password: str(), redirect_uri: str(2000), state: str() } }, public: true });
    // Outbound calls to fuzzed URLs are not this suite's business.
    routes = routes.filter((r) => !r.path.endsWith('/oidc/test'));
    assert.ok(routes.length >= 40, `routes from the OpenAPI document: ${routes.length}`);
  });
  after(async () => { await t.close(); });

  const q = (s: string) => encodeURIComponent(s.replace(/[\ud800-\udfff]/g, '\ufffd'));

  async function probe(route: Route, url: string, payload: string | Buffer | undefined, auth: string, input: unknown) {
    findings.tried++;
    const label = `${route.method} ${route.path}`;
    const send = async () => {
      const r = await t.app.inject({
        method: route.method as 'GET', url, payload,
        headers: { authorization: auth, ...(payload !== undefined ? { 'content-type': 'application/json' } : {}) },
      });
      return { status: r.statusCode, body: r.body, headers: r.headers };
    };
    const changes = route.method !== 'GET';
    const r = await checker.run(label, input, send, changes);
    if (process.env.FUZZ_DEBUG) { const k = `${label} ${r.status}`; hist.set(k, (hist.get(k) ?? 0) + 1); }
    const html = String(r.headers['content-type'] ?? '').startsWith('text/html') || r.status === 302 || r.status === 303;
    const p = route.public && (html || r.status < 400) ? (r.status >= 500 ? `status ${r.status}` : undefined) : adminProblem(r);
    if (p) findings.add(`${label}: ${p}`, `${url.slice(0, 200)} ${show(input)} → ${r.status} ${r.body.slice(0, 300)}`);
  }

  test('every admin and /v1 route with hostile parameters, query strings and bodies', async () => {
    assert.ok(routes.length > 0);
    await fc.assert(fc.asyncProperty(
      fc.nat(routes.length - 1),
      fc.array(fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.oneof(nastyString, fc.uuid()) }), { minLength: 4, maxLength: 4 }),
      fc.nat(99),
      fc.integer({ min: 0, max: 2 ** 30 }),
      async (i, paramOverride, bodyKind, bodySeed) => {
        const route = routes[i]!;
        let n = 0;
        const isDelete = route.method === 'DELETE';
        const url = route.path.replace(/\{(\w+)\}/g, (_m, name: string) => {
          const o = paramOverride[n++ % 4];
          // DELETE never gets the seed's real ids (they are the fixture), except on a parameter the override replaces.
          if (o !== null && o !== undefined) return q(o);
          if (isDelete) return q(`00000000-0000-4000-8000-${String(n).padStart(12, '0')}`);
          return ids[name] ?? '00000000-0000-4000-8000-000000000000';
        });
        const qs: string[] = [];
        for (const p of route.query) {
          const v = fc.sample(queryValue(p.schema), { numRuns: 1, seed: bodySeed + qs.length * 7919 })[0];
          if (v !== undefined) qs.push(`${p.name}=${q(v)}`);
        }
        const fullUrl = qs.length ? `${url}?${qs.join('&')}` : url;
        let payload: string | Buffer | undefined;
        let input: unknown;
        if (route.body || route.method === 'POST' || route.method === 'PUT' || route.method === 'PATCH') {
          if (bodyKind < 60 && route.body) input = fc.sample(nearSchema(route.body), { numRuns: 1, seed: bodySeed })[0];
          else if (bodyKind < 85) input = fc.sample(anyJson, { numRuns: 1, seed: bodySeed })[0];
          else input = fc.sample(rawBody, { numRuns: 1, seed: bodySeed })[0];
          payload = Buffer.isBuffer(input) ? input : toJson(input);
        }
        const auth = `Bearer ${route.path.startsWith('/v1/') ? apiKey : t.adminToken}`;
        await probe(route, route.path.startsWith('/admin/') ? `/admin/v1${fullUrl.replace(/^\/admin\/v1/, '')}` : fullUrl, payload, auth, { url: fullUrl, input });
      },
    ), { numRuns: runs(kind === 'pglite' ? 700 : 400), seed: SEED });
  });

  test('every route without, and with a wrong, operator token → 401 in the admin format', async () => {
    for (const route of routes.filter((r) => !r.public)) {
      const url = route.path.replace(/\{(\w+)\}/g, (_m, name: string) => ids[name] ?? '00000000-0000-4000-8000-000000000000');
      const full = route.path.startsWith('/admin/') ? `/admin/v1${url.replace(/^\/admin\/v1/, '')}` : url;
      for (const auth of ['', 'Bearer wrong', `Bearer ${t.scimToken}`, `Basic ${Buffer.from(`admin:${t.adminToken}`).toString('base64')}`]) {
        findings.tried++;
        const r = await t.app.inject({ method: route.method as 'GET', url: full, headers: auth ? { authorization: auth } : {}, ...(route.body ? { payload: {} } : {}) });
        if (r.statusCode !== 401) findings.add(`${route.method} ${route.path}: ${auth.split(' ')[0] || 'no auth'} → ${r.statusCode}`, r.body.slice(0, 200));
        const p = adminProblem({ status: r.statusCode, headers: r.headers, body: r.body });
        if (p) findings.add(`${route.method} ${route.path} unauthenticated: ${p}`, r.body.slice(0, 200));
      }
    }
  });

  test('the app is still up, nothing was logged at level error, and the tally', async (tt) => {
    await checker.checkpoint();
    assert.equal((await t.app.inject({ method: 'GET', url: `/admin/v1/tenants/${t.tenantId}`, headers: { authorization: `Bearer ${t.adminToken}` } })).statusCode, 200);
    assert.equal((await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
    for (const line of logs.errors()) findings.add('logged at level error', line);
    if (process.env.FUZZ_DEBUG) console.log([...hist.entries()].sort().map(([k, v]) => `${v}\t${k}`).join('\n'));
    tt.diagnostic(`[${kind}] admin fuzz: ${findings.tried} inputs over ${routes.length} routes, seed ${SEED}`);
    console.log(`# [${kind}] admin fuzz: ${findings.tried} inputs tried over ${routes.length} routes, ${findings.count} failures, seed ${SEED}`);
    findings.assertNone(`[${kind}] admin fuzz (seed ${SEED})`);
  });
});
