/**
 * GET /Users?filter=userName eq "…", 32 concurrent, random existing users, on the small (1k) and the
 * big (100k) tenant, against F-read on the big tenant (targets: ≥ 50% of F-read; 100k within 10% of 1k).
 */
import { join } from 'node:path';
import { BENCH_DIR, startIdpbridge, startServer } from '../lib/proc.js';
import { loadServer } from '../lib/load.js';
import type { BenchContext, ScenarioResult } from '../lib/types.js';

export async function run(ctx: BenchContext): Promise<ScenarioResult> {
  const { sizes, tenants } = ctx;
  const common = { connections: sizes.connections, warmupS: sizes.warmupS, durationS: sizes.durationS, kind: 'get-filter' as const };

  ctx.log('  F-read');
  const floor = await startServer({ name: 'F-read', script: join(BENCH_DIR, 'floors/read.ts'), env: { DATABASE_URL: ctx.databaseUrl, FLOOR_TENANT: tenants.big.id }, readyPath: '/' });
  const f = await loadServer(floor, { ...common, url: `${floor.url}/Users`, users: sizes.bigUsers });
  await floor.stop();

  const srv = await startIdpbridge({ DATABASE_URL: ctx.databaseUrl });
  ctx.log(`  idpbridge ${sizes.smallUsers} users`);
  const small = await loadServer(srv, { ...common, url: `${srv.url}${tenants.small.scimBase}/Users`, users: sizes.smallUsers, headers: { authorization: `Bearer ${tenants.small.token}` } });
  ctx.log(`  idpbridge ${sizes.bigUsers} users`);
  const big = await loadServer(srv, { ...common, url: `${srv.url}${tenants.big.scimBase}/Users`, users: sizes.bigUsers, headers: { authorization: `Bearer ${tenants.big.token}` } });
  await srv.stop();

  const vsFloor = big.rps / f.rps;
  const vsSmall = big.rps / small.rps;
  const k = (n: number) => (n >= 1000 ? `${n / 1000}k` : String(n));
  return {
    id: 'filter-read',
    title: `GET /Users?filter=userName eq, ${sizes.connections} concurrent, PostgreSQL`,
    rows: [
      { name: `F-read (node:http + pg, one indexed SELECT), ${k(sizes.bigUsers)} users`, rps: f.rps, p50: f.p50, p99: f.p99, rssMaxMb: f.rssMaxMb, cpuMsPerReq: f.cpuMsPerReq, loadAvg: f.loadAvg, errors: f.errors, non2xx: f.non2xx },
      { name: `idpbridge, ${k(sizes.smallUsers)}-user tenant`, rps: small.rps, p50: small.p50, p99: small.p99, rssMaxMb: small.rssMaxMb, cpuMsPerReq: small.cpuMsPerReq, loadAvg: small.loadAvg, errors: small.errors, non2xx: small.non2xx },
      { name: `idpbridge, ${k(sizes.bigUsers)}-user tenant`, rps: big.rps, p50: big.p50, p99: big.p99, rssMaxMb: big.rssMaxMb, cpuMsPerReq: big.cpuMsPerReq, loadAvg: big.loadAvg, errors: big.errors, non2xx: big.non2xx },
    ],
    verdicts: [
      { label: `idpbridge ${k(sizes.bigUsers)} / F-read`, value: vsFloor, target: '≥ 0.50', pass: vsFloor >= 0.5 },
      { label: `idpbridge ${k(sizes.bigUsers)} / ${k(sizes.smallUsers)}`, value: vsSmall, target: '≥ 0.90', pass: vsSmall >= 0.9 },
    ],
    notes: [],
  };
}
