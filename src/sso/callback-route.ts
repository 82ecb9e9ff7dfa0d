import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app-deps.js';
import { sha256Hex } from '../lib/secrets.js';
import { decideAccess, effectiveAccess, findIdentityByLookups } from '../access/index.js';
import { getOidcClientSecret } from '../idp-tokens/oidc-config.js';
import { describeLookups, identityLookups } from '../idp-tokens/claims.js';
import { SsoError } from './errors.js';
import { exchangeCode, idpEndpoints, verifyIdToken } from './oidc-client.js';
import { loginMethodRow, takeState } from './store.js';
import { issueIdpbridgeToken } from './service.js';
import { ssoCallbackUrl, ssoIssuer } from './urls.js';
import { brokerBaseUrl, failPage, readCookie, refusal, signInCookieName, tenantParams, withParams, type TenantParams } from './route-kit.js';

type CallbackQuery = { state?: string; code?: string; error?: string; error_description?: string; iss?: string };

/**
 * `GET /sso/{tenantId}/callback`: the IdP sends the browser back here; the code is redeemed, the
 * ID token verified, the identity decided on (src/access/decision.ts) and the browser sent to the
 * host product's redirect URI with an idpbridge token, or with `error` and `error_code`.
 */
export function callbackRoute(app: FastifyInstance, deps: AppDeps): void {
  const { db, idpTokens: idp, sso } = deps;
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
      const cfg = await idp.config(tenantId);
      const secret = cfg?.clientId ? await getOidcClientSecret(db, tenantId, deps.secrets) : null;
      if (!cfg?.clientId || !secret) throw new SsoError('ERR_SSO_NOT_CONFIGURED', 'sign-in through the IdP is no longer set up for this tenant');
      const ep = await idpEndpoints(cfg, idp.keys);
      // RFC 9207: an IdP that names itself must be this tenant's (mix-up defence).
      if (q.iss !== undefined && q.iss !== ep.issuer) throw new SsoError('ERR_IDP_ERROR', `the authorization response comes from ${q.iss}, not this tenant's IdP (${ep.issuer})`);
      const base = brokerBaseUrl(req, deps.config.publicUrl);
      const idToken = await exchangeCode(ep, { clientId: cfg.clientId, clientSecret: secret, code: q.code, redirectUri: ssoCallbackUrl(base, tenantId), codeVerifier: pending.codeVerifier }, idp.keys.fetchOptions.dispatcher);
      const claims = await verifyIdToken(idToken, cfg, idp.keys, pending.nonce);
      const lookups = identityLookups(claims, cfg);
      const found = await findIdentityByLookups(db, tenantId, lookups);
      if (!found) {
        throw new SsoError('ERR_IDENTITY_NOT_FOUND', `You signed in at the IdP, but no provisioned identity matches you (${describeLookups(lookups)}). Ask your IT admin to assign you to the application (SCIM provisioning).`);
      }
      const d = decideAccess(await effectiveAccess(db, tenantId, found.identity.id), { kind: 'identity' });
      if (!d.allowed) throw refusal(d, 'signed in');
      const method = await loginMethodRow(db, tenantId, d.identity.id);
      if (method?.method === 'password') throw new SsoError('ERR_LOGIN_METHOD_PASSWORD', `${d.identity.userName} signs in with a password, not through the IdP`);
      if (d.activate) await idp.activate(tenantId, d.identity.id);
      const { token } = await issueIdpbridgeToken(sso, {
        issuer: ssoIssuer(base, tenantId), audience: pending.redirectUri, tenantId, access: d.access, amr: 'idp', idp: { iss: claims.iss!, sub: claims.sub! },
      });
      req.log.info({ tenantId, identityId: d.identity.id }, 'sso sign-in through the IdP');
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
