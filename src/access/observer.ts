/**
 * The access model's provisioning observer, run inside each SCIM write transaction:
 *  - refuses a userType outside the tenant's allow-list (InvalidValueError → 400 invalidValue,
 *    the write rolls back, nothing is stored);
 *  - keeps identity_grants equal to the user's grants attribute (split at commas);
 *  - creates the auto API key of a new provisioned user when the tenant enables it, and renames
 *    auto keys with their user;
 *  - a SCIM update of a manual identity (the IdP matched it by userName) makes it SCIM-managed.
 * Group events need nothing here: access-group links and memberships are derived at query time.
 */
import type { Queryable } from '../db/types.js';
import type { ProvisioningObserver, StoredUser } from '../directory/observer.js';
import { withDefaults, type TenantSettings } from '../tenants/settings.js';
import { checkUserType, grantValuesOf, userTypeOf } from './identity-data.js';
import { syncGrants } from './grants.js';
import { ensureAutoKey, renameAutoKeys } from './api-keys.js';

export async function loadSettings(tx: Queryable, tenantId: string): Promise<TenantSettings> {
  const { rows } = await tx.query<{ settings: Partial<TenantSettings> }>('SELECT settings FROM tenants WHERE tenant_id = $1', [tenantId]);
  return withDefaults(rows[0]?.settings);
}

const sameList = (a: string[], b: string[]) => a.length === b.length && a.every((v, i) => v === b[i]);

export function accessObserver(): ProvisioningObserver {
  return {
    // The one-statement create: only a user without grants and without an auto key needs nothing
    // written here (userType is checked either way).
    userCreatedInserts(ctx, user) {
      checkUserType(ctx.settings, user.data);
      if (ctx.settings.apiKeysForProvisionedUsers) return undefined;
      if (grantValuesOf(user.data, ctx.settings.grantsAttribute).length > 0) return undefined;
      return [];
    },

    // Hot path (every SCIM create): settings come with the request, and a brand-new identity has
    // no grants or keys to reconcile, so only what exists is written.
    async userCreated(tx, ctx, user: StoredUser, info) {
      const settings = ctx.settings;
      checkUserType(settings, user.data);
      const grants = grantValuesOf(user.data, settings.grantsAttribute);
      if (info.adopted || grants.length > 0) await syncGrants(tx, ctx.tenantId, user.id, grants);
      if (settings.apiKeysForProvisionedUsers) await ensureAutoKey(tx, ctx.tenantId, user.id, user.userName);
      else if (info.adopted) await renameAutoKeys(tx, ctx.tenantId, user.id, user.userName);
    },

    async userUpdated(tx, ctx, before: StoredUser, after: StoredUser) {
      const settings = ctx.settings;
      // Only a changed userType is checked: a user stored before the allow-list changed can
      // still be updated (e.g. deactivated) without first fixing its userType.
      if (userTypeOf(after.data) !== userTypeOf(before.data)) checkUserType(settings, after.data);
      const grants = grantValuesOf(after.data, settings.grantsAttribute);
      if (before.source === 'manual' || !sameList(grants, grantValuesOf(before.data, settings.grantsAttribute))) {
        await syncGrants(tx, ctx.tenantId, after.id, grants);
      }
      if (after.userName !== before.userName) await renameAutoKeys(tx, ctx.tenantId, after.id, after.userName);
      if (before.source === 'manual' && after.source !== 'scim') {
        await tx.query(`UPDATE scim_users SET source = 'scim' WHERE tenant_id = $1 AND id = $2`, [ctx.tenantId, after.id]);
      }
    },
    // userDeleted: grants, manual memberships and API keys go with the scim_users row (ON DELETE CASCADE).
  };
}
