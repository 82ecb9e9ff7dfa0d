/**
 * Benchmark: POST /v1/{tenant}/authorize with an RS256 JWT, 32 concurrent connections, against
 * F-jwt = a bare node:http server doing one jose RS256 jwtVerify per request (PRODUCT.md target:
 * idpbridge ≥ 60% of F-jwt requests/s).
 *
 *   node --import tsx bench/authorize.ts        # DATABASE_URL or postgres://postgres@127.0.0.1:5432/test
 *   BENCH_DURATION=10 BENCH_CONNECTIONS=32 …
 *
 * Each server runs in its own child process; autocannon drives them from this (third) process.
 * idpbridge runs on PostgreSQL with LOG_LEVEL=warn and the per-tenant rate limit set out of reach
 * (the plugin stays in the request path). Scenarios:
 *   F-jwt                      bare node:http + jose jwtVerify (key imported once)
 *   idpbridge, token cache     defaults: verified token cached until exp, access/identity TTL 2 s
 *   idpbridge, no token cache  IDPBRIDGE_TOKEN_CACHE=false: every request runs jwtVerify (identity,
 *                              access and dataset lookups still reused for the 2 s TTL)
 *   idpbridge, no cache at all also IDPBRIDGE_ACCESS_CACHE_TTL_MS=0: every request verifies the
 *                              signature and reads identity, effective access and the dataset (3 queries)
 * Prints a table and a JSON line with req/s, p50/p99 latency and the ratios.
 */
import http from 'node:http';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type JWK } from 'jose';

const DB_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const ADMIN = 'idpb_admin_bench-operator-token-0123456789';
const ISSUER = 'https://idp.bench.example/';
const AUDIENCE = 'api://idpbridge-bench';
const self = fileURLToPath(import.meta.url);

const role = process.argv.find((a) => a.startsWith('--role='))?.slice(7) ?? 'main';

// ---- child: F-jwt -----------------------------------------------------------------------------
async function fjwt(): Promise<void> {
  const key = await importJWK(JSON.parse(process.env.BENCH_JWK!) as JWK, 'RS256');
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const token = (req.headers.authorization ?? '').slice(7);
      jwtVerify(token, key, { issuer: ISSUER, audience: AUDIENCE, algorithms: ['RS256'] }).then(
        () => { res.writeHead(200, { 'content-type': 'application/json' }).end('{"allowed":true}'); },
        () => { res.writeHead(401, { 'content-type': 'application/json' }).end('{"allowed":false}'); },
      );
    });
  });
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as AddressInfo).port }));
}

// ---- child: idpbridge -------------------------------------------------------------------------
async function idpbridge(): Promise<void> {
  const { loadConfig } = await import('../src/config.js');
  const { buildApp } = await import('../src/app.js');
  const config = { ...loadConfig(), port: 0 };
  const { app } = await buildApp({ config });
  await app.listen({ host: '127.0.0.1', port: 0 });
  process.send!({ port: (app.server.address() as AddressInfo).port });
  process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

// ---- main -------------------------------------------------------------------------------------
const children = new Set<ChildProcess>();
process.on('exit', () => { for (const c of children) c.kill('SIGKILL'); });

function child(r: string, env: Record<string, string>): Promise<{ proc: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', self, `--role=${r}`], {
      env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.add(proc);
    proc.once('exit', () => children.delete(proc));
    proc.once('message', (m: { port: number }) => resolve({ proc, port: m.port }));
    proc.once('exit', (code) => reject(new Error(`${r} exited with ${code}`)));
  });
}

const stop = (p: ChildProcess) => new Promise<void>((r) => { p.removeAllListeners('exit'); p.once('exit', () => r()); p.kill('SIGTERM'); });

interface Result { name: string; rps: number; p50: number; p99: number; errors: number; non2xx: number }

async function drive(name: string, url: string, token: string, body: string): Promise<Result> {
  // autocannon ships no type declarations: the module is typed here by what this file uses.
  const { default: autocannon } = (await import('autocannon' as string)) as {
    default: (o: object) => Promise<{ requests: { average: number }; latency: { p50: number; p99: number }; errors: number; non2xx: number }>;
  };
  const opts = {
    url, method: 'POST' as const, connections: CONNECTIONS, pipelining: 1,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body,
  };
  await autocannon({ ...opts, duration: 2 }); // warm-up (JIT, pools, caches)
  const r = await autocannon({ ...opts, duration: DURATION });
  return { name, rps: Math.round(r.requests.average), p50: r.latency.p50, p99: r.latency.p99, errors: r.errors, non2xx: r.non2xx };
}

