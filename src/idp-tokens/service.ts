import { createHash } from 'node:crypto';
import type { Database } from '../db/types.js';
import type { AppDeps } from '../app-deps.js';
import { isUuid } from '../lib/ids.js';
import { effectiveAccess, findIdentity, resolveDataset, verifyApiKey, activateStagedIdentity, type EffectiveAccess, type DatasetRef } from '../access/index.js';
import { getOidcConfig, OIDC_CONFIG_CHANNEL, type OidcConfig } from './oidc-config.js';
import { KeyCache, type KeyCacheOptions } from './key-cache.js';
import { looksLikeJwt, TokenError, verifyJwt, type VerifiedJwt } from './verify.js';
import { identityLookups, storableText, tokenGroupsOf, type ClaimLookup, type TokenGroups } from './claims.js';

export interface IdpTokensOptions {
  /** Cache verified tokens (keyed by SHA-256 of the token) until their exp. */
  tokenCache: boolean;
  /**
   * How long identity resolution, effective access, dataset lookups and API-key checks are reused.
   * Bounded at 5 s: several processes may serve one database, so this TTL is what bounds how long
   * a suspension or a grant change can take to show everywhere. 0 = never reused.
   */
  accessCacheTtlMs: number;
  /** OIDC configuration reuse; a change through this process (or NOTIFY) applies at once. */
  configTtlMs: number;
  keyCache?: KeyCacheOptions;
  log?: { warn(obj: object, msg: string): void };
}

/** Who is calling /v1: a verified IdP token or an identity API key, and the identity behind it. */
export interface Principal {
  tenantId: string;
  kind: 'jwt' | 'api_key';
  /** null: the token is valid but no provisioned identity matches it. */
  identityId: string | null;
  matchedBy?: ClaimLookup;
  /** Every lookup tried (claim → attribute), for the "not provisioned" explanation. */
  tried?: ClaimLookup[];
  tokenGroups?: TokenGroups;
  jwt?: { issuer: string; subject: string | null; audience: string[]; expiresAt: number; alg: string; kid: string | undefined };
  keyId?: string;
}

interface TokenEntry {
  tenantId: string;
  stamp: string;
  verified: VerifiedJwt;
  tokenGroups: TokenGroups;
  lookups: ClaimLookup[];
  /** Key of the identity resolution in `identities` (shared by every token of the same user). */
  identityKey: string;
}

type Resolution = { identityId: string; matchedBy: ClaimLookup } | undefined;

interface Timed<T> {
  value: T;
  at: number;
}

const MAX_TOKENS = 100_000;
const MAX_ENTRIES = 50_000;
const sha256 = (s: string) => createHash('sha256').update(s).digest('base64url');
const stampOf = (c: OidcConfig) => `${c.version}:${c.updatedAt.getTime()}`;

/** Drops the oldest tenth of a Map (insertion order) when it is full. */
function bound<K, V>(m: Map<K, V>, max: number): void {
  if (m.size < max) return;
  let n = Math.ceil(max / 10);
  for (const k of m.keys()) {
    m.delete(k);
    if (--n <= 0) break;
  }
}

/**
 * IdP-token verification and the data an access decision needs, with the caches that keep the
 * /v1 API fast: verified tokens until exp; identity, access, datasets and API keys for a short TTL.
 */
export class IdpTokens {
  readonly keys: KeyCache;
  private readonly configs = new Map<string, Timed<OidcConfig | undefined>>();
  private readonly tokens = new Map<string, TokenEntry>();
  private readonly access = new Map<string, Timed<EffectiveAccess | undefined>>();
  private readonly identities = new Map<string, Timed<Resolution>>();
  private readonly datasets = new Map<string, Timed<DatasetRef | undefined>>();
  private readonly apiKeys = new Map<string, Timed<{ identityId: string; keyId: string } | undefined>>();
  private unlisten: (() => Promise<void>) | undefined;
  private started: Promise<void> | undefined;

  constructor(private readonly db: Database, readonly opts: IdpTokensOptions) {
    this.opts = { ...opts, accessCacheTtlMs: Math.min(Math.max(opts.accessCacheTtlMs, 0), 5_000) };
    this.keys = new KeyCache({
      ...opts.keyCache,
      onWarn: (msg, detail) => opts.log?.warn(detail, msg),
    });
  }

