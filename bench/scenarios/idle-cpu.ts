/**
 * An idle server's CPU (issue 21: ≤ 0.3% of a core): idpbridge started with its outbox worker on,
 * left alone for a settling period, then its user+system CPU over `seconds` with no request at all;
 * on PostgreSQL (a fresh database) and on embedded PGlite (a fresh data directory, whose database
 * work is in the server process). Also reports RSS at the end.
 *
 *   npx tsx bench/scenarios/idle-cpu.ts [--seconds=30]     (BENCH_SERVER_SCRIPT: another build)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startIdpbridge } from '../lib/proc.js';
import { recreateDatabase } from '../lib/db.js';
import type { BenchContext, ScenarioResult } from '../lib/types.js';

const seconds = Number(process.argv.find((a) => a.startsWith('--seconds='))?.slice(10) ?? 30);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const SETTLE_S = 15;

async function idle(name: string, env: Record<string, string | undefined>) {
  const srv = await startIdpbridge(env);
  await sleep(SETTLE_S * 1000); // start-up work (migrations, caches) and the worker's busy spell after it are not idling
  const c0 = srv.cpuSeconds();
  await sleep(seconds * 1000);
  const cpu = srv.cpuSeconds() - c0;
  const rss = srv.rss();
  await srv.stop();
  return { name, cpuSeconds: Math.round(cpu * 1000) / 1000, percentOfCore: Math.round((cpu / seconds) * 10000) / 100, rssMb: rss };
}

async function measure() {
  const url = await recreateDatabase('idpb_bench_idle');
  const dir = mkdtempSync(join(tmpdir(), 'idpb-idle-'));
  try {
    return [await idle('postgres', { DATABASE_URL: url }), await idle('pglite', { DATABASE_URL: '', IDPBRIDGE_DATA_DIR: dir })];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `npm run bench` row: idle CPU (% of a core) and RSS on PostgreSQL and on PGlite. */
export async function run(_ctx: BenchContext): Promise<ScenarioResult> {
  const out = await measure();
  return {
    id: 'idle-cpu',
    title: `Idle server: CPU over ${seconds} s with no requests (after ${SETTLE_S} s settling)`,
    rows: out.map((r) => ({ name: `idpbridge on ${r.name}, idle`, rssMaxMb: r.rssMb })),
    verdicts: out.map((r) => ({ label: `idle CPU on ${r.name} (% of a core)`, value: r.percentOfCore, target: '≤ 0.3', pass: r.percentOfCore <= 0.3 })),
    notes: [out.map((r) => `${r.name}: ${r.cpuSeconds} s CPU in ${seconds} s (${r.percentOfCore}% of a core), RSS ${r.rssMb} MB`).join('; ')],
  };
}

if (process.argv[1]?.endsWith('idle-cpu.ts')) process.stdout.write(`${JSON.stringify({ seconds, results: await measure() })}\n`);