async function main(): Promise<void> {
  // The "IdP": an RSA key and its JWKS on a loopback URL (fetched once by idpbridge, then cached).
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'bench-1', alg: 'RS256', use: 'sig' };
  const idp = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })));
  await new Promise<void>((r) => idp.listen(0, '127.0.0.1', r));
  const jwksUri = `http://127.0.0.1:${(idp.address() as AddressInfo).port}/keys`;

  const env = {
    DATABASE_URL: DB_URL, IDPBRIDGE_ADMIN_TOKEN: ADMIN, LOG_LEVEL: 'warn',
    IDPBRIDGE_RATE_LIMIT_PER_MINUTE: '1000000000', IDPBRIDGE_PG_POOL_MAX: '10',
  };
  const token = await new SignJWT({ oid: 'bench-oid-1', preferred_username: 'bench.user@contoso.example', groups: ['bench-gid'] })
    .setProtectedHeader({ alg: 'RS256', kid: 'bench-1', typ: 'JWT' })
    .setIssuer(ISSUER).setAudience(AUDIENCE).setIssuedAt().setExpirationTime('2h').sign(privateKey);

  // Seed one tenant through the real admin and SCIM APIs.
  let srv = await child('idpbridge', env);
  const base = () => `http://127.0.0.1:${srv.port}`;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const call = async (method: string, path: string, body?: unknown, auth = ADMIN, ct = 'application/json'): Promise<any> => {
    const headers: Record<string, string> = { authorization: `Bearer ${auth}`, ...(body ? { 'content-type': ct } : {}) };
    const r = await fetch(`${base()}${path}`, { method, headers, ...(body ? { body: JSON.stringify(body) } : {}) });
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
    return r.status === 204 ? undefined : r.json();
  };
  const tenant = await call('POST', '/admin/v1/tenants', { name: `bench authorize ${new Date().toISOString()}` });
  const scim = (await call('POST', `/admin/v1/tenants/${tenant.id}/scim-tokens`, { name: 'bench' })).token as string;
  const user = await call('POST', `/scim/v2/${tenant.id}/Users`, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'bench.user@contoso.example', externalId: 'bench-oid-1', active: true }, scim, 'application/scim+json');
  await call('POST', `/scim/v2/${tenant.id}/Groups`, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Bench Readers', externalId: 'bench-gid', members: [{ value: user.id }] }, scim, 'application/scim+json');
  const ds = await call('POST', `/admin/v1/tenants/${tenant.id}/datasets`, { name: 'bench-dataset', externalId: 'ds-bench' });
  const ag = await call('POST', `/admin/v1/tenants/${tenant.id}/access-groups`, { name: 'Bench Readers' });
  await call('POST', `/admin/v1/tenants/${tenant.id}/access-groups/${ag.id}/datasets`, { datasetId: ds.id });
  await call('PUT', `/admin/v1/tenants/${tenant.id}/oidc`, { provider: 'entra', issuer: ISSUER, audience: AUDIENCE, jwksUri });
  const body = JSON.stringify({ dataset: 'bench-dataset' });
  const check = await fetch(`${base()}/v1/${tenant.id}/authorize`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body });
  const decision = await check.json() as { allowed: boolean };
  if (!decision.allowed) throw new Error(`setup: authorize answered ${JSON.stringify(decision)}`);

  const results: Result[] = [];
  const f = await child('fjwt', { BENCH_JWK: JSON.stringify(jwk) });
  results.push(await drive('F-jwt (node:http + jose jwtVerify)', `http://127.0.0.1:${f.port}/`, token, body));
  await stop(f.proc);

  results.push(await drive('idpbridge authorize, token cache', `${base()}/v1/${tenant.id}/authorize`, token, body));
  await stop(srv.proc);

  srv = await child('idpbridge', { ...env, IDPBRIDGE_TOKEN_CACHE: 'false' });
  results.push(await drive('idpbridge authorize, no token cache', `${base()}/v1/${tenant.id}/authorize`, token, body));
  await stop(srv.proc);

  srv = await child('idpbridge', { ...env, IDPBRIDGE_TOKEN_CACHE: 'false', IDPBRIDGE_ACCESS_CACHE_TTL_MS: '0' });
  results.push(await drive('idpbridge authorize, no cache at all', `${base()}/v1/${tenant.id}/authorize`, token, body));

  await call('DELETE', `/admin/v1/tenants/${tenant.id}`).catch((err) => console.error(`cleanup: ${(err as Error).message}`));
  await stop(srv.proc);
  idp.close();

  const floor = results[0]!.rps;
  const pad = (s: string | number, n: number) => String(s).padEnd(n);
  console.log(`\nPOST /v1/{tenant}/authorize, RS256 JWT, ${CONNECTIONS} connections, ${DURATION} s each, PostgreSQL\n`);
  console.log(`${pad('scenario', 40)}${pad('req/s', 10)}${pad('p50 ms', 9)}${pad('p99 ms', 9)}${pad('vs F-jwt', 10)}errors/non-2xx`);
  for (const r of results) console.log(`${pad(r.name, 40)}${pad(r.rps, 10)}${pad(r.p50, 9)}${pad(r.p99, 9)}${pad(`${Math.round((r.rps / floor) * 100)}%`, 10)}${r.errors}/${r.non2xx}`);
  console.log(JSON.stringify({ bench: 'authorize', connections: CONNECTIONS, durationS: DURATION, results: results.map((r) => ({ ...r, ratio: Math.round((r.rps / floor) * 1000) / 1000 })) }));
}

if (role === 'fjwt') await fjwt();
else if (role === 'idpbridge') await idpbridge();
else await main().catch((err) => { console.error(err); process.exit(1); });
