import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../app-deps.js';

export async function resourceRoutes(app: FastifyInstance, { deps }: { deps: AppDeps }): Promise<void> {
  void deps;
  app.get('/Users', async () => ({ schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], totalResults: 0, Resources: [] }));
}
