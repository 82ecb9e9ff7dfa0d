/**
 * `npm run fuzz -- [--count N] [--duration SECONDS] [--seed N] [--db pglite,postgres] [--concurrency N] [--save]`
 *
 * The fuzz campaign (not part of `npm test`): the fast-check generators of
 * test/security/arbitraries.ts build requests to every route (SCIM, the admin API from its OpenAPI
 * document, /v1, the sign-in broker, the console API, raw bytes), sent over HTTP to real server
 * processes: two per database (PostgreSQL: two processes on one database, DATABASE_URL or
 * TEST_DATABASE_URL; PGlite: two processes, each on its own data directory). The verdict is the
 * servers' own: every 5xx answer and every log line at level error or above is a failure. Failures
 * are replayed one by one to confirm them; with --save, confirmed ones are written to
 * test/security/fixtures/ (replayed by test/security/fuzz-fixtures.test.ts). Stops at --count
 * inputs or after --duration seconds, whichever comes first. Exit status 1 when anything failed.
 */
import http from 'node:http';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { startServerProcess, ROOT, type ServerProcess } from '../test/helpers/process.js';
import { anyJson, hostileFilter, nastyString, patchOp, pathArb, rawBody, toJson, valueFor } from '../test/security/arbitraries.js';
import type { FuzzFixture } from '../test/security/fuzz-fixture.js';

const args = process.argv.slice(2);
const arg = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const COUNT = Number(arg('count') ?? 10_000);
const DURATION_S = Number(arg('duration') ?? 0);
const SEED = Number(arg('seed') ?? Date.now() % 1_000_000_000);
const CONCURRENCY = Number(arg('concurrency') ?? 6);
const SAVE = args.includes('--save');
const DATABASE_URL = process.env.DATABASE_URL ?? process.env.TEST_DATABASE_URL;
const DBS = (arg('db') ?? (DATABASE_URL ? 'pglite,postgres' : 'pglite')).split(',');
const ADMIN_TOKEN = 'fuzz-operator-token-0123456789abcdef';
const BATCH = 200;

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const SEARCH = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';
const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';

/** One generated request; ids are placeholders ({tenant}, {user}, {group}, {scimToken}, {adminToken}) filled per target. */
type Req = FuzzFixture['request'];

interface Target {
  name: string;
  server: ServerProcess;
  host: string;
  port: number;
  ids: Record<string, string>;
  /** reqId → "METHOD url" from the server's "incoming request" lines. */
  reqUrls: Map<string, string>;
  errorLines: { line: string; key: string | undefined }[];
  logOffset: number;
}

// ---- generators -------------------------------------------------------------------------------

/** Percent-encodes; lone surrogates become their (invalid) WTF-8 bytes. */
const q = (s: string) => s.split(/([\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff])/).map((part) => (/^[\ud800-\udfff]$/.test(part)
  ? [0xe0 | (part.charCodeAt(0) >> 12), 0x80 | ((part.charCodeAt(0) >> 6) & 0x3f), 0x80 | (part.charCodeAt(0) & 0x3f)].map((b) => `%${b.toString(16).toUpperCase()}`).join('')
  : encodeURIComponent(part))).join('');

const idArb = (placeholder: string) => fc.oneof(
  { weight: 8, arbitrary: fc.constant(`{${placeholder}}`) },
  { weight: 1, arbitrary: fc.uuid().map((u) => u) },
  { weight: 1, arbitrary: nastyString.map(q) },
  { weight: 1, arbitrary: fc.constant(`{${placeholder}:upper}`) },
);
const queryArb = (names: string[]) => fc.dictionary(
  fc.oneof({ weight: 4, arbitrary: names.length ? fc.constantFrom(...names) : nastyString }, { weight: 1, arbitrary: nastyString }),
  fc.oneof(nastyString, fc.integer({ min: -5, max: 2000 }).map(String), hostileFilter),
  { maxKeys: 4 },
).map((o) => Object.entries(o).map(([k, v]) => `${q(k)}=${q(v)}`).join('&'));
const bodyArb = fc.oneof(
  { weight: 4, arbitrary: anyJson.map((v) => ({ text: toJson(v) })) },
  { weight: 1, arbitrary: rawBody.map((b) => ({ base64: b.toString('base64') })) },
);
const withQuery = (path: string, query: string) => (query ? `${path}?${query}` : path);

