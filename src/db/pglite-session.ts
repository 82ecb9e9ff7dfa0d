import { TransactionAbortedError, type PGlite, type messages } from '@electric-sql/pglite';
import type { QueryResult, Transaction } from './types.js';
import { Exchange, commandOf, describedOf, errorOf, resultOf, serializeParams, splitParts } from './pglite-protocol.js';
import { StatementCache, cacheable, changesSchema, isStaleStatementError, type Prepared } from './pglite-statements.js';

/** Runs one task at a time, in call order (PGlite has a single backend session). */
class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.then(noop, noop);
    return result;
  }
}
const noop = () => {};
const NO_PARAMS: readonly unknown[] = [];

/** A statement's error, thrown as PGlite's own `query` throws it (with the statement's text). */
function fail(err: messages.DatabaseError, sql: string): never {
  throw Object.assign(err, { query: sql });
}

/** A prepared statement and whether it stays prepared after this run. */
interface Ready {
  p: Prepared;
  fresh: boolean;
  keep: boolean;
}

/**
 * The database layer's access to one PGlite instance, over the wire protocol instead of PGlite's
 * `query` (which parses and plans every statement on every call, in six calls into the backend):
 *
 * - every statement is prepared once under a name (StatementCache) and then runs as Bind +
 *   Execute + Sync in one call; its plan is reused (generic plans, see pglite-settings.ts);
 * - a transaction's BEGIN rides in the call of its first statement, and `queryAndCommit` sends
 *   COMMIT in the call of its statement.
 *
 * Everything that touches the backend runs through one queue (statements, transactions, LISTEN,
 * dumps, close), so PGlite's own locks are never contended. The data directories openPglite uses
 * (NODEFS, in memory) write through, so no statement needs PGlite's `syncToFs` afterwards.
 */
export class PgliteSession {
  readonly statements: StatementCache;
  private readonly queue = new SerialQueue();
  private closed = false;
  /** Calls into the backend so far (each runs one exchange, whatever it holds). */
  calls = 0;

  constructor(private readonly pg: PGlite, cacheCapacity?: number) {
    this.statements = new StatementCache(cacheCapacity);
  }

