import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app-deps.js';
import { sha256Hex } from '../lib/secrets.js';
import { getOidcClientSecret } from '../idp-tokens/oidc-config.js';
import { SsoError } from './errors.js';
import { authorizationUrl, idpEndpoints, randomToken } from './oidc-client.js';
import { saveState } from './store.js';
import { ssoCallbackUrl } from './urls.js';
import { brokerBaseUrl, failPage, requireRedirect, signInCookieName, tenantParams, type TenantParams } from './route-kit.js';

type LoginQuery = { redirect_uri: string; state?: string; login_hint?: string };

/** `GET /sso/{tenantId}/login`: starts sign-in at the tenant's IdP (authorization code + PKCE S256). */
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
        },
      },
    },
  }, async (req, reply) => {
    const { tenantId } = req.params;
    try {
      await requireRedirect(db, tenantId, req.query.redirect_uri);
      const base = brokerBaseUrl(req, deps.config.publicUrl);
      const cfg = await idp.config(tenantId);
      if (!cfg?.clientId) throw new SsoError('ERR_SSO_NOT_CONFIGURED', 'sign-in through the IdP is not set up for this tenant: enter the client id and secret in its OIDC configuration');
      const secret = await getOidcClientSecret(db, tenantId, deps.secrets);
      if (!secret) throw new SsoError('ERR_SSO_NOT_CONFIGURED', 'the OIDC configuration has a client id but no client secret');
      const ep = await idpEndpoints(cfg, idp.keys);
      const state = randomToken(32);
      const nonce = randomToken(24);
      const codeVerifier = randomToken(48);
      const browser = randomToken(24);
      const ttl = sso.options.stateTtlSeconds;
      await saveState(db, tenantId, state, {
        nonce, codeVerifier, browserHash: sha256Hex(browser), redirectUri: req.query.redirect_uri, clientState: req.query.state ?? null,
      }, ttl);
      // Binds the sign-in to this browser (login CSRF): the callback needs the cookie back.
      const secure = base.startsWith('https:') ? '; Secure' : '';
      reply.header('set-cookie', `${signInCookieName(state)}=${browser}; Path=/sso/${tenantId}/callback; Max-Age=${ttl}; HttpOnly; SameSite=Lax${secure}`);
      reply.header('cache-control', 'no-store');
      req.log.info({ tenantId }, 'sso sign-in started');
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
