import { randomUUID } from 'node:crypto';
import type { Queryable } from '../db/types.js';
import { isUuid } from '../lib/ids.js';
import { hashPassword, sha256Hex } from '../lib/secrets.js';
import { ApiError } from '../http/errors.js';
import { loopbackPrefix, redirectUriMatches } from './redirect-uris.js';
import { lockIdentity } from '../access/identity-lock.js';

// ---- registered redirect URIs --------------------------------------------------------------

export interface RedirectUriView {
  id: string;
  uri: string;
  createdAt: string;
}

export async function listRedirectUris(db: Queryable, tenantId: string): Promise<RedirectUriView[]> {
  const { rows } = await db.query<{ id: string; uri: string; created_at: Date }>(
    'SELECT id, uri, created_at FROM sso_redirect_uris WHERE tenant_id = $1 ORDER BY created_at, uri', [tenantId]);
  return rows.map((r) => ({ id: r.id, uri: r.uri, createdAt: new Date(r.created_at).toISOString() }));
}

/** undefined when the URI is already registered. */
export async function addRedirectUri(db: Queryable, tenantId: string, uri: string): Promise<RedirectUriView | undefined> {
  const { rows } = await db.query<{ id: string; uri: string; created_at: Date }>(
    `INSERT INTO sso_redirect_uris (tenant_id, id, uri) VALUES ($1, $2, $3)
     ON CONFLICT (tenant_id, uri) DO NOTHING RETURNING id, uri, created_at`, [tenantId, randomUUID(), uri]);
  const r = rows[0];
  return r ? { id: r.id, uri: r.uri, createdAt: new Date(r.created_at).toISOString() } : undefined;
}

export async function deleteRedirectUri(db: Queryable, tenantId: string, id: string): Promise<boolean> {
  if (!isUuid(id)) return false;
  return (await db.query('DELETE FROM sso_redirect_uris WHERE tenant_id = $1 AND id = $2', [tenantId, id])).rowCount > 0;
}

/**
 * Whether the requested URI matches one of the tenant's registered URIs (src/sso/redirect-uris.ts:
 * exact, or a loopback IP URI on any port).
 */
export async function isRegisteredRedirectUri(db: Queryable, tenantId: string, uri: string): Promise<boolean> {
  if (!isUuid(tenantId) || uri.length > 2000) return false;
  if ((await db.query('SELECT 1 FROM sso_redirect_uris WHERE tenant_id = $1 AND uri = $2', [tenantId, uri])).rowCount > 0) return true;
  const prefix = loopbackPrefix(uri);
  if (!prefix) return false;
  // Only the tenant's URIs on the same loopback host can match on another port.
  const { rows } = await db.query<{ uri: string }>(
    `SELECT uri FROM sso_redirect_uris WHERE tenant_id = $1 AND left(uri, $3) = $2`, [tenantId, prefix, prefix.length]);
  return rows.some((r) => redirectUriMatches(r.uri, uri));
}

// ---- pending sign-ins (state) ------------------------------------------------------------

export interface PendingSignIn {
  nonce: string;
  codeVerifier: string;
  redirectUri: string;
  clientState: string | null;
  browserHash: string;
  /** The OIDC connection signing in (null: the one standing for the tenant's OIDC configuration). */
  connectionId: string | null;
}

export async function saveState(db: Queryable, tenantId: string, state: string, s: PendingSignIn, ttlSeconds: number): Promise<void> {
  await db.query(
    `INSERT INTO sso_states (tenant_id, state_hash, browser_hash, nonce, code_verifier, redirect_uri, client_state, expires_at, connection_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, now() + make_interval(secs => $8), $9)`,
    [tenantId, sha256Hex(state), s.browserHash, s.nonce, s.codeVerifier, s.redirectUri, s.clientState, ttlSeconds, s.connectionId],
  );
  // Opportunistic sweep of abandoned sign-ins (any process may do it; the index makes it cheap).
  if (Math.random() < 0.05) await db.query('DELETE FROM sso_states WHERE expires_at < now()');
}

/** Consumes a state: returns it once (and never again, whichever process asks); undefined if unknown or expired. */
export async function takeState(db: Queryable, tenantId: string, state: string): Promise<PendingSignIn | undefined> {
  if (!isUuid(tenantId) || state.length === 0 || state.length > 200) return undefined;
  const { rows } = await db.query<{ nonce: string; code_verifier: string; redirect_uri: string; client_state: string | null; browser_hash: string; connection_id: string | null; live: boolean }>(
    `DELETE FROM sso_states WHERE tenant_id = $1 AND state_hash = $2
     RETURNING nonce, code_verifier, redirect_uri, client_state, browser_hash, connection_id, expires_at > now() AS live`,
    [tenantId, sha256Hex(state)],
  );
  const r = rows[0];
  if (!r || !r.live) return undefined;
  return { nonce: r.nonce, codeVerifier: r.code_verifier, redirectUri: r.redirect_uri, clientState: r.client_state, browserHash: r.browser_hash, connectionId: r.connection_id };
}

// ---- login methods -------------------------------------------------------------------------

export type LoginMethod = 'idp' | 'password';

export interface LoginMethodView {
  identityId: string;
  method: LoginMethod;
  passwordSet: boolean;
  lockedUntil: string | null;
  lastLoginAt: string | null;
  updatedAt: string | null;
}

