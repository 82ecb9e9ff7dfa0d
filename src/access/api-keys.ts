/**
 * API keys of identities: `idpb_key_<43 base64url chars>`, SHA-256 at rest, the secret shown once
 * (at creation or rotation). A key is usable while it is not disabled and its identity is not
 * suspended — the suspension check is derived at verification time, so deactivating a user in the
 * IdP disables its keys at once and reactivating restores them.
 */
import { randomUUID } from 'node:crypto';
import type { Queryable } from '../db/types.js';
import { generateSecret, secretHint, sha256Hex } from '../lib/secrets.js';
import { isUuid } from '../lib/ids.js';

export const API_KEY_PREFIX = 'idpb_key_';
const API_KEY_RE = /^idpb_key_[A-Za-z0-9_-]{43}$/;

export interface ApiKeyInfo {
  id: string;
  identityId: string;
  name: string;
  keyHint: string;
  /** Created for a provisioned user by the tenant setting; named after, and follows, its user. */
  auto: boolean;
  /** Usable now: not disabled and the identity is not suspended. */
  enabled: boolean;
  disabledReason: 'disabled' | 'identity_suspended' | null;
  createdAt: Date;
  disabledAt: Date | null;
  lastUsedAt: Date | null;
}

/** An API key's changeable fields (what a PATCH sets). */
export type ApiKeyFields = Pick<ApiKeyInfo, 'name' | 'enabled'>;

interface KeyRow {
  id: string;
  identity_id: string;
  name: string;
  key_hint: string;
  auto: boolean;
  disabled_at: Date | null;
  created_at: Date;
  last_used_at: Date | null;
  identity_status: string;
  identity_active: boolean;
}

const KEY_SELECT = `SELECT k.id, k.identity_id, k.name, k.key_hint, k.auto, k.disabled_at, k.created_at, k.last_used_at,
       u.status AS identity_status, u.active AS identity_active
  FROM identity_api_keys k JOIN scim_users u ON u.tenant_id = k.tenant_id AND u.id = k.identity_id`;

const toInfo = (r: KeyRow): ApiKeyInfo => {
  const suspended = r.identity_status === 'suspended' || !r.identity_active;
  const disabledReason = r.disabled_at ? 'disabled' : suspended ? 'identity_suspended' : null;
  return {
    id: r.id,
    identityId: r.identity_id,
    name: r.name,
    keyHint: r.key_hint,
    auto: r.auto,
    enabled: disabledReason === null,
    disabledReason,
    createdAt: r.created_at,
    disabledAt: r.disabled_at,
    lastUsedAt: r.last_used_at,
  };
};

