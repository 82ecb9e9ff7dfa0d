import { recordAccessChange } from '../access/access-changes.js';
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app-deps.js';
import { getTenant, lockTenant, updateTenantSettings } from '../tenants/tenants.js';
import { settingsJsonSchema, type TenantSettings } from '../tenants/settings.js';
import { badRequest, notFound } from '../http/errors.js';
import { buildResourceSchemas, validateExtensionAttributes } from '../scim/schema/registry.js';
import { ScimError } from '../scim/errors.js';
import { auditBefore } from '../audit/http.js';
import { tenantIdParams } from './tenants-routes.js';

export async function settingsRoutes(app: FastifyInstance, { deps }: { deps: AppDeps }): Promise<void> {
  app.get<{ Params: { tenantId: string } }>('/tenants/:tenantId/settings', {
    schema: { tags: ['settings'], summary: 'Provisioning settings of a tenant', params: tenantIdParams },
  }, async (req) => {
    const t = await getTenant(deps.db, req.params.tenantId);
    if (!t) throw notFound('tenant');
    return t.settings;
  });

  // PUT merges: fields not given keep their value (docs/idp-tokens.md, "PUT semantics").
  app.put<{ Params: { tenantId: string }; Body: Partial<TenantSettings> }>('/tenants/:tenantId/settings', {
    schema: { tags: ['settings'], summary: 'Change provisioning settings: the fields given change, every field left out keeps its value', params: tenantIdParams, body: settingsJsonSchema },
  }, async (req) => {
    // One transaction: a change of nestedGroupsGrant changes who reaches which dataset through
    // nested groups, so every identity of the tenant is looked at again (access.granted/revoked).
    const s = await deps.db.transaction(async (tx) => {
      // The row is locked before it is validated: a concurrent PUT cannot change the fields the
      // merged settings are checked against between the check and the write.
      const current = await lockTenant(tx, req.params.tenantId);
      if (!current) return undefined;
      const merged = { ...current.settings, ...req.body };
      try {
        // Refuse definitions that would clash with built-in attributes or each other, and a grants
        // attribute that cannot be built, before anything is stored.
        validateExtensionAttributes(merged.extensionAttributes, { grantsAttribute: merged.grantsAttribute });
        buildResourceSchemas('User', merged.extensionAttributes, { grantsAttribute: merged.grantsAttribute });
      } catch (err) {
        if (err instanceof ScimError) throw badRequest(err.message);
        throw err;
      }
      const saved = await updateTenantSettings(tx, req.params.tenantId, req.body);
      if (saved && saved.settings.nestedGroupsGrant !== saved.replaced.nestedGroupsGrant) {
        await recordAccessChange(tx, req.params.tenantId, { type: 'settings.nestedGroupsGrant', nestedGroupsGrant: saved.settings.nestedGroupsGrant }, { all: true });
      }
      return saved;
    });
    if (!s) throw notFound('tenant');
    deps.scimVerifier.invalidateTenant(req.params.tenantId);
    auditBefore(req, s.replaced);
    return s.settings;
  });
}
