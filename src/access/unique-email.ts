/**
 * The tenant setting `uniquePrimaryEmail`: no two identities of a tenant share a primary e-mail
 * address (compared case-insensitively). Checked inside the write's transaction, after the row is
 * written, under a transaction-scoped advisory lock on (tenant, address): of two concurrent writes
 * of the same address, the second waits for the first to commit and then sees it.
 */
import type { Queryable } from '../db/types.js';
import { UniquenessError } from '../scim/errors.js';
import type { TenantSettings } from '../tenants/settings.js';
import { primaryEmailOf } from './identity-data.js';

/** SQL: the primary address of stored user `u` (the entry marked primary, else the first), lower-cased. */
const PRIMARY_OF_U = `COALESCE(
  (SELECT lower(btrim(e->>'value')) FROM jsonb_array_elements(CASE WHEN jsonb_typeof(u.data->'emails') = 'array' THEN u.data->'emails' ELSE '[]'::jsonb END) e
    WHERE e->>'primary' = 'true' LIMIT 1),
  lower(btrim(CASE WHEN jsonb_typeof(u.data->'emails') = 'array' THEN u.data->'emails'->0->>'value' END)))`;

/** Throws UniquenessError (SCIM 409 uniqueness; admin API 409) when another identity has this primary address. */
export async function checkUniquePrimaryEmail(
  tx: Queryable,
  tenantId: string,
  settings: Pick<TenantSettings, 'uniquePrimaryEmail'>,
  identityId: string,
  data: Record<string, unknown>,
): Promise<void> {
  if (!settings.uniquePrimaryEmail) return;
  const email = primaryEmailOf(data);
  if (!email) return;
  await tx.query(`SELECT pg_advisory_xact_lock(hashtext('idpbridge.email'), hashtext($1))`, [`${tenantId}:${email}`]);
  const { rows } = await tx.query<{ user_name: string }>(
    `SELECT u.user_name FROM scim_users u WHERE u.tenant_id = $1 AND u.id <> $2 AND ${PRIMARY_OF_U} = $3 LIMIT 1`,
    [tenantId, identityId, email],
  );
  if (rows[0]) {
    throw new UniquenessError(`The primary e-mail address "${email}" is already used by another identity in this tenant (uniquePrimaryEmail is on)`);
  }
}
