import type { TenantSlot } from '../../http/tenant-concurrency.js';
import type { Database } from '../../db/types.js';
import type { TenantSettings } from '../../tenants/settings.js';
import type { ResourceSchemas } from '../schema/types.js';
import type { ProvisioningObserver } from '../../directory/observer.js';
import type { GroupNameCache } from '../../directory/group-names.js';

/** Everything a SCIM operation needs about the calling tenant. */
export interface ScimContext {
  db: Database;
  tenantId: string;
  settings: TenantSettings;
  /** `https://host/scim/v2/<tenantId>` for meta.location. */
  baseUrl: string;
  users: ResourceSchemas;
  groups: ResourceSchemas;
  observer: ProvisioningObserver;
  /** Max members rendered inline in a Group. */
  membersInlineMax: number;
  /** Max members rendered inline over all Groups of one list/search page (undefined: no page budget). */
  membersPageMax?: number;
  /** The app's group-name cache (users' `groups[].display`). */
  groupNames: GroupNameCache;
  /** The request's tenant slot (undefined when the tenant gate is off): lent out while a create waits in a shared batch. */
  slot: TenantSlot | undefined;
}

