import type { Queryable, Database } from '../../db/types.js';
import type { TenantSettings } from '../../tenants/settings.js';
import type { ResourceSchemas } from '../schema/types.js';
import { buildResourceSchemas } from '../schema/registry.js';
import type { ProvisioningObserver } from './observer.js';

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
}

const cache = new Map<string, { users: ResourceSchemas; groups: ResourceSchemas }>();

/** Tenant schemas are rebuilt only when the tenant's extension settings change. */
export function tenantSchemas(settings: TenantSettings): { users: ResourceSchemas; groups: ResourceSchemas } {
  const key = JSON.stringify([settings.extensionAttributes, settings.grantsAttribute]);
  let hit = cache.get(key);
  if (!hit) {
    hit = {
      users: buildResourceSchemas('User', settings.extensionAttributes, { grantsAttribute: settings.grantsAttribute }),
      groups: buildResourceSchemas('Group', settings.extensionAttributes),
    };
    if (cache.size > 1000) cache.clear();
    cache.set(key, hit);
  }
  return hit;
}

export type Tx = Queryable;
