import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppDeps } from '../../app-deps.js';
import { sha256Hex } from '../../lib/secrets.js';
import { isUuid } from '../../lib/ids.js';
import type { IdentityLookup } from '../../access/index.js';
import { storableText } from '../../idp-tokens/claims.js';
import { getConnection, type Connection } from '../connections.js';
import { completeSignIn } from '../complete-sign-in.js';
import { SsoError } from '../errors.js';
import { randomToken } from '../oidc-client.js';
import { isRegisteredRedirectUri } from '../store.js';
import { brokerBaseUrl, failPage, readCookie, requireRedirect, withParams } from '../route-kit.js';
import { authnRequestUrl, newRequestId, spMetadata, spPrivateKeys, spUrls, verifySamlResponse, type VerifiedAssertion } from './sp.js';
import { saveSamlRequest, takeSamlRequest, useAssertionOnce } from './store.js';
import { jitProfile, provisionJustInTime } from './jit.js';

type ConnParams = { tenantId: string; connectionId: string };

const connParams = {
  type: 'object',
  required: ['tenantId', 'connectionId'],
  properties: { tenantId: { type: 'string', maxLength: 64 }, connectionId: { type: 'string', maxLength: 64 } },
} as const;

/** The cookie that binds an SP-initiated SAML sign-in to its browser (sent back with the IdP's POST). */
const samlCookieName = (relayState: string) => `idpb_saml_${sha256Hex(relayState).slice(0, 16)}`;

/** The lookups the connection's identity mapping yields for this assertion, in order. */
export function samlLookups(conn: Connection, a: VerifiedAssertion): (IdentityLookup & { from: string })[] {
  const attrs = (a.profile.attributes ?? {}) as Record<string, unknown>;
  const out: (IdentityLookup & { from: string })[] = [];
  for (const rule of conn.identityMapping) {
    let v: unknown = rule.from === 'nameID' ? a.profile.nameID : attrs[rule.from];
    if (Array.isArray(v)) v = v[0];
    if (typeof v !== 'string' || v.length === 0 || v.length > 1024 || !storableText(v)) continue;
    out.push({ from: rule.from, attribute: rule.to, value: v });
  }
  return out;
}

/**
 * SAML 2.0 sign-in, per connection: `/sso/saml/{tenantId}/{connectionId}/metadata` (the SP's
 * metadata for the IdP), `…/login` (SP-initiated: a Redirect-binding AuthnRequest, its ID and the
 * browser kept in the database under the RelayState), `…/acs` (the IdP's POST: the response is
 * verified (sp.ts), its assertion ID used once, the identity found and decided on exactly as the
 * OIDC callback does, and the browser sent to the host product with an idpbridge token or with
 * `error` and `error_code`).
 */
