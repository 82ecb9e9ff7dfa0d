/**
 * `npm run bench` — every scenario of PRODUCT.md "Targets", one at a time, on this machine.
 *
 *   npm run bench                      full sizes (100k-user tenant, 1M-user listing, 10k-user sync)
 *   npm run bench:quick                small sizes, short runs (a few minutes)
 *   npm run bench -- --only=post-users,filter-read
 *   npm run bench -- --only=saml-acs --out=latest-saml-acs   (results under another name)
 *
 * Env: BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432; databases idpb_bench_full / _quick
 * are dropped and re-created), BENCH_REUSE_DB=1 (keep a database already seeded with the same sizes),
 * BENCH_LIST_PAGES=N (cap the 1M listing's walks; they cover every page by default), BENCH_DB=name (another
 * database), BENCH_SERVER_SCRIPT=path (another build of idpbridge, for before/after runs).
 * Writes bench/results/latest.json and bench/results/latest.md (quick runs: latest-quick.*).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { execSync } from 'node:child_process';
import { BENCH_DIR, buildServer, startIdpbridge } from './lib/proc.js';
import {
  createTenant, pool, postgresVersion, recreateDatabase, PG_BASE, seedGroups, seedSizedGroup, seedSpreadMemberships, seedUsers, type Tenant,
} from './lib/db.js';
import type { BenchContext, ScenarioResult, Sizes } from './lib/types.js';
import { run as postUsers } from './scenarios/post-users.js';
import { run as filterRead } from './scenarios/filter-read.js';
import { run as groupPatch } from './scenarios/group-patch.js';
import { run as authorize } from './scenarios/authorize.js';
import { run as entraSync } from './scenarios/sync.js';
import { run as list1m } from './scenarios/list-1m.js';
import { run as pglite } from './scenarios/pglite.js';
import { run as idleCpu } from './scenarios/idle-cpu.js';
import { run as footprint } from './scenarios/footprint.js';
import { run as accessFanout } from './scenarios/access-fanout.js';
import { run as samlAcs } from './scenarios/saml-acs.js';
import { run as audit } from './scenarios/audit.js';
import { run as manyTenants } from './scenarios/many-tenants.js';

const quick = process.argv.includes('--quick');
const only = process.argv.find((a) => a.startsWith('--only='))?.slice(7).split(',');

const FULL: Sizes = {
  smallUsers: 1_000, bigUsers: 100_000, bigGroups: 10_000, bigPerUser: 10, groupSizes: [10, 10_000, 100_000],
  listUsers: 1_000_000, syncUsers: 10_000, syncGroups: 200, syncMemberships: 50_000, syncWorkers: 4, syncBatch: 25,
  warmupS: 3, durationS: 10, connections: 32, patchIterations: 200, listSamplePages: 100, listFirstPages: 300,
};
const QUICK: Sizes = {
  smallUsers: 1_000, bigUsers: 10_000, bigGroups: 1_000, bigPerUser: 10, groupSizes: [10, 1_000, 10_000],
  listUsers: 100_000, syncUsers: 1_000, syncGroups: 20, syncMemberships: 5_000, syncWorkers: 4, syncBatch: 25,
  warmupS: 2, durationS: 5, connections: 32, patchIterations: 100, listSamplePages: 30, listFirstPages: 100,
};
const sizes = quick ? QUICK : FULL;

const scenarios: [string, (ctx: BenchContext) => Promise<ScenarioResult>][] = [
  ['post-users', postUsers],
  ['filter-read', filterRead],
  ['group-patch', groupPatch],
  ['authorize', authorize],
  ['entra-sync', entraSync],
  ['list-1m', list1m],
  ['pglite-post-users', pglite],
  ['idle-cpu', idleCpu],
  ['footprint', footprint],
  ['access-fanout', accessFanout],
  ['saml-acs', samlAcs],
  ['audit', audit],
  ['many-tenants', manyTenants],
];
/** Scenarios that set up their own tenant: a run of only these skips seeding the big tenants. */
const SELF_SEEDED = new Set(['authorize', 'pglite-post-users', 'saml-acs', 'access-fanout', 'idle-cpu', 'footprint', 'audit', 'many-tenants']);

