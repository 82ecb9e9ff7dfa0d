/** POST /Users, 32 concurrent, PostgreSQL, against F-write (target ≥ 50%). */
import { join } from 'node:path';
import { BENCH_DIR, startIdpbridge, startServer } from '../lib/proc.js';
import { loadServer } from '../lib/load.js';
import { createTenant } from '../lib/db.js';
import type { BenchContext, ScenarioResult } from '../lib/types.js';

export async function run(ctx: BenchContext): Promise<ScenarioResult> {
  const { sizes } = ctx;
  const common = { connections: sizes.connections, warmupS: sizes.warmupS, durationS: sizes.durationS, kind: 'post-users' as const, method: 'POST' };

  // Tenants for this scenario (fresh, so neither run sees the other's rows in its unique index).
  let srv = await startIdpbridge({ DATABASE_URL: ctx.databaseUrl });
  const floorTenant = await createTenant(srv, 'bench floor write');
  const tenant = await createTenant(srv, 'bench post users');
  await srv.stop();

  ctx.log('  F-write');
  const floor = await startServer({ name: 'F-write', script: join(BENCH_DIR, 'floors/write.ts'), env: { DATABASE_URL: ctx.databaseUrl, FLOOR_TENANT: floorTenant.id }, readyPath: '/' });
  const f = await loadServer(floor, { ...common, url: `${floor.url}/Users` });
  await floor.stop();

  ctx.log('  idpbridge');
  srv = await startIdpbridge({ DATABASE_URL: ctx.databaseUrl });
  const r = await loadServer(srv, { ...common, url: `${srv.url}${tenant.scimBase}/Users`, headers: { authorization: `Bearer ${tenant.token}` } });
  await srv.stop();

  const ratio = r.rps / f.rps;
  return {
    id: 'post-users',
    title: `POST /Users, ${sizes.connections} concurrent, PostgreSQL`,
    rows: [
      { name: 'F-write (node:http + pg, one INSERT)', rps: f.rps, p50: f.p50, p99: f.p99, rssMaxMb: f.rssMaxMb, cpuMsPerReq: f.cpuMsPerReq, loadAvg: f.loadAvg, errors: f.errors, non2xx: f.non2xx },
      { name: 'idpbridge POST /Users', rps: r.rps, p50: r.p50, p99: r.p99, rssMaxMb: r.rssMaxMb, cpuMsPerReq: r.cpuMsPerReq, loadAvg: r.loadAvg, errors: r.errors, non2xx: r.non2xx },
    ],
    verdicts: [{ label: 'idpbridge / F-write', value: ratio, target: '≥ 0.50', pass: ratio >= 0.5 }],
    notes: r.non2xx || r.errors ? [`idpbridge status codes: ${JSON.stringify(r.statusCodes)}`] : [],
  };
}
