/**
 * The dispatcher's cursor never passes an event whose transaction is still open: events are
 * fanned out in (transaction, seq) order and only below the oldest running transaction, so one
 * that commits late — before or after a later one — is still fanned out, exactly once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { startTestApp, testDatabases } from '../helpers/app.js';
import { admin } from './helpers.js';
import { privateDatabase } from '../helpers/private-database.js';
import { claimSql, dispatchTenant } from '../../src/events/dispatch.js';

test('[postgres] events committed late, either side of a dispatch, are each fanned out once', { skip: !testDatabases().includes('postgres') }, async () => {
  const t = await startTestApp('postgres', { worker: false });
  const a = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
  const b = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
  await a.connect();
  await b.connect();
  const emit = (c: pg.Client, type: string) => c.query('INSERT INTO events (tenant_id, id, type, data) VALUES ($1, $2, $3, $4) RETURNING id', [t.tenantId, randomUUID(), type, '{}']);
  try {
    assert.equal((await admin(t.app, 'POST', `/tenants/${t.tenantId}/webhooks`, { url: 'http://127.0.0.1:9/hook' })).status, 201);
    const deliveries = async () => (await t.db.query<{ type: string }>(
      `SELECT e.type FROM webhook_deliveries d JOIN events e ON e.tenant_id = d.tenant_id AND e.id = d.event_id WHERE d.tenant_id = $1 ORDER BY e.type`,
      [t.tenantId],
    )).rows.map((r) => r.type);

    // 1. A opens first and stays open; B commits after it: B must wait for A (its txid is higher).
    await a.query('BEGIN');
    await emit(a, 'test.a');
    await emit(b, 'test.b'); // autocommit
    await dispatchTenant(t.db, t.tenantId, 100);
    assert.deepEqual(await deliveries(), [], 'nothing passes an open older transaction');
    await a.query('COMMIT');
    await dispatchTenant(t.db, t.tenantId, 100);
    assert.deepEqual(await deliveries(), ['test.a', 'test.b']);

    // 2. C commits first; D opened after it commits after a dispatch ran.
    await emit(b, 'test.c');
    await a.query('BEGIN');
    await emit(a, 'test.d');
    await dispatchTenant(t.db, t.tenantId, 100);
    assert.deepEqual(await deliveries(), ['test.a', 'test.b', 'test.c']);
    await a.query('COMMIT');
    await dispatchTenant(t.db, t.tenantId, 100);
    await dispatchTenant(t.db, t.tenantId, 100); // idempotent
    assert.deepEqual(await deliveries(), ['test.a', 'test.b', 'test.c', 'test.d']);

    // 3. A rolled-back event is simply never seen.
    await a.query('BEGIN');
    await emit(a, 'test.rolled-back');
    await a.query('ROLLBACK');
    await emit(b, 'test.e');
    await dispatchTenant(t.db, t.tenantId, 100);
    assert.deepEqual(await deliveries(), ['test.a', 'test.b', 'test.c', 'test.d', 'test.e']);

    // 4. A tenant deleted while its events are being fanned out: waited for, then skipped — no
    //    foreign-key error from the cursor row.
    const doomed = await t.newTenant('doomed');
    await b.query('INSERT INTO events (tenant_id, id, type, data) VALUES ($1, $2, $3, $4)', [doomed.tenantId, randomUUID(), 'test.doomed', '{}']);
    await a.query('BEGIN');
    await a.query('DELETE FROM tenants WHERE tenant_id = $1', [doomed.tenantId]);
    const racing = dispatchTenant(t.db, doomed.tenantId, 100);
    await new Promise((r) => setTimeout(r, 200));
    await a.query('COMMIT');
    assert.equal(await racing, 0);
  } finally {
    await a.end();
    await b.end();
    await admin(t.app, 'DELETE', `/tenants/${t.tenantId}`);
    await t.close();
  }
});

test('[postgres] a pass reads past the cursor only: its cost does not grow with the events already fanned out', { skip: !testDatabases().includes('postgres') }, async () => {
  // A database of its own: the plan follows the statistics, which other test files' servers
  // (their table upkeep) leave behind in the shared one — a few rows of a few tenants.
  const priv = (await privateDatabase('postgres'))!;
  const t = await startTestApp('postgres', { worker: false }, { db: priv.db });
  try {
    await t.db.query(
      `INSERT INTO events (tenant_id, id, type, data) SELECT $1, gen_random_uuid(), 'test.bulk', '{}' FROM generate_series(1, 3000)`,
      [t.tenantId],
    );
    while ((await dispatchTenant(t.db, t.tenantId, 500)) > 0) { /* drain */ }
    const blocks = await t.db.transaction(async (tx) => {
      await tx.exec(`PREPARE claim(uuid, int) AS ${claimSql(false)}`);
      // Past the five custom-plan executions, as the pool's generic plans run it.
      for (let i = 0; i < 6; i++) await tx.query(`EXECUTE claim('${t.tenantId}', 500)`);
      const { rows } = await tx.query<{ 'QUERY PLAN': [{ Plan: { 'Shared Hit Blocks': number; 'Shared Read Blocks': number } }] }>(
        `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE claim('${t.tenantId}', 500)`,
      );
      await tx.exec('DEALLOCATE claim');
      const plan = rows[0]!['QUERY PLAN'][0].Plan;
      return plan['Shared Hit Blocks'] + plan['Shared Read Blocks'];
    });
    assert.ok(blocks < 30, `an empty pass read ${blocks} buffers after 3,000 fanned-out events`);
  } finally {
    await t.close();
    await priv.drop();
  }
});
