import type { Database } from '../db/types.js';
import { randomUUID } from 'node:crypto';
import { digestsEqual, hashPassword, sha256Hex, verifyPassword } from '../lib/secrets.js';
import { isUuid } from '../lib/ids.js';
import { withDefaults, type TenantSettings } from './settings.js';

export interface ScimPrincipal {
  tenantId: string;
  tenantName: string;
  settings: TenantSettings;
  /** Token id, or 'basic' for the HTTP Basic credential. */
  credentialId: string;
}

/** A valid hash of a random password, for tenants without a Basic credential. */
let dummyHash: Promise<string> | undefined;

interface CacheEntry {
  principal: ScimPrincipal;
  expiresAt: number | null;
  hash: string;
  cachedAt: number;
}

/**
 * Verifies SCIM credentials. Positive results are cached for at most `ttlMs` (default 1 s) so a
 * token revoked by another process stops working within that bound without a query per request
 * at full load. `lastUsedAt` is collected in memory and written in batches, not per request.
 */
export class ScimCredentialsVerifier {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly inflight = new Map<string, Promise<ScimPrincipal | undefined>>();
  private readonly lastUsed = new Map<string, { tenantId: string; tokenId: string; at: Date }>();
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Database,
    private readonly ttlMs = 1000,
    flushEveryMs = 5000,
  ) {
    if (flushEveryMs > 0) {
      this.flushTimer = setInterval(() => void this.flushLastUsed().catch(() => {}), flushEveryMs);
      this.flushTimer.unref();
    }
  }

  async verifyBearer(tenantId: string, token: string): Promise<ScimPrincipal | undefined> {
    if (!isUuid(tenantId) || token.length < 10 || token.length > 512) return undefined;
    const hash = sha256Hex(token);
    const key = `${tenantId}:${hash}`;
    const now = Date.now();
    const hit = this.cache.get(key);
    if (hit && now - hit.cachedAt < this.ttlMs && (hit.expiresAt === null || hit.expiresAt > now)) {
      this.touch(tenantId, hit.principal.credentialId);
      return hit.principal;
    }
    this.cache.delete(key);
    // Concurrent requests with the same token (an IdP's parallel workers when the entry expires)
    // share one lookup instead of each holding a database connection for the same row.
    let pending = this.inflight.get(key);
    if (!pending) {
      const lookup: Promise<ScimPrincipal | undefined> = this.lookupBearer(tenantId, hash, now).then((entry) => {
        // A lookup that invalidateTenant dropped meanwhile (revocation) is answered but not cached.
        if (entry && this.inflight.get(key) === lookup) {
          if (this.cache.size > 10_000) this.cache.clear();
          this.cache.set(key, entry);
        }
        return entry?.principal;
      }).finally(() => {
        if (this.inflight.get(key) === lookup) this.inflight.delete(key);
      });
      this.inflight.set(key, lookup);
      pending = lookup;
    }
    const principal = await pending;
    if (principal) this.touch(tenantId, principal.credentialId);
    return principal;
  }

  private async lookupBearer(tenantId: string, hash: string, now: number): Promise<CacheEntry | undefined> {
    const { rows } = await this.db.query<{
      id: string; token_hash: string; expires_at: Date | null; name: string; settings: Partial<TenantSettings>;
    }>(
      `SELECT t.id, t.token_hash, t.expires_at, tn.name, tn.settings
         FROM scim_tokens t JOIN tenants tn ON tn.tenant_id = t.tenant_id
        WHERE t.tenant_id = $1 AND t.token_hash = $2 AND t.revoked_at IS NULL
          AND (t.expires_at IS NULL OR t.expires_at > now())`,
      [tenantId, hash],
    );
    const row = rows[0];
    // The index lookup already matched; the constant-time compare keeps the check honest if the query changes.
    if (!row || !digestsEqual(row.token_hash, hash)) return undefined;
    const principal: ScimPrincipal = {
      tenantId,
      tenantName: row.name,
      settings: withDefaults(row.settings),
      credentialId: row.id,
    };
    return { principal, expiresAt: row.expires_at?.getTime() ?? null, hash, cachedAt: now };
  }

  async verifyBasic(tenantId: string, username: string, password: string): Promise<ScimPrincipal | undefined> {
    if (!isUuid(tenantId) || password.length > 1024) return undefined;
    const key = `${tenantId}:basic:${sha256Hex(`${username}\u0000${password}`)}`;
    const now = Date.now();
    const hit = this.cache.get(key);
    if (hit && now - hit.cachedAt < this.ttlMs) return hit.principal;
    const { rows } = await this.db.query<{ username: string; password_hash: string; name: string; settings: Partial<TenantSettings> }>(
      `SELECT c.username, c.password_hash, tn.name, tn.settings
         FROM scim_basic_credentials c JOIN tenants tn ON tn.tenant_id = c.tenant_id
        WHERE c.tenant_id = $1`,
      [tenantId],
    );
    const row = rows[0];
    if (!row) {
      // The same scrypt cost as a wrong password: timing does not tell whether Basic is configured.
      dummyHash ??= hashPassword(randomUUID());
      await verifyPassword(password, await dummyHash);
      return undefined;
    }
    const userOk = digestsEqual(sha256Hex(row.username), sha256Hex(username));
    const passOk = await verifyPassword(password, row.password_hash);
    if (!userOk || !passOk) return undefined;
    const principal: ScimPrincipal = { tenantId, tenantName: row.name, settings: withDefaults(row.settings), credentialId: 'basic' };
    this.cache.set(key, { principal, expiresAt: null, hash: '', cachedAt: now });
    return principal;
  }

  /** Drops cached entries of a tenant (revocation or settings change in this process). */
  invalidateTenant(tenantId: string): void {
    for (const key of this.cache.keys()) if (key.startsWith(`${tenantId}:`)) this.cache.delete(key);
    for (const key of this.inflight.keys()) if (key.startsWith(`${tenantId}:`)) this.inflight.delete(key);
  }

  private touch(tenantId: string, tokenId: string): void {
    if (tokenId === 'basic') return;
    this.lastUsed.set(`${tenantId}:${tokenId}`, { tenantId, tokenId, at: new Date() });
  }

  async flushLastUsed(): Promise<void> {
    if (this.lastUsed.size === 0) return;
    const batch = [...this.lastUsed.values()];
    this.lastUsed.clear();
    for (const { tenantId, tokenId, at } of batch) {
      await this.db.query(
        `UPDATE scim_tokens SET last_used_at = $3 WHERE tenant_id = $1 AND id = $2
           AND (last_used_at IS NULL OR last_used_at < $3)`,
        [tenantId, tokenId, at],
      );
    }
  }

  async close(): Promise<void> {
    if (this.flushTimer) clearInterval(this.flushTimer);
    await this.flushLastUsed().catch(() => {});
  }
}
