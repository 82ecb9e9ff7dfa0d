/**
 * Per-identity and per-access-group overrides of the tenant's provisioning defaults (seed 002:
 * "individual settings for users and groups override the default SCIM settings").
 *
 * Two defaults can be overridden: the status a SCIM-created identity starts in (newUserStatus) and
 * whether it gets an activation e-mail (automaticInvitation). Each field resolves on its own:
 *   identity override > access-group overrides > tenant setting.
 * Access groups count when the identity is a member now: directly in the linked IdP group, or
 * added by hand. When several of them set a field and disagree, the cautious value wins: `staged`
 * over `active`, no invitation over an invitation. A field left null inherits.
 * Where the resolution is applied (SCIM adoption, invitation fan-out, the first memberships of a
 * new user) is in docs/access-model.md "Provisioning overrides".
 */
import type { Queryable } from '../db/types.js';
import type { TenantSettings } from '../tenants/settings.js';
import { lockIdentity } from './identity-lock.js';

export type NewUserStatus = 'staged' | 'active';

export interface ProvisioningOverrides {
  newUserStatus: NewUserStatus | null;
  automaticInvitation: boolean | null;
}

/** What the access groups an identity belongs to say, folded over every group that sets a field. */
export interface GroupVotes {
  anyStaged: boolean;
  anyActive: boolean;
  anyInvite: boolean;
  anyNoInvite: boolean;
}

export interface ResolvedProvisioning {
  newUserStatus: NewUserStatus;
  automaticInvitation: boolean;
  /** An override (identity or access group) decided the status, not the tenant setting. */
  statusOverridden: boolean;
  /** An override decided the invitation. */
  invitationOverridden: boolean;
}

const NO_VOTES: GroupVotes = { anyStaged: false, anyActive: false, anyInvite: false, anyNoInvite: false };
export const NO_OVERRIDES: ProvisioningOverrides = { newUserStatus: null, automaticInvitation: null };

/** The precedence rule: identity > access groups (cautious value on disagreement) > tenant. */
export function resolveProvisioning(
  tenant: Pick<TenantSettings, 'newUserStatus' | 'automaticInvitation'>,
  identity: ProvisioningOverrides = NO_OVERRIDES,
  groups: GroupVotes = NO_VOTES,
): ResolvedProvisioning {
  const groupStatus: NewUserStatus | null = groups.anyStaged ? 'staged' : groups.anyActive ? 'active' : null;
  const groupInvite: boolean | null = groups.anyNoInvite ? false : groups.anyInvite ? true : null;
  const status = identity.newUserStatus ?? groupStatus;
  const invite = identity.automaticInvitation ?? groupInvite;
  return {
    newUserStatus: status ?? tenant.newUserStatus,
    automaticInvitation: invite ?? tenant.automaticInvitation,
    statusOverridden: status !== null,
    invitationOverridden: invite !== null,
  };
}

