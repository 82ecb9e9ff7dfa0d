/**
 * The access model's provisioning observer, run inside each SCIM write transaction:
 *  - refuses a userType or a role outside the tenant's allow-lists, and (uniquePrimaryEmail) a
 *    primary e-mail address another identity has (UniquenessError → 409 uniqueness) (InvalidValueError → 400 invalidValue,
 *    the write rolls back, nothing is stored);
 *  - keeps identity_grants equal to the user's grants attribute (split at commas);
 *  - creates the auto API key of a new provisioned user when the tenant enables it, and renames
 *    auto keys with their user;
 *  - an adopted identity starts in the status its provisioning override resolves to (provisioning-overrides.ts);
 *  - a SCIM update of a manual identity (the IdP matched it by userName) makes it SCIM-managed.
 *  - records an access change (access-changes.ts) for every write that may change someone's
 *    effective datasets: grants, suspension, deletion, adoption, group membership, rename, delete.
 *    Links and memberships themselves are derived at query time; only the change is recorded.
 */
import type { Queryable } from '../db/types.js';
import type { ProvisioningObserver, StoredUser } from '../directory/observer.js';
import { withDefaults, type TenantSettings } from '../tenants/settings.js';
import { checkRoles, checkUserType, grantValuesOf, primaryEmailOf, rolesOf, userTypeOf } from './identity-data.js';
import { checkUniquePrimaryEmail } from './unique-email.js';
import { syncGrants } from './grants.js';
import { ensureAutoKey, renameAutoKeys } from './api-keys.js';
import { accessChangeInsert, recordAccessChange } from './access-changes.js';
import { applyNewUserStatus, provisioningOf } from './provisioning-overrides.js';

export async function loadSettings(tx: Queryable, tenantId: string): Promise<TenantSettings> {
  const { rows } = await tx.query<{ settings: Partial<TenantSettings> }>('SELECT settings FROM tenants WHERE tenant_id = $1', [tenantId]);
  return withDefaults(rows[0]?.settings);
}

const sameList = (a: string[], b: string[]) => a.length === b.length && a.every((v, i) => v === b[i]);

const identityRef = (u: StoredUser) => ({ id: u.id, userName: u.userName, externalId: u.externalId });
const usable = (u: StoredUser) => u.active && u.status !== 'suspended';
/** Member ids of a group write: users are looked at directly; groups (nested grants) through their members. */
const memberScope = (ids: string[], nested: boolean) => ({ identities: ids, ...(nested ? { groups: ids } : {}) });

