/**
 * Entra-style initial sync (users, groups, memberships; probe GET before each create, member PATCH
 * batches), `syncWorkers` concurrent like Entra's threads, against idpbridge on PostgreSQL and against
 * the peers @better-auth/scim on SQLite (target: idpbridge ≥ 10× better-auth, users/s) and Ory Polis
 * on PostgreSQL (targets: idpbridge ≥ 8× Polis in users/s of the user phase, ≥ 10× in whole sync time).
 * BENCH_SYNC_PEERS=polis (or better-auth) runs only that peer; both run by default.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_DIR, loadAvg, runChild, startIdpbridge, startServer, type Server } from '../lib/proc.js';
import { createTenant, pool, recreateDatabase } from '../lib/db.js';
import type { SyncResult, SyncSpec } from '../lib/sync-client.js';
import type { BenchContext, Row, ScenarioResult, Verdict } from '../lib/types.js';

async function sync(ctx: BenchContext, server: Server, base: string, token: string, prefix: string): Promise<{ r: SyncResult; rssMaxMb: number; loadAvg: number; cpuMsPerReq: number }> {
  const s = ctx.sizes;
  const spec: SyncSpec = {
    base: `${server.url}${base}`, token, users: s.syncUsers, groups: s.syncGroups, memberships: s.syncMemberships,
    workers: s.syncWorkers, batch: s.syncBatch, prefix,
  };
  const la = loadAvg();
  const c0 = server.cpuSeconds();
  const rss = server.sampleRss();
  const r = await runChild<SyncResult>(join(BENCH_DIR, 'lib/sync-client.ts'), [], { BENCH_SYNC: JSON.stringify(spec) });
  const n = r.users.requests + r.groups.requests + r.members.requests;
  return { r, rssMaxMb: rss.stop().maxMb, loadAvg: la, cpuMsPerReq: Math.round(((server.cpuSeconds() - c0) * 1e6) / n) / 1000 };
}

const row = (name: string, x: { r: SyncResult; rssMaxMb: number; loadAvg: number; cpuMsPerReq: number }): Row => ({
  name,
  rps: Math.round((x.r.users.requests + x.r.groups.requests + x.r.members.requests) / x.r.totalSeconds),
  p50: x.r.users.p50,
  p99: x.r.users.p99,
  rssMaxMb: x.rssMaxMb,
  cpuMsPerReq: x.cpuMsPerReq,
  loadAvg: x.loadAvg,
  errors: x.r.failures,
  detail: `users/s ${x.r.users.usersPerSecond}; users ${x.r.users.seconds} s, groups ${x.r.groups.seconds} s, members ${x.r.members.seconds} s (PATCH p50 ${x.r.members.p50} ms); total ${x.r.totalSeconds} s`,
});

export async function run(ctx: BenchContext): Promise<ScenarioResult> {
  const s = ctx.sizes;
  const notes: string[] = [
    `${s.syncUsers} users, ${s.syncGroups} groups, ${s.syncMemberships} memberships; ${s.syncWorkers} workers; member PATCH batches of ${s.syncBatch}; p50/p99 columns are the user phase's per-request latency, req/s counts every request of the sync`,
  ];
  const rows: Row[] = [];
  const verdicts: Verdict[] = [];

  ctx.log('  idpbridge');
  const srv = await startIdpbridge({ DATABASE_URL: ctx.databaseUrl });
  const tenant = await createTenant(srv, 'bench entra sync');
  const idp = await sync(ctx, srv, tenant.scimBase, tenant.token, 'idpb');
  await srv.stop();
  rows.push(row('idpbridge (PostgreSQL)', idp));
  if (idp.r.failures) notes.push(`idpbridge failures: ${idp.r.failures}, first: ${idp.r.firstFailure}`);

  const peers = (process.env.BENCH_SYNC_PEERS || 'better-auth,polis').split(',');
  const peerInstalled = existsSync(join(BENCH_DIR, 'node_modules/@better-auth/scim/package.json')) && existsSync(join(BENCH_DIR, 'node_modules/better-sqlite3/package.json'));
  if (!peers.includes('better-auth')) {
    notes.push('@better-auth/scim skipped (BENCH_SYNC_PEERS)');
  } else if (!peerInstalled) {
    notes.push('@better-auth/scim is not installed: run `npm --prefix bench install` (peer skipped)');
    verdicts.push({ label: 'idpbridge / better-auth users/s', value: NaN, target: '≥ 10', pass: null });
  } else {
    ctx.log('  @better-auth/scim (SQLite)');
    const dir = mkdtempSync(join(tmpdir(), 'idpb-bench-ba-'));
    try {
      const peer = await startServer({ name: 'better-auth', script: join(BENCH_DIR, 'peers/better-auth.ts'), env: { BENCH_SQLITE: join(dir, 'ba.db'), BENCH_SCIM_TOKEN: 'bench-peer-token' }, timeoutMs: 120_000 });
      const ba = await sync(ctx, peer, '/api/auth/scim/v2', 'bench-peer-token', 'ba');
      await peer.stop();
      rows.push(row('@better-auth/scim 1.7.5 (better-sqlite3 12, WAL)', ba));
      if (ba.r.failures) notes.push(`better-auth failures: ${ba.r.failures}, first: ${ba.r.firstFailure}`);
      const v = idp.r.users.usersPerSecond / ba.r.users.usersPerSecond;
      verdicts.push({ label: 'idpbridge / better-auth users/s', value: v, target: '≥ 10', pass: v >= 10 });
      // Both readings of "N× faster": the rate of the user phase and the time of the whole sync.
      const t = ba.r.totalSeconds / idp.r.totalSeconds;
      verdicts.push({ label: 'whole sync: better-auth time / idpbridge time', value: t, target: '≥ 10', pass: t >= 10 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  // Ory Polis: its own fresh database (Jackson creates its tables on start); the directory and its
  // Polis-generated secret are created by the peer at start and read from GET /bench-info.
  const polisPkg = join(BENCH_DIR, 'node_modules/@boxyhq/saml-jackson/package.json');
  if (!peers.includes('polis')) {
    notes.push('Ory Polis skipped (BENCH_SYNC_PEERS)');
  } else if (!existsSync(polisPkg)) {
    notes.push('@boxyhq/saml-jackson is not installed: run `npm --prefix bench install` (peer skipped)');
    verdicts.push({ label: 'idpbridge / Ory Polis users/s', value: NaN, target: '≥ 8', pass: null });
  } else {
    const version = (JSON.parse(readFileSync(polisPkg, 'utf8')) as { version: string }).version;
    ctx.log(`  Ory Polis (@boxyhq/saml-jackson ${version}, PostgreSQL)`);
    // BENCH_POLIS_DB_URL: an empty database made by the caller (a run beside others that use idpb_bench_polis).
    const url = process.env.BENCH_POLIS_DB_URL || await recreateDatabase('idpb_bench_polis');
    const peer = await startServer({ name: 'polis', script: join(BENCH_DIR, 'peers/polis.ts'), env: { BENCH_POLIS_DB: url }, timeoutMs: 120_000 });
    const info = await (await fetch(`${peer.url}/bench-info`)).json() as { scimBase: string; token: string };
    const polis = await sync(ctx, peer, info.scimBase, info.token, 'polis');
    await peer.stop();
    rows.push(row(`Ory Polis (@boxyhq/saml-jackson ${version}, PostgreSQL)`, polis));
    if (polis.r.failures) notes.push(`Ory Polis failures: ${polis.r.failures}, first: ${polis.r.firstFailure}`);
    // Polis answers 200 to PATCH ops it does not understand, so check the memberships really landed.
    const db = pool(url);
    const { rows: [m] } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM jackson_store WHERE namespace LIKE 'dsync:members:%'`);
    await db.end();
    if (m?.n !== polis.r.members.memberships) notes.push(`Ory Polis stored ${m?.n} of ${polis.r.members.memberships} memberships sent`);
    const v = idp.r.users.usersPerSecond / polis.r.users.usersPerSecond;
    verdicts.push({ label: 'idpbridge / Ory Polis users/s', value: v, target: '≥ 8', pass: v >= 8 });
    const t = polis.r.totalSeconds / idp.r.totalSeconds;
    verdicts.push({ label: 'whole sync: Ory Polis time / idpbridge time', value: t, target: '≥ 10', pass: t >= 10 });
  }
  return { id: 'entra-sync', title: 'Entra-style initial sync (probe GET + POST, groups, member PATCH batches)', rows, verdicts, notes };
}
