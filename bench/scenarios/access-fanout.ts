/**
 * access.granted fan-out at scale: a row of `npm run bench` (`--only=access-fanout`; 100k members,
 * 10k with --quick), or stand-alone:
 *
 *   npx tsx bench/scenarios/access-fanout.ts [--members=100000]
 *
 * One tenant with an IdP group of N members (seeded straight into the tables), an access group
 * linked to it by name and a webhook subscribed to `access.*` pointing at a receiver on 127.0.0.1.
 * Measured: the admin call `POST …/access-groups/{id}/datasets` (it records one access-change row,
 * no fan-out), then the time until the receiver has the last of the N `access.granted` events.
 * The server, its outbox worker and the receiver share this one process (the app is driven with
 * fastify's inject). PostgreSQL at BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432); the
 * database `idpb_bench_access` is dropped and re-created.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import type { BenchContext, ScenarioResult } from '../lib/types.js';

const base = (process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432').replace(/\/$/, '');
const dbName = 'idpb_bench_access';

export interface FanoutResult {
  members: number;
  assignAnsweredMs: number;
  /** Until the worker had written every event (the access change fully expanded); null if not seen before the last delivery. */
  eventsWrittenS: number | null;
  lastEventDeliveredS: number;
  received: number;
}

/** The `npm run bench` row: the assign call's latency (target: well under a second) and the time to the last event. */
export async function run(ctx: BenchContext): Promise<ScenarioResult> {
  const r = await measureFanout(ctx.quick ? 10_000 : 100_000);
  return {
    id: 'access-fanout',
    title: `access.granted fan-out, ${r.members.toLocaleString('en')}-member IdP group`,
    rows: [{
      name: 'idpbridge (in-process, worker on)',
      detail: `assign answered ${r.assignAnsweredMs} ms; events written ${r.eventsWrittenS ?? '?'} s; last of ${r.received} delivered ${r.lastEventDeliveredS} s`
        + ` (${Math.round(r.received / r.lastEventDeliveredS)} events/s)`,
    }],
    verdicts: [
      { label: 'assign call ms', value: r.assignAnsweredMs, target: '< 1,000 (well under a second)', pass: r.assignAnsweredMs < 1_000 },
      { label: `s to the last of ${r.members.toLocaleString('en')} events delivered`, value: r.lastEventDeliveredS, target: 'reported', pass: null },
    ],
    notes: ['the server, its outbox worker and the receiver share one process (fastify inject); its own database idpb_bench_access'],
  };
}

export async function measureFanout(N: number): Promise<FanoutResult> {
  const adminDb = new pg.Client({ connectionString: `${base}/postgres` });
  await adminDb.connect();
  await adminDb.query(`DROP DATABASE IF EXISTS ${dbName}`);
  await adminDb.query(`CREATE DATABASE ${dbName}`);
  await adminDb.end();

  let received = 0;
  let lastAt = 0;
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const ev = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { type: string };
      if (ev.type === 'access.granted') { received++; lastAt = performance.now(); }
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  const port = (receiver.address() as AddressInfo).port;

  const adminToken = `idpb_admin_${randomBytes(16).toString('hex')}`;
  const { app } = await buildApp({
    config: {
      ...loadConfig({}),
      databaseUrl: `${base}/${dbName}`,
      adminToken,
      secretKey: randomBytes(32).toString('base64'),
      worker: true,
      rateLimitPerMinute: 0,
      allowPrivateTargets: ['127.0.0.0/8'],
      logLevel: 'warn',
    },
  });
  await app.ready();
  const call = async (method: 'POST', url: string, payload: unknown) => {
    const r = await app.inject({ method, url: `/admin/v1${url}`, headers: { authorization: `Bearer ${adminToken}` }, payload: payload as object });
    if (r.statusCode >= 300) throw new Error(`${method} ${url}: ${r.statusCode} ${r.body}`);
    return r.json() as { id: string };
  };
  try {
    const tenant = (await call('POST', '/tenants', { name: 'fan-out' })).id;
    await call('POST', `/tenants/${tenant}/webhooks`, { url: `http://127.0.0.1:${port}/hook`, events: ['access.*'] });
    const seed = new pg.Client({ connectionString: `${base}/${dbName}` });
    await seed.connect();
    const groupId = (await seed.query<{ id: string }>(
      `INSERT INTO scim_groups (tenant_id, id, display_name, data) VALUES ($1, gen_random_uuid(), 'Everyone', '{"displayName":"Everyone"}') RETURNING id`,
      [tenant],
    )).rows[0]!.id;
    await seed.query(
      `INSERT INTO scim_users (tenant_id, id, user_name, data)
       SELECT $1, gen_random_uuid(), 'u' || i || '@example.com', jsonb_build_object('userName', 'u' || i || '@example.com')
         FROM generate_series(1, $2::int) i`,
      [tenant, N],
    );
    await seed.query(
      `INSERT INTO scim_group_members (tenant_id, group_id, member_id, member_type) SELECT $1, $2, id, 'User' FROM scim_users WHERE tenant_id = $1`,
      [tenant, groupId],
    );
    await seed.query('ANALYZE');
    await seed.end();
    const dataset = (await call('POST', `/tenants/${tenant}/datasets`, { name: 'Shared' })).id;
    const ag = (await call('POST', `/tenants/${tenant}/access-groups`, { name: 'Everyone' })).id;

    const t0 = performance.now();
    await call('POST', `/tenants/${tenant}/access-groups/${ag}/datasets`, { datasetId: dataset });
    const answered = performance.now() - t0;
    console.log(`assign answered in ${answered.toFixed(1)} ms`);
    // The expansion's progress (access-change rows left) is watched on a connection of its own.
    const watch = new pg.Client({ connectionString: `${base}/${dbName}` });
    await watch.connect();
    let expandedAt = 0;
    const deadline = Date.now() + 60 * 60_000;
    let shown = 0;
    let lastWatch = 0;
    while (received < N) {
      if (Date.now() > deadline) throw new Error(`only ${received} of ${N} events after an hour`);
      await new Promise((r) => setTimeout(r, 100));
      if (!expandedAt && performance.now() - lastWatch >= 1_000) {
        lastWatch = performance.now();
        const left = (await watch.query<{ n: string | number }>('SELECT count(*) AS n FROM access_changes')).rows[0]!.n;
        if (Number(left) === 0) { expandedAt = performance.now(); console.log(`  expanded (all events written) after ${((expandedAt - t0) / 1000).toFixed(1)} s`); }
      }
      if (received - shown >= N / 10) { shown = received; console.log(`  ${received} delivered after ${((performance.now() - t0) / 1000).toFixed(1)} s`); }
    }
    await watch.end();
    return {
      members: N,
      assignAnsweredMs: Math.round(answered),
      eventsWrittenS: expandedAt ? Math.round((expandedAt - t0) / 100) / 10 : null,
      lastEventDeliveredS: Math.round((lastAt - t0) / 100) / 10,
      received,
    };
  } finally {
    await app.close();
    receiver.close();
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) {
  const a = process.argv.find((x) => x.startsWith('--members='));
  measureFanout(a ? Number(a.split('=')[1]) : 100_000).then(
    (r) => console.log(JSON.stringify(r)),
    (err: unknown) => { console.error(err); process.exit(1); },
  );
}
