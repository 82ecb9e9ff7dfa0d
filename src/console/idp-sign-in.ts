import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppDeps } from '../app-deps.js';
import { publicBaseUrl } from '../http/base-url.js';
import { isUuid } from '../lib/ids.js';
import { noteSignIn } from '../lib/sign-in-note.js';
import { getTenant } from '../tenants/tenants.js';
import { accountForIdentity } from './accounts.js';
import { isLocalPlainHttp, readCookie, setSessionCookies } from './cookies.js';
import { createSession, lookupSession, sessionCookie } from './sessions.js';

/** Binds a started console sign-in to its browser; Lax, because the IdP sends the browser back cross-site. */
const STATE_COOKIE = 'idpb_console_sso';
const STATE_TTL_SECONDS = 10 * 60;
const COOKIE_PATH = '/console/api/sso';
/** The console pages a sign-in test may return to (never a URL from the request). */
const TEST_RETURN_PAGES = { 'sign-in': 'sign-in', wizard: 'setup' } as const;
type TestReturn = keyof typeof TEST_RETURN_PAGES;

function stateCookie(req: FastifyRequest, value: string, maxAge: number): string {
  const secure = isLocalPlainHttp(req) ? '' : '; Secure';
  return `${STATE_COOKIE}=${value}; Path=${COOKIE_PATH}; Max-Age=${maxAge}; HttpOnly; SameSite=Lax${secure}`;
}

/** Back to the console's sign-in page with a reason it shows (the hash is the console's router). */
function backToSignIn(reply: FastifyReply, tenantId: string | undefined, message: string) {
  const q = new URLSearchParams({ ...(tenantId && isUuid(tenantId) ? { org: tenantId } : {}), sso_error: message });
  return reply.redirect(`/console#/?${q.toString()}`, 303);
}

const sameSecret = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/** The pending sign-in this browser started: `{tenantId}.{page}.{state}` in the state cookie, checked against the answer's state. */
function pendingOf(req: FastifyRequest, state: string | undefined): { tenantId: string; page: string } | undefined {
  const [tenantId = '', page = '', expected = ''] = (readCookie(req, STATE_COOKIE) ?? '').split('.');
  if (!isUuid(tenantId) || !expected || !state || !sameSecret(expected, state)) return undefined;
  return { tenantId, page };
}

type Answer = { token?: string; state?: string; error?: string; error_code?: string; error_description?: string };
const answerSchema = {
  type: 'object',
  properties: {
    token: { type: 'string', maxLength: 16_384 }, state: { type: 'string', maxLength: 200 }, error: { type: 'string', maxLength: 200 },
    error_code: { type: 'string', maxLength: 200 }, error_description: { type: 'string', maxLength: 2000 },
  },
} as const;

/**
 * The console's own sign-ins through a tenant's IdP, by way of the sign-in broker
 * (`/sso/{tenantId}/login`: the same checks as any sign-in, a provisioned identity and the access
 * decision), under `/console/api/sso/`:
 * - "Sign in with your organisation" (`start`, `callback`): the identity must be linked to an
 *   enabled console account of that tenant, by login = the identity's userName (docs/sso.md), and
 *   gets that account's tenant-scoped session.
 * - "Sign in to test" (`test`, `test-callback`): an admin already in the console runs the real
 *   sign-in and sees the identity it resolved and its datasets; no session is created.
 */
