import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fastifyStatic from '@fastify/static';
import type { AppDeps } from '../app-deps.js';
import { ApiError } from '../http/errors.js';
import { registerRateLimit } from '../http/rate-limit.js';
import { getTenant } from '../tenants/tenants.js';
import { signIn } from './accounts.js';
import { clearSessionCookies, isLocalPlainHttp, setSessionCookies } from './cookies.js';
import { createSession, csrfValid, deleteSession, lookupSession, sessionCookie, SETUP_LINK_LOGIN, type ConsolePrincipal } from './sessions.js';
import { redeemSetupLink } from './setup-links.js';
import { idpSignInRoutes } from './idp-sign-in.js';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * The built console (vite build → dist/web): `configured` (IDPBRIDGE_CONSOLE_DIR) if set, else next to
 * dist/console when built, or from src/console in development.
 */
export function consoleDir(configured?: string): string {
  if (configured) return configured;
  for (const dir of [join(here, '../web'), join(here, '../../dist/web')]) {
    if (existsSync(join(dir, 'index.html'))) return dir;
  }
  return join(here, '../../dist/web');
}

// script-src 'self' only: no inline script, no eval. Styles come from the built CSS file.
const CSP = [
  "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "font-src 'self'",
  "connect-src 'self'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'", "object-src 'none'",
].join('; ');

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>idpbridge console not built</title></head>
<body style="font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;line-height:1.5">
<h1>The console has not been built</h1>
<p>This idpbridge server has no console files. Run <code>npm run build</code> (it runs on <code>npm install</code> too) and restart the server.</p>
<p>The admin API at <code>/admin/v1</code> works without the console.</p>
</body></html>`;

/** Sign-in attempts per minute and client address. */
const SIGN_IN_PER_MINUTE = 30;

interface SignInBody {
  operatorToken?: string;
  login?: string;
  password?: string;
}

async function principalView(deps: AppDeps, p: ConsolePrincipal) {
  if (p.kind === 'operator') return { kind: 'operator' as const };
  const t = await getTenant(deps.db, p.tenantId);
  return {
    kind: 'tenant_admin' as const, tenantId: p.tenantId, tenantName: t?.name ?? null, login: p.login, accountId: p.accountId,
    setupLink: p.setupLinkId !== undefined,
  };
}

const principalSchema = {
  type: 'object',
  properties: {
    kind: { type: 'string', enum: ['operator', 'tenant_admin'] },
    tenantId: { type: 'string' },
    tenantName: { type: ['string', 'null'] },
    login: { type: 'string' },
    accountId: { type: ['string', 'null'] },
    setupLink: { type: 'boolean', description: 'The session was opened through a set-up link (no password account)' },
  },
} as const;

/** Sign-in, who-am-I and sign-out for the console: `/console/api/session`. */
async function sessionRoutes(app: FastifyInstance, { deps }: { deps: AppDeps }): Promise<void> {
  app.removeContentTypeParser('text/plain');
  if (deps.config.rateLimitPerMinute > 0) {
    // Sign-in only (the route opts in), 30 a minute per address; per process, so account lockout
    // (in the database) is the cross-process defence.
    await registerRateLimit(app, {
      max: SIGN_IN_PER_MINUTE,
      scope: 'console',
      keyBy: 'ip',
      global: false,
      error: (retryAfter, max) => new ApiError('ERR_RATE_LIMITED', `More than ${max} sign-in attempts a minute from this address; retry after ${retryAfter} s`),
    });
  }

  app.post<{ Body: SignInBody }>('/session', {
    config: { rateLimit: {} },
    schema: {
      body: {
        type: 'object', additionalProperties: false,
        properties: {
          operatorToken: { type: 'string', minLength: 1, maxLength: 512 },
          login: { type: 'string', minLength: 1, maxLength: 320 },
          password: { type: 'string', minLength: 1, maxLength: 1024 },
        },
      },
      response: { 200: { type: 'object', properties: { principal: principalSchema, csrfToken: { type: 'string' } } } },
    },
  }, async (req, reply) => {
    if (req.protocol !== 'https' && !isLocalPlainHttp(req)) {
      throw new ApiError('ERR_HTTPS_REQUIRED', 
        'The console signs in over HTTPS only (session cookies are Secure). Open it with https://, or set IDPBRIDGE_TRUST_PROXY=true behind a TLS-terminating proxy.');
    }
    const b = req.body;
    let principal: ConsolePrincipal;
    if (b.operatorToken !== undefined) {
      if (b.login !== undefined || b.password !== undefined) throw new ApiError('ERR_BAD_REQUEST', 'Give either the operator token or a login and password');
      if (!deps.operatorAuth.verify(b.operatorToken.trim())) throw new ApiError('ERR_SIGN_IN_FAILED', 'That operator token is not valid');
      principal = { kind: 'operator' };
    } else {
      if (!b.login || !b.password) throw new ApiError('ERR_BAD_REQUEST', 'Enter your login and password');
      const r = await signIn(deps.db, b.login, b.password);
      if (!r.ok) {
        if (r.reason === 'locked') {
          reply.header('retry-after', String(r.retryAfterSeconds ?? 900));
          throw new ApiError('ERR_ACCOUNT_LOCKED', 
            `Too many failed sign-ins for this account; try again in ${Math.ceil((r.retryAfterSeconds ?? 900) / 60)} minutes`);
        }
        if (r.reason === 'disabled') throw new ApiError('ERR_ACCOUNT_DISABLED', 'This console account is disabled; ask the operator to enable it');
        throw new ApiError('ERR_SIGN_IN_FAILED', 'The login or password is not correct');
      }
      principal = { kind: 'tenant_admin', tenantId: r.account.tenantId, accountId: r.account.id, login: r.account.login };
    }
    const s = await createSession(deps.db, principal);
    setSessionCookies(req, reply, s.token, s.csrfToken, s.maxAgeSeconds);
    reply.header('cache-control', 'no-store');
    req.log.info({ kind: principal.kind, tenantId: principal.kind === 'tenant_admin' ? principal.tenantId : undefined }, 'console sign-in');
    return { principal: await principalView(deps, principal), csrfToken: s.csrfToken };
  });

  // A set-up link (POST …/setup-links) opens here: the console page reads tenant and secret from the
  // URL fragment (never sent to servers or in Referer) and exchanges them for a session of that tenant.
  app.post<{ Body: { tenantId: string; secret: string } }>('/setup-session', {
    config: { rateLimit: {} },
    schema: {
      body: {
        type: 'object', additionalProperties: false, required: ['tenantId', 'secret'],
        properties: {
          tenantId: { type: 'string', format: 'uuid' },
          secret: { type: 'string', minLength: 1, maxLength: 200 },
        },
      },
      response: { 200: { type: 'object', properties: { principal: principalSchema, csrfToken: { type: 'string' } } } },
    },
  }, async (req, reply) => {
    if (req.protocol !== 'https' && !isLocalPlainHttp(req)) {
      throw new ApiError('ERR_HTTPS_REQUIRED',
        'The console signs in over HTTPS only (session cookies are Secure). Open it with https://, or set IDPBRIDGE_TRUST_PROXY=true behind a TLS-terminating proxy.');
    }
    const { tenantId, secret } = req.body;
    const s = await deps.db.transaction(async (tx) => {
      const link = await redeemSetupLink(tx, tenantId, secret);
      if (!link) return undefined;
      const principal: ConsolePrincipal = { kind: 'tenant_admin', tenantId: link.tenantId, accountId: null, login: SETUP_LINK_LOGIN, setupLinkId: link.id };
      return { principal, ...(await createSession(tx, principal, link.expiresAt)) };
    });
    if (!s) throw new ApiError('ERR_SETUP_LINK_INVALID', 'This set-up link is unknown, has expired or was revoked; ask for a new one');
    setSessionCookies(req, reply, s.token, s.csrfToken, s.maxAgeSeconds);
    reply.header('cache-control', 'no-store');
    req.log.info({ kind: 'setup_link', tenantId }, 'console sign-in');
    return { principal: await principalView(deps, s.principal), csrfToken: s.csrfToken };
  });

  app.get('/session', {
    schema: { response: { 200: { type: 'object', properties: { principal: principalSchema } } } },
  }, async (req: FastifyRequest, reply: FastifyReply) => {
    const cookie = sessionCookie(req);
    const s = cookie ? await lookupSession(deps.db, cookie) : undefined;
    reply.header('cache-control', 'no-store');
    if (!s) throw new ApiError('ERR_UNAUTHORIZED', 'Not signed in');
    return { principal: await principalView(deps, s.principal) };
  });

  app.delete('/session', async (req, reply) => {
    const cookie = sessionCookie(req);
    const s = cookie ? await lookupSession(deps.db, cookie) : undefined;
    if (s) {
      if (!csrfValid(req, s)) throw new ApiError('ERR_CSRF', 'Missing or invalid CSRF token (x-csrf-token header); reload the console and try again');
      await deleteSession(deps.db, s.tokenHash);
    }
    clearSessionCookies(req, reply);
    return reply.code(204).send();
  });
}

/**
 * The console: static files built by Vite from web/ (served at /console with a strict CSP) and
 * its session API at /console/api. Without a build, /console answers 503 saying how to build it.
 */
export async function consolePlugin(app: FastifyInstance, { deps }: { deps: AppDeps }): Promise<void> {
  await app.register(sessionRoutes, { prefix: '/console/api', deps });
  await app.register(idpSignInRoutes, { prefix: '/console/api', deps });

  await app.register(async (web) => {
    web.addHook('onSend', async (_req, reply, payload) => {
      reply.header('content-security-policy', CSP);
      reply.header('x-frame-options', 'DENY');
      return payload;
    });
    const root = consoleDir(deps.config.consoleDir);
    if (existsSync(join(root, 'index.html'))) {
      // The router ignores trailing slashes, so /console/ is /console: serve index.html there
      // (read per request, so a rebuild while running serves the new asset names).
      web.get('/console', async (_req, reply) =>
        reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(await readFile(join(root, 'index.html'))));
      await web.register(fastifyStatic, {
        root,
        prefix: '/console/',
        decorateReply: false,
        index: ['index.html'],
        setHeaders: (reply, path) => {
          // Hashed asset names never change content; index.html must be revalidated.
          reply.header('cache-control', /[\\/]assets[\\/]/.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache');
        },
      });
    } else {
      const notBuilt = async (_req: FastifyRequest, reply: FastifyReply) =>
        reply.code(503).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(NOT_BUILT_PAGE);
      web.get('/console', notBuilt);
      web.get('/console/*', notBuilt);
    }
  });
}
