import type { Database, Queryable } from '../db/types.js';

/** NOTIFY channel: payload `<tenantId>:<groupId>` of a group whose displayName changed. */
export const GROUP_NAMES_CHANNEL = 'idpb_group_names';

/** Entries this old are read again even without a notification (a bound if one is ever missed). */
const TTL_MS = 5 * 60_000;
/** Names kept per process; past it the cache starts over (correct, only slower). */
const MAX_ENTRIES = 100_000;

interface Entry { name: string; at: number }

/**
 * The displayName of groups, by id, for a user's `groups` attribute.
 *
 * Why: joining every membership of a user read to scim_groups costs 12 index probes for a user in
 * 12 groups, 3× the rest of a `userName eq` probe on PostgreSQL. So memberships come from an
 * index-only scan and names from here. A rename NOTIFYs inside its transaction; every process drops
 * the name on delivery, and the renaming process at once. A fetch that raced a rename is not kept
 * (generation check), so a stale name lasts at most until the notification arrives.
 * One per app (AppDeps.groupNames): buildApp builds it and closes it with the app.
 */
export class GroupNameCache {
  private readonly entries = new Map<string, Map<string, Entry>>();
  private readonly generations = new Map<string, number>();
  /** Moves when everything is forgotten (a LISTEN gap), for tenants with nothing cached too. */
  private epoch = 0;
  private size = 0;
  private subscribed: Promise<boolean> | undefined;
  private unlisten: (() => Promise<void>) | undefined;
  private closed = false;
  /** Known once subscribe() settled; spares a microtask per read. */
  private caching: boolean | undefined;

  constructor(private readonly db: Database) {}

  /** Forgets one group's name (or a whole tenant's): its displayName changed or may have. */
  forget(tenantId: string, groupId?: string): void {
    this.generations.set(tenantId, (this.generations.get(tenantId) ?? 0) + 1);
    const names = this.entries.get(tenantId);
    if (!names) return;
    if (groupId === undefined) {
      this.size -= names.size;
      this.entries.delete(tenantId);
    } else if (names.delete(groupId)) {
      this.size--;
    }
  }

  private forgetAll(): void {
    this.epoch++;
    this.entries.clear();
    this.size = 0;
  }

  /** Subscribes once; without a subscription nothing is cached (other processes' renames would be missed). */
  private subscribe(): Promise<boolean> {
    this.subscribed ??= this.db.listen(
      GROUP_NAMES_CHANNEL,
      (payload) => {
        const [tenantId, groupId] = payload.split(':');
        if (tenantId) this.forget(tenantId, groupId || undefined);
      },
      // Notifications may have been missed while the LISTEN connection was down.
      () => this.forgetAll(),
    ).then((unlisten) => {
      this.unlisten = unlisten;
      return !this.closed;
    }, () => false).then((ok) => (this.caching = ok));
    return this.subscribed;
  }

  /** Names of the given groups of a tenant; ids of groups that no longer exist are absent. */
  async resolve(tenantId: string, ids: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (ids.length === 0) return out;
    const caching = this.caching ?? (await this.subscribe());
    const now = Date.now();
    const names = this.entries.get(tenantId);
    const missing: string[] = [];
    for (const id of ids) {
      const e = names?.get(id);
      if (e && now - e.at < TTL_MS) out.set(id, e.name);
      else missing.push(id);
    }
    if (missing.length === 0) return out;
    const generation = this.generations.get(tenantId) ?? 0;
    const epoch = this.epoch;
    const { rows } = await this.db.query<{ id: string; display_name: string }>(
      'SELECT id, display_name FROM scim_groups WHERE tenant_id = $1 AND id = ANY($2::uuid[])',
      [tenantId, missing],
    );
    const keep = caching && this.epoch === epoch && (this.generations.get(tenantId) ?? 0) === generation;
    for (const r of rows) {
      out.set(r.id, r.display_name);
      if (keep) this.store(tenantId, r.id, r.display_name, now);
    }
    return out;
  }

  /** Stops listening and forgets everything (the app closes; its database may stay open). */
  async close(): Promise<void> {
    this.closed = true;
    this.caching = false;
    await this.subscribed;
    this.caching = false;
    this.forgetAll();
    await this.unlisten?.();
    this.unlisten = undefined;
  }

  private store(tenantId: string, id: string, name: string, at: number): void {
    if (this.size >= MAX_ENTRIES) this.forgetAll();
    let names = this.entries.get(tenantId);
    if (!names) this.entries.set(tenantId, (names = new Map()));
    if (!names.has(id)) this.size++;
    names.set(id, { name, at });
  }
}

/**
 * Inside the transaction that renames a group: every process forgets the name when it commits.
 * The caller also calls its cache's `forget` so this process needs no round trip to see it.
 */
export async function notifyGroupRenamed(tx: Queryable, tenantId: string, groupId: string): Promise<void> {
  await tx.query('SELECT pg_notify($1, $2)', [GROUP_NAMES_CHANNEL, `${tenantId}:${groupId}`]);
}