const SCIM_PATHS = ['/Users', '/Groups', '/Users/{user}', '/Groups/{group}', '/Users/.search', '/Groups/.search', '/.search', '/Bulk',
  '/ServiceProviderConfig', '/Schemas', '/ResourceTypes', '/ResourceTypes/User', `/Schemas/${USER}`, '/Me', '/Users/{user}/x'];
const scimBody = fc.oneof(
  { weight: 3, arbitrary: fc.record({
    schemas: fc.oneof(fc.constant([USER]), fc.constant([GROUP]), valueFor), userName: valueFor, displayName: valueFor, externalId: valueFor,
    active: valueFor, emails: fc.oneof(fc.array(fc.record({ value: valueFor, type: valueFor, primary: valueFor }, { requiredKeys: [] }), { maxLength: 3 }), valueFor),
    members: fc.oneof(fc.array(fc.record({ value: fc.oneof(fc.constant('{user}'), valueFor) }, { requiredKeys: [] }), { maxLength: 3 }), valueFor),
    'urn:ietf:params:scim:schemas:extension:2.0:Metadata': fc.dictionary(nastyString, valueFor, { maxKeys: 3 }),
    'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': fc.record({ manager: valueFor, employeeNumber: valueFor }, { requiredKeys: [] }),
  }, { requiredKeys: ['schemas'] }).map((v) => ({ text: toJson(v) })) },
  { weight: 3, arbitrary: fc.array(patchOp, { maxLength: 4 }).map((ops) => ({ text: toJson({ schemas: [PATCH], Operations: ops }) })) },
  { weight: 2, arbitrary: fc.record({
    schemas: fc.oneof(fc.constant([SEARCH]), valueFor), filter: hostileFilter, sortBy: fc.oneof(pathArb, valueFor), sortOrder: valueFor,
    startIndex: valueFor, count: valueFor, attributes: fc.oneof(fc.array(pathArb, { maxLength: 3 }), valueFor), excludedAttributes: valueFor,
  }, { requiredKeys: ['schemas'] }).map((v) => ({ text: toJson(v) })) },
  { weight: 1, arbitrary: fc.record({
    schemas: fc.constant([BULK]), failOnErrors: valueFor,
    Operations: fc.array(fc.record({ method: fc.oneof(fc.constantFrom('POST', 'PUT', 'PATCH', 'DELETE'), valueFor), path: fc.oneof(fc.constantFrom('/Users', '/Groups', '/Users/{user}', '/Groups/bulkId:b1'), valueFor), bulkId: fc.oneof(fc.constantFrom('b1', 'b2'), valueFor), data: anyJson }, { requiredKeys: [] }), { maxLength: 5 }),
  }).map((v) => ({ text: toJson(v) })) },
  { weight: 2, arbitrary: bodyArb },
);
const scimReq: fc.Arbitrary<Req> = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'GET', 'POST', 'PATCH'),
  tenant: idArb('tenant'),
  path: fc.constantFrom(...SCIM_PATHS),
  query: fc.oneof(fc.constant(''), fc.record({
    filter: fc.option(hostileFilter, { nil: undefined }), sortBy: fc.option(fc.oneof(pathArb, nastyString), { nil: undefined }),
    count: fc.option(fc.oneof(fc.integer({ min: -5, max: 2000 }).map(String), nastyString), { nil: undefined }),
    startIndex: fc.option(fc.oneof(fc.integer({ min: -5, max: 100 }).map(String), nastyString), { nil: undefined }),
    attributes: fc.option(fc.oneof(pathArb, nastyString), { nil: undefined }),
  }, { requiredKeys: [] }).map((o) => Object.entries(o).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${q(v as string)}`).join('&'))),
  body: scimBody,
  auth: fc.oneof({ weight: 12, arbitrary: fc.constant('Bearer {scimToken}') }, { weight: 1, arbitrary: nastyString.map((s) => `Bearer ${s}`) },
    { weight: 1, arbitrary: fc.tuple(nastyString, nastyString).map(([u, p]) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`) }),
  contentType: fc.oneof({ weight: 8, arbitrary: fc.constant('application/scim+json') }, { weight: 1, arbitrary: fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', '') }),
}).map((r) => ({
  method: r.method,
  path: withQuery(`/scim/v2/${r.tenant}${r.path}`, r.query),
  headers: { authorization: r.auth, ...(r.contentType ? { 'content-type': r.contentType } : {}) },
  ...(['GET', 'DELETE'].includes(r.method) ? {} : r.body),
}));

