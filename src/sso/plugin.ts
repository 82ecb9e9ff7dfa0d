import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import type { AppDeps } from '../app-deps.js';
import { ApiError, type ApiErrorCode } from '../http/errors.js';
import { publicBaseUrl } from '../http/base-url.js';
import { isUuid } from '../lib/ids.js';
import { hashPassword, sha256Hex, verifyPassword } from '../lib/secrets.js';
import { activateStagedIdentity, effectiveAccess, findIdentity, type EffectiveAccess } from '../access/index.js';
import { idpTokensFor } from '../idp-tokens/service.js';
import { getOidcClientSecret } from '../idp-tokens/oidc-config.js';
import { identityLookups, describeLookups } from '../idp-tokens/claims.js';
import { authorizationUrl, exchangeCode, idpEndpoints, randomToken, SsoError, verifyIdToken } from './oidc-client.js';
import { isRegisteredRedirectUri, loginMethodRow, recordPasswordResult, saveState, takeState } from './store.js';
import { issueIdpbridgeToken, ssoFor } from './service.js';
import { errorPage, PAGE_CSP, passwordPage } from './pages.js';
import { ssoCallbackUrl, ssoPasswordLoginUrl } from './urls.js';
import type { SsoOptions } from './config.js';

const tenantParams = {
  type: 'object',
  required: ['tenantId'],
  properties: { tenantId: { type: 'string', maxLength: 64 } },
} as const;

type P = { tenantId: string };
type LoginQuery = { redirect_uri: string; state?: string; login_hint?: string };
type CallbackQuery = { state?: string; code?: string; error?: string; error_description?: string; iss?: string };
type PasswordBody = { userName: string; password: string; redirect_uri: string; state?: string };

const cookieName = (state: string) => `idpb_sso_${sha256Hex(state).slice(0, 16)}`;

function readCookie(req: FastifyRequest, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

/** The registered URI with the given parameters added (its own query is kept). */
function withParams(uri: string, params: Record<string, string | null | undefined>): string {
  const u = new URL(uri);
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null) u.searchParams.set(k, v);
  return u.href;
}

// OAuth error codes for the host product, by broker code.
const OAUTH_ERROR: Record<string, string> = {
  identity_not_found: 'access_denied',
  identity_suspended: 'access_denied',
  login_method_password: 'access_denied',
  idp_error: 'access_denied',
  idp_unavailable: 'temporarily_unavailable',
};

/**
 * The sign-in broker: `/sso/{tenantId}/login` → the tenant's IdP (authorization code + PKCE S256)
 * → `/sso/{tenantId}/callback` → the host product's registered redirect URI with an
 * idpbridge-signed token; `/sso/{tenantId}/password-login` for guests with a built-in password;
 * idpbridge's public keys at `/.well-known/jwks.json`.
 */