export function samlRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { db, sso } = deps;
  // The SAML URLs (entity ID, ACS) are signed into every message: like the OIDC broker, they never follow an untrusted Host header.
  const base = (req: FastifyRequest) => brokerBaseUrl(req, deps.config.publicUrl);

  const samlConnection = async (tenantId: string, connectionId: string): Promise<Connection> => {
    const conn = isUuid(tenantId) ? await getConnection(db, tenantId, connectionId) : undefined;
    if (!conn || conn.type !== 'saml') throw new SsoError('ERR_SSO_NOT_CONFIGURED', 'there is no such SAML connection for this tenant');
    return conn;
  };

  app.get<{ Params: ConnParams }>('/sso/saml/:tenantId/:connectionId/metadata', {
    schema: { summary: 'The SAML service provider metadata of a connection (entity ID, ACS URL)', params: connParams },
  }, async (req, reply) => {
    try {
      const conn = await samlConnection(req.params.tenantId, req.params.connectionId);
      return reply.header('content-type', 'application/samlmetadata+xml; charset=utf-8').header('cache-control', 'public, max-age=300').send(spMetadata(conn, base(req), spPrivateKeys(conn, deps.secrets)));
    } catch (err) {
      if (err instanceof SsoError) return failPage(reply, err);
      throw err;
    }
  });

  app.get<{ Params: ConnParams; Querystring: { redirect_uri?: string; state?: string } }>('/sso/saml/:tenantId/:connectionId/login', {
    schema: {
      summary: 'Start SAML sign-in at the connection\'s IdP (Redirect binding AuthnRequest)',
      params: connParams,
      querystring: { type: 'object', properties: { redirect_uri: { type: 'string', maxLength: 2000 }, state: { type: 'string', maxLength: 1000 } } },
    },
  }, async (req, reply) => {
    const { tenantId, connectionId } = req.params;
    try {
      await requireRedirect(db, tenantId, req.query.redirect_uri);
      const conn = await samlConnection(tenantId, connectionId);
      if (!conn.idpSsoUrl || conn.idpCerts.length === 0) throw new SsoError('ERR_SSO_NOT_CONFIGURED', 'this SAML connection has no IdP metadata yet');
      const b = base(req);
      const relayState = randomToken(32);
      const requestId = newRequestId();
      const browser = randomToken(24);
      const ttl = sso.options.stateTtlSeconds;
      await saveSamlRequest(db, tenantId, relayState, {
        connectionId, requestId, browserHash: sha256Hex(browser), redirectUri: req.query.redirect_uri!, clientState: req.query.state ?? null,
      }, ttl);
      const acsPath = new URL(spUrls(b, tenantId, connectionId).acsUrl).pathname;
      // The IdP POSTs back cross-site: over https the cookie must be SameSite=None to come along.
      const site = b.startsWith('https:') ? '; SameSite=None; Secure' : '';
      reply.header('set-cookie', `${samlCookieName(relayState)}=${browser}; Path=${acsPath}; Max-Age=${ttl}; HttpOnly${site}`);
      reply.header('cache-control', 'no-store');
      req.log.info({ tenantId, connectionId }, 'saml sign-in started');
      return reply.redirect(await authnRequestUrl(conn, b, spPrivateKeys(conn, deps.secrets), requestId, relayState), 302);
    } catch (err) {
      if (err instanceof SsoError) return failPage(reply, err);
      throw err;
    }
  });

  app.post<{ Params: ConnParams; Body: { SAMLResponse?: unknown; RelayState?: unknown } }>('/sso/saml/:tenantId/:connectionId/acs', {
    bodyLimit: 1_048_576,
    schema: { summary: 'Assertion consumer service (HTTP-POST binding): where the IdP posts the SAML response', params: connParams },
  }, async (req, reply) => {
    const { tenantId, connectionId } = req.params;
    reply.header('cache-control', 'no-store');
    const body = (req.body ?? {}) as { SAMLResponse?: unknown; RelayState?: unknown };
    const samlResponse = typeof body.SAMLResponse === 'string' ? body.SAMLResponse : '';
    const relayState = typeof body.RelayState === 'string' ? body.RelayState : '';
    let conn: Connection;
    let redirectUri: string;
    let clientState: string | null = null;
    let expectedRequestId: string | undefined;
    try {
      conn = await samlConnection(tenantId, connectionId);
      if (!samlResponse) throw new SsoError('ERR_INVALID_REQUEST', 'the IdP posted no SAMLResponse');
      const pending = relayState ? await takeSamlRequest(db, tenantId, connectionId, relayState) : undefined;
      if (pending) {
        const name = samlCookieName(relayState);
        reply.header('set-cookie', `${name}=; Path=${req.url.split('?')[0]}; Max-Age=0; HttpOnly`);
        const browser = readCookie(req, name);
        if (!browser || sha256Hex(browser) !== pending.browserHash) {
          throw new SsoError('ERR_INVALID_STATE', 'This sign-in was started in another browser (or its cookie was blocked). Start again from the application.');
        }
        redirectUri = pending.redirectUri;
        clientState = pending.clientState;
        expectedRequestId = pending.requestId;
      } else if (!conn.allowIdpInitiated) {
        throw relayState
          ? new SsoError('ERR_INVALID_STATE', 'This sign-in is unknown, has expired or was already used. Start again from the application.')
          : new SsoError('ERR_SAML_UNSOLICITED', 'IdP-initiated sign-in is not enabled for this connection: start from the application.');
      } else {
        // IdP-initiated: the RelayState names the host product's redirect URI (registered, exact match).
        if (!relayState || !(await isRegisteredRedirectUri(db, tenantId, relayState))) {
          throw new SsoError('ERR_UNREGISTERED_REDIRECT_URI', 'an IdP-initiated sign-in needs the RelayState set to one of the tenant\'s registered redirect URIs');
        }
        redirectUri = relayState;
      }
    } catch (err) {
      if (!(err instanceof SsoError)) throw err;
      req.log.info({ tenantId, connectionId, reason: err.reason }, 'saml response refused before verification');
      return failPage(reply, err);
    }
    // From here the redirect URI is known and registered: failures go back to the host product.
    try {
      const b = base(req);
      const verified = await verifySamlResponse(conn, b, spPrivateKeys(conn, deps.secrets), samlResponse, expectedRequestId);
      if (!(await useAssertionOnce(db, tenantId, connectionId, verified.assertionId, verified.keepUntil))) {
        throw new SsoError('ERR_SAML_REPLAYED', 'this SAML assertion was already used');
      }
      const lookups = samlLookups(conn, verified);
      const origin = { path: req.url.split('?')[0]!, userAgent: req.headers['user-agent'] };
      const { token } = await completeSignIn(deps, {
        tenantId, base: b, redirectUri, lookups,
        tried: lookups.length === 0 ? 'the assertion has none of the mapped attributes'
          : lookups.map((l) => `${l.from} → ${l.attribute} ${JSON.stringify(l.value)}`).join(', '),
        idp: { iss: verified.issuer, sub: verified.profile.nameID },
        ...(conn.jitProvisioning ? { provision: (found) => provisionJustInTime(deps, tenantId, conn, jitProfile(conn, lookups, verified), found, origin) } : {}),
      });
      req.log.info({ tenantId, connectionId, idpInitiated: expectedRequestId === undefined }, 'sso sign-in through SAML');
      return reply.redirect(withParams(redirectUri, { token, state: clientState }), 303);
    } catch (err) {
      if (!(err instanceof SsoError)) throw err;
      req.log.info({ tenantId, connectionId, reason: err.reason, err: err.message }, 'saml sign-in refused');
      return reply.redirect(withParams(redirectUri, {
        error: err.oauthError, error_code: err.reason, error_description: err.message, state: clientState,
      }), 303);
    }
  });
}
