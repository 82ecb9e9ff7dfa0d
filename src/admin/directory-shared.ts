import type { FastifyRequest } from 'fastify';
import type { AppDeps } from '../app-deps.js';
import { getTenant } from '../tenants/tenants.js';
import { tenantSchemas } from '../tenants/settings.js';
import type { ScimContext } from '../scim/resources/context.js';
import { parseFilter } from '../scim/filter/parse.js';
import type { ListQuery } from '../scim/resources/list-query.js';
import type { GroupListing } from '../directory/group-listings.js';
import { notFound } from '../http/errors.js';
import { publicBaseUrl, scimBaseUrl } from '../http/base-url.js';
import { uuid, nullableString } from './access-schemas.js';

/** What the directory views (directory-users-routes.ts, directory-groups-routes.ts) share: schemas, paging, the SCIM context. */

export const tags = ['directory'];
export type P = { tenantId: string };
export type Page = { limit: number; offset: number; search?: string };

export const pageQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
    offset: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: 0 },
    search: { type: 'string', maxLength: 200, description: 'Substring of userName/displayName (users) or displayName (groups), or an exact externalId' },
  },
} as const;

export const dateTime = { type: 'string', format: 'date-time' } as const;

export const groupSchema = {
  type: 'object',
  properties: {
    id: uuid,
    displayName: { type: 'string' },
    externalId: nullableString,
    memberCount: { type: 'integer' },
    linkedAccessGroup: { type: ['object', 'null'], properties: { id: uuid, name: { type: 'string' } } },
    createdAt: dateTime,
    updatedAt: dateTime,
  },
} as const;

export const groupJson = (g: GroupListing) => ({
  id: g.id,
  displayName: g.display_name,
  externalId: g.external_id,
  memberCount: g.memberCount,
  linkedAccessGroup: g.linkedAccessGroup,
  createdAt: g.created_at.toISOString(),
  updatedAt: g.updated_at.toISOString(),
});

/** A SCIM string literal (SCIM filters use JSON string syntax). */
export const lit = (s: string) => JSON.stringify(s);

/** A page of the console's search as a SCIM list query, so the filter runs in SQL. */
export function listQuery(page: Page, filter: string | undefined, sortBy: string): ListQuery {
  return {
    filter: filter ? parseFilter(filter) : undefined,
    startIndex: page.offset + 1,
    count: page.limit,
    sortBy,
    sortOrder: 'ascending',
    attributes: [],
    excludedAttributes: [],
  };
}

/** The SCIM context of a tenant for the SCIM list functions; 404 when the tenant does not exist. */
export async function scimContextFor(deps: AppDeps, req: FastifyRequest, tenantId: string): Promise<ScimContext> {
  const tenant = await getTenant(deps.db, tenantId);
  if (!tenant) throw notFound('tenant');
  const { users, groups } = tenantSchemas(tenant.settings);
  return {
    db: deps.db, tenantId: tenant.id, settings: tenant.settings, users, groups, observer: deps.observer,
    baseUrl: scimBaseUrl(publicBaseUrl(req, deps.config.publicUrl), tenant.id),
    membersInlineMax: deps.config.groupMembersInlineMax,
    groupNames: deps.groupNames,
    slot: undefined,
  };
}
