import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../../app-deps.js';
import { publicBaseUrl } from '../../http/base-url.js';
import { sha256Hex } from '../../lib/secrets.js';
import { isUuid } from '../../lib/ids.js';
import { decideAccess, effectiveAccess, findIdentityByLookups, type IdentityLookup, type IdentitySummary } from '../../access/index.js';
import { createManualIdentity, IdentityError, updateIdentity } from '../../access/identities.js';
import { storableText } from '../../idp-tokens/claims.js';
import { getConnection, type Connection } from '../connections.js';
import { SsoError } from '../errors.js';
import { randomToken } from '../oidc-client.js';
import { isRegisteredRedirectUri, loginMethodRow } from '../store.js';
import { issueIdpbridgeToken } from '../service.js';
import { failPage, readCookie, refusal, requireRedirect, withParams } from '../route-kit.js';
import { ssoIssuer } from '../urls.js';
import { authnRequestUrl, newRequestId, spMetadata, spUrls, verifySamlResponse, type VerifiedAssertion } from './sp.js';
import { saveSamlRequest, takeSamlRequest, useAssertionOnce } from './store.js';

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
  const base = (req: Parameters<typeof publicBaseUrl>[0]) => publicBaseUrl(req, deps.config.publicUrl);

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
      return reply.header('content-type', 'application/samlmetadata+xml; charset=utf-8').header('cache-control', 'public, max-age=300').send(spMetadata(conn, base(req)));
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
      return reply.redirect(await authnRequestUrl(conn, b, requestId, relayState), 302);
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
      const verified = await verifySamlResponse(conn, b, samlResponse, expectedRequestId);
      if (!(await useAssertionOnce(db, tenantId, connectionId, verified.assertionId, verified.keepUntil))) {
        throw new SsoError('ERR_SAML_REPLAYED', 'this SAML assertion was already used');
      }
      const token = await completeSignIn(deps, { tenantId, conn, verified, base: b, redirectUri });
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

/**
 * The verified assertion → a provisioned identity → the access decision (src/access/decision.ts)
 * → an idpbridge token, with the same rules as the OIDC callback (callback-route.ts): no identity
 * or a suspended one is refused, a password-login identity too, a staged one is activated.
 */
async function completeSignIn(
  deps: AppDeps,
  p: { tenantId: string; conn: Connection; verified: VerifiedAssertion; base: string; redirectUri: string },
): Promise<string> {
  const { db, idpTokens: idp, sso } = deps;
  const lookups = samlLookups(p.conn, p.verified);
  let found: { identity: IdentitySummary } | undefined = await findIdentityByLookups(db, p.tenantId, lookups);
  if (p.conn.jitProvisioning) found = await provisionJustInTime(db, p.tenantId, lookups, p.verified, found?.identity);
  if (!found) {
    const tried = lookups.length === 0 ? 'the assertion has none of the mapped attributes'
      : lookups.map((l) => `${l.from} → ${l.attribute} ${JSON.stringify(l.value)}`).join(', ');
    throw new SsoError('ERR_IDENTITY_NOT_FOUND', `You signed in at the IdP, but no provisioned identity matches you (${tried}). Ask your IT admin to assign you to the application (SCIM provisioning).`);
  }
  const d = decideAccess(await effectiveAccess(db, p.tenantId, found.identity.id), { kind: 'identity' });
  if (!d.allowed) throw refusal(d, 'signed in');
  const method = await loginMethodRow(db, p.tenantId, d.identity.id);
  if (method?.method === 'password') throw new SsoError('ERR_LOGIN_METHOD_PASSWORD', `${d.identity.userName} signs in with a password, not through the IdP`);
  if (d.activate) await idp.activate(p.tenantId, d.identity.id);
  const { token } = await issueIdpbridgeToken(sso, {
    issuer: ssoIssuer(p.base, p.tenantId), audience: p.redirectUri, tenantId: p.tenantId, access: d.access, amr: 'idp',
    idp: { iss: p.verified.issuer, sub: p.verified.profile.nameID },
  });
  return token;
}

const DISPLAY_NAME_ATTRS = ['displayName', 'http://schemas.microsoft.com/identity/claims/displayname', 'name'];
const EMAIL_ATTRS = ['email', 'mail', 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress'];

/**
 * JIT provisioning (per connection, off by default): someone the assertion names who has no
 * identity gets one (source `manual`, through the access model's own create), and an identity it
 * created is updated from later assertions (display name, externalId). SCIM-provisioned
 * identities are never touched. A refusal (e.g. the userName is taken) is `identity_not_found`.
 */
async function provisionJustInTime(
  db: AppDeps['db'], tenantId: string, lookups: (IdentityLookup & { from: string })[], a: VerifiedAssertion, existing: IdentitySummary | undefined,
): Promise<{ identity: IdentitySummary } | undefined> {
  const attrs = (a.profile.attributes ?? {}) as Record<string, unknown>;
  const first = (names: string[]) => {
    for (const n of names) {
      const v = Array.isArray(attrs[n]) ? (attrs[n] as unknown[])[0] : attrs[n];
      if (typeof v === 'string' && v.length > 0 && v.length <= 1024 && storableText(v)) return v;
    }
    return undefined;
  };
  const userName = lookups.find((l) => l.attribute === 'userName')?.value;
  const externalId = lookups.find((l) => l.attribute === 'externalId')?.value ?? null;
  const displayName = first(DISPLAY_NAME_ATTRS) ?? null;
  const email = first(EMAIL_ATTRS) ?? (userName && /^[^@\s]+@[^@\s]+$/.test(userName) ? userName : undefined);
  try {
    if (!existing) {
      if (!userName) return undefined;
      const created = await createManualIdentity(db, tenantId, {
        userName, externalId, displayName, ...(email ? { emails: [{ value: email, type: 'work', primary: true }] } : {}),
      });
      return findIdentityByLookups(db, tenantId, [{ attribute: 'id', value: created.id }]);
    }
    if (existing.source !== 'manual') return { identity: existing };
    const changes: { displayName?: string | null; externalId?: string | null } = {};
    if (displayName !== null && displayName !== existing.displayName) changes.displayName = displayName;
    if (externalId !== null && externalId !== existing.externalId) changes.externalId = externalId;
    if (Object.keys(changes).length === 0) return { identity: existing };
    await updateIdentity(db, tenantId, existing.id, changes);
    return findIdentityByLookups(db, tenantId, [{ attribute: 'id', value: existing.id }]);
  } catch (err) {
    if (err instanceof IdentityError) throw new SsoError('ERR_IDENTITY_NOT_FOUND', `Just-in-time provisioning refused: ${err.message}`);
    throw err;
  }
}
