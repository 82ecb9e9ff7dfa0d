import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppDeps } from '../../app-deps.js';
import { scimContext } from '../resources/routes.js';
import { runBulk } from './bulk.js';

export async function bulkRoutes(app: FastifyInstance, { deps }: { deps: AppDeps }): Promise<void> {
  // maxPayloadSize advertised in /ServiceProviderConfig is this body limit.
  app.post('/Bulk', { bodyLimit: deps.config.bodyLimit }, async (req: FastifyRequest<{ Params: { tenantId: string } }>, reply) =>
    // A Bulk request runs its operations one after another, each needing the slot: it never lends it out.
    reply.code(200).send(await runBulk({ ...scimContext(req, deps), slot: undefined }, req.body, deps.config.bulkMaxOperations)));
}
