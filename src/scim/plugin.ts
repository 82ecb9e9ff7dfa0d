import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app-deps.js';
import { scimAuth } from '../tenants/scim-auth.js';
import { InvalidSyntaxError, InvalidValueError, TooManyRequestsError } from './errors.js';
import { bodyProblem } from '../http/json-body.js';
import { canonicalTenantId, registerRateLimit } from '../http/rate-limit.js';
import { registerTenantConcurrency } from '../http/tenant-concurrency.js';
import { SCIM_CONTENT_TYPE } from '../http/error-handler.js';
import { resourceRoutes } from './resources/routes.js';
import { discoveryRoutes } from './discovery-routes.js';
import { bulkRoutes } from './bulk/routes.js';
import { registerProvisioningLog } from '../events/provisioning-log.js';

/** SCIM 2.0 service provider under /scim/v2/:tenantId. */
export async function scimApi(app: FastifyInstance, { deps }: { deps: AppDeps }): Promise<void> {
  // RFC 7644 §3.1: application/scim+json; IdPs also send application/json (handled by the default parser).
  // An empty body is no body: IdPs send Content-Type on DELETE and GET too.
  const json = app.getDefaultJsonParser('error', 'error');
  const parser: typeof json = (req, body, done) => {
    if (body === '') return done(null, undefined);
    json(req, body, (err, value) => {
      if (err) return done(err);
      const problem = bodyProblem(body as string, value);
      if (problem) return done(/nested/.test(problem) ? new InvalidSyntaxError(problem) : new InvalidValueError(problem));
      done(null, value);
    });
  };
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(['application/scim+json', 'application/json'], { parseAs: 'string' }, parser);
  app.decorateRequest('scim', null);

  // The tenant id of the URL in its canonical form (lower case) before anything uses it: the
  // router matches /scim/v2/ABC… too, and caches and buckets are keyed by the id.
  app.addHook('onRequest', (req, _reply, done) => {
    canonicalTenantId(req);
    done();
  });

  // Per tenant, not per IP: one IdP's sync must not starve another tenant's.
  await registerRateLimit(app, {
    max: deps.config.rateLimitPerMinute,
    scope: 'scim',
    error: (retryAfter, max) =>
      new TooManyRequestsError(`Rate limit of ${max} requests per minute for this tenant exceeded; retry after ${retryAfter} s`, retryAfter),
  });

  app.addHook('onRequest', scimAuth(deps.scimVerifier));
  // One tenant's requests may hold only part of the database at once (IDPBRIDGE_TENANT_CONCURRENCY); the rest wait briefly.
  registerTenantConcurrency(app, {
    limit: deps.config.tenantConcurrency,
    gate: deps.tenantGate,
    error: (retryAfter, limit) =>
      new TooManyRequestsError(`This tenant already has ${limit} SCIM requests in progress and too many waiting; retry after ${retryAfter} s`, retryAfter),
  });
  registerProvisioningLog(app, deps.provisioningLog); // one log row per authenticated request, written off the response path
  // Callback hooks here and above: no promise and microtask per request for synchronous work.
  app.addHook('onSend', (_req, reply, payload, done) => {
    const ct = reply.getHeader('content-type');
    if (typeof ct === 'string' && ct.startsWith('application/json')) reply.header('content-type', SCIM_CONTENT_TYPE);
    done(null, payload);
  });

  await app.register(resourceRoutes, { prefix: '/:tenantId', deps });
  await app.register(discoveryRoutes, { prefix: '/:tenantId', deps });
  await app.register(bulkRoutes, { prefix: '/:tenantId', deps });
}
