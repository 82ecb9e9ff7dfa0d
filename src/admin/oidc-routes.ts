import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppDeps } from '../app-deps.js';
import { getTenant, lockTenant } from '../tenants/tenants.js';
import { auditBefore } from '../audit/http.js';
import {
  deleteOidcConfig, getOidcConfig, normalizeOidcConfig, oidcConfigBodySchema, oidcConfigViewSchema, putOidcConfig,
  viewOidcConfig, type OidcConfig, type OidcConfigInput,
} from '../idp-tokens/oidc-config.js';
import { testOidcConfig } from '../idp-tokens/oidc-test.js';
import { ApiError, badRequest, notFound } from '../http/errors.js';
import { publicBaseUrl } from '../http/base-url.js';
import { ssoCallbackUrl } from '../sso/urls.js';
import { tenantIdParams } from './tenants-routes.js';

const checkSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    status: { type: 'string', enum: ['ok', 'warn', 'fail', 'skipped'] },
    message: { type: 'string' },
    details: { type: 'object', additionalProperties: true },
  },
} as const;

/** Per-tenant OpenID Connect configuration: what the IT admin enters so IdP tokens can be verified. */
export async function oidcRoutes(app: FastifyInstance, { deps }: { deps: AppDeps }): Promise<void> {
  const svc = deps.idpTokens;
  // The sign-in broker's redirect URI, to register at the IdP (src/sso).
  const view = (req: FastifyRequest, c: OidcConfig) => ({
    ...viewOidcConfig(c), signInCallbackUrl: ssoCallbackUrl(publicBaseUrl(req, deps.config.publicUrl), c.tenantId),
  });
  const requireTenant = async (id: string) => {
    if (!(await getTenant(deps.db, id))) throw notFound('tenant');
  };

  app.put<{ Params: { tenantId: string }; Body: OidcConfigInput }>('/tenants/:tenantId/oidc', {
    schema: {
      tags: ['oidc'],
      summary: 'Set the OIDC configuration (discovery URL, issuer, audience, claims); replaces the previous one but keeps the sign-in client when clientId/clientSecret are left out',
      params: tenantIdParams,
      body: oidcConfigBodySchema,
      response: { 200: oidcConfigViewSchema },
    },
  }, async (req) => {
    await requireTenant(req.params.tenantId);
    if (typeof req.body.clientSecret === 'string' && !deps.secrets.enabled) {
      throw new ApiError('ERR_SECRET_KEY_REQUIRED', 'IDPBRIDGE_SECRET_KEY is not set on this server, so a client secret cannot be stored; the operator must set it (docs/operator.md)');
    }
    // PUT replaces the token-verification fields (left out: defaults again), but the sign-in client is
    // kept when left out: clientSecret is write-only (no client can resend it) and clientId belongs
    // with it, so a form that does not show them (a token-verification form) never breaks sign-in.
    // null removes them. Read and write in one transaction.
    const { saved, replaced } = await deps.db.transaction(async (tx) => {
      // The tenant's row first, then the configuration's: what is read is what the write replaces
      // (the audit entry's `before`), also when two PUTs create the tenant's first configuration.
      if (!(await lockTenant(tx, req.params.tenantId))) throw notFound('tenant');
      const current = await getOidcConfig(tx, req.params.tenantId, { lock: true });
      let input = req.body;
      if (input.clientId === undefined && current?.clientId) input = { ...input, clientId: current.clientId };
      return { saved: await putOidcConfig(tx, req.params.tenantId, normalizeOidcConfig(input), req.body.clientSecret, deps.secrets), replaced: current };
    });
    auditBefore(req, replaced && view(req, replaced));
    svc.invalidateTenant(req.params.tenantId);
    req.log.info({ tenantId: req.params.tenantId, issuer: saved.issuer, version: saved.version }, 'oidc configuration saved');
    return view(req, saved);
  });

  app.get<{ Params: { tenantId: string } }>('/tenants/:tenantId/oidc', {
    schema: { tags: ['oidc'], summary: 'Get the OIDC configuration', params: tenantIdParams, response: { 200: oidcConfigViewSchema } },
  }, async (req) => {
    const cfg = await getOidcConfig(deps.db, req.params.tenantId);
    if (!cfg) {
      await requireTenant(req.params.tenantId);
      throw notFound('OIDC configuration');
    }
    return view(req, cfg);
  });

  app.delete<{ Params: { tenantId: string } }>('/tenants/:tenantId/oidc', {
    schema: { tags: ['oidc'], summary: 'Remove the OIDC configuration: IdP tokens are refused at once (API keys keep working)', params: tenantIdParams },
  }, async (req, reply) => {
    if (!(await deleteOidcConfig(deps.db, req.params.tenantId))) throw notFound('OIDC configuration');
    svc.invalidateTenant(req.params.tenantId);
    return reply.code(204).send();
  });

  app.post<{ Params: { tenantId: string }; Body: { token?: string } | undefined }>('/tenants/:tenantId/oidc/test', {
    schema: {
      tags: ['oidc'],
      summary: 'Fetch the discovery document and JWKS now and report each check; optionally verify a sample token',
      params: tenantIdParams,
      body: {
        type: ['object', 'null'],
        additionalProperties: false,
        properties: { token: { type: 'string', minLength: 1, maxLength: 16384, description: 'A sample access token to verify and resolve to an identity' } },
      },
      response: { 200: { type: 'object', properties: { ok: { type: 'boolean' }, checks: { type: 'array', items: checkSchema } } } },
    },
  }, async (req) => {
    const cfg = await getOidcConfig(deps.db, req.params.tenantId);
    if (!cfg) {
      await requireTenant(req.params.tenantId);
      throw notFound('OIDC configuration');
    }
    svc.invalidateTenant(req.params.tenantId);
    const result = await testOidcConfig(svc, cfg, req.body?.token);
    req.log.info({ tenantId: req.params.tenantId, ok: result.ok }, 'oidc configuration tested');
    return result;
  });
}
