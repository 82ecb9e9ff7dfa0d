import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app-deps.js';
import { createTenant, deleteTenant, getTenant, listTenants, type Tenant } from '../tenants/tenants.js';
import { notFound } from '../http/errors.js';
import { publicBaseUrl, scimBaseUrl } from '../http/base-url.js';

const tenantSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uuid' },
    name: { type: 'string' },
    scimBaseUrl: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
  },
} as const;

export const tenantIdParams = {
  type: 'object',
  required: ['tenantId'],
  properties: { tenantId: { type: 'string', format: 'uuid' } },
} as const;

export async function tenantsRoutes(app: FastifyInstance, { deps }: { deps: AppDeps }): Promise<void> {
  const view = (t: Tenant, base: string) => ({
    id: t.id,
    name: t.name,
    scimBaseUrl: scimBaseUrl(base, t.id),
    createdAt: t.createdAt.toISOString(),
  });

  app.post<{ Body: { name: string } }>('/tenants', {
    schema: {
      tags: ['tenants'],
      summary: 'Create a tenant (a customer organisation)',
      body: {
        type: 'object',
        required: ['name'],
        additionalProperties: false,
        properties: { name: { type: 'string', minLength: 1, maxLength: 200 } },
      },
      response: { 201: tenantSchema },
    },
  }, async (req, reply) => {
    const tenant = await createTenant(deps.db, req.body.name.trim() || req.body.name);
    req.log.info({ tenantId: tenant.id }, 'tenant created');
    return reply.code(201).send(view(tenant, publicBaseUrl(req, deps.config.publicUrl)));
  });

  app.get('/tenants', {
    schema: { tags: ['tenants'], summary: 'List tenants', response: { 200: { type: 'object', properties: { tenants: { type: 'array', items: tenantSchema } } } } },
  }, async (req) => {
    const base = publicBaseUrl(req, deps.config.publicUrl);
    return { tenants: (await listTenants(deps.db)).map((t) => view(t, base)) };
  });

  app.get<{ Params: { tenantId: string } }>('/tenants/:tenantId', {
    schema: { tags: ['tenants'], summary: 'Get a tenant', params: tenantIdParams, response: { 200: tenantSchema } },
  }, async (req) => {
    const t = await getTenant(deps.db, req.params.tenantId);
    if (!t) throw notFound('tenant');
    return view(t, publicBaseUrl(req, deps.config.publicUrl));
  });

  app.delete<{ Params: { tenantId: string } }>('/tenants/:tenantId', {
    schema: { tags: ['tenants'], summary: 'Delete a tenant and all its data', params: tenantIdParams },
  }, async (req, reply) => {
    if (!(await deleteTenant(deps.db, req.params.tenantId))) throw notFound('tenant');
    deps.scimVerifier.invalidateTenant(req.params.tenantId);
    return reply.code(204).send();
  });
}
