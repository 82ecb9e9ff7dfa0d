/**
 * Access-group provisioning overrides for new users (access/provisioning-overrides.ts): an IdP
 * creates a user first and adds it to its groups in later requests, so an access group's override
 * can only be known once the membership arrives. The access-change worker calls this for the
 * identities of a membership change; for each one created through SCIM in the last
 * PROVISIONING_WINDOW_HOURS it applies the resolved defaults:
 *  - status: set to the resolved one when an override decides it (suspended identities are left alone);
 *  - invitation: an override that says yes queues the activation e-mail (at most one per identity,
 *    ever); one that says no cancels an invitation not sent yet (one already sent stays sent).
 * Later memberships (after the window) change no provisioning defaults: they are first-contact settings.
 */
import type { Queryable } from '../db/types.js';
import { withDefaults, type TenantSettings } from '../tenants/settings.js';
import { applyNewUserStatus, provisioningOf, tenantHasOverrides, type NewUserStatus } from '../access/provisioning-overrides.js';
import { invitationFor } from './dispatch.js';

/** How long after its SCIM creation a user's memberships still decide its provisioning defaults. */
export const PROVISIONING_WINDOW_HOURS = 24;

/** Access-change causes that add memberships (the ones that may bring an access group's override). */
export const JOIN_CAUSES: ReadonlySet<string> = new Set(['group.members_changed', 'accessGroup.member_added']);

export async function applyJoinProvisioning(tx: Queryable, tenantId: string, ids: readonly string[]): Promise<void> {
  if (ids.length === 0 || !(await tenantHasOverrides(tx, tenantId))) return;
  const { rows: fresh } = await tx.query<{ id: string; user_name: string; display_name: string | null; active: boolean; data: Record<string, unknown>; settings: Partial<TenantSettings> | null }>(
    `SELECT u.id, u.user_name, u.display_name, u.active, u.data, t.settings
       FROM scim_users u JOIN tenants t ON t.tenant_id = u.tenant_id
      WHERE u.tenant_id = $1 AND u.id = ANY($2::uuid[]) AND u.source = 'scim'
        AND u.created_at > now() - $3 * interval '1 hour'`,
    [tenantId, ids, PROVISIONING_WINDOW_HOURS],
  );
  if (fresh.length === 0) return;
  const settings = withDefaults(fresh[0]!.settings);
  const resolved = await provisioningOf(tx, tenantId, fresh.map((u) => u.id), settings);
  const status = new Map<string, NewUserStatus>();
  const cancel: string[] = [];
  for (const u of fresh) {
    const p = resolved.get(u.id);
    if (!p) continue;
    if (p.statusOverridden) status.set(u.id, p.newUserStatus);
    if (!p.invitationOverridden) continue;
    if (!p.automaticInvitation) {
      cancel.push(u.id);
      continue;
    }
    const inv = invitationFor({ id: u.id, userName: u.user_name, displayName: u.display_name, active: u.active, scim: u.data });
    if (!inv) continue;
    // event_id: no event caused this one (a membership did); a fresh id keeps the column's meaning "unique cause".
    await tx.query(
      `INSERT INTO invitations (tenant_id, user_id, event_id, email, display_name, message_id)
       VALUES ($1, $2, gen_random_uuid(), $3, $4, $5) ON CONFLICT DO NOTHING`,
      [tenantId, inv.userId, inv.email, inv.displayName, `<invitation.${inv.userId}.${tenantId}@idpbridge>`],
    );
  }
  await applyNewUserStatus(tx, tenantId, status);
  if (cancel.length > 0) {
    await tx.query(
      `UPDATE invitations SET state = 'cancelled' WHERE tenant_id = $1 AND user_id = ANY($2::uuid[]) AND state = 'pending'`,
      [tenantId, cancel],
    );
  }
}
