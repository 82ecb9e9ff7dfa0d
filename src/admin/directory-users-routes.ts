import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app-deps.js';
import { listUsers } from '../scim/resources/users-service.js';
import { params, uuid, nullableString } from './access-schemas.js';
import { dateTime, lit, listQuery, pageQuery, scimContextFor, tags, type P, type Page } from './directory-shared.js';

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

function primaryEmail(data: Record<string, unknown>): string | null {
  const emails = Array.isArray(data.emails) ? (data.emails as { value?: unknown; primary?: unknown }[]) : [];
  const e = emails.find((x) => x.primary === true) ?? emails[0];
  return typeof e?.value === 'string' ? e.value : null;
}

/** Read-only view of the tenant's users for the console: search and paging through the SCIM list function (the filter runs in SQL). */
export async function directoryUsersRoutes(app: FastifyInstance, { deps }: { deps: AppDeps }): Promise<void> {
  app.get<{ Params: P; Querystring: Page }>('/tenants/:tenantId/scim-users', {
    schema: {
      tags,
      summary: 'Users of the tenant (provisioned and manual) for the console: search, paging; provisioned ones are read-only',
      params: params('tenantId'),
      querystring: pageQuery,
      response: { 200: { type: 'object', properties: { total: { type: 'integer' }, users: { type: 'array', items: userSchema } } } },
    },
  }, async (req) => {
    const ctx = await scimContextFor(deps, req, req.params.tenantId);
    const s = req.query.search?.trim();
    const filter = s ? `userName co ${lit(s)} or displayName co ${lit(s)} or externalId eq ${lit(s)}` : undefined;
    const { total, views } = await listUsers(ctx, listQuery(req.query, filter, 'userName'), false);
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
}