export async function createApiKey(
  tx: Queryable,
  tenantId: string,
  identityId: string,
  opts: { name: string; auto?: boolean },
): Promise<ApiKeyInfo & { key: string }> {
  const key = generateSecret(API_KEY_PREFIX);
  const id = randomUUID();
  await tx.query(
    `INSERT INTO identity_api_keys (tenant_id, id, identity_id, name, key_hash, key_hint, auto)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [tenantId, id, identityId, opts.name, sha256Hex(key), secretHint(key), opts.auto ?? false],
  );
  const info = (await getApiKey(tx, tenantId, identityId, id))!;
  return { ...info, key };
}

export async function listApiKeys(db: Queryable, tenantId: string, identityId: string): Promise<ApiKeyInfo[]> {
  const { rows } = await db.query<KeyRow>(
    `${KEY_SELECT} WHERE k.tenant_id = $1 AND k.identity_id = $2 ORDER BY k.created_at, k.id`,
    [tenantId, identityId],
  );
  return rows.map(toInfo);
}

export interface TenantApiKey extends ApiKeyInfo {
  owner: { id: string; userName: string; displayName: string | null; status: string };
}

/** Every API key of the tenant across identities, newest first, offset-paged (never the secrets). */
export async function listTenantApiKeys(
  db: Queryable,
  tenantId: string,
  q: { limit: number; offset: number },
): Promise<{ total: number; items: TenantApiKey[] }> {
  const { rows } = await db.query<KeyRow & { user_name: string; display_name: string | null }>(
    `${KEY_SELECT.replace('u.status AS identity_status', 'u.user_name, u.display_name, u.status AS identity_status')}
      WHERE k.tenant_id = $1 ORDER BY k.created_at DESC, k.id LIMIT $2 OFFSET $3`,
    [tenantId, q.limit, q.offset],
  );
  const c = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM identity_api_keys WHERE tenant_id = $1', [tenantId]);
  return {
    total: c.rows[0]!.n,
    items: rows.map((r) => ({
      ...toInfo(r),
      owner: { id: r.identity_id, userName: r.user_name, displayName: r.display_name, status: r.identity_status },
    })),
  };
}

export async function getApiKey(db: Queryable, tenantId: string, identityId: string, keyId: string): Promise<ApiKeyInfo | undefined> {
  if (!isUuid(keyId)) return undefined;
  const { rows } = await db.query<KeyRow>(
    `${KEY_SELECT} WHERE k.tenant_id = $1 AND k.identity_id = $2 AND k.id = $3`,
    [tenantId, identityId, keyId],
  );
  return rows[0] ? toInfo(rows[0]) : undefined;
}

export async function updateApiKey(
  db: Queryable,
  tenantId: string,
  identityId: string,
  keyId: string,
  patch: { name?: string; enabled?: boolean },
): Promise<(ApiKeyInfo & { replaced: ApiKeyFields }) | undefined> {
  if (!isUuid(keyId)) return undefined;
  // `old` locks the row before the UPDATE (which joins it, so it runs first; a row lock taken after
  // waiting on a concurrent change reads the newest version; NO KEY, as the UPDATE itself, leaves
  // foreign-key checks of other rows unblocked): its values are the ones replaced.
  const { rows } = await db.query<{ name: string; disabled_at: Date | null }>(
    `WITH old AS (SELECT name, disabled_at FROM identity_api_keys WHERE tenant_id = $1 AND identity_id = $2 AND id = $3 FOR NO KEY UPDATE)
     UPDATE identity_api_keys k
        SET name = COALESCE($4, k.name),
            disabled_at = CASE WHEN $5::boolean IS NULL THEN k.disabled_at
                               WHEN $5::boolean THEN NULL
                               ELSE COALESCE(k.disabled_at, now()) END
       FROM old
      WHERE k.tenant_id = $1 AND k.identity_id = $2 AND k.id = $3
     RETURNING old.name, old.disabled_at`,
    [tenantId, identityId, keyId, patch.name ?? null, patch.enabled ?? null],
  );
  const old = rows[0];
  if (!old) return undefined;
  const { rows: now } = await db.query<KeyRow>(`${KEY_SELECT} WHERE k.tenant_id = $1 AND k.identity_id = $2 AND k.id = $3`, [tenantId, identityId, keyId]);
  if (!now[0]) return undefined;
  // The identity's state is the same before and after: only the key's own fields were replaced.
  const was = toInfo({ ...now[0], name: old.name, disabled_at: old.disabled_at });
  return { ...toInfo(now[0]), replaced: { name: was.name, enabled: was.enabled } };
}

/** New secret for an existing key (the old one stops working at once); shown once. */
export async function rotateApiKey(
  db: Queryable,
  tenantId: string,
  identityId: string,
  keyId: string,
): Promise<(ApiKeyInfo & { key: string }) | undefined> {
  if (!isUuid(keyId)) return undefined;
  const key = generateSecret(API_KEY_PREFIX);
  const res = await db.query(
    'UPDATE identity_api_keys SET key_hash = $4, key_hint = $5, last_used_at = NULL WHERE tenant_id = $1 AND identity_id = $2 AND id = $3',
    [tenantId, identityId, keyId, sha256Hex(key), secretHint(key)],
  );
  if (res.rowCount === 0) return undefined;
  return { ...(await getApiKey(db, tenantId, identityId, keyId))!, key };
}

export async function deleteApiKey(db: Queryable, tenantId: string, identityId: string, keyId: string): Promise<boolean> {
  if (!isUuid(keyId)) return false;
  const res = await db.query(
    'DELETE FROM identity_api_keys WHERE tenant_id = $1 AND identity_id = $2 AND id = $3',
    [tenantId, identityId, keyId],
  );
  return res.rowCount > 0;
}

/** Auto keys follow their user's userName. */
export async function renameAutoKeys(tx: Queryable, tenantId: string, identityId: string, name: string): Promise<void> {
  await tx.query(
    'UPDATE identity_api_keys SET name = $3 WHERE tenant_id = $1 AND identity_id = $2 AND auto AND name <> $3',
    [tenantId, identityId, name],
  );
}

/** Creates the auto key of a provisioned identity unless it has one already. */
export async function ensureAutoKey(tx: Queryable, tenantId: string, identityId: string, name: string): Promise<boolean> {
  const { rows } = await tx.query('SELECT 1 FROM identity_api_keys WHERE tenant_id = $1 AND identity_id = $2 AND auto LIMIT 1', [tenantId, identityId]);
  if (rows.length > 0) {
    await renameAutoKeys(tx, tenantId, identityId, name);
    return false;
  }
  await createApiKey(tx, tenantId, identityId, { name, auto: true });
  return true;
}

// last_used_at is written at most once a minute per key: verification stays a read.
const TOUCH_INTERVAL_MS = 60_000;

/**
 * The identity behind an API key of this tenant; undefined for an unknown, disabled key or a
 * suspended identity. Staged identities verify (the caller may activate them).
 */
export async function verifyApiKey(
  db: Queryable,
  tenantId: string,
  key: string,
): Promise<{ identityId: string; keyId: string } | undefined> {
  if (!isUuid(tenantId) || typeof key !== 'string' || !API_KEY_RE.test(key)) return undefined;
  const { rows } = await db.query<{ id: string; identity_id: string; last_used_at: Date | null }>(
    `SELECT k.id, k.identity_id, k.last_used_at
       FROM identity_api_keys k JOIN scim_users u ON u.tenant_id = k.tenant_id AND u.id = k.identity_id
      WHERE k.tenant_id = $1 AND k.key_hash = $2 AND k.disabled_at IS NULL AND u.status <> 'suspended' AND u.active`,
    [tenantId, sha256Hex(key)],
  );
  const r = rows[0];
  if (!r) return undefined;
  if (!r.last_used_at || Date.now() - new Date(r.last_used_at).getTime() > TOUCH_INTERVAL_MS) {
    await db.query('UPDATE identity_api_keys SET last_used_at = now() WHERE tenant_id = $1 AND id = $2', [tenantId, r.id]);
  }
  return { identityId: r.identity_id, keyId: r.id };
}
