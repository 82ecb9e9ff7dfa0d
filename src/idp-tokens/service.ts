import { createHash } from 'node:crypto';
import type { Database } from '../db/types.js';
import type { Config } from '../config.js';
import { TtlCache } from '../lib/ttl-cache.js';
import { isUuid } from '../lib/ids.js';
import {
  effectiveAccess, findIdentityByLookups, resolveDataset, verifyApiKey, activateStagedIdentity, type EffectiveAccess, type DatasetRef,
} from '../access/index.js';
import { getOidcConfig, OIDC_CONFIG_CHANNEL, type OidcConfig } from './oidc-config.js';
import { KeyCache, type KeyCacheOptions } from './key-cache.js';
import { idpAgent } from './fetch.js';
import { TargetPolicy } from '../lib/outbound.js';
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

const MAX_TOKENS = 100_000;
const MAX_ENTRIES = 50_000;
const sha256 = (s: string) => createHash('sha256').update(s).digest('base64url');
const stampOf = (c: OidcConfig) => `${c.version}:${c.updatedAt.getTime()}`;

/**
 * IdP-token verification and the data an access decision needs, with the caches that keep the
 * /v1 API fast: verified tokens until exp; identity, access, datasets and API keys for a short TTL.
 * One per app, built in buildApp and carried on AppDeps (admin routes, /v1 and the sign-in broker share it).
 */
export class IdpTokens {
  readonly keys: KeyCache;
  private readonly configs: TtlCache<string, OidcConfig | undefined>;
  /** Keyed by SHA-256 of tenant and token; each entry lives until the token's exp. */
  private readonly tokens = new TtlCache<string, TokenEntry>({ maxEntries: MAX_TOKENS, ttlMs: 0 });
  private readonly access: TtlCache<string, EffectiveAccess | undefined>;
  private readonly identities: TtlCache<string, Resolution>;
  private readonly datasets: TtlCache<string, DatasetRef | undefined>;
  private readonly apiKeys: TtlCache<string, { identityId: string; keyId: string } | undefined>;
  private unlisten: (() => Promise<void>) | undefined;
  private started: Promise<void> | undefined;

  constructor(private readonly db: Database, readonly opts: IdpTokensOptions) {
    this.opts = { ...opts, accessCacheTtlMs: Math.min(Math.max(opts.accessCacheTtlMs, 0), 5_000) };
    const short = { maxEntries: MAX_ENTRIES, ttlMs: this.opts.accessCacheTtlMs };
    this.configs = new TtlCache({ maxEntries: MAX_ENTRIES, ttlMs: opts.configTtlMs });
    this.access = new TtlCache(short);
    this.identities = new TtlCache(short);
    this.datasets = new TtlCache(short);
    this.apiKeys = new TtlCache(short);
    this.keys = new KeyCache({
      ...opts.keyCache,
      onWarn: (msg, detail) => opts.log?.warn(detail, msg),
    });
  }

  /** The service as the configuration sets it up. */
  static fromConfig(db: Database, c: Config, log?: IdpTokensOptions['log']): IdpTokens {
    return new IdpTokens(db, {
      tokenCache: c.tokenCache,
      accessCacheTtlMs: c.accessCacheTtlMs,
      configTtlMs: 2_000,
      // Discovery, JWKS (and the sign-in broker's token call) go through the outbound guard.
      keyCache: { cooldownMs: c.oidcJwksCooldownMs, fetch: { dispatcher: idpAgent(new TargetPolicy(c.allowPrivateTargets)) } },
      ...(log ? { log } : {}),
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
    this.tokens.deleteWhere((_k, e) => e.tenantId === tenantId);
    const prefix = `${tenantId}:`;
    const ofTenant = (k: string) => k.startsWith(prefix);
    this.access.deleteWhere(ofTenant);
    this.datasets.deleteWhere(ofTenant);
    this.apiKeys.deleteWhere(ofTenant);
    this.identities.deleteWhere(ofTenant);
  }

  async config(tenantId: string): Promise<OidcConfig | undefined> {
    if (!isUuid(tenantId)) return undefined;
    return this.configs.getOrLoad(tenantId, () => getOidcConfig(this.db, tenantId));
  }

  /** Verifies a bearer credential for a tenant; throws TokenError (401) or IdpUnavailableError (503). */
  async authenticate(tenantId: string, bearer: string): Promise<Principal> {
    if (bearer.startsWith('idpb_key_')) return this.authenticateApiKey(tenantId, bearer);
    if (!looksLikeJwt(bearer)) throw new TokenError('malformed_token', 'bearer credential is neither a JWT nor an idpbridge API key');
    // The same answer for an unknown tenant as for one without OIDC: tenants cannot be probed.
    const cfg = await this.config(tenantId);
    if (!cfg) throw new TokenError('oidc_not_configured', 'no OIDC configuration for this tenant: IdP tokens cannot be verified here');
    const stamp = stampOf(cfg);
    const key = this.opts.tokenCache ? sha256(`${tenantId}\u0000${bearer}`) : '';
    let entry = key ? this.tokens.get(key) : undefined;
    if (entry && entry.stamp !== stamp) {
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
      if (key) this.tokens.set(key, entry, verified.expiresAt - Date.now());
    }
    // Identity resolution is reused for the short TTL only: a user provisioned, renamed or deleted
    // since shows within it.
    const lookups = entry.lookups;
    const found = await this.identities.getOrLoad(entry.identityKey, async () => {
      const hit = await findIdentityByLookups(this.db, tenantId, lookups);
      return hit ? { identityId: hit.identity.id, matchedBy: hit.matchedBy } : undefined;
    });
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

  private async authenticateApiKey(tenantId: string, key: string): Promise<Principal> {
    const found = await this.apiKeys.getOrLoad(`${tenantId}:${sha256(key)}`, () => verifyApiKey(this.db, tenantId, key));
    if (!found) throw new TokenError('invalid_api_key', 'API key is unknown, disabled, or belongs to a suspended identity');
    return { tenantId, kind: 'api_key', identityId: found.identityId, keyId: found.keyId };
  }

  /** Effective access of an identity (short TTL). */
  accessOf(tenantId: string, identityId: string): Promise<EffectiveAccess | undefined> {
    return this.access.getOrLoad(`${tenantId}:${identityId}`, () => effectiveAccess(this.db, tenantId, identityId));
  }

  /** A dataset by id, externalId or name (short TTL). */
  async dataset(tenantId: string, ref: string): Promise<DatasetRef | undefined> {
    if (!storableText(ref)) return undefined;
    return this.datasets.getOrLoad(`${tenantId}:${ref}`, () => resolveDataset(this.db, tenantId, ref));
  }

  /** Applies an allowed decision's first-use activation (staged → active); the cached access of that identity is dropped. */
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
