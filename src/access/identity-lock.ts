import type { Queryable } from '../db/types.js';
import { isUuid } from '../lib/ids.js';

/**
 * Whether the identity exists, its row locked until the transaction ends (NO KEY: rows that
 * reference it are not blocked). Writes of an identity's own settings rows (provisioning
 * overrides, login method) take it first: what they replace is then what they read, also when
 * two of them create the row at once. Its own module: provisioning-overrides.ts cannot import
 * identities.ts (which reaches it through observer.ts).
 */
export async function lockIdentity(db: Queryable, tenantId: string, id: string): Promise<boolean> {
  if (!isUuid(id)) return false;
  const { rows } = await db.query('SELECT 1 FROM scim_users WHERE tenant_id = $1 AND id = $2 FOR NO KEY UPDATE', [tenantId, id]);
  return rows.length > 0;
}