/** True when the tenant has any override at all (the common case, none, costs one probe per pass). */
export async function tenantHasOverrides(db: Queryable, tenantId: string): Promise<boolean> {
  const { rows } = await db.query<{ ok: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM identity_provisioning_overrides WHERE tenant_id = $1)
         OR EXISTS (SELECT 1 FROM access_groups WHERE tenant_id = $1 AND (new_user_status IS NOT NULL OR automatic_invitation IS NOT NULL)) AS ok`,
    [tenantId],
  );
  return rows[0]?.ok === true;
}

/** The resolved defaults of each of `ids` (unknown ids resolve to the tenant's). */
export async function provisioningOf(
  db: Queryable,
  tenantId: string,
  ids: readonly string[],
  tenant: Pick<TenantSettings, 'newUserStatus' | 'automaticInvitation'>,
): Promise<Map<string, ResolvedProvisioning>> {
  const out = new Map<string, ResolvedProvisioning>();
  if (ids.length === 0) return out;
  const { rows } = await db.query<{
    id: string; i_status: NewUserStatus | null; i_invite: boolean | null;
    any_staged: boolean | null; any_active: boolean | null; any_invite: boolean | null; any_no_invite: boolean | null;
  }>(
    `SELECT u.id, o.new_user_status AS i_status, o.automatic_invitation AS i_invite,
            v.any_staged, v.any_active, v.any_invite, v.any_no_invite
       FROM unnest($2::uuid[]) AS u(id)
       LEFT JOIN identity_provisioning_overrides o ON o.tenant_id = $1 AND o.identity_id = u.id
       CROSS JOIN LATERAL (
         SELECT bool_or(a.new_user_status = 'staged') AS any_staged, bool_or(a.new_user_status = 'active') AS any_active,
                bool_or(a.automatic_invitation) AS any_invite, bool_or(NOT a.automatic_invitation) AS any_no_invite
           FROM access_groups a
          WHERE a.tenant_id = $1 AND (a.new_user_status IS NOT NULL OR a.automatic_invitation IS NOT NULL)
            AND (EXISTS (SELECT 1 FROM scim_groups g JOIN scim_group_members gm ON gm.tenant_id = g.tenant_id AND gm.group_id = g.id
                          WHERE g.tenant_id = $1 AND g.display_name = a.name AND gm.member_id = u.id)
                 OR EXISTS (SELECT 1 FROM access_group_members m WHERE m.tenant_id = $1 AND m.access_group_id = a.id AND m.identity_id = u.id))
       ) v`,
    [tenantId, ids],
  );
  for (const r of rows) {
    out.set(r.id, resolveProvisioning(
      tenant,
      { newUserStatus: r.i_status, automaticInvitation: r.i_invite },
      { anyStaged: r.any_staged === true, anyActive: r.any_active === true, anyInvite: r.any_invite === true, anyNoInvite: r.any_no_invite === true },
    ));
  }
  return out;
}

/**
 * Sets the status of identities that are still usable (not suspended, active in the IdP) to the
 * resolved one. Staged and active differ only in first use (a staged identity is activated by its
 * first allowed use), so neither way changes anyone's datasets.
 */
export async function applyNewUserStatus(tx: Queryable, tenantId: string, status: Map<string, NewUserStatus>): Promise<void> {
  if (status.size === 0) return;
  await tx.query(
    `UPDATE scim_users u SET status = t.status, updated_at = now()
       FROM unnest($2::uuid[], $3::text[]) AS t(id, status)
      WHERE u.tenant_id = $1 AND u.id = t.id AND u.active AND u.status NOT IN ('suspended', t.status)`,
    [tenantId, [...status.keys()], [...status.values()]],
  );
}

const toOverrides = (r: { new_user_status: NewUserStatus | null; automatic_invitation: boolean | null } | undefined): ProvisioningOverrides =>
  r ? { newUserStatus: r.new_user_status, automaticInvitation: r.automatic_invitation } : { ...NO_OVERRIDES };

export async function identityOverrides(db: Queryable, tenantId: string, identityId: string): Promise<ProvisioningOverrides> {
  const { rows } = await db.query<{ new_user_status: NewUserStatus | null; automatic_invitation: boolean | null }>(
    'SELECT new_user_status, automatic_invitation FROM identity_provisioning_overrides WHERE tenant_id = $1 AND identity_id = $2',
    [tenantId, identityId],
  );
  return toOverrides(rows[0]);
}

/** Overrides as set, and the ones they replaced (the audit entry's `before`). */
export interface OverridesChange {
  value: ProvisioningOverrides;
  replaced: ProvisioningOverrides;
}

type OverridesRow = { new_user_status: NewUserStatus | null; automatic_invitation: boolean | null };
type OldOverridesRow = { old_status: NewUserStatus | null; old_invite: boolean | null };
const toOldOverrides = (r: OldOverridesRow | undefined): ProvisioningOverrides =>
  toOverrides(r && { new_user_status: r.old_status, automatic_invitation: r.old_invite });

/**
 * Replaces an identity's overrides (both null: the row goes); undefined when the identity does not
 * exist. The identity's row is locked first, so the statement that writes reads the overrides it
 * replaces even when a concurrent write has just created the row. The INSERT joins `old` so that
 * it is read (and locked) before the row changes: read only for RETURNING, it would come after the
 * statement's own change and find nothing.
 */
export async function setIdentityOverrides(db: Queryable, tenantId: string, identityId: string, o: ProvisioningOverrides): Promise<OverridesChange | undefined> {
  if (!(await lockIdentity(db, tenantId, identityId))) return undefined;
  if (o.newUserStatus === null && o.automaticInvitation === null) {
    const { rows } = await db.query<OldOverridesRow>(
      `DELETE FROM identity_provisioning_overrides WHERE tenant_id = $1 AND identity_id = $2
       RETURNING new_user_status AS old_status, automatic_invitation AS old_invite`,
      [tenantId, identityId],
    );
    return { value: { ...NO_OVERRIDES }, replaced: toOldOverrides(rows[0]) };
  }
  const { rows } = await db.query<OverridesRow & OldOverridesRow>(
    `WITH old AS (SELECT new_user_status, automatic_invitation FROM identity_provisioning_overrides
                   WHERE tenant_id = $1 AND identity_id = $2 FOR UPDATE)
     INSERT INTO identity_provisioning_overrides (tenant_id, identity_id, new_user_status, automatic_invitation)
     SELECT $1::uuid, $2::uuid, $3::text, $4::boolean FROM (SELECT 1) AS one LEFT JOIN old ON true
     ON CONFLICT (tenant_id, identity_id) DO UPDATE SET new_user_status = EXCLUDED.new_user_status,
            automatic_invitation = EXCLUDED.automatic_invitation, updated_at = now()
     RETURNING new_user_status, automatic_invitation,
               (SELECT new_user_status FROM old) AS old_status, (SELECT automatic_invitation FROM old) AS old_invite`,
    [tenantId, identityId, o.newUserStatus, o.automaticInvitation],
  );
  return { value: toOverrides(rows[0]), replaced: toOldOverrides(rows[0]) };
}

export async function accessGroupOverrides(db: Queryable, tenantId: string, agId: string): Promise<ProvisioningOverrides> {
  const { rows } = await db.query<{ new_user_status: NewUserStatus | null; automatic_invitation: boolean | null }>(
    'SELECT new_user_status, automatic_invitation FROM access_groups WHERE tenant_id = $1 AND id = $2',
    [tenantId, agId],
  );
  return toOverrides(rows[0]);
}

/**
 * Replaces an access group's overrides; undefined when the group does not exist. One statement:
 * `old` locks the row before the UPDATE (which joins it, so it runs first; after waiting on a
 * concurrent change it reads the newest version), its values are the ones replaced.
 */
export async function setAccessGroupOverrides(db: Queryable, tenantId: string, agId: string, o: ProvisioningOverrides): Promise<OverridesChange | undefined> {
  const { rows } = await db.query<OverridesRow & OldOverridesRow>(
    `WITH old AS (SELECT new_user_status AS old_status, automatic_invitation AS old_invite
                    FROM access_groups WHERE tenant_id = $1 AND id = $2 FOR NO KEY UPDATE)
     UPDATE access_groups a SET new_user_status = $3, automatic_invitation = $4, updated_at = now()
       FROM old
      WHERE a.tenant_id = $1 AND a.id = $2 RETURNING a.new_user_status, a.automatic_invitation, old.old_status, old.old_invite`,
    [tenantId, agId, o.newUserStatus, o.automaticInvitation],
  );
  const r = rows[0];
  return r ? { value: toOverrides(r), replaced: toOldOverrides(r) } : undefined;
}
