import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Queryable } from '../db/types.js';
import { digestsEqual, sha256Hex } from '../lib/secrets.js';
import { cookieNames, readCookie } from './cookies.js';

/** Who a console session belongs to. */
export type ConsolePrincipal =
  | { kind: 'operator' }
  | { kind: 'tenant_admin'; tenantId: string; accountId: string; login: string; setupLinkId?: undefined }
  /** Opened through a set-up link (no password account): the same tenant scope, ends with the link. */
  | { kind: 'tenant_admin'; tenantId: string; accountId: null; login: string; setupLinkId: string };

/** A session ends after this long without a request… */
export const SESSION_IDLE_MS = 2 * 60 * 60 * 1000;
/** …and at the latest this long after sign-in. */
export const SESSION_MAX_MS = 12 * 60 * 60 * 1000;
/** last_seen_at is written at most this often (one UPDATE per minute, not per request). */
const TOUCH_EVERY_MS = 60 * 1000;

export const CSRF_HEADER = 'x-csrf-token';
/** What the console shows as the signed-in login of a set-up link session. */
export const SETUP_LINK_LOGIN = 'Set-up link';

interface SessionRow {
  kind: 'operator' | 'tenant_admin';
  tenant_id: string | null;
  account_id: string | null;
  login: string | null;
  setup_link_id: string | null;
  csrf_hash: string;
  last_seen_at: Date;
  expires_at: Date;
}

export interface ConsoleSession {
  principal: ConsolePrincipal;
  tokenHash: string;
  csrfHash: string;
}

const newSecret = () => randomBytes(32).toString('base64url');

/** `endsBy`: the session ends then at the latest (a set-up link's expiry). */
export async function createSession(db: Queryable, principal: ConsolePrincipal, endsBy?: Date): Promise<{ token: string; csrfToken: string; maxAgeSeconds: number }> {
  const token = newSecret();
  const csrfToken = newSecret();
  const expiresAt = new Date(Math.min(Date.now() + SESSION_MAX_MS, endsBy?.getTime() ?? Infinity));
  await db.query(
    `INSERT INTO console_sessions (token_hash, kind, tenant_id, account_id, setup_link_id, csrf_hash, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [
      sha256Hex(token), principal.kind,
      principal.kind === 'tenant_admin' ? principal.tenantId : null,
      principal.kind === 'tenant_admin' ? principal.accountId : null,
      principal.kind === 'tenant_admin' ? principal.setupLinkId ?? null : null,
      sha256Hex(csrfToken), expiresAt,
    ],
  );
  // Housekeeping: expired sessions are removed by whichever process signs someone in next.
  await db.query(`DELETE FROM console_sessions WHERE expires_at < now() OR last_seen_at < $1`, [new Date(Date.now() - SESSION_IDLE_MS)]);
  return { token, csrfToken, maxAgeSeconds: Math.max(1, Math.floor((expiresAt.getTime() - Date.now()) / 1000)) };
}

/** The session a cookie value names, if it is live (not expired, not idle, account enabled or set-up link live). */
export async function lookupSession(db: Queryable, token: string): Promise<ConsoleSession | undefined> {
  if (!token || token.length > 200) return undefined;
  const tokenHash = sha256Hex(token);
  const { rows } = await db.query<SessionRow>(
    `SELECT s.kind, s.tenant_id, s.account_id, a.login, s.setup_link_id, s.csrf_hash, s.last_seen_at, s.expires_at
       FROM console_sessions s
       LEFT JOIN console_accounts a ON a.tenant_id = s.tenant_id AND a.id = s.account_id
       LEFT JOIN setup_links l ON l.tenant_id = s.tenant_id AND l.id = s.setup_link_id
      WHERE s.token_hash = $1 AND s.expires_at > now()
        AND (s.kind = 'operator' OR (a.id IS NOT NULL AND a.disabled_at IS NULL)
          OR (l.id IS NOT NULL AND l.revoked_at IS NULL AND l.expires_at > now()))`,
    [tokenHash],
  );
  const r = rows[0];
  if (!r) return undefined;
  const now = Date.now();
  if (now - r.last_seen_at.getTime() > SESSION_IDLE_MS) {
    await db.query('DELETE FROM console_sessions WHERE token_hash = $1', [tokenHash]);
    return undefined;
  }
  if (now - r.last_seen_at.getTime() > TOUCH_EVERY_MS) {
    await db.query('UPDATE console_sessions SET last_seen_at = now() WHERE token_hash = $1', [tokenHash]);
  }
  const principal: ConsolePrincipal = r.kind === 'operator'
    ? { kind: 'operator' }
    : r.setup_link_id
      ? { kind: 'tenant_admin', tenantId: r.tenant_id!, accountId: null, login: SETUP_LINK_LOGIN, setupLinkId: r.setup_link_id }
      : { kind: 'tenant_admin', tenantId: r.tenant_id!, accountId: r.account_id!, login: r.login! };
  return { principal, tokenHash, csrfHash: r.csrf_hash };
}

export async function deleteSession(db: Queryable, tokenHash: string): Promise<void> {
  await db.query('DELETE FROM console_sessions WHERE token_hash = $1', [tokenHash]);
}

export async function deleteAccountSessions(db: Queryable, tenantId: string, accountId: string): Promise<void> {
  await db.query('DELETE FROM console_sessions WHERE tenant_id = $1 AND account_id = $2', [tenantId, accountId]);
}

/** The session cookie's value on this request, if any. */
export function sessionCookie(req: FastifyRequest): string | undefined {
  return readCookie(req, cookieNames(req).session) || undefined;
}

/**
 * Double-submit CSRF check: the header must equal the CSRF cookie, and both must be the token
 * issued with this very session (its hash is stored with the session).
 */
export function csrfValid(req: FastifyRequest, session: ConsoleSession): boolean {
  const header = req.headers[CSRF_HEADER];
  if (typeof header !== 'string' || header.length === 0 || header.length > 200) return false;
  const cookie = readCookie(req, cookieNames(req).csrf);
  if (!cookie) return false;
  const a = Buffer.from(header);
  const b = Buffer.from(cookie);
  if (a.length !== b.length || !timingSafeEqual(a, b)) return false;
  return digestsEqual(sha256Hex(header), session.csrfHash);
}

export const isSafeMethod = (method: string) => method === 'GET' || method === 'HEAD' || method === 'OPTIONS';
