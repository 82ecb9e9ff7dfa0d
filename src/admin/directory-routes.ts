import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppDeps } from '../app-deps.js';
import { getTenant, type Tenant } from '../tenants/tenants.js';
import { isUuid } from '../lib/ids.js';
import { type ScimContext } from '../scim/resources/context.js';
import { tenantSchemas } from '../tenants/settings.js';
import { listUsers } from '../scim/resources/users-service.js';
import { listGroups } from '../scim/resources/groups-service.js';
import { parseFilter } from '../scim/filter/parse.js';
import type { ListQuery } from '../scim/resources/list-query.js';
import { notFound } from '../http/errors.js';
import { params, uuid, nullableString } from './access-schemas.js';
import { publicBaseUrl, scimBaseUrl } from '../http/base-url.js';

const tags = ['directory'];
type P = { tenantId: string };
type Page = { limit: number; offset: number; search?: string };

const pageQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
    offset: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: 0 },
    search: { type: 'string', maxLength: 200, description: 'Substring of userName/displayName (users) or displayName (groups), or an exact externalId' },
  },
} as const;

const dateTime = { type: 'string', format: 'date-time' } as const;

const userSchema = {
  type: 'object',
  properties: {
    id: uuid,
    userName: { type: 'string' },
    displayName: nullableString,
    externalId: nullableString,
    email: nullableString,
    active: { type: 'boolean' },
    status: { type: 'string' },
    source: { type: 'string', enum: ['scim', 'manual'] },
    readOnly: { type: 'boolean', description: 'Provisioned by the IdP: change it there' },
    createdAt: dateTime,
    updatedAt: dateTime,
  },
} as const;

