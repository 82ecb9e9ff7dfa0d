import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app-deps.js';
import { getTenant } from '../tenants/tenants.js';
import { createScimToken, listScimTokens, revokeScimToken, type ScimTokenInfo } from '../tenants/scim-tokens.js';
import { deleteBasicCredential, getBasicCredentialUsername, setBasicCredential } from '../tenants/basic-credentials.js';
import { badRequest, notFound } from '../http/errors.js';
import { auditBefore } from '../audit/http.js';
import { tenantIdParams } from './tenants-routes.js';

const tokenSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    tokenHint: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
    expiresAt: { type: ['string', 'null'], format: 'date-time' },
    revokedAt: { type: ['string', 'null'], format: 'date-time' },
    lastUsedAt: { type: ['string', 'null'], format: 'date-time' },
    status: { type: 'string', enum: ['active', 'expired', 'revoked'] },
  },
} as const;

const view = (t: ScimTokenInfo) => ({
  ...t,
  status: t.revokedAt ? 'revoked' : t.expiresAt && t.expiresAt.getTime() <= Date.now() ? 'expired' : 'active',
});

export async function scimCredentialsRoutes(app: FastifyInstance, { deps }: { deps: AppDeps }): Promise<void> {
  const requireTenant = async (id: string) => {
    const t = await getTenant(deps.db, id);
    if (!t) throw notFound('tenant');
    return t;
  };

  app.post<{ Params: { tenantId: string }; Body: { name?: string; expiresAt?: string } | undefined }>(
    '/tenants/:tenantId/scim-tokens',
    {
      schema: {
        tags: ['scim-credentials'],
        summary: 'Create a SCIM bearer token; the secret is in this response only',
        params: tenantIdParams,
        body: {
          type: ['object', 'null'],
          additionalProperties: false,
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 200 },
            expiresAt: { type: 'string', format: 'date-time' },
          },
        },
        response: { 201: { ...tokenSchema, properties: { ...tokenSchema.properties, token: { type: 'string' } } } },
      },
    },
    async (req, reply) => {
      await requireTenant(req.params.tenantId);
      const expiresAt = req.body?.expiresAt ? new Date(req.body.expiresAt) : undefined;
      if (expiresAt && expiresAt.getTime() <= Date.now()) throw badRequest('expiresAt must be in the future');
      const created = await createScimToken(deps.db, req.params.tenantId, { name: req.body?.name, expiresAt });
      req.log.info({ tenantId: req.params.tenantId, tokenId: created.id }, 'scim token created');
      reply.header('cache-control', 'no-store');
      return reply.code(201).send({ ...view(created), token: created.token });
    },
  );

  app.get<{ Params: { tenantId: string } }>('/tenants/:tenantId/scim-tokens', {
    schema: {
      tags: ['scim-credentials'],
      summary: 'List SCIM tokens (never the secrets)',
      params: tenantIdParams,
      response: { 200: { type: 'object', properties: { tokens: { type: 'array', items: tokenSchema } } } },
    },
  }, async (req) => {
    await requireTenant(req.params.tenantId);
    return { tokens: (await listScimTokens(deps.db, req.params.tenantId)).map(view) };
  });

  app.delete<{ Params: { tenantId: string; tokenId: string } }>('/tenants/:tenantId/scim-tokens/:tokenId', {
    schema: {
      tags: ['scim-credentials'],
      summary: 'Revoke a SCIM token at once',
      params: {
        type: 'object',
        required: ['tenantId', 'tokenId'],
        properties: { tenantId: { type: 'string', format: 'uuid' }, tokenId: { type: 'string', format: 'uuid' } },
      },
    },
  }, async (req, reply) => {
    if (!(await revokeScimToken(deps.db, req.params.tenantId, req.params.tokenId))) throw notFound('active token');
    deps.scimVerifier.invalidateTenant(req.params.tenantId);
    req.log.info({ tenantId: req.params.tenantId, tokenId: req.params.tokenId }, 'scim token revoked');
    return reply.code(204).send();
  });

  app.put<{ Params: { tenantId: string }; Body: { username: string; password: string } }>('/tenants/:tenantId/scim-basic', {
    schema: {
      tags: ['scim-credentials'],
      summary: 'Set the optional HTTP Basic credential for IdPs that need one',
      params: tenantIdParams,
      body: {
        type: 'object',
        required: ['username', 'password'],
        additionalProperties: false,
        properties: {
          username: { type: 'string', minLength: 1, maxLength: 200 },
          password: { type: 'string', minLength: 16, maxLength: 1024 },
        },
      },
    },
  }, async (req, reply) => {
    await requireTenant(req.params.tenantId);
    const { replaced } = await setBasicCredential(deps.db, req.params.tenantId, req.body.username, req.body.password);
    // The password is a secret field: the entry records only that it changed (src/audit/changes.ts).
    auditBefore(req, replaced);
    deps.scimVerifier.invalidateTenant(req.params.tenantId);
    return reply.code(204).send();
  });

  app.get<{ Params: { tenantId: string } }>('/tenants/:tenantId/scim-basic', {
    schema: { tags: ['scim-credentials'], summary: 'Show the HTTP Basic username (never the password)', params: tenantIdParams },
  }, async (req) => {
    await requireTenant(req.params.tenantId);
    const username = await getBasicCredentialUsername(deps.db, req.params.tenantId);
    if (!username) throw notFound('basic credential');
    return { username };
  });

  app.delete<{ Params: { tenantId: string } }>('/tenants/:tenantId/scim-basic', {
    schema: { tags: ['scim-credentials'], summary: 'Remove the HTTP Basic credential', params: tenantIdParams },
  }, async (req, reply) => {
    if (!(await deleteBasicCredential(deps.db, req.params.tenantId))) throw notFound('basic credential');
    deps.scimVerifier.invalidateTenant(req.params.tenantId);
    return reply.code(204).send();
  });
}
