import type { Database } from '../db/types.js';
import { DEFAULT_SETTINGS } from '../tenants/settings.js';

/**
 * Retention, per tenant (setting `logRetentionDays`): provisioning-log rows older than that go;
 * so do dispatched events (with their delivered or dead-lettered deliveries) unless a delivery
 * of theirs is still pending. Idempotent: any process may run it.
 */
export async function cleanupExpired(db: Database): Promise<{ logRows: number; events: number }> {
  const { rows } = await db.query<{ tenant_id: string; days: number }>(
    `SELECT tenant_id, COALESCE((settings->>'logRetentionDays')::int, $1) AS days FROM tenants`,
    [DEFAULT_SETTINGS.logRetentionDays],
  );
  let logRows = 0;
  let events = 0;
  for (const { tenant_id, days } of rows) {
    const l = await db.query(`DELETE FROM provisioning_log WHERE tenant_id = $1 AND at < now() - $2 * interval '1 day'`, [tenant_id, days]);
    logRows += l.rowCount;
    const e = await db.query(
      `DELETE FROM events e WHERE e.tenant_id = $1 AND e.occurred_at < now() - $2 * interval '1 day'
          AND (e.dispatched_at IS NOT NULL -- fanned out before migration 009
               OR (e.txid, e.seq) <= (SELECT c.txid, c.seq FROM event_cursors c WHERE c.tenant_id = $1))
          AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.tenant_id = $1 AND d.event_id = e.id AND d.state = 'pending')`,
      [tenant_id, days],
    );
    events += e.rowCount;
    await db.query(
      `DELETE FROM invitations WHERE tenant_id = $1 AND state IN ('sent', 'failed', 'cancelled') AND created_at < now() - $2 * interval '1 day'`,
      [tenant_id, days],
    );
  }
  return { logRows, events };
}