interface AdminRoute { method: string; template: string; query: string[]; bodyKeys: string[] }
let adminRoutes: AdminRoute[] = [];

const adminReq = () => fc.record({
  route: fc.constantFrom(...adminRoutes),
  ids: fc.record({ tenant: idArb('tenant'), user: idArb('user'), other: fc.oneof(fc.uuid(), nastyString.map(q)) }),
  query: fc.constant(null),
  body: fc.oneof(
    { weight: 3, arbitrary: fc.constant(null) },
    { weight: 2, arbitrary: bodyArb },
  ),
  seed: fc.nat(),
}).chain((r) => fc.tuple(
  fc.constant(r),
  queryArb(r.route.query),
  r.route.bodyKeys.length ? fc.dictionary(fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...r.route.bodyKeys) }, { weight: 1, arbitrary: nastyString }), valueFor, { maxKeys: 6 }) : fc.constant({}),
)).map(([r, query, dict]): Req => {
  const path = r.route.template
    .replace('{tenantId}', r.ids.tenant)
    .replace('{userId}', r.ids.user)
    .replace(/\{[A-Za-z]+\}/g, r.ids.other);
  // Deleting the target tenant would end the campaign for its target: another id is used.
  const safePath = r.route.method === 'DELETE' && /^\/admin\/v1\/tenants\/\{tenant(:upper)?\}$/.test(path) ? '/admin/v1/tenants/00000000-0000-4000-8000-000000000000' : path;
  const body = r.body ?? { text: toJson(dict) };
  return {
    method: r.route.method, path: withQuery(safePath, query),
    headers: { authorization: 'Bearer {adminToken}', 'content-type': 'application/json' },
    ...(['GET', 'DELETE'].includes(r.route.method) && !r.body ? {} : body),
  };
});

const jwtLike = fc.tuple(anyJson, anyJson, nastyString).map(([h, p, s]) => [toJson(h), toJson(p)].map((x) => Buffer.from(x).toString('base64url')).join('.') + `.${Buffer.from(s).toString('base64url')}`);
const v1Req: fc.Arbitrary<Req> = fc.record({
  method: fc.constantFrom('GET', 'POST'),
  tenant: idArb('tenant'),
  path: fc.constantFrom('/me', '/authorize', '/authorize/batch', ''),
  auth: fc.oneof(jwtLike.map((j) => `Bearer ${j}`), nastyString.map((s) => `Bearer ${s}`), nastyString.map((s) => `Bearer idpb_key_${s}`), fc.constant('Bearer {apiKey}')),
  body: fc.oneof(fc.record({ dataset: valueFor, datasets: valueFor, action: valueFor }, { requiredKeys: [] }).map((v) => ({ text: toJson(v) })), bodyArb),
}).map((r) => ({
  method: r.method, path: `/v1/${r.tenant}${r.path}`, headers: { authorization: r.auth, 'content-type': 'application/json' },
  ...(r.method === 'POST' ? r.body : {}),
}));

