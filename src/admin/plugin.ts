import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app-deps.js';
import { operatorGuard } from './operator-guard.js';
import { tenantsRoutes } from './tenants-routes.js';
import { scimCredentialsRoutes } from './scim-credentials-routes.js';
import { settingsRoutes } from './settings-routes.js';

/** The operator admin API under /admin/v1. */
export async function adminApi(app: FastifyInstance, { deps }: { deps: AppDeps }): Promise<void> {
  // JSON only: a text/plain body would otherwise reach the schema as a string.
  app.removeContentTypeParser('text/plain');
  // The OpenAPI document is public: it describes, it grants nothing.
  app.get('/openapi.json', async () => app.swagger());
  await app.register(async (guarded) => {
    guarded.addHook('onRequest', operatorGuard(deps.operatorAuth));
    await guarded.register(tenantsRoutes, { deps });
    await guarded.register(scimCredentialsRoutes, { deps });
    await guarded.register(settingsRoutes, { deps });
  });
}
