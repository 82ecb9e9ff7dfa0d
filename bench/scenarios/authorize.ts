/**
 * POST /v1/{tenant}/authorize with an RS256 JWT, 32 concurrent, against F-jwt (target ≥ 60%).
 * idpbridge twice: defaults (verified-token cache, 2 s access cache) and with both caches off
 * (every request verifies the signature and reads identity, groups and datasets).
 * Set-up through the real admin and SCIM APIs; the IdP's JWKS is served from the orchestrator.
 */
import http from 'node:http';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { BENCH_DIR, startIdpbridge, startServer } from '../lib/proc.js';
import { loadServer, type LoadResult } from '../lib/load.js';
import { api, createTenant } from '../lib/db.js';
import type { BenchContext, Row, ScenarioResult } from '../lib/types.js';

const ISSUER = 'https://idp.bench.example/';
const AUDIENCE = 'api://idpbridge-bench';

export async function run(ctx: BenchContext): Promise<ScenarioResult> {
  const { sizes } = ctx;
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'bench-1', alg: 'RS256', use: 'sig' };
  const idp = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })));
  await new Promise<void>((r) => idp.listen(0, '127.0.0.1', r));
  const jwksUri = `http://127.0.0.1:${(idp.address() as AddressInfo).port}/keys`;
  const token = await new SignJWT({ oid: 'bench-oid-1', preferred_username: 'bench.user@contoso.example', groups: ['bench-gid'] })
    .setProtectedHeader({ alg: 'RS256', kid: 'bench-1', typ: 'JWT' })
    .setIssuer(ISSUER).setAudience(AUDIENCE).setIssuedAt().setExpirationTime('2h').sign(privateKey);
  const body = JSON.stringify({ dataset: 'bench-dataset' });
  const common = { kind: 'static' as const, method: 'POST', connections: sizes.connections, warmupS: sizes.warmupS, durationS: sizes.durationS, body, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } };

  try {
    ctx.log('  F-jwt');
    const floor = await startServer({ name: 'F-jwt', script: join(BENCH_DIR, 'floors/jwt.ts'), env: { FLOOR_JWK: JSON.stringify(jwk), FLOOR_ISSUER: ISSUER, FLOOR_AUDIENCE: AUDIENCE }, readyPath: '/' });
    const f = await loadServer(floor, { ...common, url: `${floor.url}/` });
    await floor.stop();

    let srv = await startIdpbridge({ DATABASE_URL: ctx.databaseUrl });
    const t = await createTenant(srv, 'bench authorize');
    const user = await api(srv, 'POST', `${t.scimBase}/Users`, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'bench.user@contoso.example', externalId: 'bench-oid-1', active: true }, t.token);
    await api(srv, 'POST', `${t.scimBase}/Groups`, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Bench Readers', externalId: 'bench-gid', members: [{ value: user.id }] }, t.token);
    const ds = await api(srv, 'POST', `/admin/v1/tenants/${t.id}/datasets`, { name: 'bench-dataset', externalId: 'ds-bench' });
    const ag = await api(srv, 'POST', `/admin/v1/tenants/${t.id}/access-groups`, { name: 'Bench Readers' });
    await api(srv, 'POST', `/admin/v1/tenants/${t.id}/access-groups/${ag.id}/datasets`, { datasetId: ds.id });
    await api(srv, 'PUT', `/admin/v1/tenants/${t.id}/oidc`, { provider: 'entra', issuer: ISSUER, audience: AUDIENCE, jwksUri });
    const check = await fetch(`${srv.url}/v1/${t.id}/authorize`, { method: 'POST', headers: common.headers, body });
    const decision = (await check.json()) as { allowed?: boolean };
    if (!decision.allowed) throw new Error(`authorize set-up: ${check.status} ${JSON.stringify(decision)}`);

    const rows: Row[] = [{ name: 'F-jwt (node:http + jose jwtVerify)', rps: f.rps, p50: f.p50, p99: f.p99, rssMaxMb: f.rssMaxMb, cpuMsPerReq: f.cpuMsPerReq, loadAvg: f.loadAvg, errors: f.errors, non2xx: f.non2xx }];
    const measure = async (name: string): Promise<LoadResult> => {
      ctx.log(`  ${name}`);
      const r = await loadServer(srv, { ...common, url: `${srv.url}/v1/${t.id}/authorize` });
      rows.push({ name, rps: r.rps, p50: r.p50, p99: r.p99, rssMaxMb: r.rssMaxMb, cpuMsPerReq: r.cpuMsPerReq, loadAvg: r.loadAvg, errors: r.errors, non2xx: r.non2xx });
      return r;
    };
    const cached = await measure('idpbridge authorize (defaults: token cache)');
    await srv.stop();
    srv = await startIdpbridge({ DATABASE_URL: ctx.databaseUrl, IDPBRIDGE_TOKEN_CACHE: 'false', IDPBRIDGE_ACCESS_CACHE_TTL_MS: '0' });
    const uncached = await measure('idpbridge authorize (no caches)');
    await srv.stop();
    return {
      id: 'authorize',
      title: `POST /v1/{tenant}/authorize, RS256 JWT, ${sizes.connections} concurrent, PostgreSQL`,
      rows,
      verdicts: [
        { label: 'idpbridge (defaults) / F-jwt', value: cached.rps / f.rps, target: '≥ 0.60', pass: cached.rps / f.rps >= 0.6 },
        // The worst case, not the target: every call verifies the signature and reads the database.
        { label: 'idpbridge (token and access caches off) / F-jwt', value: uncached.rps / f.rps, target: '(info)', pass: null },
      ],
      notes: [],
    };
  } finally {
    idp.close();
  }
}