const log = (m: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${m}\n`);

function machine(pgVersion: string) {
  let cpu = cpus()[0]?.model ?? 'unknown';
  try { cpu = execSync("lscpu | sed -n 's/^Model name: *//p'", { encoding: 'utf8' }).trim() || cpu; } catch { /* keep */ }
  return {
    nproc: cpus().length,
    cpu,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    postgres: pgVersion,
    os: `${process.platform} ${process.arch}`,
  };
}

async function seed(ctx: Omit<BenchContext, 'tenants'>, needList: boolean): Promise<BenchContext['tenants']> {
  const key = JSON.stringify({ sizes: { ...sizes, warmupS: 0, durationS: 0, patchIterations: 0 } });
  if (process.env.BENCH_REUSE_DB === '1') {
    try {
      const { rows } = await ctx.db.query<{ value: { key: string; tenants: BenchContext['tenants'] } }>(`SELECT value FROM system_settings WHERE key = 'bench_seed'`);
      const v = rows[0]?.value;
      if (v?.key.startsWith(key.slice(0, -1)) && (v.tenants.list || !needList)) { log('reusing the seeded database'); return v.tenants; }
    } catch { /* not seeded */ }
  }
  const srv = await startIdpbridge({ DATABASE_URL: ctx.databaseUrl }); // runs the migrations
  const small = await createTenant(srv, 'bench small');
  const big = await createTenant(srv, 'bench big');
  const list = needList ? await createTenant(srv, 'bench list') : undefined;
  await srv.stop();
  const t0 = performance.now();
  const s = ctx.sizes;
  log(`seeding: ${s.smallUsers} users; ${s.bigUsers} users, ${s.bigGroups} groups, ${s.bigUsers * s.bigPerUser} memberships, groups of ${s.groupSizes.join('/')}${list ? `; ${s.listUsers} users` : ''}`);
  await seedUsers(ctx.db, small.id, 1, s.smallUsers);
  // Same shape as the big tenant (each user in bigPerUser spread groups plus one all-users group), so
  // the 1k-vs-100k comparison differs in tenant size only, not in the size of each answer.
  await seedGroups(ctx.db, small.id, 1, 100);
  await seedSpreadMemberships(ctx.db, small.id, s.smallUsers, 100, s.bigPerUser);
  await seedSizedGroup(ctx.db, small.id, s.smallUsers);
  await seedUsers(ctx.db, big.id, 1, s.bigUsers);
  await seedGroups(ctx.db, big.id, 1, s.bigGroups);
  await seedSpreadMemberships(ctx.db, big.id, s.bigUsers, s.bigGroups, s.bigPerUser);
  for (const size of s.groupSizes) await seedSizedGroup(ctx.db, big.id, size);
  if (list) {
    const chunk = 250_000;
    for (let from = 1; from <= s.listUsers; from += chunk) await seedUsers(ctx.db, list.id, from, Math.min(s.listUsers, from + chunk - 1));
  }
  await ctx.db.query('VACUUM ANALYZE');
  log(`seeded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const tenants = { small, big, list };
  await ctx.db.query(`INSERT INTO system_settings (key, value) VALUES ('bench_seed', $1::jsonb)`, [JSON.stringify({ key, tenants })]);
  return tenants;
}

const fmt = (n: number | undefined, d = 0) => (n === undefined || Number.isNaN(n) ? '' : n.toLocaleString('en', { maximumFractionDigits: d, minimumFractionDigits: d }));

