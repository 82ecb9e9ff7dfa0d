import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app-deps.js';
import { sha256Hex } from '../lib/secrets.js';
import { isUuid } from '../lib/ids.js';
import { SsoError } from './errors.js';
import { authorizationUrl, idpEndpoints, randomToken } from './oidc-client.js';
import { oidcSignInClient } from './oidc-connection.js';
import { saveState } from './store.js';
import { ssoCallbackUrl } from './urls.js';
import { isConsoleCallback } from './console-broker.js';
import { brokerBaseUrl, failPage, requireRedirect, signInCookieName, tenantParams, type TenantParams } from './route-kit.js';

type LoginQuery = { redirect_uri: string; state?: string; login_hint?: string; connection?: string };

/**
 * `GET /sso/{tenantId}/login`: starts sign-in at the tenant's IdP (authorization code + PKCE S256),
 * through the OIDC connection `connection` names, or the tenant's OIDC configuration.
 */
export function loginRoute(app: FastifyInstance, deps: AppDeps): void {
  const { db, idpTokens: idp, sso } = deps;

  app.get<{ Params: TenantParams; Querystring: LoginQuery }>('/sso/:tenantId/login', {
    schema: {
      summary: 'Start sign-in through the tenant\'s IdP (authorization code + PKCE)',
      params: tenantParams,
      querystring: {
        type: 'object',
        properties: {
          redirect_uri: { type: 'string', maxLength: 2000 },
          state: { type: 'string', maxLength: 1000 },
          login_hint: { type: 'string', maxLength: 320 },
          connection: { type: 'string', maxLength: 64, description: 'The OIDC connection to sign in through (default: the tenant\'s OIDC configuration, else its first OIDC connection)' },
        },
      },
    },
  }, async (req, reply) => {
    const { tenantId } = req.params;
    try {
      const base = brokerBaseUrl(req, deps.config.publicUrl);
      // The console's own callbacks (console sign-in and its sign-in test) need no registration.
      if (!isConsoleCallback(base, req.query.redirect_uri) || !isUuid(tenantId)) await requireRedirect(db, tenantId, req.query.redirect_uri);
      const { cfg, connectionId } = await oidcSignInClient(deps, tenantId, req.query.connection);
      const ep = await idpEndpoints(cfg, idp.keys);
      const state = randomToken(32);
      const nonce = randomToken(24);
      const codeVerifier = randomToken(48);
      const browser = randomToken(24);
      const ttl = sso.options.stateTtlSeconds;
      await saveState(db, tenantId, state, {
        nonce, codeVerifier, browserHash: sha256Hex(browser), redirectUri: req.query.redirect_uri, clientState: req.query.state ?? null, connectionId,
      }, ttl);
      // Binds the sign-in to this browser (login CSRF): the callback needs the cookie back.
      const secure = base.startsWith('https:') ? '; Secure' : '';
      reply.header('set-cookie', `${signInCookieName(state)}=${browser}; Path=/sso/${tenantId}/callback; Max-Age=${ttl}; HttpOnly; SameSite=Lax${secure}`);
      reply.header('cache-control', 'no-store');
      req.log.info({ tenantId, connectionId }, 'sso sign-in started');
      return reply.redirect(authorizationUrl(ep, {
        clientId: cfg.clientId, redirectUri: ssoCallbackUrl(base, tenantId), state, nonce, codeVerifier, scope: sso.options.scope, loginHint: req.query.login_hint,
      }), 302);
    } catch (err) {
      // The redirect URI is not known good yet: the broker answers with its own page.
      if (err instanceof SsoError) return failPage(reply, err);
      throw err;
    }
  });
}
