import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app-deps.js';
import { isUniqueViolation } from '../db/errors.js';
import { accessGroupsOfDataset, createDataset, deleteDataset, getDataset, listDatasets, updateDataset } from '../access/datasets.js';
import { auditBefore } from '../audit/http.js';
import { conflict, notFound } from '../http/errors.js';
import { datasetSchema, pageQuery, params, requireTenant, uuid } from './access-schemas.js';

const tags = ['datasets'];
type P = { tenantId: string };
type PD = P & { datasetId: string };
type Body = { name?: string; externalId?: string | null; description?: string | null };

const bodyProps = {
  name: { type: 'string', minLength: 1, maxLength: 256 },
  externalId: { type: ['string', 'null'], minLength: 1, maxLength: 500, description: 'The host product\'s own reference; direct grants may use it' },
  description: { type: ['string', 'null'], maxLength: 2000 },
} as const;

const datasetDetailSchema = {
  type: 'object',
  properties: {
    ...datasetSchema.properties,
    accessGroups: { type: 'array', items: { type: 'object', properties: { id: uuid, name: { type: 'string' } } } },
  },
} as const;

const taken = (b: Body) => conflict(`A dataset with this name${b.externalId ? ' or externalId' : ''} already exists in this tenant`);

export async function datasetsRoutes(app: FastifyInstance, { deps }: { deps: AppDeps }): Promise<void> {
  const db = deps.db;

  app.post<{ Params: P; Body: Body & { name: string } }>('/tenants/:tenantId/datasets', {
    schema: {
      tags,
      summary: 'Create a dataset; direct grants naming its id or externalId start granting at once',
      params: params('tenantId'),
      body: { type: 'object', required: ['name'], additionalProperties: false, properties: bodyProps },
      response: { 201: datasetSchema },
    },
  }, async (req, reply) => {
    await requireTenant(db, req.params.tenantId);
    try {
      return reply.code(201).send(await createDataset(db, req.params.tenantId, req.body));
    } catch (err) {
      throw isUniqueViolation(err) ? taken(req.body) : err;
    }
  });

  app.get<{ Params: P; Querystring: { limit: number; offset: number; name?: string; externalId?: string } }>('/tenants/:tenantId/datasets', {
    schema: {
      tags,
      summary: 'List datasets',
      params: params('tenantId'),
      querystring: { ...pageQuery, properties: { ...pageQuery.properties, name: { type: 'string' }, externalId: { type: 'string' } } },
      response: { 200: { type: 'object', properties: { total: { type: 'integer' }, datasets: { type: 'array', items: datasetSchema } } } },
    },
  }, async (req) => {
    await requireTenant(db, req.params.tenantId);
    const r = await listDatasets(db, req.params.tenantId, req.query);
    return { total: r.total, datasets: r.items };
  });

  app.get<{ Params: PD }>('/tenants/:tenantId/datasets/:datasetId', {
    schema: { tags, summary: 'Get a dataset and the access groups it is assigned to', params: params('tenantId', 'datasetId'), response: { 200: datasetDetailSchema } },
  }, async (req) => {
    await requireTenant(db, req.params.tenantId);
    const ds = await getDataset(db, req.params.tenantId, req.params.datasetId);
    if (!ds) throw notFound('dataset');
    return { ...ds, accessGroups: await accessGroupsOfDataset(db, req.params.tenantId, ds.id) };
  });

  app.patch<{ Params: PD; Body: Body }>('/tenants/:tenantId/datasets/:datasetId', {
    schema: {
      tags,
      summary: 'Change a dataset\'s name, externalId or description',
      params: params('tenantId', 'datasetId'),
      body: { type: 'object', additionalProperties: false, properties: bodyProps },
      response: { 200: datasetSchema },
    },
  }, async (req) => {
    await requireTenant(db, req.params.tenantId);
    try {
      const ds = await updateDataset(db, req.params.tenantId, req.params.datasetId, req.body);
      if (!ds) throw notFound('dataset');
      const { replaced, ...view } = ds;
      auditBefore(req, replaced);
      return view;
    } catch (err) {
      throw isUniqueViolation(err) ? taken(req.body) : err;
    }
  });

  app.delete<{ Params: PD }>('/tenants/:tenantId/datasets/:datasetId', {
    schema: { tags, summary: 'Delete a dataset (access through it ends at once)', params: params('tenantId', 'datasetId') },
  }, async (req, reply) => {
    await requireTenant(db, req.params.tenantId);
    if (!(await deleteDataset(db, req.params.tenantId, req.params.datasetId))) throw notFound('dataset');
    return reply.code(204).send();
  });
}