  /** Runs fn alone on the backend (nothing else is sent meanwhile). */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.queue.run(fn);
  }

  /** Closes the instance once the work queued before has run; later calls fail. */
  close(): Promise<void> {
    return this.queue.run(async () => {
      if (this.closed) return;
      this.closed = true;
      await this.pg.close();
    });
  }

  query<T>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>> {
    return this.queue.run(() => this.runStatement<T>(sql, params ?? NO_PARAMS, { retry: true }).then((r) => r.result));
  }

  exec(sql: string): Promise<void> {
    return this.queue.run(() => this.runScript(sql));
  }

  /** See Database.transaction: committed when fn resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    return this.queue.run(async () => {
      // BEGIN is sent with the first statement: a transaction without statements sends nothing.
      let state = 'idle' as 'idle' | 'open' | 'done';
      const ended = () => Promise.reject(new Error('the transaction has already ended'));
      const begin = () => {
        const b = state === 'idle' ? 'BEGIN' : undefined;
        state = 'open';
        return b;
      };
      const tx: Transaction = {
        query: async <R>(sql: string, params?: readonly unknown[]) => {
          if (state === 'done') return ended();
          return (await this.runStatement<R>(sql, params ?? NO_PARAMS, { before: begin() })).result;
        },
        exec: async (sql: string) => {
          if (state === 'done') return ended();
          await this.runScript(sql, begin());
        },
        queryAndCommit: async <R>(sql: string, params?: readonly unknown[]) => {
          if (state === 'done') return ended();
          try {
            const { result, after } = await this.runStatement<R>(sql, params ?? NO_PARAMS, { before: begin(), after: 'COMMIT' });
            state = 'done';
            // COMMIT of a transaction that an earlier statement aborted answers ROLLBACK, not an error.
            if (after !== 'COMMIT') throw new Error('the transaction was rolled back: one of its statements had failed');
            return result;
          } finally {
            // A failure before COMMIT ran (preparing the statement failed) leaves the transaction open.
            if (state === 'open') await this.runScript('ROLLBACK').catch(noop);
            state = 'done';
          }
        },
      };
      try {
        const result = await fn(tx);
        if (state === 'open') {
          state = 'done';
          const tag = await this.runCommand('COMMIT');
          if (tag !== 'COMMIT') throw Object.assign(new TransactionAbortedError(), { query: 'COMMIT' });
        }
        state = 'done';
        return result;
      } catch (err) {
        if (state === 'open') await this.runScript('ROLLBACK').catch(noop);
        state = 'done';
        throw err;
      }
    });
  }

  private async send(ex: Exchange): Promise<messages.BackendMessage[][]> {
    if (this.closed) throw new Error('PGlite is closed');
    this.calls++;
    const answer = await this.pg.execProtocolStream(ex.message(), { syncToFs: false, throwOnError: false });
    return splitParts(answer);
  }

  /** A simple-protocol script (several statements allowed, no parameters). */
  private async runScript(sql: string, before?: string): Promise<void> {
    const ex = new Exchange().close(this.statements.takeClosing());
    const b = ex.parts;
    if (before) ex.simple(before);
    const at = ex.parts;
    ex.simple(sql);
    const parts = await this.send(ex);
    if (changesSchema(sql)) this.statements.clear();
    const beforeErr = before ? errorOf(parts[b]) : undefined;
    if (beforeErr) fail(beforeErr, before!);
    const err = errorOf(parts[at]);
    if (err) fail(err, sql);
  }

  /** A simple command alone; resolves with its command tag. */
  private async runCommand(sql: string): Promise<string | undefined> {
    const ex = new Exchange().close(this.statements.takeClosing());
    const at = ex.parts;
    const parts = await this.send(ex.simple(sql));
    const err = errorOf(parts[at]);
    if (err) fail(err, sql);
    return commandOf(parts[at]);
  }

  /**
   * One statement, prepared first if its text is new: then the prepare call carries `before` and
   * the execute call `after`; otherwise one call carries all three. Resolves with `after`'s command
   * tag too (COMMIT answers ROLLBACK in a failed transaction). `retry`: outside a transaction, a
   * cached statement that turns out stale is prepared again and run once more (the failed run
   * changed nothing).
   */
  private async runStatement<T>(
    sql: string,
    params: readonly unknown[],
    opts: { before?: string | undefined; after?: string; retry?: boolean },
  ): Promise<{ result: QueryResult<T>; after: string | undefined }> {
    let before = opts.before;
    const cached = this.statements.get(sql);
    const ready: Ready = cached ? { p: cached, fresh: false, keep: true } : await this.prepare(sql, before);
    if (!cached) before = undefined;
    const { p } = ready;

    const ex = new Exchange().close(this.statements.takeClosing());
    const b = ex.parts;
    if (before) ex.simple(before);
    const at = ex.parts;
    ex.execute(p.name, serializeParams(params, p.paramTypes, this.pg.serializers)).sync();
    if (opts.after) ex.simple(opts.after);
    const parts = await this.send(ex);

    if (!ready.keep) {
      this.statements.discard(p.name);
      if (changesSchema(sql)) this.statements.clear();
    }
    const beforeErr = before ? errorOf(parts[b]) : undefined;
    if (beforeErr) fail(beforeErr, before!);
    const err = errorOf(parts[at]);
    if (err) {
      if (!ready.fresh && isStaleStatementError(err)) {
        if (err.code === '26000') this.statements.clear();
        else this.statements.invalidate(sql);
        if (opts.retry && !opts.before && !opts.after) return this.runStatement<T>(sql, params, { retry: false });
      }
      fail(err, sql);
    }
    const afterPart = opts.after ? parts[at + 1] : undefined;
    const afterErr = errorOf(afterPart);
    if (afterErr) fail(afterErr, opts.after!);
    return { result: resultOf<T>(parts[at]!, p.rows, this.pg.parsers), after: opts.after ? commandOf(afterPart) : undefined };
  }

  /** Prepares a statement under a new name (cached unless it is for one run); `before` (BEGIN) rides along. */
  private async prepare(sql: string, before: string | undefined): Promise<Ready> {
    const name = this.statements.nextName();
    const ex = new Exchange().close(this.statements.takeClosing());
    const b = ex.parts;
    if (before) ex.simple(before);
    const at = ex.parts;
    const parts = await this.send(ex.prepare(name, sql).sync());
    const beforeErr = before ? errorOf(parts[b]) : undefined;
    if (beforeErr) fail(beforeErr, before!);
    const err = errorOf(parts[at]);
    if (err) {
      this.statements.discard(name);
      fail(err, sql);
    }
    const p: Prepared = { name, ...describedOf(parts[at] ?? []) };
    const keep = cacheable(sql);
    if (keep) this.statements.add(sql, p);
    return { p, fresh: true, keep };
  }
}
