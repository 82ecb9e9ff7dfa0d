import { randomUUID } from 'node:crypto';
import type { Queryable } from '../db/types.js';
import { generateSecret, sha256Hex } from '../lib/secrets.js';

/** A link lives this long unless its creator says otherwise… */
export const SETUP_LINK_DEFAULT_MS = 7 * 24 * 60 * 60 * 1000;
/** …and at most this long. */
export const SETUP_LINK_MAX_MS = 30 * 24 * 60 * 60 * 1000;
export const SETUP_LINK_PREFIX = 'idpb_setup_';

export interface SetupLink {
  id: string;
  tenantId: string;
  createdAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
  status: 'active' | 'expired' | 'revoked';
}

interface Row {
  tenant_id: string;
  id: string;
  created_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
  last_used_at: Date | null;
}

const COLUMNS = 'tenant_id, id, created_at, expires_at, revoked_at, last_used_at';

const fromRow = (r: Row): SetupLink => ({
  id: r.id,
  tenantId: r.tenant_id,
  createdAt: new Date(r.created_at),
  expiresAt: new Date(r.expires_at),
  revokedAt: r.revoked_at ? new Date(r.revoked_at) : null,
  lastUsedAt: r.last_used_at ? new Date(r.last_used_at) : null,
  status: r.revoked_at ? 'revoked' : new Date(r.expires_at).getTime() <= Date.now() ? 'expired' : 'active',
});

/** Creates a link; the secret is returned here only (stored as its SHA-256). The caller checked the tenant. */
export async function createSetupLink(db: Queryable, tenantId: string, expiresAt: Date): Promise<{ link: SetupLink; secret: string }> {
  const secret = generateSecret(SETUP_LINK_PREFIX);
  const { rows } = await db.query<Row>(
    `INSERT INTO setup_links (tenant_id, id, secret_hash, expires_at) VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`,
    [tenantId, randomUUID(), sha256Hex(secret), expiresAt],
  );
  return { link: fromRow(rows[0]!), secret };
}

export async function listSetupLinks(db: Queryable, tenantId: string): Promise<SetupLink[]> {
  const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM setup_links WHERE tenant_id = $1 ORDER BY created_at DESC, id`, [tenantId]);
  return rows.map(fromRow);
}

/** Revokes a link and ends the console sessions it started, in the caller's transaction. false: no such link. */
export async function revokeSetupLink(db: Queryable, tenantId: string, id: string): Promise<boolean> {
  const { rowCount } = await db.query(
    'UPDATE setup_links SET revoked_at = COALESCE(revoked_at, now()) WHERE tenant_id = $1 AND id = $2',
    [tenantId, id],
  );
  if (rowCount === 0) return false;
  await db.query('DELETE FROM console_sessions WHERE tenant_id = $1 AND setup_link_id = $2', [tenantId, id]);
  return true;
}

/** The live link of this tenant a secret names (not expired, not revoked), marking it used; undefined otherwise. */
export async function redeemSetupLink(db: Queryable, tenantId: string, secret: string): Promise<SetupLink | undefined> {
  if (!secret.startsWith(SETUP_LINK_PREFIX) || secret.length > 200) return undefined;
  const { rows } = await db.query<Row>(
    `UPDATE setup_links SET last_used_at = now()
      WHERE tenant_id = $1 AND secret_hash = $2 AND revoked_at IS NULL AND expires_at > now()
      RETURNING ${COLUMNS}`,
    [tenantId, sha256Hex(secret)],
  );
  return rows[0] ? fromRow(rows[0]) : undefined;
}
