import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppDeps } from '../app-deps.js';
import { ApiError } from '../http/errors.js';
import { registerRateLimit } from '../http/rate-limit.js';
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
export async function v1Api(app: FastifyInstance, { deps }: { deps: AppDeps }): Promise<void> {
  const svc = deps.idpTokens;
  app.decorateRequest('idpPrincipal', null);

  // Per tenant: one customer's traffic must not starve another's.
  await registerRateLimit(app, {
    max: deps.config.rateLimitPerMinute,
    scope: 'v1',
    error: (retryAfter, max) => new ApiError('ERR_RATE_LIMITED', `Rate limit of ${max} requests per minute for this tenant exceeded; retry after ${retryAfter} s`),
  });

  // preValidation, not onRequest: the per-tenant rate limit (an onRequest hook) must count refused
  // requests too; authentication still comes before body validation.
  app.addHook('preValidation', async (req: FastifyRequest, reply: FastifyReply) => {
    reply.header('cache-control', 'no-store');
    const tenantId = (req.params as { tenantId?: string }).tenantId ?? '';
    try {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
      if (!m?.[1]) throw new TokenError('missing_token', 'Authorization: Bearer <IdP access token or idpbridge API key> is required');
      req.idpPrincipal = await svc.authenticate(tenantId, m[1]);
    } catch (err) {
      if (err instanceof TokenError) req.log.info({ tenantId, reason: err.reason }, 'v1 token refused');
      else if (err instanceof IdpUnavailableError) req.log.warn({ tenantId, err: err.message }, 'IdP keys unavailable');
      // WWW-Authenticate (401) and Retry-After (503) travel on the error to the central handler.
      throw err;
    }
  });

  authorizeRoute(app, svc);
  meRoute(app, svc);
}