const groupSchema = {
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

/** A SCIM string literal (SCIM filters use JSON string syntax). */
const lit = (s: string) => JSON.stringify(s);

function query(page: Page, filter: string | undefined, sortBy: string): ListQuery {
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

function primaryEmail(data: Record<string, unknown>): string | null {
  const emails = Array.isArray(data.emails) ? (data.emails as { value?: unknown; primary?: unknown }[]) : [];
  const e = emails.find((x) => x.primary === true) ?? emails[0];
  return typeof e?.value === 'string' ? e.value : null;
}

/**
 * Read-only views of the tenant's SCIM directory for the console: users and groups with search
 * and paging (the SCIM list functions, so the filter runs in SQL), each group with its member
 * count and the access group it links to by exact name.
 */
export async function directoryRoutes(app: FastifyInstance, { deps }: { deps: AppDeps }): Promise<void> {
  const db = deps.db;
  const contextFor = async (req: FastifyRequest, tenantId: string): Promise<{ ctx: ScimContext; tenant: Tenant }> => {
    const tenant = await getTenant(db, tenantId);
    if (!tenant) throw notFound('tenant');
    const { users, groups } = tenantSchemas(tenant.settings);
    return {
      tenant,
      ctx: {
        db, tenantId: tenant.id, settings: tenant.settings, users, groups, observer: deps.observer,
        baseUrl: scimBaseUrl(publicBaseUrl(req, deps.config.publicUrl), tenant.id),
        membersInlineMax: deps.config.groupMembersInlineMax,
      },
    };
  };

  app.get<{ Params: P; Querystring: Page }>('/tenants/:tenantId/scim-users', {
    schema: {
      tags,
      summary: 'Users of the tenant (provisioned and manual) for the console: search, paging; provisioned ones are read-only',
      params: params('tenantId'),
      querystring: pageQuery,
      response: { 200: { type: 'object', properties: { total: { type: 'integer' }, users: { type: 'array', items: userSchema } } } },
    },
  }, async (req) => {
    const { ctx } = await contextFor(req, req.params.tenantId);
    const s = req.query.search?.trim();
    const filter = s ? `userName co ${lit(s)} or displayName co ${lit(s)} or externalId eq ${lit(s)}` : undefined;
    const { total, views } = await listUsers(ctx, query(req.query, filter, 'userName'), false);
    return {
      total,
      users: views.map(({ row }) => ({
        id: row.id,
        userName: row.user_name,
        displayName: row.display_name,
        externalId: row.external_id,
        email: primaryEmail(row.data),
        active: row.active,
        status: row.status,
        source: row.source,
        readOnly: row.source !== 'manual',
        createdAt: row.created_at.toISOString(),
        updatedAt: row.updated_at.toISOString(),
      })),
    };
  });

  const groupExtras = async (tenantId: string, ids: string[], names: string[]) => {
    if (ids.length === 0) return { counts: new Map<string, number>(), links: new Map<string, { id: string; name: string }>() };
    const c = await db.query<{ group_id: string; n: number }>(
      `SELECT group_id, count(*)::int AS n FROM scim_group_members WHERE tenant_id = $1 AND group_id = ANY($2::uuid[]) GROUP BY group_id`,
      [tenantId, ids],
    );
    const l = await db.query<{ id: string; name: string }>(
      `SELECT id, name FROM access_groups WHERE tenant_id = $1 AND name = ANY($2::text[])`,
      [tenantId, names],
    );
    return {
      counts: new Map(c.rows.map((r) => [r.group_id, r.n])),
      links: new Map(l.rows.map((r) => [r.name, { id: r.id, name: r.name }])),
    };
  };

  app.get<{ Params: P; Querystring: Page }>('/tenants/:tenantId/scim-groups', {
    schema: {
      tags,
      summary: 'SCIM groups of the tenant for the console: search, paging, member counts and the access group linked by exact name',
      params: params('tenantId'),
      querystring: pageQuery,
      response: { 200: { type: 'object', properties: { total: { type: 'integer' }, groups: { type: 'array', items: groupSchema } } } },
    },
  }, async (req) => {
    const { ctx } = await contextFor(req, req.params.tenantId);
    const s = req.query.search?.trim();
    const filter = s ? `displayName co ${lit(s)} or externalId eq ${lit(s)}` : undefined;
    const { total, views } = await listGroups(ctx, query(req.query, filter, 'displayName'), false);
    const { counts, links } = await groupExtras(ctx.tenantId, views.map((v) => v.row.id), views.map((v) => v.row.display_name));
    return {
      total,
      groups: views.map(({ row }) => ({
        id: row.id,
        displayName: row.display_name,
        externalId: row.external_id,
        memberCount: counts.get(row.id) ?? 0,
        linkedAccessGroup: links.get(row.display_name) ?? null,
        createdAt: row.created_at.toISOString(),
        updatedAt: row.updated_at.toISOString(),
      })),
    };
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
        200: {
          type: 'object',
          properties: {
            group: groupSchema,
            total: { type: 'integer' },
            members: { type: 'array', items: { type: 'object', properties: { id: uuid, userName: { type: 'string' }, displayName: nullableString, active: { type: 'boolean' }, status: { type: 'string' } } } },
          },
        },
      },
    },
  }, async (req) => {
    const { tenantId, groupId } = req.params;
    if (!(await getTenant(db, tenantId))) throw notFound('tenant');
    if (!isUuid(groupId)) throw notFound('group');
    const g = await db.query<{ id: string; display_name: string; external_id: string | null; created_at: Date; updated_at: Date }>(
      'SELECT id, display_name, external_id, created_at, updated_at FROM scim_groups WHERE tenant_id = $1 AND id = $2',
      [tenantId, groupId],
    );
    const row = g.rows[0];
    if (!row) throw notFound('group');
    const { counts, links } = await groupExtras(tenantId, [row.id], [row.display_name]);
    const m = await db.query<{ id: string; user_name: string; display_name: string | null; active: boolean; status: string }>(
      `SELECT u.id, u.user_name, u.display_name, u.active, u.status
         FROM scim_group_members m JOIN scim_users u ON u.tenant_id = m.tenant_id AND u.id = m.member_id
        WHERE m.tenant_id = $1 AND m.group_id = $2
        ORDER BY lower(u.user_name), u.id LIMIT $3 OFFSET $4`,
      [tenantId, groupId, req.query.limit, req.query.offset],
    );
    return {
      group: {
        id: row.id, displayName: row.display_name, externalId: row.external_id, memberCount: counts.get(row.id) ?? 0,
        linkedAccessGroup: links.get(row.display_name) ?? null, createdAt: row.created_at.toISOString(), updatedAt: row.updated_at.toISOString(),
      },
      total: counts.get(row.id) ?? 0,
      members: m.rows.map((u) => ({ id: u.id, userName: u.user_name, displayName: u.display_name, active: u.active, status: u.status })),
    };
  });
}