export function accessObserver(): ProvisioningObserver {
  return {
    // The one-statement create: only a user without grants and without an auto key needs nothing
    // written here (userType is checked either way).
    userCreatedInserts(ctx, user) {
      checkUserType(ctx.settings, user.data);
      checkRoles(ctx.settings, user.data);
      if (ctx.settings.uniquePrimaryEmail && primaryEmailOf(user.data)) return undefined;
      if (ctx.settings.apiKeysForProvisionedUsers) return undefined;
      if (grantValuesOf(user.data, ctx.settings.grantsAttribute).length > 0) return undefined;
      return [];
    },

    // Hot path (every SCIM create): settings come with the request, and a brand-new identity has
    // no grants or keys to reconcile, so only what exists is written.
    async userCreated(tx, ctx, user: StoredUser, info) {
      const settings = ctx.settings;
      checkUserType(settings, user.data);
      checkRoles(settings, user.data);
      await checkUniquePrimaryEmail(tx, ctx.tenantId, settings, user.id, user.data);
      const grants = grantValuesOf(user.data, settings.grantsAttribute);
      if (info.adopted) {
        // A pre-created identity's override (or one of its manual access groups') decides the
        // status it is provisioned in; without one, adoption keeps the status it had.
        const p = (await provisioningOf(tx, ctx.tenantId, [user.id], settings)).get(user.id);
        if (p?.statusOverridden && usable(user)) await applyNewUserStatus(tx, ctx.tenantId, new Map([[user.id, p.newUserStatus]]));
      }
      if (info.adopted || grants.length > 0) {
        await syncGrants(tx, ctx.tenantId, user.id, grants);
        await recordAccessChange(tx, ctx.tenantId, { type: info.adopted ? 'identity.adopted' : 'user.created', identity: identityRef(user) }, { identities: [user.id] });
      }
      if (settings.apiKeysForProvisionedUsers) await ensureAutoKey(tx, ctx.tenantId, user.id, user.userName);
      else if (info.adopted) await renameAutoKeys(tx, ctx.tenantId, user.id, user.userName);
    },

    async userUpdated(tx, ctx, before: StoredUser, after: StoredUser) {
      const settings = ctx.settings;
      // Only a changed userType is checked: a user stored before the allow-list changed can
      // still be updated (e.g. deactivated) without first fixing its userType.
      if (userTypeOf(after.data) !== userTypeOf(before.data)) checkUserType(settings, after.data);
      if (!sameList(rolesOf(after.data), rolesOf(before.data))) checkRoles(settings, after.data);
      if (primaryEmailOf(after.data) !== primaryEmailOf(before.data)) await checkUniquePrimaryEmail(tx, ctx.tenantId, settings, after.id, after.data);
      const grants = grantValuesOf(after.data, settings.grantsAttribute);
      const grantsChanged = !sameList(grants, grantValuesOf(before.data, settings.grantsAttribute));
      if (before.source === 'manual' || grantsChanged) {
        await syncGrants(tx, ctx.tenantId, after.id, grants);
      }
      if (grantsChanged || before.source === 'manual' || usable(before) !== usable(after)) {
        const type = usable(before) && !usable(after) ? 'user.suspended' : !usable(before) && usable(after) ? 'user.reactivated' : 'user.updated';
        await recordAccessChange(tx, ctx.tenantId, { type, identity: identityRef(after) }, { identities: [after.id] });
      }
      if (after.userName !== before.userName) await renameAutoKeys(tx, ctx.tenantId, after.id, after.userName);
      if (before.source === 'manual' && after.source !== 'scim') {
        await tx.query(`UPDATE scim_users SET source = 'scim' WHERE tenant_id = $1 AND id = $2`, [ctx.tenantId, after.id]);
      }
    },

    // Grants, manual memberships and API keys go with the scim_users row (ON DELETE CASCADE); what
    // was announced to the identity is revoked by the worker.
    async userDeleted(tx, ctx, user) {
      await recordAccessChange(tx, ctx.tenantId, { type: 'user.deleted', identity: identityRef(user) }, { identities: [user.id] });
    },

    // A new group has no members yet (they come through membersChanged), so it changes no one's access.

    async groupUpdated(tx, ctx, before, after) {
      if (before.displayName === after.displayName) return;
      await recordAccessChange(tx, ctx.tenantId,
        { type: 'group.renamed', group: { id: after.id, displayName: after.displayName }, previousDisplayName: before.displayName },
        { groups: [after.id] });
    },

    async groupDeleted(tx, ctx, group, memberIds) {
      await recordAccessChange(tx, ctx.tenantId,
        { type: 'group.deleted', group: { id: group.id, displayName: group.displayName } },
        memberScope(memberIds, ctx.settings.nestedGroupsGrant));
    },

    membersChangedInserts(ctx, groupId, added, removed) {
      return [accessChangeInsert(ctx.tenantId, { type: 'group.members_changed', group: { id: groupId } },
        memberScope([...added, ...removed], ctx.settings.nestedGroupsGrant))];
    },

    async membersChanged(tx, ctx, groupId, added, removed) {
      await recordAccessChange(tx, ctx.tenantId, { type: 'group.members_changed', group: { id: groupId } },
        memberScope([...added, ...removed], ctx.settings.nestedGroupsGrant));
    },
  };
}