export async function idpSignInRoutes(app: FastifyInstance, { deps }: { deps: AppDeps }): Promise<void> {
  const https = (req: FastifyRequest) => req.protocol === 'https' || isLocalPlainHttp(req);
  const base = (req: FastifyRequest) => publicBaseUrl(req, deps.config.publicUrl);
  const newState = () => randomBytes(24).toString('base64url');

  app.get<{ Querystring: { tenantId: string } }>('/sso/start', {
    schema: { querystring: { type: 'object', required: ['tenantId'], properties: { tenantId: { type: 'string', maxLength: 64 } } } },
  }, async (req, reply) => {
    reply.header('cache-control', 'no-store');
    const tenantId = req.query.tenantId.trim().toLowerCase();
    if (!https(req)) return backToSignIn(reply, tenantId, 'The console signs in over HTTPS only.');
    if (!isUuid(tenantId) || !(await getTenant(deps.db, tenantId))) {
      return backToSignIn(reply, undefined, 'There is no organisation with this id. Ask your provider for the console link of your organisation.');
    }
    const state = newState();
    reply.header('set-cookie', stateCookie(req, `${tenantId}.console.${state}`, STATE_TTL_SECONDS));
    return reply.redirect(deps.sso.console.loginUrl(base(req), tenantId, 'sign-in', state), 302);
  });

  app.get<{ Querystring: Answer }>('/sso/callback', { schema: { querystring: answerSchema } }, async (req, reply) => {
    reply.header('cache-control', 'no-store');
    const q = req.query;
    const pending = pendingOf(req, q.state);
    const clearState = stateCookie(req, '', 0);
    reply.header('set-cookie', clearState);
    // Login CSRF: the answer must come back to the browser that started this sign-in.
    // Every way out is noted for the audit trail (console.signed_in / console.sign_in_refused).
    const refused = (tenantId: string | null, login: string | null, reason: string) => noteSignIn(req, { outcome: 'refused', tenantId, login, reason });
    if (!pending || pending.page !== 'console') {
      refused(null, null, 'state_mismatch');
      return backToSignIn(reply, undefined, 'This sign-in was started in another browser or has expired. Start again.');
    }
    const { tenantId } = pending;
    // Until the token is verified the tenant id is the browser's word: only a real tenant's chain gets the entry.
    const claimed = async () => ((await getTenant(deps.db, tenantId)) ? tenantId : null);
    if (q.error || !q.token) {
      refused(await claimed(), null, 'idp_refused');
      return backToSignIn(reply, tenantId, q.error_description ?? 'Your organisation\'s sign-in did not complete.');
    }
    const who = await deps.sso.console.verify(base(req), tenantId, 'sign-in', q.token);
    if ('problem' in who) {
      refused(await claimed(), null, 'invalid_token');
      req.log.warn({ tenantId, reason: who.problem }, 'console sign-in through the IdP refused: bad token');
      return backToSignIn(reply, tenantId, 'The sign-in answer could not be verified. Start again.');
    }
    const account = await accountForIdentity(deps.db, tenantId, who.userName);
    if (!account) {
      refused(tenantId, who.userName, 'no_console_account');
      req.log.info({ tenantId }, 'console sign-in through the IdP refused: no linked console account');
      return backToSignIn(reply, tenantId, `You signed in as ${who.userName}, but no console account of this organisation has that login. Ask your provider to create one, or sign in with your password.`);
    }
    if (account.disabled) {
      refused(tenantId, account.login, 'account_disabled');
      return backToSignIn(reply, tenantId, 'This console account is disabled; ask the operator to enable it.');
    }
    const s = await createSession(deps.db, { kind: 'tenant_admin', tenantId: account.tenantId, accountId: account.id, login: account.login });
    noteSignIn(req, { outcome: 'signed-in', tenantId: account.tenantId, accountId: account.id, login: account.login });
    setSessionCookies(req, reply, s.token, s.csrfToken, s.maxAgeSeconds);
    // setSessionCookies sets the header anew: clear the state cookie along with it.
    reply.header('set-cookie', [...[reply.getHeader('set-cookie')].flat().map(String), clearState]);
    req.log.info({ kind: 'tenant_admin', tenantId, via: 'idp' }, 'console sign-in');
    return reply.redirect(`/console#/t/${account.tenantId}/integration`, 303);
  });

  app.get<{ Querystring: { tenantId: string; return?: TestReturn } }>('/sso/test', {
    schema: {
      querystring: {
        type: 'object', required: ['tenantId'],
        properties: { tenantId: { type: 'string', format: 'uuid' }, return: { type: 'string', enum: Object.keys(TEST_RETURN_PAGES) } },
      },
    },
  }, async (req, reply) => {
    reply.header('cache-control', 'no-store');
    const tenantId = req.query.tenantId.toLowerCase();
    // Only someone administering this tenant in the console may start a test (a top-level
    // navigation from the console itself, so the SameSite=Strict session cookie is sent).
    const cookie = sessionCookie(req);
    const s = cookie ? await lookupSession(deps.db, cookie) : undefined;
    const allowed = s && (s.principal.kind === 'operator' || s.principal.tenantId === tenantId);
    if (!allowed) return backToSignIn(reply, tenantId, 'Sign in to the console first.');
    const page = TEST_RETURN_PAGES[req.query.return ?? 'sign-in'];
    const state = newState();
    reply.header('set-cookie', stateCookie(req, `${tenantId}.${page}.${state}`, STATE_TTL_SECONDS));
    return reply.redirect(deps.sso.console.loginUrl(base(req), tenantId, 'test', state), 302);
  });

  app.get<{ Querystring: Answer }>('/sso/test-callback', { schema: { querystring: answerSchema } }, async (req, reply) => {
    reply.header('cache-control', 'no-store');
    const q = req.query;
    const pending = pendingOf(req, q.state);
    reply.header('set-cookie', stateCookie(req, '', 0));
    if (!pending || !(Object.values(TEST_RETURN_PAGES) as string[]).includes(pending.page)) {
      return backToSignIn(reply, undefined, 'This sign-in test was started in another browser or has expired. Start it again from the console.');
    }
    let result: Record<string, unknown>;
    if (q.error || !q.token) {
      result = { ok: false, code: q.error_code ?? q.error ?? 'no_token', message: q.error_description ?? 'The sign-in did not complete.' };
    } else {
      const who = await deps.sso.console.verify(base(req), pending.tenantId, 'test', q.token);
      result = 'problem' in who
        ? { ok: false, code: 'invalid_token', message: `The broker's answer could not be verified (${who.problem}).` }
        : { ok: true, ...who };
    }
    req.log.info({ tenantId: pending.tenantId, ok: result.ok }, 'console sign-in test');
    // The result (no token) travels in the console's hash route, which is never sent to a server.
    const encoded = Buffer.from(JSON.stringify(result)).toString('base64url');
    return reply.redirect(`/console#/t/${pending.tenantId}/${pending.page}?signin_test=${encoded}`, 303);
  });
}
