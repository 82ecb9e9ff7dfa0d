import { randomUUID } from 'node:crypto';
import type { Database, Queryable } from '../db/types.js';
import { hashPassword, verifyPassword } from '../lib/secrets.js';
import { isUuid } from '../lib/ids.js';
import { isUniqueViolation } from '../db/errors.js';
import { ApiError } from '../http/errors.js';

/** A tenant-admin console account: signs in with a login name and password, sees one tenant only. */
export interface ConsoleAccount {
  id: string;
  tenantId: string;
  login: string;
  displayName: string | null;
  disabled: boolean;
  lastLoginAt: string | null;
  createdAt: string;
}

interface Row {
  tenant_id: string;
  id: string;
  login: string;
  display_name: string | null;
  password_hash: string;
  failed_attempts: number;
  locked_until: Date | null;
  disabled_at: Date | null;
  last_login_at: Date | null;
  created_at: Date;
}

const COLUMNS = 'tenant_id, id, login, display_name, password_hash, failed_attempts, locked_until, disabled_at, last_login_at, created_at';

const view = (r: Row): ConsoleAccount => ({
  id: r.id,
  tenantId: r.tenant_id,
  login: r.login,
  displayName: r.display_name,
  disabled: r.disabled_at !== null,
  lastLoginAt: r.last_login_at ? r.last_login_at.toISOString() : null,
  createdAt: r.created_at.toISOString(),
});

export const MIN_PASSWORD_LENGTH = 12;
/** Failed sign-ins in a row before the account is locked for LOCK_MS. */
export const MAX_FAILED_ATTEMPTS = 10;
export const LOCK_MS = 15 * 60 * 1000;

/** A refused console-account change: a login already taken (ERR_CONFLICT) or a weak password (ERR_BAD_REQUEST). */
export class AccountError extends ApiError {
  constructor(code: 'ERR_CONFLICT' | 'ERR_BAD_REQUEST', message: string) {
    super(code, message);
  }
}

function checkPassword(password: string, login: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new AccountError('ERR_BAD_REQUEST', `The password must have at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  if (password.toLowerCase() === login.toLowerCase()) throw new AccountError('ERR_BAD_REQUEST', 'The password must not be the login name');
}

export async function createAccount(
  db: Database, tenantId: string, input: { login: string; password: string; displayName?: string | null },
): Promise<ConsoleAccount> {
  const login = input.login.trim();
  checkPassword(input.password, login);
  const hash = await hashPassword(input.password);
  const id = randomUUID();
  try {
    return await db.transaction(async (tx) => {
      const { rows } = await tx.query<Row>(
        `INSERT INTO console_accounts (tenant_id, id, login, display_name, password_hash) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
        [tenantId, id, login, input.displayName ?? null, hash],
      );
      await tx.query('INSERT INTO console_logins (login, tenant_id, account_id) VALUES ($1, $2, $3)', [login.toLowerCase(), tenantId, id]);
      return view(rows[0]!);
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new AccountError('ERR_CONFLICT', `The login "${login}" is already used by a console account`);
    throw err;
  }
}