  /** Subscribes to configuration changes made by other processes. */
  start(): Promise<void> {
    this.started ??= (async () => {
      try {
        this.unlisten = await this.db.listen(OIDC_CONFIG_CHANNEL, (tenantId) => this.invalidateTenant(tenantId));
      } catch (err) {
        // Without LISTEN the configuration TTL still bounds staleness.
        this.opts.log?.warn({ err: (err as Error).message }, 'LISTEN for OIDC configuration changes failed');
      }
    })();
    return this.started;
  }

  async close(): Promise<void> {
    await this.unlisten?.().catch(() => {});
    this.unlisten = undefined;
  }

  /** Drops everything cached for a tenant (its OIDC configuration changed). */
  invalidateTenant(tenantId: string): void {
    this.configs.delete(tenantId);
    for (const [k, e] of this.tokens) if (e.tenantId === tenantId) this.tokens.delete(k);
    const prefix = `${tenantId}:`;
    for (const m of [this.access, this.datasets, this.apiKeys, this.identities] as Map<string, unknown>[]) {
      for (const k of m.keys()) if (k.startsWith(prefix)) m.delete(k);
    }
  }

  async config(tenantId: string): Promise<OidcConfig | undefined> {
    if (!isUuid(tenantId)) return undefined;
    const now = Date.now();
    const hit = this.configs.get(tenantId);
    if (hit && now - hit.at < this.opts.configTtlMs) return hit.value;
    const value = await getOidcConfig(this.db, tenantId);
    bound(this.configs, MAX_ENTRIES);
    this.configs.set(tenantId, { value, at: now });
    return value;
  }

  /** Verifies a bearer credential for a tenant; throws TokenError (401) or IdpUnavailableError (503). */
  async authenticate(tenantId: string, bearer: string): Promise<Principal> {
    if (bearer.startsWith('idpb_key_')) return this.authenticateApiKey(tenantId, bearer);
    if (!looksLikeJwt(bearer)) throw new TokenError('malformed_token', 'bearer credential is neither a JWT nor an idpbridge API key');
    // The same answer for an unknown tenant as for one without OIDC: tenants cannot be probed.
    const cfg = await this.config(tenantId);
    if (!cfg) throw new TokenError('oidc_not_configured', 'no OIDC configuration for this tenant: IdP tokens cannot be verified here');
    const stamp = stampOf(cfg);
    const now = Date.now();
    const ttl = this.opts.accessCacheTtlMs;
    const key = this.opts.tokenCache ? sha256(`${tenantId}\u0000${bearer}`) : '';
    let entry = key ? this.tokens.get(key) : undefined;
    if (entry && (entry.stamp !== stamp || now >= entry.verified.expiresAt)) {
      this.tokens.delete(key);
      entry = undefined;
    }
    if (!entry) {
      const verified = await verifyJwt(bearer, cfg, this.keys);
      const lookups = identityLookups(verified.payload, cfg);
      entry = {
        tenantId, stamp, verified, lookups,
        tokenGroups: tokenGroupsOf(verified.payload, cfg),
        identityKey: `${tenantId}:${lookups.map((l) => `${l.claim}\u0001${l.attribute}\u0001${l.value}`).join('\u0000')}`,
      };
      if (key) {
        bound(this.tokens, MAX_TOKENS);
        this.tokens.set(key, entry);
      }
    }
    // Identity resolution is reused for the short TTL only: a user provisioned, renamed or deleted
    // since shows within it.
    let resolved = ttl > 0 ? this.identities.get(entry.identityKey) : undefined;
    if (!resolved || now - resolved.at >= ttl) {
      resolved = { value: await this.resolveIdentity(tenantId, entry.lookups), at: now };
      if (ttl > 0) {
        bound(this.identities, MAX_ENTRIES);
        this.identities.set(entry.identityKey, resolved);
      }
    }
    const found = resolved.value;
    const p = entry.verified.payload;
    return {
      tenantId,
      kind: 'jwt',
      identityId: found?.identityId ?? null,
      ...(found ? { matchedBy: found.matchedBy } : {}),
      tried: entry.lookups,
      tokenGroups: entry.tokenGroups,
      jwt: {
        issuer: p.iss as string,
        subject: typeof p.sub === 'string' ? p.sub : null,
        audience: Array.isArray(p.aud) ? p.aud : typeof p.aud === 'string' ? [p.aud] : [],
        expiresAt: entry.verified.expiresAt,
        alg: entry.verified.alg,
        kid: entry.verified.kid,
      },
    };
  }

