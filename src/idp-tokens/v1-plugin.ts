import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppDeps } from '../app-deps.js';
import { ApiError } from '../http/errors.js';
import { canonicalTenantId, FailureLimiter, registerRateLimit } from '../http/rate-limit.js';
import { registerTenantConcurrency } from '../http/tenant-concurrency.js';
import { TokenError } from './verify.js';
import { IdpUnavailableError } from './key-cache.js';
import './v1-principal.js';
import { authorizeRoute } from './v1-authorize.js';
import { meRoute } from './v1-me.js';

/**
 * Access decisions with an IdP token or an identity API key, under /v1/:tenantId.
 * 401 for a missing, malformed, unverifiable or foreign token; 503 when the IdP's keys cannot be
 * fetched and none are cached; a valid token of an unknown or suspended identity gets a clear
 * answer (authorize: allowed false with a reason; me: 403), never a 500. Both routes decide with
 * the access model's one decision (src/access/decision.ts).
 */
/** Largest /v1 request body (bytes). */
export const V1_BODY_LIMIT = 16_384;

export async function v1Api(app: FastifyInstance, { deps }: { deps: AppDeps }): Promise<void> {
  const svc = deps.idpTokens;
  app.decorateRequest('idpPrincipal', null);

  // The tenant id of the URL in its canonical form (lower case) before anything uses it.
  app.addHook('onRequest', async (req) => canonicalTenantId(req));

  // Small bodies only (an authorize request is a few hundred bytes); set before the routes are added.
  app.addHook('onRoute', (route) => {
    route.bodyLimit ??= V1_BODY_LIMIT;
  });

  // Failed authentications count against the caller's address, not the tenant.
  const failures = new FailureLimiter(deps.config.rateLimitPerMinute);

  // onRequest: the credential is checked before the body is read or parsed (an anonymous caller costs
  // no body work) and before the tenant's bucket counts the request.
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    reply.header('cache-control', 'no-store');
    const tenantId = (req.params as { tenantId?: string }).tenantId ?? '';
    const retryAfter = failures.blocked(req.ip);
    if (retryAfter !== undefined) {
      throw new ApiError('ERR_RATE_LIMITED', `Too many failed authentications from this address; retry after ${retryAfter} s`, { 'retry-after': String(retryAfter) });
    }
    try {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
      if (!m?.[1]) throw new TokenError('missing_token', 'Authorization: Bearer <IdP access token or idpbridge API key> is required');
      req.idpPrincipal = await svc.authenticate(tenantId, m[1]);
    } catch (err) {
      if (err instanceof TokenError) {
        failures.fail(req.ip);
        req.log.info({ tenantId, reason: err.reason }, 'v1 token refused');
      } else if (err instanceof IdpUnavailableError) req.log.warn({ tenantId, err: err.message }, 'IdP keys unavailable');
      // WWW-Authenticate (401) and Retry-After (503) travel on the error to the central handler.
      throw err;
    }
  });

  // Per tenant: one customer's traffic must not starve another's. Counted after authentication
  // (preParsing), so only the tenant's own credentials spend its budget.
  await registerRateLimit(app, {
    max: deps.config.rateLimitPerMinute,
    scope: 'v1',
    hook: 'preParsing',
    error: (retryAfter, max) => new ApiError('ERR_RATE_LIMITED', `Rate limit of ${max} requests per minute for this tenant exceeded; retry after ${retryAfter} s`),
  });

  // One tenant's requests hold at most its share of the database, with SCIM and the admin reads (src/http/tenant-concurrency.ts).
  registerTenantConcurrency(app, {
    limit: deps.config.tenantConcurrency,
    gate: deps.tenantGate,
    error: (retryAfter, limit) => new ApiError('ERR_RATE_LIMITED', `This tenant already has ${limit} requests in progress and too many waiting; retry after ${retryAfter} s`, { 'retry-after': String(retryAfter) }),
  });

  authorizeRoute(app, svc);
  meRoute(app, svc);
}
