/**
 * What the audit trail adds to an admin write (stand-alone; not part of `npm run bench`):
 *
 *   npx tsx bench/scenarios/audit.ts [--requests=2000] [--pglite]
 *
 * Two apps in this process over the same database, one built as shipped and one with
 * `withoutAudit` (the switch exists for this benchmark only), both listening on 127.0.0.1. The
 * same admin write — `PATCH /admin/v1/tenants/{id}/datasets/{id}` (a description change) — is sent
 * to each in turn, one request at a time over real HTTP, alternating so that drift hits both alike.
 * Reported: mean and p50/p99 latency of each, and the added share (target ≤ 10 %). PostgreSQL at
 * BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432); the database `idpb_bench_audit` is
 * dropped and re-created. `--pglite` runs on an in-memory PGlite instead.
 */
import pg from 'pg';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db/open.js';
import { migrate } from '../../src/db/migrate.js';

const arg = (name: string, dflt: number) => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.split('=')[1]) : dflt;
};
const N = arg('requests', 2000);
const usePglite = process.argv.includes('--pglite');
const base = (process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432').replace(/\/$/, '');
const dbName = 'idpb_bench_audit';
const TOKEN = 'idpb_admin_bench-audit-0123456789abcdef';

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]!;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

async function main(): Promise<void> {
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
  const apps: { name: string; app: FastifyInstance; url: string; times: number[]; target: string }[] = [];
  for (const [name, withoutAudit] of [['with audit', false], ['without audit', true]] as const) {
    const { app } = await buildApp({ config, db: shared, skipMigrations: true, logger: false, withoutAudit });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    const t = await (await fetch(`${url}/admin/v1/tenants`, { method: 'POST', headers: auth, body: JSON.stringify({ name: `bench ${name}` }) })).json() as { id: string };
    const d = await (await fetch(`${url}/admin/v1/tenants/${t.id}/datasets`, { method: 'POST', headers: auth, body: JSON.stringify({ name: 'bench dataset' }) })).json() as { id: string };
    apps.push({ name, app, url, times: [], target: `${url}/admin/v1/tenants/${t.id}/datasets/${d.id}` });
  }
  const write = async (a: (typeof apps)[number], i: number, keep: boolean) => {
    const t0 = performance.now();
    const r = await fetch(a.target, { method: 'PATCH', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ description: `revision ${i}` }) });
    await r.arrayBuffer();
    if (r.status !== 200) throw new Error(`${a.name}: ${r.status}`);
    if (keep) a.times.push(performance.now() - t0);
  };
  const warm = Math.min(200, Math.floor(N / 10));
  for (let i = 0; i < warm + N; i++) {
    // Alternate which goes first, so neither always follows the other.
    const order = i % 2 === 0 ? apps : [...apps].reverse();
    for (const a of order) await write(a, i, i >= warm);
  }
  const [w, wo] = apps;
  const lines = apps.map((a) => `${a.name.padEnd(14)} mean ${mean(a.times).toFixed(3)} ms  p50 ${pct(a.times, 0.5).toFixed(3)} ms  p99 ${pct(a.times, 0.99).toFixed(3)} ms`);
  const added = mean(w!.times) / mean(wo!.times) - 1;
  const addedP50 = pct(w!.times, 0.5) / pct(wo!.times, 0.5) - 1;
  process.stdout.write(`audit bench: ${N} PATCH …/datasets/{id} each, ${usePglite ? 'PGlite' : 'PostgreSQL'}, one at a time\n${lines.join('\n')}\n`
    + `added by the audit trail: mean ${(added * 100).toFixed(1)} %, p50 ${(addedP50 * 100).toFixed(1)} % (target ≤ 10 %)\n`);
  for (const a of apps) await a.app.close();
  await db.close();
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exitCode = 1;
});
