import type { Queryable } from '../db/types.js';
import { hashPassword } from '../lib/secrets.js';
import { lockTenant } from './tenants.js';

/**
 * Sets (or replaces) the tenant's optional HTTP Basic credential for IdPs that need one. Answers
 * the username it replaced (undefined: there was none), read by the write statement itself under
 * the tenant's row lock, which makes two first settings of a tenant take turns as well. The INSERT
 * joins `old` so that it is read before the row changes (read only for RETURNING, it would come
 * after the statement's own change and find nothing).
 */
export async function setBasicCredential(db: Queryable, tenantId: string, username: string, password: string): Promise<{ replaced?: { username: string } }> {
  // Hashed before any lock is taken: scrypt is slow.
  const hash = await hashPassword(password);
  await lockTenant(db, tenantId);
  const { rows } = await db.query<{ old_username: string | null }>(
    `WITH old AS (SELECT username FROM scim_basic_credentials WHERE tenant_id = $1 FOR UPDATE)
     INSERT INTO scim_basic_credentials (tenant_id, username, password_hash)
     SELECT $1::uuid, $2::text, $3::text FROM (SELECT 1) AS one LEFT JOIN old ON true
     ON CONFLICT (tenant_id) DO UPDATE SET username = EXCLUDED.username, password_hash = EXCLUDED.password_hash, created_at = now()
     RETURNING (SELECT username FROM old) AS old_username`,
    [tenantId, username, hash],
  );
  const old = rows[0]?.old_username;
  return old == null ? {} : { replaced: { username: old } };
}

export async function deleteBasicCredential(db: Queryable, tenantId: string): Promise<boolean> {
  const res = await db.query('DELETE FROM scim_basic_credentials WHERE tenant_id = $1', [tenantId]);
  return res.rowCount > 0;
}

export async function getBasicCredentialUsername(db: Queryable, tenantId: string): Promise<string | undefined> {
  const { rows } = await db.query<{ username: string }>('SELECT username FROM scim_basic_credentials WHERE tenant_id = $1', [tenantId]);
  return rows[0]?.username;
}
