/**
 * The embedded default's footprint (issue 21): RSS of an idpbridge server on PGlite after the first
 * start of an empty data directory, after a restart on that directory, and under the 32-connection
 * POST /Users load (with that load's requests/s and server CPU per request); and an idle server's
 * RSS on PostgreSQL. Idle figures are taken after a settling period (start-up work and the outbox
 * worker's first pass are not idling). Peak RSS (VmHWM) is reported alongside, and the RSS the
 * PGlite server keeps once the load has stopped and it has settled again.
 *
 *   npx tsx bench/scenarios/footprint.ts   (BENCH_SERVER_SCRIPT: another build; BENCH_FOOTPRINT_DB: the database)
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startIdpbridge, type Server } from '../lib/proc.js';
import { loadServer } from '../lib/load.js';
import { createTenant, recreateDatabase } from '../lib/db.js';
import type { BenchContext, Row, ScenarioResult, Sizes } from '../lib/types.js';

const SETTLE_S = 15;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function peakMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : 0;
}

async function settled(srv: Server) {
  await sleep(SETTLE_S * 1000);
  return { rssMb: srv.rss(), peakMb: peakMb(srv.pid) };
}

async function measure(sizes: Pick<Sizes, 'connections' | 'warmupS' | 'durationS'>) {
  const dir = mkdtempSync(join(tmpdir(), 'idpb-footprint-'));
  try {
    const pgliteEnv = { DATABASE_URL: '', IDPBRIDGE_DATA_DIR: dir };
    let srv = await startIdpbridge(pgliteEnv);
    const first = await settled(srv);
    await srv.stop();
    srv = await startIdpbridge(pgliteEnv);
    const restart = await settled(srv);
    const tenant = await createTenant(srv, 'bench footprint');
    const load = await loadServer(srv, {
      kind: 'post-users', method: 'POST', connections: sizes.connections, warmupS: sizes.warmupS, durationS: sizes.durationS,
      url: `${srv.url}${tenant.scimBase}/Users`, headers: { authorization: `Bearer ${tenant.token}` },
    });
    const loadedPeakMb = peakMb(srv.pid);
    const afterLoad = await settled(srv);
    await srv.stop();

    const pg = await startIdpbridge({ DATABASE_URL: await recreateDatabase(process.env.BENCH_FOOTPRINT_DB ?? 'idpb_bench_footprint') });
    const pgIdle = await settled(pg);
    await pg.stop();
    return { first, restart, load, loadedPeakMb, afterLoad, pgIdle };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `npm run bench` rows: RSS at first start, restart and under load on PGlite, idle on PostgreSQL; PGlite POST/s. */
export async function run(ctx: Pick<BenchContext, 'sizes'>): Promise<ScenarioResult> {
  const m = await measure(ctx.sizes);
  const rows: Row[] = [
    { name: 'PGlite, first start of an empty data dir, idle', rssMaxMb: m.first.rssMb, detail: `peak ${m.first.peakMb} MB` },
    { name: 'PGlite, restart on that data dir, idle', rssMaxMb: m.restart.rssMb, detail: `peak ${m.restart.peakMb} MB` },
    {
      name: `PGlite, POST /Users, ${ctx.sizes.connections} concurrent`, rps: m.load.rps, p50: m.load.p50, p99: m.load.p99, rssMaxMb: m.load.rssMaxMb,
      cpuMsPerReq: m.load.cpuMsPerReq, loadAvg: m.load.loadAvg, errors: m.load.errors, non2xx: m.load.non2xx, detail: `process peak ${m.loadedPeakMb} MB; ${m.afterLoad.rssMb} MB once idle again`,
    },
    { name: 'PostgreSQL, idle', rssMaxMb: m.pgIdle.rssMb, detail: `peak ${m.pgIdle.peakMb} MB` },
  ];
  return {
    id: 'footprint',
    title: `Footprint: RSS after ${SETTLE_S} s settling (first start, restart), under POST load; PGlite POST/s`,
    rows,
    verdicts: [
      { label: 'PGlite idle RSS after first start (MB)', value: m.first.rssMb, target: '≤ 150', pass: m.first.rssMb <= 150 },
      { label: 'PGlite idle RSS after restart (MB)', value: m.restart.rssMb, target: '≤ 150', pass: m.restart.rssMb <= 150 },
      { label: 'PGlite RSS under POST load (MB)', value: m.load.rssMaxMb, target: '≤ 300', pass: m.load.rssMaxMb <= 300 },
      { label: 'PostgreSQL idle RSS (MB)', value: m.pgIdle.rssMb, target: '≤ 100', pass: m.pgIdle.rssMb <= 100 },
      { label: 'PGlite POST /Users requests/s', value: m.load.rps, target: '≥ 2000', pass: m.load.rps >= 2000 },
    ],
    notes: [`PGlite POST /Users: ${m.load.cpuMsPerReq} ms server CPU per request (load average ${m.load.loadAvg})`],
  };
}

if (process.argv[1]?.endsWith('footprint.ts')) {
  const r = await run({ sizes: { connections: 32, warmupS: 2, durationS: 8 } as Sizes });
  process.stdout.write(`${JSON.stringify(r)}\n`);
}
