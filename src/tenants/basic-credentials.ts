import type { Queryable } from '../db/types.js';
import { hashPassword } from '../lib/secrets.js';

/** Sets (or replaces) the tenant's optional HTTP Basic credential for IdPs that need one. */
export async function setBasicCredential(db: Queryable, tenantId: string, username: string, password: string): Promise<void> {
  await db.query(
    `INSERT INTO scim_basic_credentials (tenant_id, username, password_hash) VALUES ($1, $2, $3)
     ON CONFLICT (tenant_id) DO UPDATE SET username = EXCLUDED.username, password_hash = EXCLUDED.password_hash, created_at = now()`,
    [tenantId, username, await hashPassword(password)],
  );
}

export async function deleteBasicCredential(db: Queryable, tenantId: string): Promise<boolean> {
  const res = await db.query('DELETE FROM scim_basic_credentials WHERE tenant_id = $1', [tenantId]);
  return res.rowCount > 0;
}

export async function getBasicCredentialUsername(db: Queryable, tenantId: string): Promise<string | undefined> {
  const { rows } = await db.query<{ username: string }>('SELECT username FROM scim_basic_credentials WHERE tenant_id = $1', [tenantId]);
  return rows[0]?.username;
}
