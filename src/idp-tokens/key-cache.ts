import type { createLocalJWKSet, JSONWebKeySet, JWSHeaderParameters, FlattenedJWSInput } from 'jose';
import { isJoseError, loadJose } from '../lib/lazy-jose.js';
import { ApiError } from '../http/errors.js';
import { fetchJson, FetchJsonError, type FetchOptions } from './fetch.js';

export interface DiscoveryDocument {
  issuer: string;
  jwks_uri: string;
  id_token_signing_alg_values_supported?: string[];
  [k: string]: unknown;
}

export interface KeyCacheOptions {
  /** Fresh for this long; then refreshed in the background while the old copy keeps serving. */
  maxAgeMs?: number;
  /** After a failed refresh the last good copy keeps serving for this long (stale-while-error). */
  maxStaleMs?: number;
  /** At most one refetch per URL in this interval when a token names an unknown kid. */
  cooldownMs?: number;
  fetch?: FetchOptions;
  /** Warnings (failed background refresh). */
  onWarn?: (msg: string, detail: Record<string, unknown>) => void;
}

/** The IdP could not be reached and no usable cached copy exists: a server-side condition (503, retry after 5 s). */
export class IdpUnavailableError extends ApiError {
  constructor(message: string, override readonly cause?: unknown) {
    super('ERR_IDP_UNAVAILABLE', message, { 'retry-after': '5' });
  }
}

type KeyGetter = ReturnType<typeof createLocalJWKSet>;

interface Entry<T> {
  value: T;
  fetchedAt: number;
  lastAttemptAt: number;
  refreshing?: Promise<Entry<T>>;
}

/**
 * A cache of JSON documents keyed by URL, shared by every tenant that names the same URL. Fetches
 * are single-flight; a failed refresh keeps the last good copy (until maxStaleMs).
 */
class UrlCache<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private readonly inflight = new Map<string, Promise<Entry<T>>>();
  /** Number of network fetches started (tests observe the cooldown with it). */
  fetches = 0;

  constructor(
    private readonly what: string,
    private readonly parse: (doc: unknown, url: string) => T | Promise<T>,
    private readonly opts: Required<Omit<KeyCacheOptions, 'fetch' | 'onWarn'>> & Pick<KeyCacheOptions, 'fetch' | 'onWarn'>,
  ) {}

  peek(url: string): Entry<T> | undefined {
    return this.entries.get(url);
  }

  /** The cached value (refreshing in the background when old), or a fetched one. */
  async get(url: string): Promise<T> {
    const now = Date.now();
    const e = this.entries.get(url);
    if (e) {
      const age = now - e.fetchedAt;
      if (age < this.opts.maxAgeMs) return e.value;
      if (age < this.opts.maxStaleMs) {
        // Stale: serve it, refresh behind (at most once per cooldown when the IdP keeps failing).
        if (now - e.lastAttemptAt >= Math.min(this.opts.cooldownMs, this.opts.maxAgeMs)) void this.refresh(url).catch(() => {});
        return e.value;
      }
    }
    try {
      return (await this.refresh(url)).value;
    } catch (err) {
      throw new IdpUnavailableError(err instanceof Error ? err.message : `${this.what} could not be fetched`, err);
    }
  }

  /** Fetches now unless a fetch of this URL already happened within the cooldown; true if refreshed. */
  async refreshIfCool(url: string): Promise<boolean> {
    const e = this.entries.get(url);
    if (e && Date.now() - e.lastAttemptAt < this.opts.cooldownMs && !this.inflight.has(url)) return false;
    await this.refresh(url);
    return true;
  }

  refresh(url: string): Promise<Entry<T>> {
    const running = this.inflight.get(url);
    if (running) return running;
    const p = (async () => {
      this.fetches++;
      const prev = this.entries.get(url);
      if (prev) prev.lastAttemptAt = Date.now();
      try {
        const value = await this.parse(await fetchJson(url, this.what, this.opts.fetch), url);
        const now = Date.now();
        const entry: Entry<T> = { value, fetchedAt: now, lastAttemptAt: now };
        this.entries.set(url, entry);
        return entry;
      } catch (err) {
        if (prev) this.opts.onWarn?.(`${this.what} refresh failed; serving the cached copy`, { url, err: (err as Error).message });
        else this.entries.delete(url);
        throw err;
      } finally {
        this.inflight.delete(url);
      }
    })();
    this.inflight.set(url, p);
    return p;
  }

  clear(): void {
    this.entries.clear();
  }
}

