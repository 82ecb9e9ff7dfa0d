import type { Queryable } from '../../db/types.js';
import { isUuid } from '../../lib/ids.js';
import { sha256Hex } from '../../lib/secrets.js';

/** An SP-initiated SAML sign-in in flight (sso_saml_requests). */
export interface PendingSamlRequest {
  connectionId: string;
  requestId: string;
  browserHash: string;
  redirectUri: string;
  clientState: string | null;
}

export async function saveSamlRequest(db: Queryable, tenantId: string, relayState: string, r: PendingSamlRequest, ttlSeconds: number): Promise<void> {
  await db.query(
    `INSERT INTO sso_saml_requests (tenant_id, relay_hash, connection_id, request_id, browser_hash, redirect_uri, client_state, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, now() + make_interval(secs => $8))`,
    [tenantId, sha256Hex(relayState), r.connectionId, r.requestId, r.browserHash, r.redirectUri, r.clientState, ttlSeconds]);
  // Opportunistic sweep of abandoned sign-ins and of assertion IDs past their validity.
  if (Math.random() < 0.05) {
    await db.query('DELETE FROM sso_saml_requests WHERE expires_at < now()');
    await db.query('DELETE FROM sso_saml_assertions_used WHERE expires_at < now()');
  }
}

/** Consumes the request a RelayState names: once, whichever process asks; undefined if unknown or expired. */
export async function takeSamlRequest(db: Queryable, tenantId: string, connectionId: string, relayState: string): Promise<PendingSamlRequest | undefined> {
  if (!isUuid(tenantId) || !isUuid(connectionId) || relayState.length === 0 || relayState.length > 200) return undefined;
  const { rows } = await db.query<{ request_id: string; browser_hash: string; redirect_uri: string; client_state: string | null; live: boolean }>(
    `DELETE FROM sso_saml_requests WHERE tenant_id = $1 AND relay_hash = $2 AND connection_id = $3
     RETURNING request_id, browser_hash, redirect_uri, client_state, expires_at > now() AS live`,
    [tenantId, sha256Hex(relayState), connectionId]);
  const r = rows[0];
  if (!r || !r.live) return undefined;
  return { connectionId, requestId: r.request_id, browserHash: r.browser_hash, redirectUri: r.redirect_uri, clientState: r.client_state };
}

/** Records an assertion ID as used; false when it was used before (replay). */
export async function useAssertionOnce(db: Queryable, tenantId: string, connectionId: string, assertionId: string, keepUntil: Date): Promise<boolean> {
  const { rowCount } = await db.query(
    `INSERT INTO sso_saml_assertions_used (tenant_id, connection_id, assertion_id, expires_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (tenant_id, connection_id, assertion_id) DO UPDATE SET expires_at = EXCLUDED.expires_at
       WHERE sso_saml_assertions_used.expires_at < now()`,
    [tenantId, connectionId, assertionId.slice(0, 512), keepUntil]);
  return rowCount > 0;
}
