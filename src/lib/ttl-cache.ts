/**
 * A small in-process cache with a time to live per entry and a bounded size.
 *
 * Contract:
 * - `get` never returns an entry older than the TTL it was stored with; an expired entry is
 *   dropped when it is looked up.
 * - A TTL of 0 or less stores nothing (`set` is a no-op), so "never reuse" needs no special case.
 * - At most `maxEntries` entries are held: when a `set` finds the cache full, the oldest tenth (by
 *   insertion; setting a key again moves it to the newest end) is dropped first.
 * - `undefined` is a value like any other (a cached miss): `lookup` tells a hit holding undefined
 *   from no hit.
 * - Per process only: whatever must hold across processes is bounded by the TTL or invalidated by
 *   the caller (LISTEN/NOTIFY).
 */
export interface TtlCacheOptions {
  maxEntries: number;
  /** TTL used when `set` is given none (ms). */
  ttlMs: number;
  /** Clock (ms since the epoch); tests inject one. */
  now?: () => number;
}

interface Entry<V> {
  value: V;
  expiresAt: number;
}

export class TtlCache<K, V> {
  private readonly entries = new Map<K, Entry<V>>();
  private readonly now: () => number;

  constructor(private readonly opts: TtlCacheOptions) {
    this.now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The fresh entry for a key, as `{ value }`, or undefined when there is none. */
  lookup(key: K): { value: V } | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (this.now() >= e.expiresAt) {
      this.entries.delete(key);
      return undefined;
    }
    return { value: e.value };
  }

  get(key: K): V | undefined {
    return this.lookup(key)?.value;
  }

  set(key: K, value: V, ttlMs: number = this.opts.ttlMs): void {
    if (!(ttlMs > 0)) return;
    this.entries.delete(key);
    if (this.entries.size >= this.opts.maxEntries) this.evictOldest();
    this.entries.set(key, { value, expiresAt: this.now() + ttlMs });
  }

  /** The cached value, or `load()`'s result, stored for `ttlMs`. Concurrent misses each load. */
  async getOrLoad(key: K, load: () => Promise<V>, ttlMs: number = this.opts.ttlMs): Promise<V> {
    const hit = this.lookup(key);
    if (hit) return hit.value;
    const value = await load();
    this.set(key, value, ttlMs);
    return value;
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  /** Drops every entry the predicate selects. */
  deleteWhere(pred: (key: K, value: V) => boolean): void {
    for (const [k, e] of this.entries) if (pred(k, e.value)) this.entries.delete(k);
  }

  clear(): void {
    this.entries.clear();
  }

  private evictOldest(): void {
    let n = Math.max(1, Math.ceil(this.opts.maxEntries / 10));
    for (const k of this.entries.keys()) {
      this.entries.delete(k);
      if (--n <= 0) break;
    }
  }
}
