/**
 * Retention (src/events/retention.ts): what goes, what stays, and a cost that does not follow the
 * number of tenants — one statement per kind of row, not three round trips per tenant.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { eachDatabase, startTestApp } from '../helpers/app.js';
import { privateDatabase } from '../helpers/private-database.js';
import { admin } from './helpers.js';
import { cleanupExpired } from '../../src/events/retention.js';
import type { Database } from '../../src/db/types.js';

/** The same database, counting the statements sent through it. */
function counting(db: Database): { db: Database; count: () => number } {
  let n = 0;
  const wrapped = new Proxy(db, {
    get(target, prop, receiver) {
      if (prop === 'query') return (...args: Parameters<Database['query']>) => { n += 1; return target.query(...args); };
      return Reflect.get(target, prop, receiver);
    },
  });
  return { db: wrapped, count: () => n };
}

eachDatabase((kind) => {
  it('retention removes expired log rows, fanned-out events and finished invitations per tenant setting, in three statements for any number of tenants', async () => {
    // A database of its own: retention is one statement over every tenant, and other test files
    // write expired rows of their own tenants into the suite's database meanwhile.
    const priv = await privateDatabase(kind);
    if (!priv) return;
    const t = await startTestApp(kind, { worker: false }, { db: priv.db });
    const others: string[] = [];
    try {
      assert.equal((await admin(t.app, 'PUT', `/tenants/${t.tenantId}/settings`, { logRetentionDays: 2 })).status, 200);
      for (let i = 0; i < 12; i++) others.push((await t.newTenant(`retention ${i}`)).tenantId);
      const keeper = others[0]!; // default retention (longer than 3 days)
      const oldRows = async (tenant: string, days: number) => {
        await t.db.query(
          `INSERT INTO provisioning_log (tenant_id, at, method, path, idp, operation, outcome, status)
           VALUES ($1, now() - $2 * interval '1 day', 'GET', '/x', 'other', 'list', 'success', 200)`,
          [tenant, days],
        );
        await t.db.query(
          `INSERT INTO events (tenant_id, id, type, data, occurred_at, dispatched_at)
           VALUES ($1, gen_random_uuid(), 'user.created', '{}', now() - $2 * interval '1 day', now())`,
          [tenant, days],
        );
      };
      for (const [tenant, days] of [[t.tenantId, 3], [t.tenantId, 1], [keeper, 3]] as const) await oldRows(tenant, days);
      // an expired event that is not yet fanned out (no cursor past it, never dispatched) stays
      await t.db.query(
        `INSERT INTO events (tenant_id, id, type, data, occurred_at) VALUES ($1, gen_random_uuid(), 'user.updated', '{}', now() - interval '5 days')`,
        [t.tenantId],
      );
      const c = counting(t.db);
      const r = await cleanupExpired(c.db);
      assert.equal(c.count(), 3, 'one statement per kind of row, whatever the number of tenants');
      assert.deepEqual(r, { logRows: 1, events: 1 });
      const n = async (sql: string, tenant: string) => (await t.db.query<{ n: number }>(sql, [tenant])).rows[0]!.n;
      assert.equal(await n('SELECT count(*)::int AS n FROM provisioning_log WHERE tenant_id = $1', t.tenantId), 1);
      assert.equal(await n('SELECT count(*)::int AS n FROM provisioning_log WHERE tenant_id = $1', keeper), 1);
      assert.equal(await n(`SELECT count(*)::int AS n FROM events WHERE tenant_id = $1 AND type = 'user.created'`, t.tenantId), 1);
      assert.equal(await n(`SELECT count(*)::int AS n FROM events WHERE tenant_id = $1 AND type = 'user.updated'`, t.tenantId), 1);
      assert.equal(await n('SELECT count(*)::int AS n FROM events WHERE tenant_id = $1', keeper), 1);
      // idempotent
      assert.deepEqual(await cleanupExpired(t.db), { logRows: 0, events: 0 });
    } finally {
      for (const id of others) await admin(t.app, 'DELETE', `/tenants/${id}`);
      await admin(t.app, 'DELETE', `/tenants/${t.tenantId}`);
      await t.close();
      await priv.drop();
    }
  });
});