export function markdown(out: { startedAt: string; quick: boolean; machine: ReturnType<typeof machine>; sizes: Sizes; scenarios: ScenarioResult[] }): string {
  const m = out.machine;
  const lines = [
    `Run ${out.startedAt}${out.quick ? ' (quick sizes)' : ''} — ${m.nproc} cores (${m.cpu}), ${m.memoryGb} GB RAM, Node ${m.node}, PostgreSQL ${m.postgres}, ${m.os}. ` +
      `Load: autocannon in its own process, ${out.sizes.connections} connections, ${out.sizes.warmupS} s warm-up + ${out.sizes.durationS} s measured; RSS = max VmRSS of the server process; server CPU ms/req = user+system CPU of the server process per request (less sensitive than req/s to other work on the machine, whose 1-minute load average is shown).`,
    '',
    '| target | measured | target | met |',
    '| --- | ---: | --- | :---: |',
  ];
  for (const s of out.scenarios) {
    for (const v of s.verdicts) {
      const value = v.label.includes('RSS') || v.label === 'requests/s' ? fmt(v.value) : fmt(v.value, 2);
      lines.push(`| ${s.title}: ${v.label} | ${value} | ${v.target} | ${v.pass === null ? '–' : v.pass ? 'yes' : '**no**'} |`);
    }
  }
  lines.push('', '| scenario | server | req/s | p50 ms | p99 ms | max RSS MB | server CPU ms/req | load avg | detail |', '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const s of out.scenarios) {
    for (const r of s.rows) {
      const errs = r.errors || r.non2xx ? ` errors ${r.errors ?? 0}, non-2xx ${r.non2xx ?? 0}` : '';
      lines.push(`| ${s.id} | ${r.name} | ${fmt(r.rps)} | ${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} | ${fmt(r.rssMaxMb)} | ${fmt(r.cpuMsPerReq, 3)} | ${fmt(r.loadAvg, 1)} | ${r.detail ?? ''}${errs} |`);
    }
  }
  const notes = out.scenarios.flatMap((s) => s.notes.map((n) => `- ${s.id}: ${n}`));
  if (notes.length) lines.push('', ...notes);
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  const startedAt = new Date().toISOString();
  log('building the server (dist/)');
  buildServer();
  const databaseUrl = await recreateOrKeep(process.env.BENCH_DB || (quick ? 'idpb_bench_quick' : 'idpb_bench_full'));
  const db = pool(databaseUrl);
  const base = { quick, sizes, databaseUrl, db, log };
  const selected = scenarios.filter(([id]) => !only || only.includes(id));
  const tenants = selected.every(([id]) => SELF_SEEDED.has(id))
    ? { small: undefined!, big: undefined!, list: undefined }
    : await seed(base, selected.some(([id]) => id === 'list-1m'));
  const ctx: BenchContext = { ...base, tenants };
  const out = { startedAt, quick, machine: machine(await postgresVersion(databaseUrl)), sizes, scenarios: [] as ScenarioResult[] };
  const resultsDir = join(BENCH_DIR, 'results');
  mkdirSync(resultsDir, { recursive: true });
  // --out=NAME keeps a one-scenario run from replacing latest-partial.* (e.g. --only=saml-acs --out=latest-saml-acs).
  const name = process.argv.find((a) => a.startsWith('--out='))?.slice(6) ?? (quick ? 'latest-quick' : only ? 'latest-partial' : 'latest');
  const write = () => {
    writeFileSync(join(resultsDir, `${name}.json`), `${JSON.stringify(out, null, 2)}\n`);
    writeFileSync(join(resultsDir, `${name}.md`), markdown(out));
  };
  for (const [id, fn] of selected) {
    log(`scenario ${id}`);
    const t0 = performance.now();
    try {
      const r = await fn(ctx);
      r.seconds = Math.round((performance.now() - t0) / 100) / 10;
      out.scenarios.push(r);
    } catch (err) {
      log(`scenario ${id} failed: ${(err as Error).stack ?? err}`);
      out.scenarios.push({ id, title: id, rows: [], verdicts: [{ label: 'ran', value: NaN, target: 'completes', pass: false }], notes: [`failed: ${(err as Error).message.split('\n')[0]}`] });
    }
    write();
  }
  await db.end();
  process.stdout.write(`\n${markdown(out)}\nwritten: bench/results/${name}.json, bench/results/${name}.md\n`);
}

async function recreateOrKeep(name: string): Promise<string> {
  if (process.env.BENCH_REUSE_DB === '1') {
    const url = `${PG_BASE}/${name}`;
    try { await postgresVersion(url); return url; } catch { /* missing: create */ }
  }
  return recreateDatabase(name);
}

await main();
