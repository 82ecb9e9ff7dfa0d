import type { Database } from '../../db/types.js';
import type { TenantSlot } from '../../http/tenant-concurrency.js';
import { insertUserWith, insertUsersWith, type UserInsert, type UserRow } from '../../directory/users-store.js';

/** Users per statement at most (a statement's JSON parameter stays small). */
const MAX_BATCH = 64;

interface Pending extends UserInsert {
  resolve(row: UserRow | undefined): void;
  reject(err: unknown): void;
}

const shapeOf = (p: UserInsert) => JSON.stringify(p.companions.map((c) => [c.table, c.columns, c.casts]));

/**
 * Plain creates on embedded PGlite, written together. PGlite runs one statement at a time in the
 * server's thread, so concurrent creates wait for each other anyway; the ones that arrive while a
 * statement runs are written by the next one (insertUsersWith). Each statement costs a parse, a
 * plan, a commit and a count-trigger run whatever it writes: 0.71 ms for one user alone, about
 * 0.14 ms per user in a statement of 16 (PGlite 0.5, measured in process). The first create
 * of a quiet moment waits one turn of the event loop, so the requests already received join it.
 */
class CreateBatcher {
  private queue: Pending[] = [];
  private scheduled = false;

  constructor(private readonly db: Database) {}

  insert(u: UserInsert): Promise<UserRow | undefined> {
    return new Promise((resolve, reject) => {
      this.queue.push({ ...u, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      // One shape of companion rows per statement; the others go in the next one.
      const shape = shapeOf(this.queue[0]!);
      const batch: Pending[] = [];
      const rest: Pending[] = [];
      for (const p of this.queue) (batch.length < MAX_BATCH && shapeOf(p) === shape ? batch : rest).push(p);
      this.queue = rest;
      await this.write(batch);
      // Requests received meanwhile join the next statement.
      if (this.queue.length > 0) await new Promise((r) => setImmediate(r));
    }
    this.scheduled = false;
  }

  private async write(batch: Pending[]): Promise<void> {
    if (batch.length > 1) {
      try {
        const rows = await insertUsersWith(this.db, batch);
        batch.forEach((p, i) => p.resolve(rows[i]));
        return;
      } catch {
        // One user's values fail the whole statement: each alone, so only that one fails.
      }
    }
    for (const p of batch) {
      try {
        p.resolve(await insertUserWith(this.db, p.tenantId, p.id, p.w, p.source, p.companions));
      } catch (err) {
        p.reject(err);
      }
    }
  }
}

const batchers = new WeakMap<Database, CreateBatcher>();

/**
 * insertUserWith for a SCIM create: batched on PGlite, one statement per user on PostgreSQL (its
 * connections run statements side by side). Not for a caller inside a transaction: the batch runs
 * on the database itself. On PGlite the request's tenant slot is lent out while the create waits
 * in the batch (TenantSlot.share): otherwise a tenant's batches could hold no more creates than
 * its slots (4 by default), and PGlite's POST throughput was half of what batches of 32 give.
 * The caller may hold no slot afterwards (TenantSlot.hold takes one again).
 */
export function insertUserBatched(db: Database, u: UserInsert, slot?: TenantSlot): Promise<UserRow | undefined> {
  if (db.kind !== 'pglite') return insertUserWith(db, u.tenantId, u.id, u.w, u.source, u.companions);
  let b = batchers.get(db);
  if (!b) batchers.set(db, (b = new CreateBatcher(db)));
  const batcher = b;
  return slot ? slot.share(() => batcher.insert(u)) : batcher.insert(u);
}
