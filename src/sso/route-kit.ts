import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Queryable } from '../db/types.js';
import type { AccessDecision } from '../access/index.js';
import { publicBaseUrl } from '../http/base-url.js';
import { isUuid } from '../lib/ids.js';
import { sha256Hex } from '../lib/secrets.js';
import { SsoError } from './errors.js';
import { isRegisteredRedirectUri } from './store.js';
import { errorPage, PAGE_CSP } from './pages.js';

/** What the broker's route modules share: parameters, HTML answers, redirect-URI checks, the sign-in cookie. */
export const tenantParams = {
  type: 'object',
  required: ['tenantId'],
  properties: { tenantId: { type: 'string', maxLength: 64 } },
} as const;

export type TenantParams = { tenantId: string };

export const page = (reply: FastifyReply, status: number, html: string) =>
  reply.code(status).header('content-type', 'text/html; charset=utf-8').header('content-security-policy', PAGE_CSP).header('cache-control', 'no-store').send(html);

/** The broker's own error page (the browser is not sent back to the host product). */
export const failPage = (reply: FastifyReply, err: SsoError) => page(reply, err.statusCode, errorPage(err.reason, err.message));

const LOOPBACK_HOST_RE = /^(localhost|127(\.\d{1,3}){3}|\[?::1\]?)$/i;

/**
 * idpbridge's base URL for a sign-in: IDPBRIDGE_PUBLIC_URL, or, when it is not set, the request's
 * own origin only if its Host is a loopback name (development). Elsewhere the token `iss` and the
 * callback URL would follow whatever Host header a caller sends, so the sign-in is refused.
 */
export function brokerBaseUrl(req: FastifyRequest, configured: string | undefined): string {
  if (configured) return configured;
  if (LOOPBACK_HOST_RE.test(req.hostname)) return publicBaseUrl(req, undefined);
  throw new SsoError('ERR_SSO_NOT_CONFIGURED',
    'IDPBRIDGE_PUBLIC_URL is not set: sign-in is served on a loopback address only until the operator sets idpbridge\'s public URL (the token issuer and callback URL must not follow the request\'s Host header)');
}

/** The redirect URI must be given and registered for the tenant (exact match; loopback IPs on any port: src/sso/redirect-uris.ts). */
export async function requireRedirect(db: Queryable, tenantId: string, uri: string | undefined): Promise<void> {
  if (!uri) throw new SsoError('ERR_INVALID_REQUEST', 'redirect_uri is required');
  if (!isUuid(tenantId) || !(await isRegisteredRedirectUri(db, tenantId, uri))) {
    throw new SsoError('ERR_UNREGISTERED_REDIRECT_URI', `redirect_uri ${uri} is not registered for this tenant (compared exactly, except the port of http://127.0.0.1 and http://[::1]; register it with POST /admin/v1/tenants/{tenantId}/sso/redirect-uris)`);
  }
}

/** The registered URI with the given parameters added (its own query is kept). */
export function withParams(uri: string, params: Record<string, string | null | undefined>): string {
  const u = new URL(uri);
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null) u.searchParams.set(k, v);
  return u.href;
}

/** A refused access decision (decideAccess) as the broker's error; `who` names the one signing in. */
export function refusal(d: Extract<AccessDecision, { allowed: false }>, who: string): SsoError {
  if (d.reason === 'identity_suspended') return new SsoError('ERR_IDENTITY_SUSPENDED', `${d.identity.userName} is suspended; sign-in is refused`);
  return new SsoError('ERR_IDENTITY_NOT_FOUND', `${who}: no identity`);
}

/** The cookie that binds a started sign-in to its browser (login CSRF). */
export const signInCookieName = (state: string) => `idpb_sso_${sha256Hex(state).slice(0, 16)}`;

export function readCookie(req: FastifyRequest, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}
