import type { Database } from '../db/types.js';
import { withDefaults, type TenantSettings } from '../tenants/settings.js';
import { provisioningOf } from '../access/provisioning-overrides.js';

/**
 * Fan-out: turns outbox events past the tenant's cursor into webhook deliveries (one per matching
 * webhook) and invitations, and moves the cursor — all in one transaction, so each event is
 * fanned out exactly once whatever crashes. Per tenant, dispatchers are serialised by a
 * transaction-scoped advisory lock (several processes may run), which keeps delivery order
 * equal to event order (deliveries carry the event's seq).
 */
/**
 * An event `e` not fanned out yet, given its tenant's cursor (`txid`, `seq`: SQL expressions,
 * '0' and 0 before the first pass): past the cursor in (txid, seq) order, and written by a
 * transaction older than every open one — a transaction still open may commit an event that sorts
 * before the cursor, so it is never passed. The cursor must reach the planner as a value (an
 * InitPlan or an outer reference), not a joined row: then the row comparison is an index bound
 * on events_dispatch, otherwise a filter over every event the tenant ever had.
 */
const pending = (txid: string, seq: string) => `e.txid IS NOT NULL AND (e.txid, e.seq) > (${txid}, ${seq})
  AND e.txid < pg_snapshot_xmin(pg_current_snapshot())`;

/** The next `$2` pending events of tenant `$1`, in fan-out order (exported for its plan test). */
export const claimSql = (withUser: boolean) => `
  SELECT e.tenant_id, e.id, e.seq, e.txid, e.type, ${withUser ? `CASE WHEN e.type IN ('user.created', 'identity.adopted') THEN e.data->'user' END` : 'NULL::jsonb'} AS user
    FROM events e
   WHERE e.tenant_id = $1
     AND ${pending(`COALESCE((SELECT txid FROM event_cursors WHERE tenant_id = $1), '0'::xid8)`, `COALESCE((SELECT seq FROM event_cursors WHERE tenant_id = $1), 0)`)}
   ORDER BY e.txid, e.seq LIMIT $2`;

export async function dispatchTenant(db: Database, tenantId: string, batch: number): Promise<number> {
  return (await dispatchTenantBatch(db, tenantId, batch)).n;
}

