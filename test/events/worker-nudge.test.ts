// A request that finishes while the worker is in a pass is not left to the idle wait: that pass may
// have read the outbox before the request's transaction committed (issue 21: write → delivery p99
// of 500 ms, one poll interval, when a write landed during a pass). The pass is held open here
// right after its dispatch query, the write lands, and the poll interval is two minutes: only the
// nudge can bring the delivery within seconds.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { eachDatabase, startTestApp } from '../helpers/app.js';
import { privateDatabase } from '../helpers/private-database.js';
import type { Database, QueryResult } from '../../src/db/types.js';
import { admin, FAST_WORKER, Receiver, scim, userBody, waitFor } from './helpers.js';

eachDatabase((kind) => {
  it('a write that lands during a pass is delivered right after it, not after the poll interval', async () => {
    // A database of its own: other test files' workers would deliver the write on the shared one.
    const priv = await privateDatabase(kind);
    if (!priv) return;
    let hold: (() => void) | undefined;
    let release = () => {};
    const db = Object.create(priv.db) as Database;
    db.query = async <T>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>> => {
      const r = await priv.db.query<T>(sql, params);
      if (hold && sql.includes('FROM event_dispatch_horizon')) {
        const started = hold;
        hold = undefined;
        started();
        await new Promise<void>((resolve) => { release = resolve; });
      }
      return r;
    };
    const receiver = new Receiver();
    await receiver.start();
    const t = await startTestApp(kind, { ...FAST_WORKER, workerPollMs: 120_000 }, { db });
    try {
      assert.equal((await admin(t.app, 'POST', `/tenants/${t.tenantId}/webhooks`, { url: receiver.url, events: ['user.created'] })).status, 201);
      assert.equal((await scim(t.app, t.scimToken, t.scimBase)('POST', '/Users', userBody('first@example.com'))).status, 201);
      await waitFor('the first delivery', () => receiver.received.length > 0, 5_000);
      await new Promise((r) => setTimeout(r, 300)); // the worker has gone back to its wait

      const held = new Promise<void>((resolve) => { hold = resolve; });
      await t.app.inject({ method: 'GET', url: '/healthz' }); // wakes the worker: a pass starts
      await held; // …and is held after its dispatch query
      assert.equal((await scim(t.app, t.scimToken, t.scimBase)('POST', '/Users', userBody('during@example.com'))).status, 201);
      release();
      const t0 = Date.now();
      await waitFor('the delivery of the write made during a pass', () =>
        receiver.received.find((e) => (e.data.user as { userName?: string } | undefined)?.userName === 'during@example.com'), 3_000);
      assert.ok(Date.now() - t0 < 3_000);
    } finally {
      release();
      await admin(t.app, 'DELETE', `/tenants/${t.tenantId}`);
      await t.close();
      await priv.drop();
      await receiver.stop();
    }
  });
});

// Events committed after a transaction that is still open (anywhere in the cluster: xids are
// cluster-wide) are not dispatched until it ends, and nothing announces its end: the worker looks
// again soon while such events wait, instead of sleeping its poll interval (two minutes here).
it('[postgres] a write held back by another open transaction is delivered soon after that transaction ends', { skip: !process.env.TEST_DATABASE_URL }, async () => {
  const priv = await privateDatabase('postgres');
  if (!priv) return;
  const { default: pg } = await import('pg');
  const blocker = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
  await blocker.connect();
  const receiver = new Receiver();
  await receiver.start();
  const t = await startTestApp('postgres', { ...FAST_WORKER, workerPollMs: 120_000 }, { db: priv.db });
  try {
    assert.equal((await admin(t.app, 'POST', `/tenants/${t.tenantId}/webhooks`, { url: receiver.url, events: ['user.created'] })).status, 201);
    await blocker.query('BEGIN');
    await blocker.query('SELECT pg_current_xact_id()'); // holds an xid: the snapshot's xmin stays below the write
    assert.equal((await scim(t.app, t.scimToken, t.scimBase)('POST', '/Users', userBody('held@example.com'))).status, 201);
    await new Promise((r) => setTimeout(r, 600)); // the nudged pass (and its follow-ups) found it held back
    assert.equal(receiver.received.length, 0, 'not delivered while an older transaction is open');
    await blocker.query('COMMIT');
    const t0 = Date.now();
    await waitFor('the delivery once the older transaction ended', () => receiver.received.length > 0, 5_000);
    assert.ok(Date.now() - t0 < 2_000, `delivered ${Date.now() - t0} ms after the transaction ended`);
  } finally {
    await blocker.end().catch(() => {});
    await admin(t.app, 'DELETE', `/tenants/${t.tenantId}`);
    await t.close();
    await priv.drop();
    await receiver.stop();
  }
});
