import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app-deps.js';
import { isUniqueViolation } from '../db/errors.js';
import {
  addManualMember, assignDataset, createAccessGroup, datasetsOfAccessGroup, deleteAccessGroup, getAccessGroup,
  idpMembershipOf, listAccessGroups, membersOfAccessGroup, removeManualMember, unassignDataset, updateAccessGroup,
} from '../access/access-groups.js';
import { getDataset } from '../access/datasets.js';
import { identityExists } from '../access/identities.js';
import { conflict, notFound } from '../http/errors.js';
import { accessGroupSchema, datasetSchema, memberSchema, nullableString, pageQuery, params, requireTenant, uuid } from './access-schemas.js';

const tags = ['access-groups'];
const nameSchema = { type: 'string', minLength: 1, maxLength: 256 } as const;

type P = { tenantId: string };
type PA = P & { agId: string };

const nameTaken = (name: string) => conflict(`An access group named "${name}" already exists in this tenant`);

export async function accessGroupsRoutes(app: FastifyInstance, { deps }: { deps: AppDeps }): Promise<void> {
  const db = deps.db;
  const requireAg = async (tenantId: string, agId: string) => {
    await requireTenant(db, tenantId);
    const ag = await getAccessGroup(db, tenantId, agId);
    if (!ag) throw notFound('access group');
    return ag;
  };

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
      return ag;
    } catch (err) {
      throw isUniqueViolation(err) ? nameTaken(req.body.name ?? '') : err;
    }
  });

  app.delete<{ Params: PA }>('/tenants/:tenantId/access-groups/:agId', {
    schema: { tags, summary: 'Delete an access group (its dataset assignments and manual members go with it)', params: params('tenantId', 'agId') },
  }, async (req, reply) => {
    await requireTenant(db, req.params.tenantId);
    if (!(await deleteAccessGroup(db, req.params.tenantId, req.params.agId))) throw notFound('access group');
    return reply.code(204).send();
  });

  // ---- datasets of an access group ----

  app.get<{ Params: PA }>('/tenants/:tenantId/access-groups/:agId/datasets', {
    schema: {
      tags,
      summary: 'Datasets assigned to an access group',
      params: params('tenantId', 'agId'),
      response: { 200: { type: 'object', properties: { datasets: { type: 'array', items: datasetSchema } } } },
    },
  }, async (req) => {
    await requireAg(req.params.tenantId, req.params.agId);
    return { datasets: await datasetsOfAccessGroup(db, req.params.tenantId, req.params.agId) };
  });

  app.post<{ Params: PA; Body: { datasetId: string } }>('/tenants/:tenantId/access-groups/:agId/datasets', {
    schema: {
      tags,
      summary: 'Assign a dataset to an access group: its effective members get access at once',
      params: params('tenantId', 'agId'),
      body: { type: 'object', required: ['datasetId'], additionalProperties: false, properties: { datasetId: uuid } },
      response: { 201: datasetSchema, 200: datasetSchema },
    },
  }, async (req, reply) => {
    await requireAg(req.params.tenantId, req.params.agId);
    const ds = await getDataset(db, req.params.tenantId, req.body.datasetId);
    if (!ds) throw notFound('dataset');
    const created = await assignDataset(db, req.params.tenantId, req.params.agId, ds.id);
    return reply.code(created ? 201 : 200).send(ds);
  });

  app.delete<{ Params: PA & { datasetId: string } }>('/tenants/:tenantId/access-groups/:agId/datasets/:datasetId', {
    schema: { tags, summary: 'Unassign a dataset from an access group', params: params('tenantId', 'agId', 'datasetId') },
  }, async (req, reply) => {
    await requireAg(req.params.tenantId, req.params.agId);
    if (!(await unassignDataset(db, req.params.tenantId, req.params.agId, req.params.datasetId))) throw notFound('dataset assignment');
    return reply.code(204).send();
  });

  // ---- members ----

  app.get<{ Params: PA; Querystring: { limit: number; after?: string } }>('/tenants/:tenantId/access-groups/:agId/members', {
    schema: {
      tags,
      summary: 'Effective members: members of the linked IdP group ∪ manual members, derived now; keyset-paged by id',
      params: params('tenantId', 'agId'),
      querystring: {
        type: 'object',
        properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 }, after: { ...uuid, description: 'Last id of the previous page' } },
      },
      response: { 200: { type: 'object', properties: { members: { type: 'array', items: memberSchema }, next: nullableString } } },
    },
  }, async (req) => {
    await requireAg(req.params.tenantId, req.params.agId);
    const members = await membersOfAccessGroup(db, req.params.tenantId, req.params.agId, req.query);
    return { members, next: members.length === req.query.limit ? members[members.length - 1]!.id : null };
  });

  app.post<{ Params: PA; Body: { identityId: string } }>('/tenants/:tenantId/access-groups/:agId/members', {
    schema: {
      tags,
      summary: 'Add an identity to an access group by hand (in addition to the linked IdP group members)',
      params: params('tenantId', 'agId'),
      body: { type: 'object', required: ['identityId'], additionalProperties: false, properties: { identityId: uuid } },
      response: { 201: { type: 'object', properties: { identityId: uuid, manual: { type: 'boolean' } } } },
    },
  }, async (req, reply) => {
    await requireAg(req.params.tenantId, req.params.agId);
    if (!(await identityExists(db, req.params.tenantId, req.body.identityId))) throw notFound('identity');
    const created = await addManualMember(db, req.params.tenantId, req.params.agId, req.body.identityId);
    return reply.code(created ? 201 : 200).send({ identityId: req.body.identityId, manual: true });
  });

  app.delete<{ Params: PA & { identityId: string } }>('/tenants/:tenantId/access-groups/:agId/members/:identityId', {
    schema: {
      tags,
      summary: 'Remove a manual member (membership through the linked IdP group is changed in the IdP)',
      params: params('tenantId', 'agId', 'identityId'),
    },
  }, async (req, reply) => {
    const { tenantId, agId, identityId } = req.params;
    await requireAg(tenantId, agId);
    if (await removeManualMember(db, tenantId, agId, identityId)) return reply.code(204).send();
    const viaGroup = await idpMembershipOf(db, tenantId, agId, identityId);
    if (viaGroup) {
      throw conflict(`Identity ${identityId} is a member through the IdP group "${viaGroup}" linked to this access group; remove it from that group in the IdP`);
    }
    throw notFound('member');
  });
}
