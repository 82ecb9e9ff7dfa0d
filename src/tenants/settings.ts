import { buildResourceSchemas, DEFAULT_GRANTS_ATTRIBUTE, type TenantExtensionAttribute } from '../scim/schema/registry.js';
import type { ResourceSchemas } from '../scim/schema/types.js';

/** Per-tenant provisioning settings (admin API `…/settings`). */
export interface TenantSettings {
  /** Status of identities created by SCIM. */
  newUserStatus: 'staged' | 'active';
  /** Send an activation e-mail to each provisioned user. */
  automaticInvitation: boolean;
  /** Auto-create an API key for each provisioned user. */
  apiKeysForProvisionedUsers: boolean;
  /** Allowed `userType` values; empty = any. */
  userTypeAllowList: string[];
  /** Allowed `roles[].value` values; empty = any. */
  roleAllowList: string[];
  /** The primary e-mail address is unique per tenant (case-insensitive); off: any number share one. */
  uniquePrimaryEmail: boolean;
  /** Multi-valued extension attribute whose values grant datasets directly. */
  grantsAttribute: string;
  /** Nested groups grant transitively. */
  nestedGroupsGrant: boolean;
  /** Tenant-defined SCIM extension attributes. */
  extensionAttributes: TenantExtensionAttribute[];
  /** Provisioning-log retention. */
  logRetentionDays: number;
}

export { DEFAULT_GRANTS_ATTRIBUTE };

export const DEFAULT_SETTINGS: TenantSettings = {
  newUserStatus: 'active',
  automaticInvitation: false,
  apiKeysForProvisionedUsers: false,
  userTypeAllowList: [],
  roleAllowList: [],
  uniquePrimaryEmail: false,
  grantsAttribute: DEFAULT_GRANTS_ATTRIBUTE,
  nestedGroupsGrant: false,
  extensionAttributes: [],
  logRetentionDays: 30,
};

export function withDefaults(stored: Partial<TenantSettings> | null | undefined): TenantSettings {
  return { ...DEFAULT_SETTINGS, ...(stored ?? {}) };
}

/** JSON schema of the settings body (admin API, schema-first). */
export const settingsJsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    newUserStatus: { type: 'string', enum: ['staged', 'active'] },
    automaticInvitation: { type: 'boolean' },
    apiKeysForProvisionedUsers: { type: 'boolean' },
    userTypeAllowList: { type: 'array', maxItems: 100, items: { type: 'string', minLength: 1, maxLength: 200 } },
    roleAllowList: { type: 'array', maxItems: 100, items: { type: 'string', minLength: 1, maxLength: 200 } },
    uniquePrimaryEmail: { type: 'boolean' },
    grantsAttribute: {
      type: 'string',
      pattern: '^urn:ietf:params:scim:schemas:extension:2\\.0:[A-Za-z0-9_.-]+:[A-Za-z_][A-Za-z0-9_-]*$',
    },
    nestedGroupsGrant: { type: 'boolean' },
    extensionAttributes: {
      type: 'array',
      maxItems: 200,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['schema', 'name', 'type'],
        properties: {
          schema: { type: 'string', pattern: '^urn:ietf:params:scim:schemas:extension:2\\.0:[A-Za-z0-9_.-]+$' },
          name: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_-]{0,127}$' },
          type: { type: 'string', enum: ['string', 'boolean', 'decimal', 'integer', 'dateTime', 'reference'] },
          // Absent = single-valued: the default is filled in by the same schema that validates and documents it.
          multiValued: { type: 'boolean', default: false },
          // Only for type string (checked by validateExtensionAttributes, 400 otherwise).
          canonicalValues: { type: 'array', minItems: 1, maxItems: 500, items: { type: 'string', minLength: 1, maxLength: 500 } },
          caseExact: { type: 'boolean' },
          required: { type: 'boolean' },
          description: { type: 'string', maxLength: 1000 },
          resourceType: { type: 'string', enum: ['User', 'Group'] },
        },
      },
    },
    logRetentionDays: { type: 'integer', minimum: 1, maximum: 3650 },
  },
} as const;

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