  private async resolveIdentity(tenantId: string, lookups: ClaimLookup[]): Promise<Resolution> {
    for (const l of lookups) {
      const found = await findIdentity(this.db, tenantId, { [l.attribute]: l.value });
      if (found) return { identityId: found.id, matchedBy: l };
    }
    return undefined;
  }

  private async authenticateApiKey(tenantId: string, key: string): Promise<Principal> {
    const ck = `${tenantId}:${sha256(key)}`;
    const now = Date.now();
    const ttl = this.opts.accessCacheTtlMs;
    let hit = ttl > 0 ? this.apiKeys.get(ck) : undefined;
    if (!hit || now - hit.at >= ttl) {
      hit = { value: await verifyApiKey(this.db, tenantId, key), at: now };
      if (ttl > 0) {
        bound(this.apiKeys, MAX_ENTRIES);
        this.apiKeys.set(ck, hit);
      }
    }
    if (!hit.value) throw new TokenError('invalid_api_key', 'API key is unknown, disabled, or belongs to a suspended identity');
    return { tenantId, kind: 'api_key', identityId: hit.value.identityId, keyId: hit.value.keyId };
  }

  /** Effective access of an identity (short TTL). */
  async accessOf(tenantId: string, identityId: string): Promise<EffectiveAccess | undefined> {
    const k = `${tenantId}:${identityId}`;
    const now = Date.now();
    const ttl = this.opts.accessCacheTtlMs;
    const hit = ttl > 0 ? this.access.get(k) : undefined;
    if (hit && now - hit.at < ttl) return hit.value;
    const value = await effectiveAccess(this.db, tenantId, identityId);
    if (ttl > 0) {
      bound(this.access, MAX_ENTRIES);
      this.access.set(k, { value, at: now });
    }
    return value;
  }

  /** A dataset by id, externalId or name (short TTL). */
  async dataset(tenantId: string, ref: string): Promise<DatasetRef | undefined> {
    if (!storableText(ref)) return undefined;
    const k = `${tenantId}:${ref}`;
    const now = Date.now();
    const ttl = this.opts.accessCacheTtlMs;
    const hit = ttl > 0 ? this.datasets.get(k) : undefined;
    if (hit && now - hit.at < ttl) return hit.value;
    const value = await resolveDataset(this.db, tenantId, ref);
    if (ttl > 0) {
      bound(this.datasets, MAX_ENTRIES);
      this.datasets.set(k, { value, at: now });
    }
    return value;
  }

  /** staged → active on first use; the cached access of that identity is dropped. */
  async activate(tenantId: string, identityId: string): Promise<boolean> {
    const changed = await activateStagedIdentity(this.db, tenantId, identityId);
    this.access.delete(`${tenantId}:${identityId}`);
    return changed;
  }

  /** Provisioned groups of the tenant named by token group values (externalId or displayName). */
  async groupsNamedBy(tenantId: string, cfg: OidcConfig | undefined, values: string[]): Promise<{ id: string; displayName: string; externalId: string | null }[]> {
    if (values.length === 0) return [];
    const column = cfg?.groupsMatch === 'externalId' ? 'external_id' : 'display_name';
    const { rows } = await this.db.query<{ id: string; display_name: string; external_id: string | null }>(
      `SELECT id, display_name, external_id FROM scim_groups WHERE tenant_id = $1 AND ${column} = ANY($2::text[]) ORDER BY display_name, id LIMIT 2000`,
      [tenantId, values],
    );
    return rows.map((r) => ({ id: r.id, displayName: r.display_name, externalId: r.external_id }));
  }
}

// One service per assembled app, shared by the admin routes (configuration, test) and /v1.
const services = new WeakMap<AppDeps, IdpTokens>();

export function idpTokensFor(deps: AppDeps, log?: IdpTokensOptions['log']): IdpTokens {
  let s = services.get(deps);
  if (!s) {
    const c = deps.config;
    s = new IdpTokens(deps.db, {
      tokenCache: c.tokenCache,
      accessCacheTtlMs: c.accessCacheTtlMs,
      configTtlMs: 2_000,
      keyCache: { cooldownMs: c.oidcJwksCooldownMs },
      ...(log ? { log } : {}),
    });
    services.set(deps, s);
  }
  return s;
}