const ssoReq: fc.Arbitrary<Req> = fc.record({
  tenant: idArb('tenant'),
  which: fc.constantFrom('login', 'callback', 'password-login', 'password-login-post', 'password-login-form', 'jwks', 'saml'),
  query: queryArb(['redirect_uri', 'state', 'code', 'login_hint', 'error', 'error_description', 'iss', 'SAMLResponse', 'RelayState']),
  body: fc.dictionary(fc.constantFrom('userName', 'password', 'redirect_uri', 'state', 'SAMLResponse', 'RelayState'), nastyString, { maxKeys: 5 }),
  cookie: fc.option(nastyString.map((s) => `idpb_sso_x=${q(s)}`), { nil: undefined }),
}).map((r): Req => {
  const base = `/sso/${r.tenant}`;
  const cookie: Record<string, string> = r.cookie ? { cookie: r.cookie } : {};
  switch (r.which) {
    case 'jwks': return { method: 'GET', path: '/.well-known/jwks.json', headers: {} };
    case 'password-login-post': return { method: 'POST', path: `${base}/password-login`, headers: { 'content-type': 'application/json', ...cookie }, text: toJson(r.body) };
    case 'password-login-form': return { method: 'POST', path: `${base}/password-login`, headers: { 'content-type': 'application/x-www-form-urlencoded', ...cookie }, text: new URLSearchParams(r.body).toString() };
    case 'saml': return { method: 'POST', path: `${base}/saml/acs`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, text: new URLSearchParams(r.body).toString() };
    default: return { method: 'GET', path: withQuery(`${base}/${r.which}`, r.query), headers: { ...cookie } };
  }
});

const consoleReq: fc.Arbitrary<Req> = fc.record({
  path: fc.constantFrom('/console/api/session', '/console/api/session', '/console/api/setup', '/console/api/x', '/console/', '/console/index.html', '/console/../etc/passwd'),
  method: fc.constantFrom('GET', 'POST', 'DELETE'),
  body: fc.oneof(fc.record({ operatorToken: valueFor, login: valueFor, password: valueFor, secret: valueFor }, { requiredKeys: [] }).map((v) => ({ text: toJson(v) })), bodyArb),
  csrf: fc.option(nastyString, { nil: undefined }),
  cookie: fc.option(nastyString.map((s) => `idpb_session=${q(s)}`), { nil: undefined }),
}).map((r) => ({
  method: r.method, path: r.path,
  headers: { 'content-type': 'application/json', ...(r.csrf ? { 'x-csrf-token': q(r.csrf) } : {}), ...(r.cookie ? { cookie: r.cookie } : {}) },
  ...(r.method === 'POST' ? r.body : {}),
}));

const otherReq: fc.Arbitrary<Req> = fc.record({
  path: fc.oneof(fc.constantFrom('/healthz', '/readyz', '/metrics', '/', '/admin/v1/openapi.json', '/SCIM/V2/{tenant}/USERS', '/scim/v2/{tenant}/users/{user}'), nastyString.map((s) => `/${q(s)}`),
    fc.tuple(fc.constantFrom('/scim/v2/', '/admin/v1/tenants/', '/v1/', '/sso/'), nastyString).map(([p, s]) => p + q(s))),
  method: fc.constantFrom('GET', 'POST', 'OPTIONS', 'HEAD', 'PUT', 'TRACE'),
  body: bodyArb,
}).map((r) => ({ method: r.method, path: r.path, headers: { authorization: 'Bearer {adminToken}', 'content-type': 'application/json' }, ...(['POST', 'PUT'].includes(r.method) ? r.body : {}) }));

const requestArb = () => fc.oneof(
  { weight: 6, arbitrary: scimReq },
  { weight: 5, arbitrary: adminReq() },
  { weight: 2, arbitrary: v1Req },
  { weight: 2, arbitrary: ssoReq },
  { weight: 1, arbitrary: consoleReq },
  { weight: 1, arbitrary: otherReq },
);

// ---- sending ----------------------------------------------------------------------------------

