// The count triggers (scim_resource_counts, 018/021) lock one row per (tenant, kind, slot), the slot
// being pg_backend_pid() % 16. Two transactions on sessions of the same slot that write a User and a
// Group in opposite orders (SCIM Bulk, the console) must queue, not deadlock. PostgreSQL only: PGlite
// has one session.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { USER, GROUP } from './helpers.js';

const url = process.env.TEST_DATABASE_URL;

/** Two sessions whose backends share a count slot (of 17 sessions, two always do); the rest are closed. */
async function sameSlotSessions(): Promise<[pg.Client, pg.Client]> {
  const open: pg.Client[] = [];
  const bySlot = new Map<number, pg.Client>();
  let pair: [pg.Client, pg.Client] | undefined;
  try {
    while (!pair && open.length < 17) {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      open.push(c);
      const { rows } = await c.query<{ slot: number }>('SELECT pg_backend_pid() % 16 AS slot');
      const other = bySlot.get(rows[0]!.slot);
      if (other) pair = [other, c];
      else bySlot.set(rows[0]!.slot, c);
    }
  } finally {
    for (const c of open) if (!pair?.includes(c)) await c.end();
  }
  if (!pair) throw new Error('no two sessions share a slot');
  return pair;
}

/** Resolves once the session is idle in its transaction or waiting on a lock. */
async function settled(watch: pg.Client, pid: number): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const { rows } = await watch.query<{ state: string; wait: string | null }>(
      'SELECT state, wait_event_type AS wait FROM pg_stat_activity WHERE pid = $1', [pid],
    );
    const r = rows[0];
    if (r && (r.state === 'idle in transaction' || r.wait === 'Lock')) return;
    await new Promise((res) => setTimeout(res, 10));
  }
  throw new Error(`session ${pid} neither finished nor waited`);
}

describe('[postgres] count slots', { skip: !url && 'TEST_DATABASE_URL is not set' }, () => {
  let t: TestApp;
  before(async () => { t = await startTestApp('postgres'); });
  after(async () => { await t.close(); });

  test('a User then a Group in one transaction and a Group then a User in another, same slot: no deadlock, exact counts', async () => {
    const { tenantId } = await t.newTenant('count slots');
    const [a, b] = await sameSlotSessions();
    const all = [a, b];
    const watch = new pg.Client({ connectionString: url });
    await watch.connect();
    all.push(watch);
    try {
      const pid = async (c: pg.Client) => (await c.query<{ p: number }>('SELECT pg_backend_pid() AS p')).rows[0]!.p;
      const [pa, pb] = [await pid(a), await pid(b)];
      for (const c of [a, b]) await c.query(`SET lock_timeout = '10s'`);
      const user = (c: pg.Client, name: string) => c.query(
        `INSERT INTO scim_users (tenant_id, id, user_name, data) VALUES ($1, gen_random_uuid(), $2, jsonb_build_object('schemas', jsonb_build_array('${USER}'), 'userName', $2::text))`,
        [tenantId, name],
      );
      const group = (c: pg.Client, name: string) => c.query(
        `INSERT INTO scim_groups (tenant_id, id, display_name, data) VALUES ($1, gen_random_uuid(), $2, jsonb_build_object('schemas', jsonb_build_array('${GROUP}'), 'displayName', $2::text))`,
        [tenantId, name],
      );
      const outcome = (p: Promise<unknown>) => p.then(() => 'ok', (e: { code?: string; message: string }) => `${e.code}: ${e.message}`);

      await a.query('BEGIN');
      await user(a, 'a-user');
      await b.query('BEGIN');
      const b1 = outcome(group(b, 'b-group'));
      await settled(watch, pb);
      const a2 = outcome(group(a, 'a-group'));
      await settled(watch, pa);
      // node-postgres runs a session's queries in order: B's user insert follows its group insert.
      const b2 = outcome(user(b, 'b-user'));
      const aEnd = outcome(a2.then(() => a.query('COMMIT')));
      const bEnd = outcome(b2.then(() => b.query('COMMIT')));
      const results = await Promise.all([b1, a2, b2, aEnd, bEnd]);
      assert.deepEqual(results, ['ok', 'ok', 'ok', 'ok', 'ok'], 'no statement fails (40P01 = deadlock detected)');

      const { rows } = await t.db.query<{ kind: string; n: number }>(
        'SELECT kind, sum(n)::int AS n FROM scim_resource_counts WHERE tenant_id = $1 GROUP BY kind ORDER BY kind', [tenantId],
      );
      assert.deepEqual(rows.map((r) => [r.kind, Number(r.n)]), [['Group', 2], ['User', 2]]);
    } finally {
      for (const c of all) await c.end().catch(() => {});
    }
  });
});
