/**
 * What the audit trail adds to an admin write (issue 23: ≤ 10 % added latency):
 *
 *   npx tsx bench/scenarios/audit.ts [--requests=2000] [--pglite]
 *
 * Two apps in this process over the same database, one built as shipped and one with
 * `withoutAudit` (the switch exists for this benchmark only), both listening on 127.0.0.1. The
 * same admin write — `PATCH /admin/v1/tenants/{id}/datasets/{id}` (a description change) — is sent
 * to each in blocks of ten, one request at a time over real HTTP, alternating blocks so that drift
 * hits both alike. Reported: mean and p50/p99 latency of each, the added share (target ≤ 10 %), and
 * the CPU each spends per request: this process's (server and client; the client's share is the
 * same for both) and, on PostgreSQL, the database backends' (from /proc/<pid>/schedstat), which
 * the shared machine's load does not inflate the way it does wall-clock time. PostgreSQL at
 * BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432); the database BENCH_AUDIT_DB (default
 * `idpb_bench_audit`) is dropped and re-created. `--pglite` runs on an in-memory PGlite instead.
 * `npm run bench` runs both (bench/run.ts).
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import pg from 'pg';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db/open.js';
import { migrate } from '../../src/db/migrate.js';
import type { BenchContext, ScenarioResult } from '../lib/types.js';

const arg = (name: string, dflt: number) => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.split('=')[1]) : dflt;
};
const base = (process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432').replace(/\/$/, '');
const dbName = process.env.BENCH_AUDIT_DB ?? 'idpb_bench_audit';
const TOKEN = 'idpb_admin_bench-audit-0123456789abcdef';
const BLOCK = 10;

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** CPU ns the backends of the bench database have used so far (0 where /proc is not readable). */
function backendCpuNs(pids: number[]): number {
  let ns = 0;
  for (const pid of pids) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]);
    } catch { /* gone or unreadable */ }
  }
  return ns;
}

interface Side { name: string; app: FastifyInstance; target: string; times: number[]; cpuUs: number; dbCpuNs: number; n: number }
export interface AuditBenchResult {
  database: 'PostgreSQL' | 'PGlite';
  requests: number;
  loadAvg: number;
  sides: { name: string; mean: number; p50: number; p99: number; cpuMsPerReq: number; dbCpuMsPerReq: number | null }[];
  addedMean: number;
  addedP50: number;
  addedCpu: number;
}

export async function measure(usePglite: boolean, n: number): Promise<AuditBenchResult> {
  let monitor: pg.Client | undefined;
  if (!usePglite) {
    const adminDb = new pg.Client({ connectionString: `${base}/postgres` });
    await adminDb.connect();
    await adminDb.query(`DROP DATABASE IF EXISTS ${dbName}`);
    await adminDb.query(`CREATE DATABASE ${dbName}`);
    await adminDb.end();
  }
  const db = await openDatabase(usePglite ? {} : { databaseUrl: `${base}/${dbName}`, poolMax: 10 });
  await migrate(db);
  const config = { ...loadConfig({}), adminToken: TOKEN, worker: false, logLevel: 'silent', rateLimitPerMinute: 0, secretKey: Buffer.alloc(32, 3).toString('base64') };
  const shared = { ...db, close: async () => {} };
  const sides: Side[] = [];
  try {
    for (const [name, withoutAudit] of [['with audit', false], ['without audit', true]] as const) {
      const { app } = await buildApp({ config, db: shared, skipMigrations: true, logger: false, withoutAudit });
      const url = await app.listen({ host: '127.0.0.1', port: 0 });
      const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
      const t = await (await fetch(`${url}/admin/v1/tenants`, { method: 'POST', headers: auth, body: JSON.stringify({ name: `bench ${name}` }) })).json() as { id: string };
      const d = await (await fetch(`${url}/admin/v1/tenants/${t.id}/datasets`, { method: 'POST', headers: auth, body: JSON.stringify({ name: 'bench dataset' }) })).json() as { id: string };
      sides.push({ name, app, target: `${url}/admin/v1/tenants/${t.id}/datasets/${d.id}`, times: [], cpuUs: 0, dbCpuNs: 0, n: 0 });
    }
    let pids: number[] = [];
    const write = async (s: Side, i: number, keep: boolean) => {
      const t0 = performance.now();
      const r = await fetch(s.target, { method: 'PATCH', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ description: `revision ${i}` }) });
      await r.arrayBuffer();
      if (r.status !== 200) throw new Error(`${s.name}: ${r.status}`);
      if (keep) s.times.push(performance.now() - t0);
    };
    const warm = Math.min(200, Math.floor(n / 10));
    let i = 0;
    for (; i < warm; i++) for (const s of sides) await write(s, i, false);
    if (!usePglite) {
      monitor = new pg.Client({ connectionString: `${base}/postgres` });
      await monitor.connect();
      pids = (await monitor.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [dbName])).rows.map((r) => r.pid);
    }
    for (let b = 0; b < Math.ceil(n / BLOCK); b++) {
      // Alternate which goes first, so neither always follows the other.
      for (const s of b % 2 === 0 ? sides : [...sides].reverse()) {
        const c0 = process.cpuUsage();
        const d0 = backendCpuNs(pids);
        for (let k = 0; k < BLOCK; k++) await write(s, i + k, true);
        const c = process.cpuUsage(c0);
        s.cpuUs += c.user + c.system;
        s.dbCpuNs += backendCpuNs(pids) - d0;
        s.n += BLOCK;
      }
      i += BLOCK;
    }
  } finally {
    for (const s of sides) await s.app.close();
    await monitor?.end();
    await db.close();
  }
  const out = sides.map((s) => ({
    name: s.name, mean: mean(s.times), p50: pct(s.times, 0.5), p99: pct(s.times, 0.99),
    cpuMsPerReq: s.cpuUs / 1000 / s.n, dbCpuMsPerReq: usePglite ? null : s.dbCpuNs / 1e6 / s.n,
  }));
  const [w, wo] = out as [typeof out[number], typeof out[number]];
  const cpu = (x: typeof w) => x.cpuMsPerReq + (x.dbCpuMsPerReq ?? 0);
  return {
    database: usePglite ? 'PGlite' : 'PostgreSQL', requests: sides[0]!.n, loadAvg: loadavg()[0]!, sides: out,
    addedMean: w.mean / wo.mean - 1, addedP50: w.p50 / wo.p50 - 1, addedCpu: cpu(w) / cpu(wo) - 1,
  };
}

