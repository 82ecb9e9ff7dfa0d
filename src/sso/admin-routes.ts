import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app-deps.js';
import { publicBaseUrl } from '../http/base-url.js';
import { badRequest, conflict, notFound } from '../http/errors.js';
import { getOidcConfig } from '../idp-tokens/oidc-config.js';
import { addRedirectUri, deleteRedirectUri, listRedirectUris } from './store.js';
import { redirectUriProblem } from './redirect-uris.js';
import { jwksUrl, ssoCallbackUrl, ssoIssuer, ssoLoginUrl, ssoPasswordLoginUrl } from './urls.js';
import { params, requireTenant, tags, type P } from './admin-kit.js';
import { loginMethodRoutes, type AuditBefore } from './login-method-routes.js';

const redirectUriSchema = {
  type: 'object',
  properties: { id: { type: 'string', format: 'uuid' }, uri: { type: 'string' }, createdAt: { type: 'string', format: 'date-time' } },
} as const;

const ssoSchema = {
  type: 'object',
  properties: {
    tenantId: { type: 'string', format: 'uuid' },
    callbackUrl: { type: 'string', description: 'Redirect URI to register at the IdP (web application, authorization code flow)' },
    loginUrl: { type: 'string', description: 'Send users here: …/login?redirect_uri=<registered URI>&state=<yours>' },
    passwordLoginUrl: { type: 'string', description: 'Guests with a built-in password: GET shows a form, POST signs in' },
    jwksUrl: { type: 'string', description: 'Keys verifying the idpbridge token the host product receives' },
    issuer: { type: 'string', description: '`iss` of this tenant\'s idpbridge tokens (`{public URL}/sso/{tenantId}`): check it, it binds the token to the tenant' },
    oidcConfigured: { type: 'boolean' },
    clientId: { type: ['string', 'null'] },
    clientSecretSet: { type: 'boolean' },
    ready: { type: 'boolean', description: 'OIDC configuration with client id and secret, and at least one redirect URI' },
    redirectUris: { type: 'array', items: redirectUriSchema },
  },
} as const;

/** Sign-in broker administration (under /admin/v1): the URLs to hand out, redirect URIs, per-identity login methods. */
export async function ssoAdminRoutes(app: FastifyInstance, { deps, auditBefore }: { deps: AppDeps; auditBefore: AuditBefore }): Promise<void> {
  const db = deps.db;

  app.get<{ Params: P }>('/tenants/:tenantId/sso', {
    schema: {
      tags,
      summary: 'Sign-in set-up: the callback URL to register at the IdP, the login URL, JWKS, registered redirect URIs',
      params: params('tenantId'),
      response: { 200: ssoSchema },
    },
  }, async (req) => {
    const { tenantId } = req.params;
    await requireTenant(db, tenantId);
    const base = publicBaseUrl(req, deps.config.publicUrl);
    const [cfg, redirectUris] = await Promise.all([getOidcConfig(db, tenantId), listRedirectUris(db, tenantId)]);
    return {
      tenantId,
      callbackUrl: ssoCallbackUrl(base, tenantId),
      loginUrl: ssoLoginUrl(base, tenantId),
      passwordLoginUrl: ssoPasswordLoginUrl(base, tenantId),
      jwksUrl: jwksUrl(base),
      issuer: ssoIssuer(base, tenantId),
      oidcConfigured: !!cfg,
      clientId: cfg?.clientId ?? null,
      clientSecretSet: cfg?.clientSecretSet ?? false,
      ready: !!cfg?.clientId && cfg.clientSecretSet && redirectUris.length > 0,
      redirectUris,
    };
  });

  app.get<{ Params: P }>('/tenants/:tenantId/sso/redirect-uris', {
    schema: {
      tags, summary: 'Registered redirect URIs of the host product (exact match; loopback IPs on any port)', params: params('tenantId'),
      response: { 200: { type: 'object', properties: { redirectUris: { type: 'array', items: redirectUriSchema } } } },
    },
  }, async (req) => {
    await requireTenant(db, req.params.tenantId);
    return { redirectUris: await listRedirectUris(db, req.params.tenantId) };
  });

  app.post<{ Params: P; Body: { uri: string } }>('/tenants/:tenantId/sso/redirect-uris', {
    schema: {
      tags,
      summary: 'Register a redirect URI: https, a native app\'s own scheme (com.example.app://cb) or http on 127.0.0.1 / [::1] (any port at sign-in, RFC 8252 §7.3); sign-in returns only to registered URIs',
      params: params('tenantId'),
      body: { type: 'object', required: ['uri'], additionalProperties: false, properties: { uri: { type: 'string', minLength: 1, maxLength: 2000 } } },
      response: { 201: redirectUriSchema },
    },
  }, async (req, reply) => {
    await requireTenant(db, req.params.tenantId);
    const problem = redirectUriProblem(req.body.uri);
    if (problem) throw badRequest(problem);
    const added = await addRedirectUri(db, req.params.tenantId, req.body.uri);
    if (!added) throw conflict(`${req.body.uri} is already registered`);
    return reply.code(201).send(added);
  });

  app.delete<{ Params: P & { redirectUriId: string } }>('/tenants/:tenantId/sso/redirect-uris/:redirectUriId', {
    schema: { tags, summary: 'Unregister a redirect URI (sign-ins in flight to it still complete)', params: params('tenantId', 'redirectUriId') },
  }, async (req, reply) => {
    await requireTenant(db, req.params.tenantId);
    if (!(await deleteRedirectUri(db, req.params.tenantId, req.params.redirectUriId))) throw notFound('redirect URI');
    return reply.code(204).send();
  });

  loginMethodRoutes(app, deps, auditBefore);
}
