import type { Queryable } from '../db/types.js';
import type { TenantSettings } from '../tenants/settings.js';

/** A user as stored, handed to observers. */
export interface StoredUser {
  id: string;
  userName: string;
  externalId: string | null;
  displayName: string | null;
  active: boolean;
  status: string;
  source: string;
  data: Record<string, unknown>;
}

export interface StoredGroup {
  id: string;
  displayName: string;
  externalId: string | null;
  data: Record<string, unknown>;
}

export interface ObserverContext {
  tenantId: string;
  /** The tenant's settings as loaded with the request's credentials (at most ~1 s old). */
  settings: TenantSettings;
}

/**
 * A row an observer wants inserted together with a new user, in the same statement (a
 * data-modifying CTE), so a plain create is one round trip and atomic without BEGIN/COMMIT.
 * `casts` gives each value's SQL type.
 */
export interface CompanionInsert {
  table: string;
  columns: string[];
  values: unknown[];
  casts: string[];
}

/**
 * Hooks into every SCIM write, called inside the write's transaction so that what they record
 * (access-model effects, outbox events, provisioning log) commits or rolls back with it.
 */
export interface ProvisioningObserver {
  userCreated?(tx: Queryable, ctx: ObserverContext, user: StoredUser, info: { adopted: boolean }): Promise<void>;
  /**
   * Fast path of a plain (non-adopting) create: validate synchronously (throw to refuse) and return
   * the rows to insert with the user — or undefined when this observer needs the transactional
   * `userCreated` for this user. An observer with `userCreated` but no `userCreatedInserts` always
   * takes the transactional path.
   */
  userCreatedInserts?(ctx: ObserverContext, user: StoredUser): CompanionInsert[] | undefined;
  userUpdated?(tx: Queryable, ctx: ObserverContext, before: StoredUser, after: StoredUser): Promise<void>;
  userDeleted?(tx: Queryable, ctx: ObserverContext, user: StoredUser, groupIds: string[]): Promise<void>;
  groupCreated?(tx: Queryable, ctx: ObserverContext, group: StoredGroup): Promise<void>;
  groupUpdated?(tx: Queryable, ctx: ObserverContext, before: StoredGroup, after: StoredGroup): Promise<void>;
  groupDeleted?(tx: Queryable, ctx: ObserverContext, group: StoredGroup, memberIds: string[]): Promise<void>;
  membersChanged?(tx: Queryable, ctx: ObserverContext, groupId: string, added: string[], removed: string[]): Promise<void>;
  /**
   * Fast path of a member-only change (Entra's and Okta's member PATCH): the rows to insert in the
   * statement that bumps the group's version, or undefined when `membersChanged` must run instead.
   */
  membersChangedInserts?(ctx: ObserverContext, groupId: string, added: string[], removed: string[]): CompanionInsert[] | undefined;
}

/**
 * Every observer's companion rows, or undefined as soon as one observer needs its transactional
 * hook (`rowsOf` answers undefined for it; [] for an observer with nothing to add).
 */
function companionsOf(list: ProvisioningObserver[], rowsOf: (o: ProvisioningObserver) => CompanionInsert[] | undefined): CompanionInsert[] | undefined {
  const out: CompanionInsert[] = [];
  for (const o of list) {
    const rows = rowsOf(o);
    if (!rows) return undefined;
    out.push(...rows);
  }
  return out;
}

/** Runs several observers in order. */
export function composeObservers(list: ProvisioningObserver[]): ProvisioningObserver {
  const pick = <K extends keyof ProvisioningObserver>(k: K) => list.map((o) => o[k]?.bind(o)).filter(Boolean) as NonNullable<ProvisioningObserver[K]>[];
  const userCreated = pick('userCreated');
  const userUpdated = pick('userUpdated');
  const userDeleted = pick('userDeleted');
  const groupCreated = pick('groupCreated');
  const groupUpdated = pick('groupUpdated');
  const groupDeleted = pick('groupDeleted');
  const membersChanged = pick('membersChanged');
  return {
    userCreatedInserts: (c, u) => companionsOf(list, (o) =>
      o.userCreatedInserts ? o.userCreatedInserts(c, u) : o.userCreated ? undefined : []),
    membersChangedInserts: (c, g, a, r) => companionsOf(list, (o) =>
      o.membersChangedInserts ? o.membersChangedInserts(c, g, a, r) : o.membersChanged ? undefined : []),
    async userCreated(tx, c, u, i) { for (const f of userCreated) await f(tx, c, u, i); },
    async userUpdated(tx, c, b, a) { for (const f of userUpdated) await f(tx, c, b, a); },
    async userDeleted(tx, c, u, g) { for (const f of userDeleted) await f(tx, c, u, g); },
    async groupCreated(tx, c, g) { for (const f of groupCreated) await f(tx, c, g); },
    async groupUpdated(tx, c, b, a) { for (const f of groupUpdated) await f(tx, c, b, a); },
    async groupDeleted(tx, c, g, m) { for (const f of groupDeleted) await f(tx, c, g, m); },
    async membersChanged(tx, c, g, a, r) { if (a.length || r.length) for (const f of membersChanged) await f(tx, c, g, a, r); },
  };
}
