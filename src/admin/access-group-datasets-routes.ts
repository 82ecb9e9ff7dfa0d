import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app-deps.js';
import { assignDataset, datasetsOfAccessGroup, unassignDataset } from '../access/access-groups.js';
import { getDataset } from '../access/datasets.js';
import { notFound } from '../http/errors.js';
import { datasetSchema, params, uuid } from './access-schemas.js';
import { requireAccessGroup, tags, type PA } from './access-groups-routes.js';

/** Datasets of an access group: list, assign, unassign. */
export async function accessGroupDatasetsRoutes(app: FastifyInstance, { deps }: { deps: AppDeps }): Promise<void> {
  const db = deps.db;
  const requireAg = (tenantId: string, agId: string) => requireAccessGroup(db, tenantId, agId);

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
}
