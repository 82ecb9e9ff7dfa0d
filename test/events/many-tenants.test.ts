/**
 * A dispatch pass costs what the new events cost, not what the number of tenants costs (issue 21,
 * "Many tenants"): with thousands of tenants whose events are all fanned out, an idle pass is one
 * statement that touches a handful of index pages, and a write in one tenant is fanned out
 * without a cursor of another tenant moving. Measured in pages touched (EXPLAIN ANALYZE BUFFERS),
 * which does not depend on the machine's speed.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { eachDatabase } from '../helpers/app.js';
import { privateDatabase } from '../helpers/private-database.js';
import { dispatchPending } from '../../src/events/dispatch.js';
import type { Database, QueryResult } from '../../src/db/types.js';

const TENANTS = 3_000;

/** The database, recording every statement sent through `query` (the pass's own, outside transactions). */
function recording(db: Database): { db: Database; statements: { sql: string; params: readonly unknown[] }[] } {
  const statements: { sql: string; params: readonly unknown[] }[] = [];
  const wrapped = Object.create(db) as Database;
  wrapped.query = <T>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<T>> => {
    statements.push({ sql, params });
    return db.query<T>(sql, params);
  };
  return { db: wrapped, statements };
}

/** Shared buffers (hit + read) one statement touches. */
async function pagesTouched(db: Database, sql: string, params: readonly unknown[]): Promise<number> {
  const { rows } = await db.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${sql}`, params);
  const raw = rows[0]!['QUERY PLAN'];
  const plan = (typeof raw === 'string' ? JSON.parse(raw) : raw) as { Plan: Record<string, number> }[];
  return (plan[0]!.Plan['Shared Hit Blocks'] ?? 0) + (plan[0]!.Plan['Shared Read Blocks'] ?? 0);
}

eachDatabase((kind) => {
  it(`an idle dispatch pass over ${TENANTS.toLocaleString('en')} tenants touches a few pages; a write in one tenant moves that cursor only`, async () => {
    // A database of its own: other test files' workers write events in the suite's database.
    const priv = await privateDatabase(kind);
    if (!priv) return;
    const { db } = priv;
    try {
      // Tenants with a few events each, all fanned out already (their cursors at their last event).
      await db.query(`INSERT INTO tenants (tenant_id, name) SELECT md5('mt' || i)::uuid, 'mt ' || i FROM generate_series(1, $1::int) i`, [TENANTS]);
      await db.query(`INSERT INTO events (tenant_id, id, type, data) SELECT t.tenant_id, gen_random_uuid(), 'user.created', '{}' FROM tenants t, generate_series(1, 3)`);
      await db.query(
        `INSERT INTO event_cursors (tenant_id, txid, seq) SELECT DISTINCT ON (tenant_id) tenant_id, txid, seq FROM events ORDER BY tenant_id, txid DESC, seq DESC`,
      );
      await db.exec('ANALYZE');
      assert.equal(await dispatchPending(db), 0, 'nothing is pending');

      const idle = recording(db);
      assert.equal(await dispatchPending(idle.db), 0);
      assert.equal(idle.statements.length, 1, 'an idle pass is one statement and writes nothing');
      const pages = await pagesTouched(db, idle.statements[0]!.sql, idle.statements[0]!.params);
      // Probing every tenant touches at least a page per tenant.
      assert.ok(pages < 50, `an idle pass touched ${pages} pages with ${TENANTS} tenants`);

      // One tenant writes: only its cursor moves, and the next idle pass is as cheap as before.
      const cursors = async () => new Map((await db.query<{ tenant_id: string; c: string }>(`SELECT tenant_id, txid::text || '/' || seq AS c FROM event_cursors`)).rows.map((r) => [r.tenant_id, r.c]));
      const before = await cursors();
      const writer = (await db.query<{ id: string }>(`SELECT md5('mt' || 1234)::uuid AS id`)).rows[0]!.id;
      await db.query(`INSERT INTO events (tenant_id, id, type, data) VALUES ($1, $2, 'user.created', '{}')`, [writer, randomUUID()]);
      // A writing transaction open elsewhere in the cluster (another test file's) holds the event
      // back until it ends (xids are cluster-wide): the pass that fans it out is the one recorded.
      let fanned = 0;
      for (const end = Date.now() + 20_000; fanned === 0 && Date.now() < end;) {
        fanned = await dispatchPending(db);
        if (fanned === 0) await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(fanned, 1);
      const after = await cursors();
      const moved = [...after].filter(([t, c]) => before.get(t) !== c).map(([t]) => t);
      assert.deepEqual(moved, [writer]);
      await dispatchPending(db); // the horizon passes the event fanned out after it was read
      const again = recording(db);
      assert.equal(await dispatchPending(again.db), 0);
      const pagesAfter = await pagesTouched(db, again.statements[0]!.sql, again.statements[0]!.params);
      assert.ok(pagesAfter < 50, `an idle pass after a write touched ${pagesAfter} pages`);
    } finally {
      await priv.drop();
    }
  });
});

it('[postgres] an event whose transaction commits after the horizon moved past later ones is still fanned out', { skip: !process.env.TEST_DATABASE_URL }, async () => {
  const priv = await privateDatabase('postgres');
  if (!priv) return;
  const { db } = priv;
  const url = new URL(process.env.TEST_DATABASE_URL!);
  const { rows } = await db.query<{ name: string }>('SELECT current_database() AS name');
  url.pathname = `/${rows[0]!.name}`;
  const a = new pg.Client({ connectionString: url.href });
  await a.connect();
  try {
    const tenants = [randomUUID(), randomUUID()];
    for (const t of tenants) await db.query(`INSERT INTO tenants (tenant_id, name) VALUES ($1, 'late')`, [t]);
    const emit = (c: { query: (sql: string, p: unknown[]) => Promise<unknown> }, t: string, type: string) =>
      c.query(`INSERT INTO events (tenant_id, id, type, data) VALUES ($1, $2, $3, '{}')`, [t, randomUUID(), type]);
    const fannedOut = async () => (await db.query<{ type: string }>(
      `SELECT e.type FROM events e JOIN event_cursors c ON c.tenant_id = e.tenant_id WHERE (e.txid, e.seq) <= (c.txid, c.seq) ORDER BY e.type`,
    )).rows.map((r) => r.type);

    await emit(db, tenants[1]!, 'test.first');
    await a.query('BEGIN');
    await emit(a, tenants[0]!, 'test.late'); // older transaction, still open
    await emit(db, tenants[1]!, 'test.early'); // commits first
    await dispatchPending(db);
    await dispatchPending(db);
    assert.deepEqual(await fannedOut(), ['test.first'], 'the horizon moves up to the open transaction, no further');
    await a.query('COMMIT');
    await dispatchPending(db);
    await dispatchPending(db);
    assert.deepEqual(await fannedOut(), ['test.early', 'test.first', 'test.late']);
  } finally {
    await a.end();
    await priv.drop();
  }
});
