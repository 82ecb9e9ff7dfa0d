// An idle outbox worker sleeps (issue 21: an idle server polled its queues every 500 ms) and a
// finished request wakes it. The poll interval is set to two minutes here: a delivery within a
// second can only come from the wake-up, and a write the worker is not told about waits.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildApp } from '../../src/app.js';
import { eachDatabase, startTestApp, testConfig } from '../helpers/app.js';
import { privateDatabase } from '../helpers/private-database.js';
import { admin, FAST_WORKER, Receiver, scim, userBody, waitFor } from './helpers.js';

eachDatabase((kind) => {
  it('a sleeping worker delivers a SCIM write at once, woken by the request; unwoken, it does not poll', async () => {
    const receiver = new Receiver();
    await receiver.start();
    // A database of its own on PostgreSQL: other test files' workers share the suite's database and
    // serve every tenant, so one of them could deliver the write this worker must not see.
    const priv = kind === 'postgres' ? await privateDatabase(kind) : undefined;
    const t = await startTestApp(kind, { ...FAST_WORKER, workerPollMs: 120_000 }, { db: priv?.db });
    // A second process on the same database, without a worker: its writes do not wake the first.
    const other = await buildApp({ config: testConfig({ worker: false }), db: t.db, logger: false, skipMigrations: true });
    await other.app.ready();
    try {
      assert.equal((await admin(t.app, 'POST', `/tenants/${t.tenantId}/webhooks`, { url: receiver.url, events: ['user.created'] })).status, 201);
      await sleep(300); // the worker's first passes are done: it sleeps now
      const sc = scim(t.app, t.scimToken, t.scimBase);
      const t0 = Date.now();
      assert.equal((await sc('POST', '/Users', userBody('woken@example.com'))).status, 201);
      await waitFor('the woken delivery', () => receiver.received.find((e) => (e.data.user as { userName?: string } | undefined)?.userName === 'woken@example.com'), 5_000);
      const ms = Date.now() - t0;
      // The poll interval is 120 s: anything within seconds is the wake-up (the margin is for a busy CI machine).
      assert.ok(ms < 3_000, `delivered after ${ms} ms`);

      // A write through the other process once this worker is done with the first (its webhook
      // queue may still be open for a moment): nothing wakes it, and it does not poll.
      await sleep(2_500);
      const sc2 = scim(other.app, t.scimToken, t.scimBase);
      assert.equal((await sc2('POST', '/Users', userBody('unwoken@example.com'))).status, 201);
      await sleep(1_500);
      assert.equal(receiver.received.some((e) => (e.data.user as { userName?: string } | undefined)?.userName === 'unwoken@example.com'), false, 'the sleeping worker polled');
      // Any request to this process wakes it.
      await t.app.inject({ method: 'GET', url: '/healthz' });
      await waitFor('the delivery after a wake-up', () => receiver.received.find((e) => (e.data.user as { userName?: string } | undefined)?.userName === 'unwoken@example.com'), 5_000);
    } finally {
      await other.app.close();
      await admin(t.app, 'DELETE', `/tenants/${t.tenantId}`);
      await t.close();
      await priv?.drop();
      await receiver.stop();
    }
  });
});
