import { randomUUID } from 'node:crypto';
import type { Queryable } from '../db/types.js';
import { generateSecret, secretHint, sha256Hex } from '../lib/secrets.js';
import { isUuid } from '../lib/ids.js';

export const SCIM_TOKEN_PREFIX = 'idpb_scim_';

export interface ScimTokenInfo {
  id: string;
  name: string;
  tokenHint: string;
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

interface Row {
  id: string;
  name: string;
  token_hint: string;
  created_at: Date;
  expires_at: Date | null;
  revoked_at: Date | null;
  last_used_at: Date | null;
}

const toInfo = (r: Row): ScimTokenInfo => ({
  id: r.id,
  name: r.name,
  tokenHint: r.token_hint,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  revokedAt: r.revoked_at,
  lastUsedAt: r.last_used_at,
});

const COLUMNS = 'id, name, token_hint, created_at, expires_at, revoked_at, last_used_at';

/** Creates a token; the secret is returned here only — the database keeps its SHA-256. */
export async function createScimToken(
  db: Queryable,
  tenantId: string,
  opts: { name?: string | undefined; expiresAt?: Date | undefined },
): Promise<ScimTokenInfo & { token: string }> {
  const token = generateSecret(SCIM_TOKEN_PREFIX);
  const { rows } = await db.query<Row>(
    `INSERT INTO scim_tokens (tenant_id, id, name, token_hash, token_hint, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
    [tenantId, randomUUID(), opts.name ?? 'SCIM token', sha256Hex(token), secretHint(token), opts.expiresAt ?? null],
  );
  return { ...toInfo(rows[0]!), token };
}

export async function listScimTokens(db: Queryable, tenantId: string): Promise<ScimTokenInfo[]> {
  const { rows } = await db.query<Row>(
    `SELECT ${COLUMNS} FROM scim_tokens WHERE tenant_id = $1 ORDER BY created_at, id`,
    [tenantId],
  );
  return rows.map(toInfo);
}

export async function revokeScimToken(db: Queryable, tenantId: string, tokenId: string): Promise<boolean> {
  if (!isUuid(tokenId)) return false;
  const res = await db.query(
    `UPDATE scim_tokens SET revoked_at = now() WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL`,
    [tenantId, tokenId],
  );
  return res.rowCount > 0;
}