const percent = (x: number) => `${(x * 100).toFixed(1)} %`;

function report(r: AuditBenchResult): string {
  const lines = r.sides.map((s) => `${s.name.padEnd(14)} mean ${s.mean.toFixed(3)} ms  p50 ${s.p50.toFixed(3)} ms  p99 ${s.p99.toFixed(3)} ms`
    + `  CPU/req: process ${s.cpuMsPerReq.toFixed(3)} ms${s.dbCpuMsPerReq === null ? '' : `, PostgreSQL ${s.dbCpuMsPerReq.toFixed(3)} ms`}`);
  return `audit bench: ${r.requests} PATCH …/datasets/{id} each, ${r.database}, one at a time (load avg ${r.loadAvg.toFixed(2)})\n${lines.join('\n')}\n`
    + `added by the audit trail: mean ${percent(r.addedMean)}, p50 ${percent(r.addedP50)} (target ≤ 10 %); CPU per request ${percent(r.addedCpu)}\n`;
}

/** `npm run bench` row: the latency and CPU the audit trail adds to an admin write, on PostgreSQL and PGlite. */
export async function run(ctx: BenchContext): Promise<ScenarioResult> {
  const n = ctx.quick ? 500 : 2000;
  const results = [await measure(false, n), await measure(true, n)];
  return {
    id: 'audit',
    title: `Audit trail: added latency of an admin write (${n} PATCH …/datasets/{id}, one at a time)`,
    rows: results.flatMap((r) => r.sides.map((s) => ({
      name: `${s.name}, ${r.database}`, p50: s.p50, p99: s.p99, loadAvg: r.loadAvg,
      cpuMsPerReq: s.cpuMsPerReq + (s.dbCpuMsPerReq ?? 0),
      detail: `mean ${s.mean.toFixed(3)} ms${s.dbCpuMsPerReq === null ? '' : `; CPU ms/req: process ${s.cpuMsPerReq.toFixed(3)} + PostgreSQL ${s.dbCpuMsPerReq.toFixed(3)}`}`,
    }))),
    verdicts: results.map((r) => ({ label: `added mean latency on ${r.database} (%)`, value: Math.round(r.addedMean * 1000) / 10, target: '≤ 10', pass: r.addedMean <= 0.1 })),
    notes: results.map((r) => `audit on ${r.database}: added mean ${percent(r.addedMean)}, p50 ${percent(r.addedP50)}, CPU per request ${percent(r.addedCpu)} (process${r.database === 'PostgreSQL' ? ' + PostgreSQL backends' : ''}; the client's share is in both)`),
  };
}

if (process.argv[1]?.endsWith('audit.ts')) {
  process.stdout.write(report(await measure(process.argv.includes('--pglite'), arg('requests', 2000))));
}
