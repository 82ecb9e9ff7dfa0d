import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app-deps.js';
import { sha256Hex } from '../lib/secrets.js';
import { describeLookups, identityLookups } from '../idp-tokens/claims.js';
import { completeSignIn } from './complete-sign-in.js';
import { SsoError } from './errors.js';
import { exchangeCode, idpEndpoints, verifyIdToken } from './oidc-client.js';
import { oidcSignInClient } from './oidc-connection.js';
import { takeState } from './store.js';
import { ssoCallbackUrl } from './urls.js';
import { brokerBaseUrl, failPage, readCookie, signInCookieName, tenantParams, withParams, type TenantParams } from './route-kit.js';

type CallbackQuery = { state?: string; code?: string; error?: string; error_description?: string; iss?: string };

/**
 * `GET /sso/{tenantId}/callback`: the IdP sends the browser back here; the code is redeemed, the
 * ID token verified with the client of the connection the sign-in started with, and the sign-in
 * completed like every IdP sign-in (complete-sign-in.ts): the browser goes to the host product's
 * redirect URI with an idpbridge token, or with `error` and `error_code`.
 */
export function callbackRoute(app: FastifyInstance, deps: AppDeps): void {
  const { db, idpTokens: idp } = deps;
  const str = (maxLength: number) => ({ type: 'string', maxLength });

  app.get<{ Params: TenantParams; Querystring: CallbackQuery }>('/sso/:tenantId/callback', {
    schema: {
      summary: 'Where the IdP sends the user back (register this URL at the IdP)',
      params: tenantParams,
      querystring: {
        type: 'object',
        properties: { state: str(1000), code: str(4000), error: str(200), error_description: str(2000), iss: str(2000) },
      },
    },
  }, async (req, reply) => {
    const { tenantId } = req.params;
    const q = req.query;
    reply.header('cache-control', 'no-store');
    const pending = q.state ? await takeState(db, tenantId, q.state) : undefined;
    if (!pending) {
      req.log.info({ tenantId }, 'sso callback with an unknown, expired or used state');
      return failPage(reply, new SsoError('ERR_INVALID_STATE', 'This sign-in is unknown, has expired or was already used. Start again from the application.'));
    }
    const name = signInCookieName(q.state!);
    reply.header('set-cookie', `${name}=; Path=/sso/${tenantId}/callback; Max-Age=0; HttpOnly; SameSite=Lax`);
    const browser = readCookie(req, name);
    if (!browser || sha256Hex(browser) !== pending.browserHash) {
      req.log.warn({ tenantId }, 'sso callback from another browser than the one that started it');
      return failPage(reply, new SsoError('ERR_INVALID_STATE', 'This sign-in was started in another browser (or its cookie was blocked). Start again from the application.'));
    }
    // From here the redirect URI is known and registered: failures go back to the host product.
    try {
      if (q.error) throw new SsoError('ERR_IDP_ERROR', `the IdP refused the sign-in: ${q.error}${q.error_description ? ` (${q.error_description})` : ''}`);
      if (!q.code) throw new SsoError('ERR_INVALID_REQUEST', 'the IdP sent no authorization code');
      const client = await oidcSignInClient(deps, tenantId, pending.connectionId).catch((err: unknown) => {
        throw err instanceof SsoError ? new SsoError('ERR_SSO_NOT_CONFIGURED', `sign-in through the IdP is no longer set up for this tenant (${err.message})`) : err;
      });
      const cfg = client.cfg;
      const ep = await idpEndpoints(cfg, idp.keys);
      // RFC 9207: an IdP that names itself must be this tenant's (mix-up defence).
      if (q.iss !== undefined && q.iss !== ep.issuer) throw new SsoError('ERR_IDP_ERROR', `the authorization response comes from ${q.iss}, not this tenant's IdP (${ep.issuer})`);
      // The secret goes only to the token endpoint origin it is bound to (issue 17 item 7).
      const secret = await client.secretFor(ep.tokenEndpoint);
      if (!secret) {
        throw new SsoError('ERR_SSO_NOT_CONFIGURED', 'sign-in through the IdP is not set up for this tenant: no client secret is stored (it is forgotten when the IdP\'s token endpoint moves to another origin; the admin enters it again)');
      }
      const base = brokerBaseUrl(req, deps.config.publicUrl);
      const idToken = await exchangeCode(ep, { clientId: cfg.clientId, clientSecret: secret, code: q.code, redirectUri: ssoCallbackUrl(base, tenantId), codeVerifier: pending.codeVerifier }, idp.keys.fetchOptions.dispatcher);
      const claims = await verifyIdToken(idToken, cfg, idp.keys, pending.nonce);
      const lookups = identityLookups(claims, cfg);
      const { token, identityId } = await completeSignIn(deps, {
        tenantId, base, redirectUri: pending.redirectUri, lookups, tried: describeLookups(lookups), idp: { iss: claims.iss!, sub: claims.sub! },
      });
      req.log.info({ tenantId, identityId, connectionId: pending.connectionId }, 'sso sign-in through the IdP');
      return reply.redirect(withParams(pending.redirectUri, { token, state: pending.clientState }), 303);
    } catch (err) {
      if (!(err instanceof SsoError)) throw err;
      req.log.info({ tenantId, reason: err.reason, err: err.message }, 'sso sign-in refused');
      return reply.redirect(withParams(pending.redirectUri, {
        error: err.oauthError, error_code: err.reason, error_description: err.message, state: pending.clientState,
      }), 303);
    }
  });
}