export function parseDiscovery(doc: unknown, url: string): DiscoveryDocument {
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new FetchJsonError('not_json', `discovery document ${url} is not a JSON object`);
  const d = doc as Record<string, unknown>;
  if (typeof d.issuer !== 'string' || !d.issuer) throw new FetchJsonError('not_json', `discovery document ${url} has no "issuer"`);
  if (typeof d.jwks_uri !== 'string' || !d.jwks_uri) throw new FetchJsonError('not_json', `discovery document ${url} has no "jwks_uri"`);
  return d as DiscoveryDocument;
}

export interface ParsedJwks {
  jwks: JSONWebKeySet;
  getKey: KeyGetter;
}

export async function parseJwks(doc: unknown, url: string): Promise<ParsedJwks> {
  const keys = (doc as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new FetchJsonError('not_json', `JWKS ${url} has no "keys" array`);
  // Symmetric keys never belong in a published JWKS; dropping them rules out HMAC-with-a-public-key confusion.
  const usable = keys.filter((k): k is JSONWebKeySet['keys'][number] =>
    !!k && typeof k === 'object' && typeof (k as { kty?: unknown }).kty === 'string' && (k as { kty: string }).kty !== 'oct');
  const jwks = { keys: usable };
  return { jwks, getKey: (await loadJose()).createLocalJWKSet(jwks) };
}

/** Discovery documents and JWKS, per URL, for every tenant of this process. */
export class KeyCache {
  readonly discovery: UrlCache<DiscoveryDocument>;
  readonly jwks: UrlCache<ParsedJwks>;
  /** The options of every fetch (the outbound agent); the sign-in broker's token call uses them too. */
  readonly fetchOptions: FetchOptions;

  constructor(opts: KeyCacheOptions = {}) {
    this.fetchOptions = opts.fetch ?? {};
    const o = {
      maxAgeMs: opts.maxAgeMs ?? 10 * 60_000,
      maxStaleMs: opts.maxStaleMs ?? 24 * 3_600_000,
      cooldownMs: opts.cooldownMs ?? 30_000,
      fetch: opts.fetch,
      onWarn: opts.onWarn,
    };
    this.discovery = new UrlCache('discovery document', parseDiscovery, { ...o, maxAgeMs: Math.max(o.maxAgeMs, 60 * 60_000) });
    this.jwks = new UrlCache('JWKS', parseJwks, o);
  }

  /** The JWKS URL of a configuration: the override, else the discovery document's jwks_uri. */
  async jwksUriFor(cfg: { jwksUri: string | null; discoveryUrl: string | null }): Promise<string> {
    if (cfg.jwksUri) return cfg.jwksUri;
    if (!cfg.discoveryUrl) throw new IdpUnavailableError('neither jwksUri nor discoveryUrl is configured');
    return (await this.discovery.get(cfg.discoveryUrl)).jwks_uri;
  }

  /**
   * A jose key resolver for one JWKS URL: looks the kid up in the cached set, and when it is unknown
   * refetches once (subject to the cooldown) so a rotated-in key is picked up without a restart.
   */
  resolver(jwksUri: string) {
    return async (header: JWSHeaderParameters, token: FlattenedJWSInput) => {
      const set = await this.jwks.get(jwksUri);
      try {
        return await set.getKey(header, token);
      } catch (err) {
        if (!(isJoseError(err, 'JWKSNoMatchingKey'))) throw err;
        let refreshed = false;
        try {
          refreshed = await this.jwks.refreshIfCool(jwksUri);
        } catch {
          throw err; // stale-while-error: the cached set stays; this kid is simply unknown
        }
        if (!refreshed) throw err;
        return (await this.jwks.get(jwksUri)).getKey(header, token);
      }
    };
  }

  clear(): void {
    this.discovery.clear();
    this.jwks.clear();
  }
}
