import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app-deps.js';
import type { Queryable } from '../db/types.js';
import { isUniqueViolation } from '../db/errors.js';
import {
  createAccessGroup, deleteAccessGroup, getAccessGroup, listAccessGroups, updateAccessGroup, type AccessGroupView,
} from '../access/access-groups.js';
import { accessGroupOverrides, setAccessGroupOverrides } from '../access/provisioning-overrides.js';
import { auditBefore } from '../audit/http.js';
import { registerOverridesRoutes } from './provisioning-overrides-routes.js';
import { conflict, notFound } from '../http/errors.js';
import { accessGroupSchema, pageQuery, params, requireTenant } from './access-schemas.js';

export const tags = ['access-groups'];
const nameSchema = { type: 'string', minLength: 1, maxLength: 256 } as const;

type P = { tenantId: string };
export type PA = P & { agId: string };

const nameTaken = (name: string) => conflict(`An access group named "${name}" already exists in this tenant`);

/** The access group of the tenant, or 404 (tenant first, then the group). Its datasets and members routes use it too. */
export async function requireAccessGroup(db: Queryable, tenantId: string, agId: string): Promise<AccessGroupView> {
  await requireTenant(db, tenantId);
  const ag = await getAccessGroup(db, tenantId, agId);
  if (!ag) throw notFound('access group');
  return ag;
}

/** Access groups of a tenant: create, list, get, rename, delete. Datasets and members are in access-group-datasets-routes.ts and access-group-members-routes.ts. */
export async function accessGroupsRoutes(app: FastifyInstance, { deps }: { deps: AppDeps }): Promise<void> {
  const db = deps.db;
  const requireAg = (tenantId: string, agId: string) => requireAccessGroup(db, tenantId, agId);

  app.post<{ Params: P; Body: { name: string; description?: string | null } }>('/tenants/:tenantId/access-groups', {
    schema: {
      tags,
      summary: 'Create an access group; it links at once to the SCIM group with exactly this displayName, whenever that exists',
      params: params('tenantId'),
      body: {
        type: 'object', required: ['name'], additionalProperties: false,
        properties: { name: nameSchema, description: { type: ['string', 'null'], maxLength: 2000 } },
      },
      response: { 201: accessGroupSchema },
    },
  }, async (req, reply) => {
    await requireTenant(db, req.params.tenantId);
    try {
      return reply.code(201).send(await createAccessGroup(db, req.params.tenantId, req.body));
    } catch (err) {
      throw isUniqueViolation(err) ? nameTaken(req.body.name) : err;
    }
  });

  app.get<{ Params: P; Querystring: { limit: number; offset: number; name?: string } }>('/tenants/:tenantId/access-groups', {
    schema: {
      tags,
      summary: 'List access groups with the IdP group each is linked to now',
      params: params('tenantId'),
      querystring: { ...pageQuery, properties: { ...pageQuery.properties, name: { type: 'string' } } },
      response: { 200: { type: 'object', properties: { total: { type: 'integer' }, accessGroups: { type: 'array', items: accessGroupSchema } } } },
    },
  }, async (req) => {
    await requireTenant(db, req.params.tenantId);
    const r = await listAccessGroups(db, req.params.tenantId, req.query);
    return { total: r.total, accessGroups: r.items };
  });

  app.get<{ Params: PA }>('/tenants/:tenantId/access-groups/:agId', {
    schema: { tags, summary: 'Get an access group', params: params('tenantId', 'agId'), response: { 200: accessGroupSchema } },
  }, async (req) => requireAg(req.params.tenantId, req.params.agId));

  app.patch<{ Params: PA; Body: { name?: string; description?: string | null } }>('/tenants/:tenantId/access-groups/:agId', {
    schema: {
      tags,
      summary: 'Rename or describe an access group (a rename re-links it at once)',
      params: params('tenantId', 'agId'),
      body: { type: 'object', additionalProperties: false, properties: { name: nameSchema, description: { type: ['string', 'null'], maxLength: 2000 } } },
      response: { 200: accessGroupSchema },
    },
  }, async (req) => {
    await requireAg(req.params.tenantId, req.params.agId);
    try {
      const ag = await updateAccessGroup(db, req.params.tenantId, req.params.agId, req.body);
      if (!ag) throw notFound('access group');
      const { replaced, ...view } = ag;
      auditBefore(req, replaced);
      return view;
    } catch (err) {
      throw isUniqueViolation(err) ? nameTaken(req.body.name ?? '') : err;
    }
  });

  registerOverridesRoutes(app, {
    path: '/tenants/:tenantId/access-groups/:agId',
    idParam: 'agId',
    tags,
    getSummary: 'The access group\'s overrides of the tenant\'s provisioning defaults (null = inherit)',
    putSummary: 'Set the overrides that apply to new SCIM users who join the linked IdP group (or are added by hand) within 24 hours of their creation',
    require: requireAg,
    read: (tenantId, agId) => accessGroupOverrides(db, tenantId, agId),
    write: (tenantId, agId, value) => setAccessGroupOverrides(db, tenantId, agId, value),
    missing: () => notFound('access group'),
  });

  app.delete<{ Params: PA }>('/tenants/:tenantId/access-groups/:agId', {
    schema: { tags, summary: 'Delete an access group (its dataset assignments and manual members go with it)', params: params('tenantId', 'agId') },
  }, async (req, reply) => {
    await requireTenant(db, req.params.tenantId);
    if (!(await deleteAccessGroup(db, req.params.tenantId, req.params.agId))) throw notFound('access group');
    return reply.code(204).send();
  });
}