/** One batch of the tenant's fan-out; `busy` when another dispatcher holds the tenant. */
async function dispatchTenantBatch(db: Database, tenantId: string, batch: number): Promise<{ n: number; busy: boolean }> {
  return db.transaction(async (tx) => {
    const lock = await tx.query<{ ok: boolean; settings: Partial<TenantSettings> | null; overrides: boolean }>(
      `SELECT pg_try_advisory_xact_lock(hashtext('idpbridge.dispatch'), hashtext($1)) AS ok,
              (SELECT settings FROM tenants WHERE tenant_id = $2 FOR KEY SHARE) AS settings,
              EXISTS (SELECT 1 FROM identity_provisioning_overrides WHERE tenant_id = $2)
                OR EXISTS (SELECT 1 FROM access_groups WHERE tenant_id = $2 AND automatic_invitation IS NOT NULL) AS overrides`,
      [tenantId, tenantId],
    );
    // KEY SHARE: a tenant being deleted is waited for and then skipped, and one not yet deleted
    // stays until this commits — the cursor row (a foreign key to the tenant) cannot fail.
    if (!lock.rows[0]?.ok) return { n: 0, busy: true };
    if (lock.rows[0].settings === null) return { n: 0, busy: false };
    // The new user's data is read (and parsed) only when invitations may use it: the tenant
    // invites, or an identity or access group overrides that (access/provisioning-overrides.ts).
    const settings = withDefaults(lock.rows[0].settings);
    const overrides = lock.rows[0].overrides;
    const invite = settings.automaticInvitation || overrides;
    // Claim, fan out and move the cursor in one statement. The advisory lock makes this the
    // tenant's only dispatcher; events are never rewritten.
    const { rows: evs } = await tx.query<{ id: string; type: string; user: Record<string, unknown> | null }>(
      `WITH claimed AS (${claimSql(invite)}), deliveries AS (
         INSERT INTO webhook_deliveries (tenant_id, webhook_id, event_id, event_seq)
         SELECT c.tenant_id, w.id, c.id, c.seq
           FROM claimed c JOIN webhooks w ON w.tenant_id = c.tenant_id
          WHERE w.tenant_id = $1 AND w.enabled
            AND (((cardinality(w.event_types) = 0 OR '*' = ANY (w.event_types)) AND NOT starts_with(c.type, 'audit.')) -- audit events only when asked for
                 OR c.type = ANY (w.event_types) OR (split_part(c.type, '.', 1) || '.*') = ANY (w.event_types))
         ON CONFLICT DO NOTHING
       ), moved AS (
         INSERT INTO event_cursors (tenant_id, txid, seq)
         SELECT $1, c.txid, c.seq FROM claimed c ORDER BY c.txid DESC, c.seq DESC LIMIT 1
         ON CONFLICT (tenant_id) DO UPDATE SET txid = EXCLUDED.txid, seq = EXCLUDED.seq
       )
       SELECT id, type, "user" FROM claimed`,
      [tenantId, batch],
    );
    if (invite) {
      // A new user is invited as resolved (identity > access groups > tenant); an adopted,
      // pre-created identity only when an override asks for it (the tenant setting is for new users).
      const created = evs.filter((e) => (e.type === 'user.created' || e.type === 'identity.adopted') && e.user && typeof e.user.id === 'string');
      const resolved = overrides ? await provisioningOf(tx, tenantId, created.map((e) => e.user!.id as string), settings) : undefined;
      for (const e of created) {
        const p = resolved?.get(e.user!.id as string);
        const send = e.type === 'user.created' ? (p?.automaticInvitation ?? settings.automaticInvitation) : p?.invitationOverridden === true && p.automaticInvitation;
        if (!send) continue;
        const inv = invitationFor(e.user!);
        if (!inv) continue;
        await tx.query(
          `INSERT INTO invitations (tenant_id, user_id, event_id, email, display_name, message_id)
           VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
          [tenantId, inv.userId, e.id, inv.email, inv.displayName, `<invitation.${inv.userId}.${tenantId}@idpbridge>`],
        );
      }
    }
    return { n: evs.length, busy: false };
  });
}

/** The address to invite: the primary e-mail, else the work one, else the first; none for inactive users. */
export function invitationFor(user: Record<string, unknown>): { userId: string; email: string; displayName: string | null } | undefined {
  if (user.active === false || typeof user.id !== 'string') return undefined;
  const scim = (user.scim ?? {}) as Record<string, unknown>;
  const emails = Array.isArray(scim.emails) ? (scim.emails as { value?: unknown; primary?: unknown; type?: unknown }[]) : [];
  const valid = emails.filter((e) => typeof e?.value === 'string' && /^[^\s@]+@[^\s@]+$/.test(e.value));
  let email = (valid.find((e) => e.primary === true) ?? valid.find((e) => e.type === 'work') ?? valid[0])?.value as string | undefined;
  if (!email && typeof user.userName === 'string' && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(user.userName)) email = user.userName;
  if (!email) return undefined;
  const name = scim.name as { formatted?: unknown; givenName?: unknown } | undefined;
  const displayName =
    (typeof user.displayName === 'string' && user.displayName) ||
    (typeof name?.formatted === 'string' && name.formatted) ||
    (typeof name?.givenName === 'string' && name.givenName) ||
    null;
  return { userId: user.id, email, displayName };
}

/** Tenants looked at per pass; more wait for the next pass (which comes at once after a busy one). */
const TENANTS_PER_PASS = 200;

/**
 * Dispatches the backlog of every tenant with new events; returns the number of events fanned out.
 * A pass reads only the events written since the horizon (022_event_dispatch_horizon.sql), so an
 * idle pass is two probes of events_txid however many tenants there are, and a busy one reads the
 * new events once. Once every tenant found is drained, the horizon moves up to the snapshot's
 * xmin: every event below it was visible to this pass and is now fanned out. It stays when a
 * tenant was left (another dispatcher held it, more than TENANTS_PER_PASS tenants),
 * and the next pass finds that tenant again. Events fanned out after the xmin was read (the rest
 * of a tenant's backlog) are read once more by the next pass, which then moves the horizon past
 * them; a pass that finds no event since the horizon writes nothing.
 */
export async function dispatchPending(db: Database, batch = 500): Promise<number> {
  return (await dispatchPass(db, batch)).n;
}

/** What a dispatch pass did: events fanned out, and whether committed events wait behind an open transaction. */
export interface DispatchPass {
  n: number;
  /**
   * Committed events not yet below the snapshot's xmin: a transaction still open somewhere in the
   * cluster (xids are cluster-wide) holds them back, and no request will announce its end. The
   * worker looks again soon rather than after its idle wait.
   */
  waiting: boolean;
}

/** dispatchPending, also telling whether events wait behind an open transaction. */
export async function dispatchPass(db: Database, batch = 500): Promise<DispatchPass> {
  const { rows: [pass] } = await db.query<{ xmin: string; tenants: string[]; seen: boolean; waiting: boolean }>(
    `SELECT ARRAY(
              SELECT DISTINCT e.tenant_id FROM events e LEFT JOIN event_cursors cur ON cur.tenant_id = e.tenant_id
               WHERE e.txid >= h.txid AND ${pending(`COALESCE(cur.txid, '0'::xid8)`, 'COALESCE(cur.seq, 0)')}
               LIMIT ${TENANTS_PER_PASS})::text[] AS tenants,
            EXISTS (SELECT 1 FROM events e WHERE e.txid >= h.txid AND e.txid < pg_snapshot_xmin(pg_current_snapshot())) AS seen,
            pg_snapshot_xmin(pg_current_snapshot())::text AS xmin,
            -- The top end of events_txid: only events written since the oldest open transaction.
            EXISTS (SELECT 1 FROM events e WHERE e.txid >= pg_snapshot_xmin(pg_current_snapshot())) AS waiting
       FROM event_dispatch_horizon h`,
  );
  const waiting = pass?.waiting ?? false;
  // Nothing below xmin since the horizon: the horizon stays, and an idle pass writes nothing.
  if (!pass || !pass.seen) return { n: 0, waiting };
  let n = 0;
  let complete = pass.tenants.length < TENANTS_PER_PASS;
  // A failure ends the pass before the horizon moves.
  for (const tenantId of pass.tenants) {
    for (;;) {
      const r = await dispatchTenantBatch(db, tenantId, batch);
      n += r.n;
      if (r.busy) complete = false;
      if (r.n < batch) break;
    }
  }
  // Only upwards: another process's pass may have moved it further meanwhile.
  if (complete) await db.query('UPDATE event_dispatch_horizon SET txid = $1::xid8 WHERE txid < $1::xid8', [pass.xmin]);
  return { n, waiting };
}
