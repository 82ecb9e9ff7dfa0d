import type { Database, Queryable } from '../db/types.js';
import { chainOf } from './entry.js';

/**
 * Installation-wide retention (IDPBRIDGE_AUDIT_RETENTION_DAYS, independent of the provisioning
 * log's): entries older than that go, oldest first, so every chain keeps a contiguous newest part
 * that still verifies from its oldest kept entry. Idempotent: any process may run it.
 */
export async function cleanupAudit(db: Queryable, retentionDays: number): Promise<number> {
  if (retentionDays <= 0) return 0;
  const r = await db.query(`DELETE FROM audit_log WHERE at < now() - $1 * interval '1 day'`, [retentionDays]);
  return r.rowCount;
}

/**
 * The operator's explicit purge: every entry of one tenant's chain (typically a deleted tenant's),
 * or of any chain older than a date. The caller records the purge itself, in the operator chain,
 * in the same transaction. The chain head stays, so a later entry still counts on from it.
 */
export async function purgeAudit(tx: Queryable, opts: { tenantId?: string; before?: Date }): Promise<number> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (opts.tenantId) {
    params.push(chainOf(opts.tenantId));
    where.push(`chain = $${params.length}`);
  }
  if (opts.before) {
    params.push(opts.before);
    where.push(`at < $${params.length}`);
  }
  if (where.length === 0) throw new Error('purgeAudit needs a tenant or a date');
  const r = await tx.query(`DELETE FROM audit_log WHERE ${where.join(' AND ')}`, params);
  return r.rowCount;
}

/** Runs the retention cleanup a minute after start and then every `everyMs` (unref'd timer); returns a stop function. */
export function scheduleAuditRetention(db: Database, retentionDays: number, everyMs: number, log: { warn(o: object, m: string): void; info(o: object, m: string): void }): () => void {
  let running = false;
  const run = async () => {
    if (running) return;
    running = true;
    try {
      const removed = await cleanupAudit(db, retentionDays);
      if (removed > 0) log.info({ removed }, 'audit retention cleanup');
    } catch (err) {
      log.warn({ err }, 'audit retention cleanup failed');
    } finally {
      running = false;
    }
  };
  const first = setTimeout(run, Math.min(everyMs, 60_000));
  const timer = setInterval(run, everyMs);
  first.unref();
  timer.unref();
  return () => {
    clearTimeout(first);
    clearInterval(timer);
  };
}