function fill(s: string, ids: Record<string, string>): string {
  return s.replace(/\{(tenant|user|group|scimToken|adminToken|apiKey)(:upper)?\}/g, (_m, k: string, up?: string) => (up ? ids[k]!.toUpperCase() : ids[k]!));
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function send(t: Target, r: Req, timeoutMs = 60_000): Promise<{ status: number; body: string; key: string }> {
  const path = fill(r.path, t.ids);
  const key = `${r.method} ${path}`;
  const payload = r.base64 !== undefined ? Buffer.from(r.base64, 'base64') : r.text !== undefined ? Buffer.from(fill(r.text, t.ids)) : undefined;
  const headers: Record<string, string> = { host: `127.0.0.1:${t.port}` };
  for (const [k, v] of Object.entries(r.headers ?? {})) headers[k] = fill(v, t.ids);
  if (payload) headers['content-length'] = String(payload.length);
  return new Promise((resolve) => {
    let req: http.ClientRequest;
    try {
      req = http.request({ host: t.host, port: t.port, method: r.method, path, headers, agent, timeout: timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => { if (chunks.length < 64) chunks.push(c); });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8').slice(0, 2000), key }));
        res.on('error', () => resolve({ status: -1, body: 'response error', key }));
      });
    } catch (err) {
      // The client refuses to send it (invalid header or path characters): not an input the server sees.
      return resolve({ status: -2, body: (err as Error).message, key });
    }
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve({ status: err.message === 'timeout' ? -3 : -1, body: err.message, key }));
    try {
      req.end(payload);
    } catch (err) {
      resolve({ status: -2, body: (err as Error).message, key });
    }
  });
}

