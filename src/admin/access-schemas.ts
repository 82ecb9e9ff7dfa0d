/** JSON schemas and helpers shared by the access-model admin routes (OpenAPI via @fastify/swagger). */
import type { Queryable } from '../db/types.js';
import { getTenant } from '../tenants/tenants.js';
import { notFound } from '../http/errors.js';

export const uuid = { type: 'string', format: 'uuid' } as const;
export const nullableString = { type: ['string', 'null'] } as const;
const dateTime = { type: 'string', format: 'date-time' } as const;

export const params = (...names: string[]) => ({
  type: 'object',
  required: names,
  properties: Object.fromEntries(names.map((n) => [n, uuid])),
}) as const;

export const pageQuery = {
  type: 'object',
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
    offset: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: 0 },
  },
} as const;

export const datasetSchema = {
  type: 'object',
  properties: {
    id: uuid,
    name: { type: 'string' },
    externalId: nullableString,
    description: nullableString,
    createdAt: dateTime,
    updatedAt: dateTime,
  },
} as const;

export const accessGroupSchema = {
  type: 'object',
  properties: {
    id: uuid,
    name: { type: 'string', description: 'Linked to the SCIM group whose displayName is exactly equal (case-sensitive)' },
    description: nullableString,
    linkedGroup: {
      type: ['object', 'null'],
      properties: { id: uuid, displayName: { type: 'string' }, externalId: nullableString },
    },
    createdAt: dateTime,
    updatedAt: dateTime,
  },
} as const;

export const identitySummarySchema = {
  id: uuid,
  userName: { type: 'string' },
  externalId: nullableString,
  displayName: nullableString,
  status: { type: 'string', enum: ['staged', 'active', 'suspended'] },
  source: { type: 'string', enum: ['scim', 'manual'] },
  active: { type: 'boolean' },
} as const;

export const memberSchema = {
  type: 'object',
  properties: {
    ...identitySummarySchema,
    viaIdpGroup: { type: 'boolean', description: 'Member through the linked IdP group' },
    manual: { type: 'boolean', description: 'Added by hand through this API' },
  },
} as const;

const stringMap = { type: 'object', additionalProperties: { type: 'string' } } as const;

export const identitySchema = {
  type: 'object',
  properties: {
    ...identitySummarySchema,
    readOnly: { type: 'boolean', description: 'Provisioned identities are read-only here except product-owned fields (status staged → active)' },
    name: { type: ['object', 'null'], additionalProperties: true },
    emails: { type: 'array', items: { type: 'object', additionalProperties: true } },
    userType: nullableString,
    roles: { type: 'array', items: { type: 'string' } },
    metadata: stringMap,
    createdAt: dateTime,
    updatedAt: dateTime,
  },
} as const;

export const identityDetailSchema = {
  type: 'object',
  properties: {
    ...identitySchema.properties,
    grants: {
      type: 'array',
      description: 'Direct grants: raw values of the grants attribute; datasetId null = no matching dataset yet (grants once one exists)',
      items: { type: 'object', properties: { value: { type: 'string' }, datasetId: { type: ['string', 'null'] }, datasetName: nullableString } },
    },
    groups: { type: 'array', items: { type: 'object', properties: { id: uuid, displayName: { type: 'string' }, externalId: nullableString } } },
    accessGroups: { type: 'array', items: { type: 'object', properties: { id: uuid, name: { type: 'string' } } } },
    datasets: { type: 'array', items: { type: 'object', properties: { id: uuid, name: { type: 'string' }, externalId: nullableString } } },
  },
} as const;

export const apiKeySchema = {
  type: 'object',
  properties: {
    id: uuid,
    identityId: uuid,
    name: { type: 'string' },
    keyHint: { type: 'string' },
    auto: { type: 'boolean', description: 'Auto-created for a provisioned user; follows the user (name, enabled, deletion)' },
    enabled: { type: 'boolean' },
    disabledReason: { type: ['string', 'null'], enum: ['disabled', 'identity_suspended', null] },
    createdAt: dateTime,
    disabledAt: { type: ['string', 'null'], format: 'date-time' },
    lastUsedAt: { type: ['string', 'null'], format: 'date-time' },
  },
} as const;

export const apiKeyWithSecretSchema = {
  type: 'object',
  properties: { ...apiKeySchema.properties, key: { type: 'string', description: 'The secret: shown in this response only' } },
} as const;

export async function requireTenant(db: Queryable, tenantId: string): Promise<void> {
  if (!(await getTenant(db, tenantId))) throw notFound('tenant');
}