export async function listAccounts(db: Queryable, tenantId: string): Promise<ConsoleAccount[]> {
  const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM console_accounts WHERE tenant_id = $1 ORDER BY lower(login)`, [tenantId]);
  return rows.map(view);
}

export async function getAccount(db: Queryable, tenantId: string, id: string): Promise<ConsoleAccount | undefined> {
  if (!isUuid(id)) return undefined;
  const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM console_accounts WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
  return rows[0] ? view(rows[0]) : undefined;
}

/**
 * Changes an account; `replaced` is what the changed fields were, returned by the UPDATE itself
 * (`old` locks the row first, so after waiting on a concurrent change it reads the newest version).
 */
export async function updateAccount(
  db: Queryable, tenantId: string, id: string, input: { password?: string; displayName?: string | null; disabled?: boolean },
): Promise<(ConsoleAccount & { replaced: { displayName: string | null; disabled: boolean } }) | undefined> {
  // The login never changes: an unlocked read is enough for the password check (and the 404).
  const current = await getAccount(db, tenantId, id);
  if (!current) return undefined;
  const sets: string[] = ['updated_at = now()'];
  const params: unknown[] = [tenantId, id];
  if (input.password !== undefined) {
    checkPassword(input.password, current.login);
    params.push(await hashPassword(input.password));
    sets.push(`password_hash = $${params.length}`, 'failed_attempts = 0', 'locked_until = NULL');
  }
  if (input.displayName !== undefined) {
    params.push(input.displayName);
    sets.push(`display_name = $${params.length}`);
  }
  if (input.disabled !== undefined) sets.push(input.disabled ? 'disabled_at = coalesce(a.disabled_at, now())' : 'disabled_at = NULL');
  // NO KEY: sessions referencing the account are not blocked by the lock.
  const { rows } = await db.query<Row & { old_display_name: string | null; old_disabled: boolean }>(
    `WITH old AS (SELECT display_name AS old_display_name, disabled_at IS NOT NULL AS old_disabled
                    FROM console_accounts WHERE tenant_id = $1 AND id = $2 FOR NO KEY UPDATE)
     UPDATE console_accounts a SET ${sets.join(', ')} FROM old
      WHERE a.tenant_id = $1 AND a.id = $2 RETURNING ${COLUMNS.split(', ').map((c) => `a.${c}`).join(', ')}, old.old_display_name, old.old_disabled`,
    params,
  );
  const r = rows[0];
  return r ? { ...view(r), replaced: { displayName: r.old_display_name, disabled: r.old_disabled } } : undefined;
}

export async function deleteAccount(db: Queryable, tenantId: string, id: string): Promise<boolean> {
  if (!isUuid(id)) return false;
  const res = await db.query('DELETE FROM console_accounts WHERE tenant_id = $1 AND id = $2', [tenantId, id]);
  return res.rowCount > 0;
}

// A valid hash of a random password: unknown logins cost the same scrypt time as known ones.
let dummyHash: Promise<string> | undefined;

export type SignInResult =
  | { ok: true; account: ConsoleAccount }
  | { ok: false; reason: 'invalid' | 'locked' | 'disabled'; retryAfterSeconds?: number };

/**
 * Failed sign-ins of logins that do not exist, counted as an account's would be (MAX_FAILED_ATTEMPTS,
 * then "locked" for LOCK_MS), so the lockout answer does not tell which logins exist. Per process
 * and bounded (the oldest entries go first); real accounts count in the database.
 */
const unknownLogins = new Map<string, { failed: number; lockedUntil: number }>();
const UNKNOWN_LOGINS_MAX = 10_000;

function unknownLoginFailed(login: string): SignInResult {
  const now = Date.now();
  const e = unknownLogins.get(login) ?? { failed: 0, lockedUntil: 0 };
  unknownLogins.delete(login);
  unknownLogins.set(login, e);
  if (unknownLogins.size > UNKNOWN_LOGINS_MAX) unknownLogins.delete(unknownLogins.keys().next().value!);
  if (e.lockedUntil > now) return { ok: false, reason: 'locked', retryAfterSeconds: Math.ceil((e.lockedUntil - now) / 1000) };
  e.failed += 1;
  if (e.failed >= MAX_FAILED_ATTEMPTS) {
    e.failed = 0;
    e.lockedUntil = now + LOCK_MS;
  }
  return { ok: false, reason: 'invalid' };
}

/** Checks a login and password; counts failures and locks the account after MAX_FAILED_ATTEMPTS. */
export async function signIn(db: Queryable, loginName: string, password: string): Promise<SignInResult> {
  const login = loginName.trim().toLowerCase();
  const { rows } = await db.query<Row>(
    `SELECT ${COLUMNS.split(', ').map((c) => `a.${c}`).join(', ')}
       FROM console_logins l JOIN console_accounts a ON a.tenant_id = l.tenant_id AND a.id = l.account_id
      WHERE l.login = $1`,
    [login],
  );
  const r = rows[0];
  dummyHash ??= hashPassword(randomUUID());
  if (!r) {
    await verifyPassword(password, await dummyHash);
    return unknownLoginFailed(login);
  }
  if (r.locked_until && r.locked_until.getTime() > Date.now()) {
    // Same cost as a password check, as for an unknown login.
    await verifyPassword(password, await dummyHash);
    return { ok: false, reason: 'locked', retryAfterSeconds: Math.ceil((r.locked_until.getTime() - Date.now()) / 1000) };
  }
  const good = await verifyPassword(password, r.password_hash);
  if (!good) {
    await db.query(
      `UPDATE console_accounts
          SET failed_attempts = CASE WHEN failed_attempts + 1 >= $3 THEN 0 ELSE failed_attempts + 1 END,
              locked_until = CASE WHEN failed_attempts + 1 >= $3 THEN $4::timestamptz ELSE locked_until END
        WHERE tenant_id = $1 AND id = $2`,
      [r.tenant_id, r.id, MAX_FAILED_ATTEMPTS, new Date(Date.now() + LOCK_MS)],
    );
    return { ok: false, reason: 'invalid' };
  }
  if (r.disabled_at) return { ok: false, reason: 'disabled' };
  await db.query(
    'UPDATE console_accounts SET failed_attempts = 0, locked_until = NULL, last_login_at = now() WHERE tenant_id = $1 AND id = $2',
    [r.tenant_id, r.id],
  );
  return { ok: true, account: view({ ...r, last_login_at: new Date() }) };
}

/**
 * The console account an IdP sign-in is linked to: the tenant's account whose login is the
 * identity's userName (case-insensitive; Entra and Okta provision the user's e-mail address or UPN
 * as userName). A disabled account is returned too (the caller refuses it with its own message).
 * The sign-in is recorded in last_login_at; the password's failure counter is left alone (an IdP
 * sign-in proves nothing about the password).
 */
export async function accountForIdentity(db: Queryable, tenantId: string, userName: string): Promise<ConsoleAccount | undefined> {
  const { rows } = await db.query<Row>(
    `UPDATE console_accounts SET last_login_at = CASE WHEN disabled_at IS NULL THEN now() ELSE last_login_at END
      WHERE tenant_id = $1 AND lower(login) = $2
      RETURNING ${COLUMNS}`,
    [tenantId, userName.trim().toLowerCase()],
  );
  return rows[0] ? view(rows[0]) : undefined;
}
