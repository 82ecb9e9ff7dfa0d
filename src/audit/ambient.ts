import { AsyncLocalStorage } from 'node:async_hooks';
import type { Database, Queryable, Transaction } from '../db/types.js';

/**
 * Request-wide transactions. An audited admin write runs its whole handler inside one transaction
 * (so the change and its audit entry commit together) without any route passing a transaction
 * around: the database handed to every service is wrapped so that, inside such a request,
 * `query` runs in the request's transaction and `transaction` becomes a savepoint in it. Outside
 * one (background workers, SCIM, reads) every call goes to the database unchanged.
 */
interface Ambient {
  tx: Transaction;
  /** The transaction as nested code sees it: statements only (it cannot commit the request's transaction). */
  inner: Queryable;
  /** False once the request's transaction is finishing: work that outlives it uses the database again. */
  open: boolean;
  savepoints: number;
}

const store = new AsyncLocalStorage<Ambient>();
const BASE = Symbol('idpbridge.ambientBase');
type Wrapped = Database & { [BASE]?: Database };

const current = (): Ambient | undefined => {
  const a = store.getStore();
  return a?.open ? a : undefined;
};

/** The database as every service sees it: request-wide transactions join the current one. */
export function withAmbientTransactions(db: Database): Database {
  if ((db as Wrapped)[BASE]) return db;
  const wrapped: Wrapped = {
    kind: db.kind,
    query: (sql, params) => (current()?.tx ?? db).query(sql, params),
    exec: (sql) => (current()?.tx ?? db).exec(sql),
    async transaction(fn) {
      const a = current();
      if (!a) return db.transaction(fn);
      // A nested transaction is a savepoint: its failure undoes only its own statements, as before.
      const name = `ambient_sp_${++a.savepoints}`;
      await a.tx.query(`SAVEPOINT ${name}`);
      try {
        const result = await fn(a.inner);
        await a.tx.query(`RELEASE SAVEPOINT ${name}`);
        return result;
      } catch (err) {
        await a.tx.query(`ROLLBACK TO SAVEPOINT ${name}`).catch(() => {});
        throw err;
      }
    },
    listen: (channel, onPayload, onGap) => db.listen(channel, onPayload, onGap),
    close: () => db.close(),
    [BASE]: db,
  };
  return wrapped;
}

/**
 * Runs fn in one transaction that every query of the same async flow joins (see above). The
 * transaction commits when fn resolves and rolls back when it throws.
 */
export async function inRequestTransaction<T>(db: Database, fn: (tx: Transaction) => Promise<T>): Promise<T> {
  const base = (db as Wrapped)[BASE] ?? db;
  return base.transaction(async (tx) => {
    const a: Ambient = { tx, inner: { query: (sql, params) => tx.query(sql, params), exec: (sql) => tx.exec(sql) }, open: true, savepoints: 0 };
    try {
      return await store.run(a, () => fn(tx));
    } finally {
      a.open = false;
    }
  });
}

/** The request-wide transaction this async flow runs in, if any. */
export const requestTransaction = (): Queryable | undefined => current()?.inner;
