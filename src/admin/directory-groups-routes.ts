import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app-deps.js';
import { getTenant } from '../tenants/tenants.js';
import { listGroups } from '../scim/resources/groups-service.js';
import { groupListing, groupMembersPage, withGroupExtras } from '../directory/group-listings.js';
import { notFound } from '../http/errors.js';
import { params, uuid, nullableString } from './access-schemas.js';
import { groupJson, groupSchema, lit, listQuery, pageQuery, scimContextFor, tags, type P, type Page } from './directory-shared.js';

const memberSchema = {
  type: 'object',
  properties: { id: uuid, userName: { type: 'string' }, displayName: nullableString, active: { type: 'boolean' }, status: { type: 'string' } },
} as const;

/**
 * Read-only views of the tenant's SCIM groups for the console: search and paging through the SCIM
 * list function (the filter runs in SQL), each group with its member count and the access group
 * it links to by exact name; a group's direct members by page.
 */
export async function directoryGroupsRoutes(app: FastifyInstance, { deps }: { deps: AppDeps }): Promise<void> {
  const db = deps.db;

  app.get<{ Params: P; Querystring: Page }>('/tenants/:tenantId/scim-groups', {
    schema: {
      tags,
      summary: 'SCIM groups of the tenant for the console: search, paging, member counts and the access group linked by exact name',
      params: params('tenantId'),
      querystring: pageQuery,
      response: { 200: { type: 'object', properties: { total: { type: 'integer' }, groups: { type: 'array', items: groupSchema } } } },
    },
  }, async (req) => {
    const ctx = await scimContextFor(deps, req, req.params.tenantId);
    const s = req.query.search?.trim();
    const filter = s ? `displayName co ${lit(s)} or externalId eq ${lit(s)}` : undefined;
    const { total, views } = await listGroups(ctx, listQuery(req.query, filter, 'displayName'), false);
    const groups = await withGroupExtras(db, ctx.tenantId, views.map((v) => v.row));
    return { total, groups: groups.map(groupJson) };
  });

  app.get<{ Params: P & { groupId: string }; Querystring: { limit: number; offset: number } }>('/tenants/:tenantId/scim-groups/:groupId/members', {
    schema: {
      tags,
      summary: 'Direct members of a SCIM group, by userName, paged',
      params: params('tenantId', 'groupId'),
      querystring: {
        type: 'object', additionalProperties: false,
        properties: { limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 }, offset: { type: 'integer', minimum: 0, maximum: 100_000_000, default: 0 } },
      },
      response: {
        200: { type: 'object', properties: { group: groupSchema, total: { type: 'integer' }, members: { type: 'array', items: memberSchema } } },
      },
    },
  }, async (req) => {
    const { tenantId, groupId } = req.params;
    if (!(await getTenant(db, tenantId))) throw notFound('tenant');
    const group = await groupListing(db, tenantId, groupId);
    if (!group) throw notFound('group');
    const members = await groupMembersPage(db, tenantId, groupId, req.query);
    return {
      group: groupJson(group),
      total: group.memberCount,
      members: members.map((u) => ({ id: u.id, userName: u.user_name, displayName: u.display_name, active: u.active, status: u.status })),
    };
  });
}
