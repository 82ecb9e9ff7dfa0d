import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app-deps.js';
import { operatorGuard } from './operator-guard.js';
import { ApiError } from '../http/errors.js';
import { registerTenantConcurrency } from '../http/tenant-concurrency.js';
import { canonicalTenantId } from '../http/rate-limit.js';
import { tenantsRoutes } from './tenants-routes.js';
import { scimCredentialsRoutes } from './scim-credentials-routes.js';
import { settingsRoutes } from './settings-routes.js';
import { webhooksRoutes } from './webhooks-routes.js';
import { webhookDeliveriesRoutes } from './webhook-deliveries-routes.js';
import { eventsRoutes } from './events-routes.js';
import { provisioningLogRoutes } from './provisioning-log-routes.js';
import { provisioningHealthRoutes } from './provisioning-health-routes.js';
import { accessGroupsRoutes } from './access-groups-routes.js';
import { accessGroupDatasetsRoutes } from './access-group-datasets-routes.js';
import { accessGroupMembersRoutes } from './access-group-members-routes.js';
import { datasetsRoutes } from './datasets-routes.js';
import { usersRoutes } from './users-routes.js';
import { apiKeysRoutes } from './api-keys-routes.js';
import { oidcRoutes } from './oidc-routes.js';
import { consoleAccountsRoutes } from './console-accounts-routes.js';
import { directoryUsersRoutes } from './directory-users-routes.js';
import { directoryGroupsRoutes } from './directory-groups-routes.js';
import { ssoAdminRoutes } from '../sso/admin-routes.js';
import { setupLinksRoutes } from './setup-links-routes.js';
import { connectionsRoutes } from './connections-routes.js';
import { auditLogRoutes } from './audit-log-routes.js';
import { auditBefore } from '../audit/http.js';

/** The operator admin API under /admin/v1. */
export async function adminApi(app: FastifyInstance, { deps }: { deps: AppDeps }): Promise<void> {
  // JSON only: a text/plain body would otherwise reach the schema as a string.
  app.removeContentTypeParser('text/plain');
  // The OpenAPI document is public: it describes, it grants nothing.
  app.get('/openapi.json', async () => app.swagger());
  await app.register(async (guarded) => {
    // The tenant id of the URL in its canonical form (lower case) before anything uses it, as SCIM and /v1 do.
    guarded.addHook('onRequest', async (req) => canonicalTenantId(req));
    guarded.addHook('onRequest', operatorGuard(deps.operatorAuth, deps.db));
    // Reads of one tenant (a console session scoped to it) hold at most its share of the database,
    // with its SCIM and /v1 traffic (src/http/tenant-concurrency.ts).
    registerTenantConcurrency(guarded, {
      limit: deps.config.tenantConcurrency,
      gate: deps.tenantGate,
      appliesTo: (route) => [route.method].flat().every((m) => m === 'GET' || m === 'HEAD'),
      error: (retryAfter, limit) => new ApiError('ERR_RATE_LIMITED', `This tenant already has ${limit} requests in progress and too many waiting; retry after ${retryAfter} s`, { 'retry-after': String(retryAfter) }),
    });
    await guarded.register(tenantsRoutes, { deps });
    await guarded.register(scimCredentialsRoutes, { deps });
    await guarded.register(settingsRoutes, { deps });
    await guarded.register(webhooksRoutes, { deps });
    await guarded.register(webhookDeliveriesRoutes, { deps });
    await guarded.register(eventsRoutes, { deps });
    await guarded.register(provisioningLogRoutes, { deps });
    await guarded.register(provisioningHealthRoutes, { deps });
    await guarded.register(accessGroupsRoutes, { deps });
    await guarded.register(accessGroupDatasetsRoutes, { deps });
    await guarded.register(accessGroupMembersRoutes, { deps });
    await guarded.register(datasetsRoutes, { deps });
    await guarded.register(usersRoutes, { deps });
    await guarded.register(apiKeysRoutes, { deps });
    await guarded.register(oidcRoutes, { deps });
    await guarded.register(consoleAccountsRoutes, { deps });
    await guarded.register(directoryUsersRoutes, { deps });
    await guarded.register(directoryGroupsRoutes, { deps });
    await guarded.register(ssoAdminRoutes, { deps, auditBefore });
    await guarded.register(setupLinksRoutes, { deps });
    await guarded.register(connectionsRoutes, { deps });
    await guarded.register(auditLogRoutes, { deps });
  });
}
