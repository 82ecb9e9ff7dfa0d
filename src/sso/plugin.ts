import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app-deps.js';
import { ApiError } from '../http/errors.js';
import { registerRateLimit } from '../http/rate-limit.js';
import { loginRoute } from './login-route.js';
import { callbackRoute } from './callback-route.js';
import { passwordRoutes } from './password-routes.js';
import { samlRoutes } from './saml/routes.js';
import { domainRoutingRoute } from './domain-routing.js';

/**
 * The sign-in broker: `/sso/{tenantId}/login` → the tenant's IdP (authorization code + PKCE S256)
 * → `/sso/{tenantId}/callback` → the host product's registered redirect URI with an
 * idpbridge-signed token; `/sso/{tenantId}/password-login` for guests with a built-in password;
 * idpbridge's public keys at `/.well-known/jwks.json`. Whether the identity may sign in is the
 * access model's one decision (src/access/decision.ts).
 */
/** Largest sign-in broker request body (bytes), unless a route sets its own. */
export const SSO_BODY_LIMIT = 16_384;

export async function ssoPlugin(app: FastifyInstance, { deps }: { deps: AppDeps }): Promise<void> {
  // HTML forms post urlencoded bodies (this plugin only).
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 16_384 }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  // Small bodies only (a password sign-in is a few hundred bytes); a route may set its own (SAML's ACS).
  app.addHook('onRoute', (route) => {
    route.bodyLimit ??= SSO_BODY_LIMIT;
  });

  // Password guessing: 20 attempts a minute per tenant and address, on the routes that opt in.
  await registerRateLimit(app, {
    max: deps.config.rateLimitPerMinute > 0 ? 20 : 0,
    scope: 'sso-pw',
    keyBy: 'tenant+ip',
    global: false,
    error: (retryAfter) => new ApiError('ERR_RATE_LIMITED', `Too many sign-in attempts from this address; retry after ${retryAfter} s`),
  });

  app.get('/.well-known/jwks.json', { schema: { summary: 'idpbridge\'s token signing keys (current, next and previous)' } }, async (_req, reply) => {
    reply.header('cache-control', 'public, max-age=300');
    return deps.sso.keys.jwks();
  });

  loginRoute(app, deps);
  callbackRoute(app, deps);
  passwordRoutes(app, deps);
  samlRoutes(app, deps);
  domainRoutingRoute(app, deps);
}