export async function ssoPlugin(app: FastifyInstance, { deps, options }: { deps: AppDeps; options?: Partial<SsoOptions> }): Promise<void> {
  const sso = ssoFor(deps, options);
  const idp = idpTokensFor(deps, app.log);
  const db = deps.db;
  // Compared against when the user is unknown, so a miss costs what a wrong password costs.
  const dummyHash = hashPassword(randomToken());

  // HTML forms post urlencoded bodies (this plugin only).
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 16_384 }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  if (deps.config.rateLimitPerMinute > 0) {
    await app.register(rateLimit, { global: false });
  }

  const page = (reply: FastifyReply, status: number, html: string) =>
    reply.code(status).header('content-type', 'text/html; charset=utf-8').header('content-security-policy', PAGE_CSP).header('cache-control', 'no-store').send(html);
  const fail = (reply: FastifyReply, err: SsoError) => page(reply, err.status, errorPage(err.code, err.message));

  const requireRedirect = async (tenantId: string, uri: string | undefined) => {
    if (!uri) throw new SsoError(400, 'invalid_request', 'redirect_uri is required');
    if (!isUuid(tenantId) || !(await isRegisteredRedirectUri(db, tenantId, uri))) {
      throw new SsoError(400, 'unregistered_redirect_uri', `redirect_uri ${uri} is not registered for this tenant (exact match required; register it with POST /admin/v1/tenants/{tenantId}/sso/redirect-uris)`);
    }
  };

  /** The identity signing in must exist, not be suspended, and (for IdP sign-in) use the IdP. */
  const checkAccess = (access: EffectiveAccess | undefined, what: string): EffectiveAccess => {
    if (!access) throw new SsoError(403, 'identity_not_found', `${what}: no identity`);
    const i = access.identity;
    if (i.status === 'suspended' || !i.active) throw new SsoError(403, 'identity_suspended', `${i.userName} is suspended; sign-in is refused`);
    return access;
  };

  app.get('/.well-known/jwks.json', { schema: { summary: 'idpbridge\'s token signing keys (current, next and previous)' } }, async (_req, reply) => {
    reply.header('cache-control', 'public, max-age=300');
    return sso.keys.jwks();
  });

  app.get<{ Params: P; Querystring: LoginQuery }>('/sso/:tenantId/login', {
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
      await requireRedirect(tenantId, req.query.redirect_uri);
      const cfg = await idp.config(tenantId);
      if (!cfg?.clientId) throw new SsoError(409, 'sso_not_configured', 'sign-in through the IdP is not set up for this tenant: enter the client id and secret in its OIDC configuration');
      const secret = await getOidcClientSecret(db, tenantId);
      if (!secret) throw new SsoError(409, 'sso_not_configured', 'the OIDC configuration has a client id but no client secret');
      const ep = await idpEndpoints(cfg, idp.keys);
      const state = randomToken(32);
      const nonce = randomToken(24);
      const codeVerifier = randomToken(48);
      const browser = randomToken(24);
      const ttl = sso.options.stateTtlSeconds;
      await saveState(db, tenantId, state, {
        nonce, codeVerifier, browserHash: sha256Hex(browser), redirectUri: req.query.redirect_uri, clientState: req.query.state ?? null,
      }, ttl);
      const base = publicBaseUrl(req, deps.config.publicUrl);
      // Binds the sign-in to this browser (login CSRF): the callback needs the cookie back.
      const secure = base.startsWith('https:') ? '; Secure' : '';
      reply.header('set-cookie', `${cookieName(state)}=${browser}; Path=/sso/${tenantId}/callback; Max-Age=${ttl}; HttpOnly; SameSite=Lax${secure}`);
      reply.header('cache-control', 'no-store');
      req.log.info({ tenantId }, 'sso sign-in started');
      return reply.redirect(authorizationUrl(ep, {
        clientId: cfg.clientId, redirectUri: ssoCallbackUrl(base, tenantId), state, nonce, codeVerifier, scope: sso.options.scope, loginHint: req.query.login_hint,
      }), 302);
    } catch (err) {
      if (err instanceof SsoError) return fail(reply, err);
      throw err;
    }
  });

  app.get<{ Params: P; Querystring: CallbackQuery }>('/sso/:tenantId/callback', {
    schema: {
      summary: 'Where the IdP sends the user back (register this URL at the IdP)',
      params: tenantParams,
      querystring: {
        type: 'object',
        properties: {
          state: { type: 'string', maxLength: 1000 },
          code: { type: 'string', maxLength: 4000 },
          error: { type: 'string', maxLength: 200 },
          error_description: { type: 'string', maxLength: 2000 },
          iss: { type: 'string', maxLength: 2000 },
        },
      },
    },
  }, async (req, reply) => {
    const { tenantId } = req.params;
    const q = req.query;
    reply.header('cache-control', 'no-store');
    const pending = q.state ? await takeState(db, tenantId, q.state) : undefined;
    if (!pending) {
      req.log.info({ tenantId }, 'sso callback with an unknown, expired or used state');
      return fail(reply, new SsoError(400, 'invalid_state', 'This sign-in is unknown, has expired or was already used. Start again from the application.'));
    }
    const name = cookieName(q.state!);
    reply.header('set-cookie', `${name}=; Path=/sso/${tenantId}/callback; Max-Age=0; HttpOnly; SameSite=Lax`);
    const browser = readCookie(req, name);
    if (!browser || sha256Hex(browser) !== pending.browserHash) {
      req.log.warn({ tenantId }, 'sso callback from another browser than the one that started it');
      return fail(reply, new SsoError(400, 'invalid_state', 'This sign-in was started in another browser (or its cookie was blocked). Start again from the application.'));
    }
    // From here the redirect URI is known and registered: failures go back to the host product.
    try {
      if (q.error) throw new SsoError(400, 'idp_error', `the IdP refused the sign-in: ${q.error}${q.error_description ? ` (${q.error_description})` : ''}`);
      if (!q.code) throw new SsoError(400, 'invalid_request', 'the IdP sent no authorization code');
      const cfg = await idp.config(tenantId);
      const secret = cfg?.clientId ? await getOidcClientSecret(db, tenantId) : null;
      if (!cfg?.clientId || !secret) throw new SsoError(409, 'sso_not_configured', 'sign-in through the IdP is no longer set up for this tenant');
      const ep = await idpEndpoints(cfg, idp.keys);
      // RFC 9207: an IdP that names itself must be this tenant's (mix-up defence).
      if (q.iss !== undefined && q.iss !== ep.issuer) throw new SsoError(400, 'idp_error', `the authorization response comes from ${q.iss}, not this tenant's IdP (${ep.issuer})`);
      const base = publicBaseUrl(req, deps.config.publicUrl);
      const idToken = await exchangeCode(ep, { clientId: cfg.clientId, clientSecret: secret, code: q.code, redirectUri: ssoCallbackUrl(base, tenantId), codeVerifier: pending.codeVerifier });
      const claims = await verifyIdToken(idToken, cfg, idp.keys, pending.nonce);
      const lookups = identityLookups(claims, cfg);
      let identityId: string | undefined;
      for (const l of lookups) {
        const found = await findIdentity(db, tenantId, { [l.attribute]: l.value });
        if (found) {
          identityId = found.id;
          break;
        }
      }
      if (!identityId) {
        throw new SsoError(403, 'identity_not_found', `You signed in at the IdP, but no provisioned identity matches you (${describeLookups(lookups)}). Ask your IT admin to assign you to the application (SCIM provisioning).`);
      }
      const access = checkAccess(await effectiveAccess(db, tenantId, identityId), 'signed in');
      const method = await loginMethodRow(db, tenantId, identityId);
      if (method?.method === 'password') throw new SsoError(403, 'login_method_password', `${access.identity.userName} signs in with a password, not through the IdP`);
      if (access.identity.status === 'staged') {
        await activateStagedIdentity(db, tenantId, identityId);
        access.identity = { ...access.identity, status: 'active' };
      }
      const { token } = await issueIdpbridgeToken(sso, {
        issuer: base, audience: pending.redirectUri, tenantId, access, amr: 'idp', idp: { iss: claims.iss!, sub: claims.sub! },
      });
      req.log.info({ tenantId, identityId }, 'sso sign-in through the IdP');
      return reply.redirect(withParams(pending.redirectUri, { token, state: pending.clientState }), 303);
    } catch (err) {
      if (!(err instanceof SsoError)) throw err;
      req.log.info({ tenantId, reason: err.code, err: err.message }, 'sso sign-in refused');
      return reply.redirect(withParams(pending.redirectUri, {
        error: OAUTH_ERROR[err.code] ?? (err.status >= 500 ? 'server_error' : 'invalid_request'),
        error_code: err.code,
        error_description: err.message,
        state: pending.clientState,
      }), 303);
    }
  });

  app.get<{ Params: P; Querystring: { redirect_uri: string; state?: string } }>('/sso/:tenantId/password-login', {
    schema: {
      summary: 'Password sign-in form for guests (identities whose login method is password)',
      params: tenantParams,
      querystring: { type: 'object', properties: { redirect_uri: { type: 'string', maxLength: 2000 }, state: { type: 'string', maxLength: 1000 } } },
    },
  }, async (req, reply) => {
    try {
      await requireRedirect(req.params.tenantId, req.query.redirect_uri);
    } catch (err) {
      if (err instanceof SsoError) return fail(reply, err);
      throw err;
    }
    const action = ssoPasswordLoginUrl('', req.params.tenantId);
    return page(reply, 200, passwordPage({ action, redirectUri: req.query.redirect_uri, state: req.query.state }));
  });

  app.post<{ Params: P; Body: PasswordBody }>('/sso/:tenantId/password-login', {
    schema: {
      summary: 'Sign in with a built-in password (guests); JSON → the token, HTML form → redirect with the token',
      params: tenantParams,
      body: {
        type: 'object',
        required: ['userName', 'password', 'redirect_uri'],
        additionalProperties: false,
        properties: {
          userName: { type: 'string', minLength: 1, maxLength: 256 },
          password: { type: 'string', minLength: 1, maxLength: 1024 },
          redirect_uri: { type: 'string', minLength: 1, maxLength: 2000 },
          state: { type: 'string', maxLength: 1000 },
        },
      },
    },
    config: deps.config.rateLimitPerMinute > 0
      ? { rateLimit: { max: 20, timeWindow: 60_000, keyGenerator: (req: FastifyRequest) => `sso-pw:${(req.params as P).tenantId}:${req.ip}` } }
      : {},
  }, async (req, reply) => {
    const { tenantId } = req.params;
    const b = req.body;
    const isForm = (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
    reply.header('cache-control', 'no-store');
    try {
      await requireRedirect(tenantId, b.redirect_uri);
      const found = await findIdentity(db, tenantId, { userName: b.userName });
      const row = found ? await loginMethodRow(db, tenantId, found.id) : undefined;
      const wrong = new SsoError(401, 'invalid_credentials', 'User name or password is wrong, or this identity signs in through the organisation\'s IdP.');
      if (!found || row?.method !== 'password' || !row.password_hash) {
        await verifyPassword(b.password, await dummyHash);
        throw wrong;
      }
      if (row.locked) throw new SsoError(429, 'locked', 'Too many failed attempts: this identity\'s password sign-in is locked for a while. Try again later.');
      const ok = await verifyPassword(b.password, row.password_hash);
      await recordPasswordResult(db, tenantId, found.id, ok);
      if (!ok) throw wrong;
      const access = checkAccess(await effectiveAccess(db, tenantId, found.id), b.userName);
      if (access.identity.status === 'staged') {
        await activateStagedIdentity(db, tenantId, found.id);
        access.identity = { ...access.identity, status: 'active' };
      }
      const base = publicBaseUrl(req, deps.config.publicUrl);
      const issued = await issueIdpbridgeToken(sso, { issuer: base, audience: b.redirect_uri, tenantId, access, amr: 'pwd' });
      req.log.info({ tenantId, identityId: found.id }, 'sso password sign-in');
      if (isForm) return reply.redirect(withParams(b.redirect_uri, { token: issued.token, state: b.state }), 303);
      return { token: issued.token, tokenType: 'Bearer', expiresIn: issued.expiresIn, redirectUri: withParams(b.redirect_uri, { token: issued.token, state: b.state }) };
    } catch (err) {
      if (!(err instanceof SsoError)) throw err;
      req.log.info({ tenantId, reason: err.code }, 'sso password sign-in refused');
      if (isForm) {
        if (err.code === 'unregistered_redirect_uri' || err.code === 'invalid_request') return fail(reply, err);
        return page(reply, err.status, passwordPage({ action: ssoPasswordLoginUrl('', tenantId), redirectUri: b.redirect_uri, state: b.state, userName: b.userName, error: err.message }));
      }
      throw new ApiError(`ERR_${err.code.toUpperCase()}` as ApiErrorCode, err.message); // TODO(error family)
    }
  });
}
