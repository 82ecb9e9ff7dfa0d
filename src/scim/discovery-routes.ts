import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppDeps } from '../app-deps.js';
import { scimContext } from './resources/routes.js';
import { serviceProviderConfig, resourceTypes, resourceType, schemaResources, findSchemaResource, LIMITS_EXTENSION_SCHEMA } from './discovery/index.js';
import { NotFoundError } from './errors.js';
import { CURSOR_TIMEOUT_S } from './resources/cursor.js';
import { MAX_FILTER_COMPARISONS, MAX_FILTER_EXISTS, MAX_FILTER_SUBSTRING_TERMS } from './filter/cost.js';

/** RFC 7644 §4 discovery endpoints, truthful to this tenant's schemas and the server's limits. */
export async function discoveryRoutes(app: FastifyInstance, { deps }: { deps: AppDeps }): Promise<void> {
  type Req = FastifyRequest<{ Params: { tenantId: string; id: string } }>;
  app.get('/ServiceProviderConfig', async (req: Req) => {
    const ctx = scimContext(req, deps);
    return serviceProviderConfig({
      baseUrl: ctx.baseUrl,
      bulk: { maxOperations: deps.config.bulkMaxOperations, maxPayloadSize: deps.config.bodyLimit },
      filterMaxResults: deps.config.filterMaxResults,
      cursorTimeout: CURSOR_TIMEOUT_S,
      limits: {
        // Members rendered inline per Group, and over all Groups of one list or search page; past either,
        // members are left out: page them with /Users?filter=groups.value eq "<groupId>".
        groupMembersInlineMax: deps.config.groupMembersInlineMax,
        groupMembersPageMax: deps.config.groupMembersPageMax,
        // Filter cost (400 invalidFilter past any of them).
        filterMaxComparisons: MAX_FILTER_COMPARISONS,
        filterMaxSubstringComparisons: MAX_FILTER_SUBSTRING_TERMS,
        filterMaxSubqueries: MAX_FILTER_EXISTS,
      },
    });
  });
  app.get('/ResourceTypes', async (req: Req) => {
    const ctx = scimContext(req, deps);
    return resourceTypes(ctx.baseUrl, ctx.users, ctx.groups);
  });
  app.get('/ResourceTypes/:id', async (req: Req) => {
    const ctx = scimContext(req, deps);
    const rt = resourceType(ctx.baseUrl, ctx.users, ctx.groups, req.params.id);
    if (!rt) throw new NotFoundError(`ResourceType ${req.params.id} not found`);
    return rt;
  });
  app.get('/Schemas', async (req: Req) => {
    const ctx = scimContext(req, deps);
    // The ServiceProviderConfig's limits extension is listed too: every URN it names resolves here.
    return schemaResources(ctx.baseUrl, [ctx.users, ctx.groups], [LIMITS_EXTENSION_SCHEMA]);
  });
  app.get('/Schemas/:id', async (req: Req) => {
    const ctx = scimContext(req, deps);
    const s = findSchemaResource(ctx.baseUrl, [ctx.users, ctx.groups], req.params.id, [LIMITS_EXTENSION_SCHEMA]);
    if (!s) throw new NotFoundError(`Schema ${req.params.id} not found`);
    return s;
  });
}
