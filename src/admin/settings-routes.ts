import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app-deps.js';
import { getTenant, updateTenantSettings } from '../tenants/tenants.js';
import { settingsJsonSchema, type TenantSettings } from '../tenants/settings.js';
import { notFound } from './errors.js';
import { tenantIdParams } from './tenants-routes.js';

export async function settingsRoutes(app: FastifyInstance, { deps }: { deps: AppDeps }): Promise<void> {
  app.get<{ Params: { tenantId: string } }>('/tenants/:tenantId/settings', {
    schema: { tags: ['settings'], summary: 'Provisioning settings of a tenant', params: tenantIdParams },
  }, async (req) => {
    const t = await getTenant(deps.db, req.params.tenantId);
    if (!t) throw notFound('tenant');
    return t.settings;
  });

  // PUT merges: fields not given keep their value.
  app.put<{ Params: { tenantId: string }; Body: Partial<TenantSettings> }>('/tenants/:tenantId/settings', {
    schema: { tags: ['settings'], summary: 'Change provisioning settings', params: tenantIdParams, body: settingsJsonSchema },
  }, async (req) => {
    const s = await updateTenantSettings(deps.db, req.params.tenantId, req.body);
    if (!s) throw notFound('tenant');
    deps.scimVerifier.invalidateTenant(req.params.tenantId);
    return s;
  });
}
