import type { Database } from '../db/types.js';
import { DEFAULT_SETTINGS } from '../tenants/settings.js';

/**
 * Retention, per tenant (setting `logRetentionDays`): provisioning-log rows older than that go;
 * so do dispatched events (with their delivered or dead-lettered deliveries) unless a delivery
 * of theirs is still pending, and finished invitations. Idempotent: any process may run it.
 *
 * Cost: three statements whatever the number of tenants. Each joins the tenants' cut-off times
 * with the rows older than the latest cut-off, so the provisioning log is read through its
 * (tenant_id, at) index per tenant and events through the BRIN range of `occurred_at` (migration
 * 023: events are written in time order, so old rows sit in a few block ranges). A per-tenant
 * loop would cost three round trips per tenant every run, with or without expired rows.
 */
const CUTOFFS = `WITH cutoffs AS (
  SELECT tenant_id, now() - COALESCE((settings->>'logRetentionDays')::int, $1) * interval '1 day' AS cutoff FROM tenants
), latest AS (SELECT max(cutoff) AS cutoff FROM cutoffs)`;

export async function cleanupExpired(db: Database): Promise<{ logRows: number; events: number }> {
  const days = [DEFAULT_SETTINGS.logRetentionDays];
  const l = await db.query(
    `${CUTOFFS}
     DELETE FROM provisioning_log p USING cutoffs c
      WHERE p.tenant_id = c.tenant_id AND p.at < c.cutoff AND p.at < (SELECT cutoff FROM latest)`,
    days,
  );
  const e = await db.query(
    `${CUTOFFS}
     DELETE FROM events e USING cutoffs c
      WHERE e.tenant_id = c.tenant_id AND e.occurred_at < c.cutoff AND e.occurred_at < (SELECT cutoff FROM latest)
        AND (e.dispatched_at IS NOT NULL -- fanned out before migration 009
             OR (e.txid, e.seq) <= (SELECT cur.txid, cur.seq FROM event_cursors cur WHERE cur.tenant_id = e.tenant_id))
        AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.tenant_id = e.tenant_id AND d.event_id = e.id AND d.state = 'pending')`,
    days,
  );
  await db.query(
    `${CUTOFFS}
     DELETE FROM invitations i USING cutoffs c
      WHERE i.tenant_id = c.tenant_id AND i.state IN ('sent', 'failed', 'cancelled')
        AND i.created_at < c.cutoff AND i.created_at < (SELECT cutoff FROM latest)`,
    days,
  );
  return { logRows: l.rowCount, events: e.rowCount };
}
