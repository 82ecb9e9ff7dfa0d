import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app-deps.js';
import { createApiKey, deleteApiKey, getApiKey, listApiKeys, listTenantApiKeys, rotateApiKey, updateApiKey } from '../access/api-keys.js';
import { identityExists } from '../access/identities.js';
import { auditBefore } from '../audit/http.js';
import { conflict, notFound } from '../http/errors.js';
import { apiKeySchema, apiKeyWithSecretSchema, pageQuery, params, requireTenant } from './access-schemas.js';

const tags = ['api-keys'];
type PU = { tenantId: string; userId: string };
type PK = PU & { keyId: string };

const tenantApiKeySchema = {
  type: 'object',
  properties: {
    ...apiKeySchema.properties,
    owner: {
      type: 'object',
      description: 'The identity the key belongs to',
      properties: {
        id: { type: 'string', format: 'uuid' }, userName: { type: 'string' }, displayName: { type: ['string', 'null'] },
        status: { type: 'string', enum: ['staged', 'active', 'suspended'] },
      },
    },
  },
} as const;

export async function apiKeysRoutes(app: FastifyInstance, { deps }: { deps: AppDeps }): Promise<void> {
  const db = deps.db;
  const requireIdentity = async (tenantId: string, userId: string) => {
    await requireTenant(db, tenantId);
    if (!(await identityExists(db, tenantId, userId))) throw notFound('identity');
  };

  app.post<{ Params: PU; Body: { name?: string } | undefined }>('/tenants/:tenantId/users/:userId/api-keys', {
    schema: {
      tags,
      summary: 'Create an API key for an identity; the secret (idpb_key_…) is in this response only',
      params: params('tenantId', 'userId'),
      body: { type: ['object', 'null'], additionalProperties: false, properties: { name: { type: 'string', minLength: 1, maxLength: 200 } } },
      response: { 201: apiKeyWithSecretSchema },
    },
  }, async (req, reply) => {
    const { tenantId, userId } = req.params;
    await requireIdentity(tenantId, userId);
    const created = await createApiKey(db, tenantId, userId, { name: req.body?.name ?? 'API key' });
    req.log.info({ tenantId, identityId: userId, keyId: created.id }, 'identity api key created');
    reply.header('cache-control', 'no-store');
    return reply.code(201).send(created);
  });

  app.get<{ Params: { tenantId: string }; Querystring: { limit: number; offset: number } }>('/tenants/:tenantId/api-keys', {
    schema: {
      tags,
      summary: 'Every API key of the tenant across identities, newest first, with its owner (never the secrets); revoke through the owner\'s routes',
      params: params('tenantId'),
      querystring: pageQuery,
      response: { 200: { type: 'object', properties: { total: { type: 'integer' }, apiKeys: { type: 'array', items: tenantApiKeySchema } } } },
    },
  }, async (req) => {
    await requireTenant(db, req.params.tenantId);
    const r = await listTenantApiKeys(db, req.params.tenantId, req.query);
    return { total: r.total, apiKeys: r.items };
  });

  app.get<{ Params: PU }>('/tenants/:tenantId/users/:userId/api-keys', {
    schema: {
      tags,
      summary: 'List an identity\'s API keys (never the secrets); enabled is false while the identity is suspended',
      params: params('tenantId', 'userId'),
      response: { 200: { type: 'object', properties: { apiKeys: { type: 'array', items: apiKeySchema } } } },
    },
  }, async (req) => {
    await requireIdentity(req.params.tenantId, req.params.userId);
    return { apiKeys: await listApiKeys(db, req.params.tenantId, req.params.userId) };
  });

  app.get<{ Params: PK }>('/tenants/:tenantId/users/:userId/api-keys/:keyId', {
    schema: { tags, summary: 'Get an API key (never the secret)', params: params('tenantId', 'userId', 'keyId'), response: { 200: apiKeySchema } },
  }, async (req) => {
    await requireIdentity(req.params.tenantId, req.params.userId);
    const k = await getApiKey(db, req.params.tenantId, req.params.userId, req.params.keyId);
    if (!k) throw notFound('API key');
    return k;
  });

  app.patch<{ Params: PK; Body: { name?: string; enabled?: boolean } }>('/tenants/:tenantId/users/:userId/api-keys/:keyId', {
    schema: {
      tags,
      summary: 'Rename, disable or enable an API key (auto-provisioned keys follow their user and cannot be edited)',
      params: params('tenantId', 'userId', 'keyId'),
      body: {
        type: 'object', additionalProperties: false,
        properties: { name: { type: 'string', minLength: 1, maxLength: 200 }, enabled: { type: 'boolean' } },
      },
      response: { 200: apiKeySchema },
    },
  }, async (req) => {
    const { tenantId, userId, keyId } = req.params;
    await requireIdentity(tenantId, userId);
    const k = await getApiKey(db, tenantId, userId, keyId);
    if (!k) throw notFound('API key');
    if (k.auto) {
      throw conflict(`API key ${keyId} was auto-provisioned for this user: it is named after the user and enabled/disabled with the user's active flag in the IdP; it cannot be edited (delete or rotate it instead)`);
    }
    const updated = await updateApiKey(db, tenantId, userId, keyId, req.body);
    if (!updated) throw notFound('API key');
    const { replaced, ...view } = updated;
    auditBefore(req, replaced);
    return view;
  });

  app.post<{ Params: PK }>('/tenants/:tenantId/users/:userId/api-keys/:keyId/rotate', {
    schema: {
      tags,
      summary: 'Issue a new secret for an API key (the old one stops working at once); the secret is in this response only. This is how the secret of an auto-provisioned key is obtained.',
      params: params('tenantId', 'userId', 'keyId'),
      response: { 200: apiKeyWithSecretSchema },
    },
  }, async (req, reply) => {
    const { tenantId, userId, keyId } = req.params;
    await requireIdentity(tenantId, userId);
    const k = await rotateApiKey(db, tenantId, userId, keyId);
    if (!k) throw notFound('API key');
    req.log.info({ tenantId, identityId: userId, keyId }, 'identity api key rotated');
    reply.header('cache-control', 'no-store');
    return k;
  });

  app.delete<{ Params: PK }>('/tenants/:tenantId/users/:userId/api-keys/:keyId', {
    schema: { tags, summary: 'Delete an API key at once', params: params('tenantId', 'userId', 'keyId') },
  }, async (req, reply) => {
    await requireIdentity(req.params.tenantId, req.params.userId);
    if (!(await deleteApiKey(db, req.params.tenantId, req.params.userId, req.params.keyId))) throw notFound('API key');
    return reply.code(204).send();
  });
}