interface MethodRow {
  method: LoginMethod;
  password_hash: string | null;
  failed_attempts: number;
  locked_until: Date | null;
  last_login_at: Date | null;
  updated_at: Date;
  locked: boolean;
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

export async function loginMethodRow(db: Queryable, tenantId: string, identityId: string): Promise<MethodRow | undefined> {
  const { rows } = await db.query<MethodRow>(
    `SELECT method, password_hash, failed_attempts, locked_until, last_login_at, updated_at,
            COALESCE(locked_until > now(), false) AS locked
       FROM sso_login_methods WHERE tenant_id = $1 AND identity_id = $2`, [tenantId, identityId]);
  return rows[0];
}

export function viewLoginMethod(identityId: string, r: MethodRow | undefined): LoginMethodView {
  return {
    identityId,
    method: r?.method ?? 'idp',
    passwordSet: !!r?.password_hash,
    lockedUntil: r?.locked ? iso(r.locked_until) : null,
    lastLoginAt: iso(r?.last_login_at ?? null),
    updatedAt: iso(r?.updated_at ?? null),
  };
}

/** The login method cannot be set as asked (400). */
export class LoginMethodError extends ApiError {
  constructor(message: string) {
    super('ERR_BAD_REQUEST', message);
  }
}

/** What a login-method change replaced (an audit entry's `before`). */
export interface ReplacedLoginMethod {
  method: LoginMethod;
  passwordSet: boolean;
}

/** The method row a write replaces, locked by the write statement (`old` runs before it). */
const OLD_METHOD = `WITH old AS (SELECT method, password_hash IS NOT NULL AS password_set
                    FROM sso_login_methods WHERE tenant_id = $1 AND identity_id = $2 FOR UPDATE)`;
// An INSERT joins `old` so that it is read (and locked) before the row changes: read only for
// RETURNING, it would come after the statement's own change and find nothing.
const JOIN_OLD = 'FROM (SELECT 1) AS one LEFT JOIN old ON true';
const RETURNING_OLD = 'RETURNING (SELECT method FROM old) AS old_method, (SELECT password_set FROM old) AS old_password_set';

/**
 * Sets the login method. 'password' needs a password unless one is stored already; switching to
 * 'idp' forgets the password (a guest later switched back must get a new one). Answers what it
 * replaced, read by the write statement itself; undefined when the identity does not exist.
 */
export async function setLoginMethod(
  db: Queryable, tenantId: string, identityId: string, method: LoginMethod, password?: string,
): Promise<ReplacedLoginMethod | undefined> {
  // Hashed before any lock is taken: scrypt is slow.
  const hash = method === 'password' && password !== undefined ? await hashPassword(password) : undefined;
  // The identity's row first: two writes that both create its method row take turns as well.
  if (!(await lockIdentity(db, tenantId, identityId))) return undefined;
  type Old = { old_method: LoginMethod | null; old_password_set: boolean | null };
  let old: Old | undefined;
  if (method === 'idp') {
    ({ rows: [old] } = await db.query<Old>(
      `${OLD_METHOD}
       INSERT INTO sso_login_methods (tenant_id, identity_id, method) SELECT $1::uuid, $2::uuid, 'idp' ${JOIN_OLD}
       ON CONFLICT (tenant_id, identity_id) DO UPDATE SET method = 'idp', password_hash = NULL, failed_attempts = 0,
         locked_until = NULL, updated_at = now()
       ${RETURNING_OLD}`, [tenantId, identityId]));
  } else if (hash === undefined) {
    ({ rows: [old] } = await db.query<Old>(
      `${OLD_METHOD}
       UPDATE sso_login_methods m SET method = 'password', updated_at = now() FROM old
        WHERE m.tenant_id = $1 AND m.identity_id = $2 AND old.password_set
       RETURNING old.method AS old_method, old.password_set AS old_password_set`, [tenantId, identityId]));
    if (!old) throw new LoginMethodError('password is required to switch an identity to password login');
  } else {
    ({ rows: [old] } = await db.query<Old>(
      `${OLD_METHOD}
       INSERT INTO sso_login_methods (tenant_id, identity_id, method, password_hash) SELECT $1::uuid, $2::uuid, 'password', $3::text ${JOIN_OLD}
       ON CONFLICT (tenant_id, identity_id) DO UPDATE SET method = 'password', password_hash = EXCLUDED.password_hash,
         failed_attempts = 0, locked_until = NULL, updated_at = now()
       ${RETURNING_OLD}`, [tenantId, identityId, hash]));
  }
  return { method: old?.old_method ?? 'idp', passwordSet: old?.old_password_set ?? false };
}

export const MAX_FAILED_ATTEMPTS = 10;
export const LOCK_SECONDS = 15 * 60;

export async function recordPasswordResult(db: Queryable, tenantId: string, identityId: string, ok: boolean): Promise<void> {
  if (ok) {
    await db.query(
      `UPDATE sso_login_methods SET failed_attempts = 0, locked_until = NULL, last_login_at = now()
        WHERE tenant_id = $1 AND identity_id = $2`, [tenantId, identityId]);
  } else {
    await db.query(
      `UPDATE sso_login_methods SET failed_attempts = failed_attempts + 1,
         locked_until = CASE WHEN failed_attempts + 1 >= $3 THEN now() + make_interval(secs => $4) ELSE locked_until END
        WHERE tenant_id = $1 AND identity_id = $2`, [tenantId, identityId, MAX_FAILED_ATTEMPTS, LOCK_SECONDS]);
  }
}
