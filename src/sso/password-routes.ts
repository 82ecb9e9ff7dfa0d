import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app-deps.js';
import { hashPassword, verifyPassword } from '../lib/secrets.js';
import { decideAccess, effectiveAccess, findIdentity } from '../access/index.js';
import { SsoError } from './errors.js';
import { randomToken } from './oidc-client.js';
import { loginMethodRow, recordPasswordResult } from './store.js';
import { issueIdpbridgeToken } from './service.js';
import { passwordPage } from './pages.js';
import { ssoIssuer, ssoPasswordLoginUrl } from './urls.js';
import { brokerBaseUrl, failPage, page, refusal, requireRedirect, tenantParams, withParams, type TenantParams } from './route-kit.js';

type PasswordBody = { userName: string; password: string; redirect_uri: string; state?: string };

/**
 * `/sso/{tenantId}/password-login` for guests with a built-in password: GET shows the form; POST
 * signs in (JSON → the token; HTML form → redirect with the token, or the form again with the error).
 * POST opts in to the broker's per-address rate limit (`config.rateLimit`).
 */
export function passwordRoutes(app: FastifyInstance, deps: AppDeps): void {
  const { db, idpTokens: idp, sso } = deps;
  // Compared against when the user is unknown, so a miss costs what a wrong password costs.
  const dummyHash = hashPassword(randomToken());

  app.get<{ Params: TenantParams; Querystring: { redirect_uri: string; state?: string } }>('/sso/:tenantId/password-login', {
    schema: {
      summary: 'Password sign-in form for guests (identities whose login method is password)',
      params: tenantParams,
      querystring: { type: 'object', properties: { redirect_uri: { type: 'string', maxLength: 2000 }, state: { type: 'string', maxLength: 1000 } } },
    },
  }, async (req, reply) => {
    try {
      await requireRedirect(db, req.params.tenantId, req.query.redirect_uri);
    } catch (err) {
      if (err instanceof SsoError) return failPage(reply, err);
      throw err;
    }
    const action = ssoPasswordLoginUrl('', req.params.tenantId);
    return page(reply, 200, passwordPage({ action, redirectUri: req.query.redirect_uri, state: req.query.state }));
  });

  app.post<{ Params: TenantParams; Body: PasswordBody }>('/sso/:tenantId/password-login', {
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
    config: { rateLimit: {} },
  }, async (req, reply) => {
    const { tenantId } = req.params;
    const b = req.body;
    const isForm = (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
    reply.header('cache-control', 'no-store');
    try {
      await requireRedirect(db, tenantId, b.redirect_uri);
      const base = brokerBaseUrl(req, deps.config.publicUrl);
      const found = await findIdentity(db, tenantId, { userName: b.userName });
      const row = found ? await loginMethodRow(db, tenantId, found.id) : undefined;
      const wrong = new SsoError('ERR_INVALID_CREDENTIALS', 'User name or password is wrong, or this identity signs in through the organisation\'s IdP.');
      if (!found || row?.method !== 'password' || !row.password_hash) {
        await verifyPassword(b.password, await dummyHash);
        throw wrong;
      }
      if (row.locked) throw new SsoError('ERR_LOCKED', 'Too many failed attempts: this identity\'s password sign-in is locked for a while. Try again later.');
      const ok = await verifyPassword(b.password, row.password_hash);
      await recordPasswordResult(db, tenantId, found.id, ok);
      if (!ok) throw wrong;
      const d = decideAccess(await effectiveAccess(db, tenantId, found.id), { kind: 'identity' });
      if (!d.allowed) throw refusal(d, b.userName);
      if (d.activate) await idp.activate(tenantId, d.identity.id);
      const issued = await issueIdpbridgeToken(sso, { issuer: ssoIssuer(base, tenantId), audience: b.redirect_uri, tenantId, access: d.access, amr: 'pwd' });
      req.log.info({ tenantId, identityId: found.id }, 'sso password sign-in');
      const redirectUri = withParams(b.redirect_uri, { token: issued.token, state: b.state });
      if (isForm) return reply.redirect(redirectUri, 303);
      return { token: issued.token, tokenType: 'Bearer', expiresIn: issued.expiresIn, redirectUri };
    } catch (err) {
      if (!(err instanceof SsoError)) throw err;
      req.log.info({ tenantId, reason: err.reason }, 'sso password sign-in refused');
      // JSON callers get the error as it is (central handler); a form gets a page.
      if (!isForm) throw err;
      if (err.code === 'ERR_UNREGISTERED_REDIRECT_URI' || err.code === 'ERR_INVALID_REQUEST') return failPage(reply, err);
      return page(reply, err.statusCode, passwordPage({ action: ssoPasswordLoginUrl('', tenantId), redirectUri: b.redirect_uri, state: b.state, userName: b.userName, error: err.message }));
    }
  });
}