async function api(t: Target, method: string, path: string, body?: unknown, token = ADMIN_TOKEN): Promise<any> {
  const res = await fetch(`http://${t.host}:${t.port}${path}`, {
    method, headers: { authorization: `Bearer ${token}`, 'content-type': path.startsWith('/scim/') ? 'application/scim+json' : 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    // A set-up call that hangs is a finding, not a silent stall of the campaign.
    signal: AbortSignal.timeout(60_000),
  }).catch((err: Error) => {
    throw new Error(`${method} ${path} on ${t.name}: ${err.name === 'TimeoutError' ? 'no answer in 60 s (the server hangs)' : err.message}`);
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path} → ${res.status} ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : undefined;
}

/** A tenant with SCIM and API-key credentials, a user and a group: the ids the generated requests aim at. */
async function seed(t: Target, name: string): Promise<Record<string, string>> {
  const tenant = await api(t, 'POST', '/admin/v1/tenants', { name });
  const tok = await api(t, 'POST', `/admin/v1/tenants/${tenant.id}/scim-tokens`, { name: 'fuzz' });
  const scim = (p: string, b: unknown) => api(t, 'POST', `/scim/v2/${tenant.id}${p}`, b, tok.token);
  const user = await scim('/Users', { schemas: [USER], userName: 'fuzz.target@example.com', emails: [{ value: 'fuzz.target@example.com', type: 'work' }] });
  const group = await scim('/Groups', { schemas: [GROUP], displayName: 'Fuzz group', members: [{ value: user.id }] });
  let apiKey = 'idpb_key_none';
  try {
    apiKey = (await api(t, 'POST', `/admin/v1/tenants/${tenant.id}/users/${user.id}/api-keys`, { name: 'fuzz' })).key ?? apiKey;
  } catch { /* API keys may be off for provisioned users */ }
  await api(t, 'POST', `/admin/v1/tenants/${tenant.id}/sso/redirect-uris`, { uri: 'https://app.example.com/cb' }).catch(() => {});
  return { tenant: tenant.id, user: user.id, group: group.id, scimToken: tok.token, adminToken: ADMIN_TOKEN, apiKey };
}

function watchLogs(t: Target): void {
  const out = t.server.output();
  const fresh = out.slice(t.logOffset);
  const lastNl = fresh.lastIndexOf('\n');
  if (lastNl < 0) return;
  t.logOffset += lastNl + 1;
  for (const line of fresh.slice(0, lastNl).split('\n')) {
    if (!line.startsWith('{')) {
      if (/Error|error/.test(line)) t.errorLines.push({ line, key: undefined });
      continue;
    }
    let j: any;
    try { j = JSON.parse(line); } catch { continue; }
    if (j.req?.url && j.reqId) {
      t.reqUrls.set(j.reqId, `${j.req.method} ${j.req.url}`);
      if (t.reqUrls.size > 50_000) t.reqUrls.clear();
    }
    if (j.level >= 50) t.errorLines.push({ line: line.slice(0, 2000), key: t.reqUrls.get(j.reqId) });
  }
}

async function startTargets(): Promise<Target[]> {
  const env = { IDPBRIDGE_ADMIN_TOKEN: ADMIN_TOKEN, IDPBRIDGE_RATE_LIMIT_PER_MINUTE: '0', LOG_LEVEL: 'info', IDPBRIDGE_PUBLIC_URL: '' };
  const targets: Target[] = [];
  try {
    await startAll(targets, env);
  } catch (err) {
    await Promise.all(targets.map((t) => t.server.kill('SIGTERM')));
    throw err;
  }
  return targets;
}

async function startAll(targets: Target[], env: Record<string, string>): Promise<void> {
  const mk = (name: string, server: ServerProcess): Target => {
    const u = new URL(server.url);
    return { name, server, host: u.hostname, port: Number(u.port), ids: {}, reqUrls: new Map(), errorLines: [], logOffset: 0 };
  };
  for (const db of DBS) {
    if (db === 'postgres') {
      if (!DATABASE_URL) throw new Error('--db postgres needs DATABASE_URL or TEST_DATABASE_URL');
      const a = await startServerProcess({ ...env, DATABASE_URL }, 300_000);
      const b = await startServerProcess({ ...env, DATABASE_URL }, 300_000);
      targets.push(mk('postgres#1', a), mk('postgres#2', b));
    } else {
      for (const n of [1, 2]) {
        const dir = mkdtempSync(join(tmpdir(), 'idpb-fuzz-'));
        const s = await startServerProcess({ ...env, DATABASE_URL: '', IDPBRIDGE_DATA_DIR: dir }, 300_000);
        targets.push(mk(`pglite#${n}`, s));
        dirs.push(dir);
      }
    }
  }
}
const dirs: string[] = [];

async function main(): Promise<void> {
  const t0 = Date.now();
  const deadline = DURATION_S > 0 ? t0 + DURATION_S * 1000 : Infinity;
  process.stdout.write(`fuzz: seed ${SEED}, count ${COUNT}, duration ${DURATION_S || '∞'} s, databases ${DBS.join('+')}, concurrency ${CONCURRENCY} per process\n`);
  const targets = await startTargets();
  try {
    for (const t of targets) t.ids = await seed(t, `Fuzz ${t.name}`);
    // Both PostgreSQL processes aim at the same tenant (one writes, the other reads it back).
    const pg = targets.filter((t) => t.name.startsWith('postgres'));
    if (pg.length === 2) pg[1]!.ids = pg[0]!.ids;

    const doc = await api(targets[0]!, 'GET', '/admin/v1/openapi.json');
    adminRoutes = Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([p, ops]) => Object.entries(ops).map(([m, op]) => ({
      method: m.toUpperCase(), template: `${p}`,
      query: (op.parameters ?? []).filter((x: any) => x.in === 'query').map((x: any) => x.name as string),
      bodyKeys: Object.keys(op.requestBody?.content?.['application/json']?.schema?.properties ?? {}),
    })));
    process.stdout.write(`fuzz: ${targets.map((t) => t.name).join(', ')} ready; ${adminRoutes.length} admin operations\n`);

    const reqArb = requestArb();
    let sent = 0;
    let batch = 0;
    const statusCounts = new Map<number, number>();
    const failures: { target: string; req: Req; status: number; body: string; why: string; batchSeed: number; index: number }[] = [];
    const recent = new Map<string, { req: Req; batchSeed: number; index: number }>();
    let lastReport = Date.now();
    while (sent < COUNT && Date.now() < deadline) {
      const batchSeed = SEED + batch++;
      // Every input goes to every process: --count counts requests.
      const inputs = fc.sample(reqArb, { seed: batchSeed, numRuns: Math.max(1, Math.min(BATCH, Math.ceil((COUNT - sent) / targets.length))) });
      await Promise.all(targets.map(async (t) => {
        let next = 0;
        await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
          while (next < inputs.length) {
            const index = next++;
            const r = inputs[index]!;
            const res = await send(t, r);
            recent.set(res.key, { req: r, batchSeed, index });
            if (recent.size > 5000) recent.delete(recent.keys().next().value!);
            statusCounts.set(res.status, (statusCounts.get(res.status) ?? 0) + 1);
            if (res.status >= 500 || res.status === -1 || res.status === -3) {
              failures.push({ target: t.name, req: r, status: res.status, body: res.body, why: res.status >= 500 ? `status ${res.status}` : res.body, batchSeed, index });
            }
          }
        }));
        watchLogs(t);
        for (const e of t.errorLines.splice(0)) {
          const hit = e.key ? recent.get(e.key) : undefined;
          failures.push({ target: t.name, req: hit?.req ?? { method: '?', path: e.key ?? '?' }, status: 0, body: e.line, why: 'error log line', batchSeed: hit?.batchSeed ?? -1, index: hit?.index ?? -1 });
        }
      }));
      sent += inputs.length * targets.length;
      if (Date.now() - lastReport > 15_000) {
        lastReport = Date.now();
        const rate = sent / ((Date.now() - t0) / 1000);
        process.stdout.write(`fuzz: ${sent} requests (${rate.toFixed(0)}/s), ${failures.length} failures\n`);
      }
      for (const t of targets) {
        if (t.server.child.exitCode !== null || t.server.child.signalCode !== null) {
          failures.push({ target: t.name, req: { method: '?', path: '?' }, status: 0, body: t.server.output().slice(-2000), why: 'server process exited', batchSeed, index: -1 });
          throw new Error(`${t.name} exited`);
        }
      }
    }

    // Distinct failures by route template and reason; each replayed alone to confirm it.
    const distinct = new Map<string, (typeof failures)[number]>();
    for (const f of failures) {
      const route = f.req.path.split('?')[0]!.replace(/\{[a-zA-Z:]+\}|[0-9a-f-]{36}/gi, '{id}').replace(/(\/(?:Users|Groups|tenants\/\{id\}\/[a-z-]+))\/[^/]+/g, '$1/{x}');
      const reason = f.status >= 500 ? `${f.status} ${/"code":"([A-Z_]+)"/.exec(f.body)?.[1] ?? ''}` : f.why === 'error log line' ? (/"msg":"([^"]+)"/.exec(f.body)?.[1] ?? 'error') + ' ' + (/"message":"([^"]{0,80})/.exec(f.body)?.[1] ?? '') : f.why;
      const k = `${f.req.method} ${route} → ${reason}`;
      if (!distinct.has(k)) distinct.set(k, f);
    }
    process.stdout.write(`\nfuzz: ${sent} requests in ${((Date.now() - t0) / 1000).toFixed(0)} s (seed ${SEED}); status counts ${JSON.stringify(Object.fromEntries([...statusCounts].sort((a, b) => a[0] - b[0])))}\n`);
    process.stdout.write(`fuzz: ${failures.length} failures, ${distinct.size} distinct\n`);
    let i = 0;
    for (const [k, f] of distinct) {
      const target = targets.find((t) => t.name === f.target)!;
      const again = f.req.method === '?' ? undefined : await send(target, f.req);
      watchLogs(target);
      const errs = target.errorLines.splice(0);
      const confirmed = again !== undefined && (again.status >= 500 || errs.length > 0);
      process.stdout.write(`\n[${confirmed ? 'CONFIRMED' : 'not reproduced alone'}] ${k}\n  target ${f.target}, batch seed ${f.batchSeed} index ${f.index}\n  ${JSON.stringify(f.req).slice(0, 600)}\n  ${f.body.slice(0, 600)}\n`);
      if (SAVE && confirmed) {
        const dir = join(ROOT, 'test/security/fixtures');
        mkdirSync(dir, { recursive: true });
        const fixture: FuzzFixture = { found: new Date().toISOString().slice(0, 10), seed: f.batchSeed, index: f.index, problem: k, request: f.req };
        writeFileSync(join(dir, `fuzz-${SEED}-${++i}.json`), `${JSON.stringify(fixture, null, 2)}\n`);
      }
    }
    process.exitCode = failures.length ? 1 : 0;
  } finally {
    await Promise.all(targets.map((t) => t.server.kill('SIGTERM')));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    agent.destroy();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`fuzz: ${err.stack ?? err.message}\n`);
  process.exit(2);
});
