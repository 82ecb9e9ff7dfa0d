export interface QueryResult<T> {
  rows: T[];
  rowCount: number;
}

/** Anything that runs SQL: the database itself or an open transaction. */
export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

/** An open transaction (the `tx` of `Database.transaction`). */
export interface Transaction extends Queryable {
  /**
   * Runs the transaction's last statement and commits it, in one round trip where the database
   * allows (PostgreSQL: the statement and COMMIT are written together; undefined elsewhere, where
   * `query` and the commit after `fn` do the same). Resolves with the statement's result once the
   * commit has answered COMMIT; rejects when the statement fails or the transaction did not commit,
   * and then nothing of the transaction is stored. The transaction takes no statement after it.
   */
  queryAndCommit?<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>>;
}

export type DatabaseKind = 'postgres' | 'pglite';

export interface Database extends Queryable {
  readonly kind: DatabaseKind;
  /**
   * Runs fn in one transaction: committed when fn resolves, rolled back when it throws. A statement
   * that failed inside it aborts the whole transaction even when fn caught its error: the commit
   * then stores nothing and the call rejects (a savepoint fn rolls back to keeps the rest).
   */
  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T>;
  /**
   * Subscribes to a PostgreSQL NOTIFY channel; returns an unsubscribe function. `onGap` is called
   * when notifications may have been missed (the LISTEN connection was lost, and again once it is
   * back), so a cache can start over.
   */
  listen(channel: string, onPayload: (payload: string) => void, onGap?: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}
