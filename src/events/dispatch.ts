import type { Database } from '../db/types.js';
import { withDefaults, type TenantSettings } from '../tenants/settings.js';

/**
 * Fan-out: turns undispatched outbox events into webhook deliveries (one per matching webhook)
 * and invitations, and marks the events dispatched — all in one transaction, so each event is
 * fanned out exactly once whatever crashes. Per tenant, dispatchers are serialised by a
 * transaction-scoped advisory lock (several processes may run), which keeps delivery order
 * equal to event order; the events themselves are claimed FOR UPDATE SKIP LOCKED.
 */
export async function dispatchTenant(db: Database, tenantId: string, batch: number): Promise<number> {
  return db.transaction(async (tx) => {
    const lock = await tx.query<{ ok: boolean }>(
      `SELECT pg_try_advisory_xact_lock(hashtext('idpbridge.dispatch'), hashtext($1)) AS ok`,
      [tenantId],
    );
    if (!lock.rows[0]?.ok) return 0;
    const { rows: evs } = await tx.query<{ id: string; type: string; user: Record<string, unknown> | null }>(
      `SELECT id, type, CASE WHEN type = 'user.created' THEN data->'user' END AS user
         FROM events WHERE tenant_id = $1 AND dispatched_at IS NULL ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [tenantId, batch],
    );
    if (evs.length === 0) return 0;
    const ids = evs.map((e) => e.id);
    await tx.query(
      `INSERT INTO webhook_deliveries (tenant_id, webhook_id, event_id, event_seq)
       SELECT e.tenant_id, w.id, e.id, e.seq
         FROM events e JOIN webhooks w ON w.tenant_id = e.tenant_id
        WHERE e.tenant_id = $1 AND e.id = ANY ($2::uuid[]) AND w.tenant_id = $1 AND w.enabled
          AND (cardinality(w.event_types) = 0 OR '*' = ANY (w.event_types) OR e.type = ANY (w.event_types)
               OR (split_part(e.type, '.', 1) || '.*') = ANY (w.event_types))
       ON CONFLICT DO NOTHING`,
      [tenantId, ids],
    );
    const created = evs.filter((e) => e.type === 'user.created' && e.user);
    if (created.length > 0) {
      const t = await tx.query<{ settings: Partial<TenantSettings> }>('SELECT settings FROM tenants WHERE tenant_id = $1', [tenantId]);
      if (t.rows[0] && withDefaults(t.rows[0].settings).automaticInvitation) {
        for (const e of created) {
          const inv = invitationFor(e.user!);
          if (!inv) continue;
          await tx.query(
            `INSERT INTO invitations (tenant_id, user_id, event_id, email, display_name, message_id)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
            [tenantId, inv.userId, e.id, inv.email, inv.displayName, `<invitation.${inv.userId}.${tenantId}@idpbridge>`],
          );
        }
      }
    }
    await tx.query('UPDATE events SET dispatched_at = now() WHERE tenant_id = $1 AND id = ANY ($2::uuid[])', [tenantId, ids]);
    return evs.length;
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

/** Dispatches every tenant's backlog; returns the number of events fanned out. */
export async function dispatchPending(db: Database, batch = 500): Promise<number> {
  const { rows } = await db.query<{ tenant_id: string }>(
    'SELECT DISTINCT tenant_id FROM events WHERE dispatched_at IS NULL LIMIT 200',
  );
  let n = 0;
  for (const { tenant_id } of rows) {
    for (;;) {
      const k = await dispatchTenant(db, tenant_id, batch);
      n += k;
      if (k < batch) break;
    }
  }
  return n;
}
