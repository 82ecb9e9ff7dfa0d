import pg from 'pg';
import { createHash } from 'node:crypto';
import type { Database, QueryResult, Transaction } from './types.js';

// Timestamps stay Date; int8 (counts) become numbers — our counts never reach 2^53.
pg.types.setTypeParser(20, (v: string) => Number(v));

export interface PostgresOptions {
  connectionString: string;
  max?: number;
  /** Application name shown in pg_stat_activity. */
  applicationName?: string;
  /**
   * statement_timeout of every connection (ms; 0 or undefined = none): no request, however costly,
   * holds a connection longer. Work that may legitimately run longer (migrations) lifts it with
   * SET LOCAL statement_timeout = 0 in its transaction.
   */
  statementTimeoutMs?: number | undefined;
}

/** A transaction whose COMMIT answered ROLLBACK: one of its statements had failed, nothing of it is stored. */
class RolledBack extends Error {
  constructor() {
    super('the transaction was rolled back: one of its statements had failed');
    this.name = 'RolledBack';
  }
}

export function openPostgres(opts: PostgresOptions): Database {
  const pool = new pg.Pool({
    connectionString: opts.connectionString,
    max: opts.max ?? 10,
    application_name: opts.applicationName ?? 'idpbridge',
    connectionTimeoutMillis: 5_000,
    // Short OLTP queries: JIT compilation only adds latency. Generic plans: a custom plan for a
    // tenant created since the last ANALYZE believes the tenant is empty, and then walks the
    // tenant's `created` index filtering on userName (an Entra probe read 1,300 buffers, 0.65 ms,
    // in a 3k-user tenant) or hash-joins all its users for a member PATCH. Every statement is
    // keyed by tenant_id, so the generic plan (average tenant) picks the selective index.
    // Pipeline mode: a client sends each query as it is issued instead of after the previous one's
    // answer (each still with its own Sync, so a failure fails only its own statement, and in a
    // transaction the ones after it). Only transactions issue more than one at a time
    // (transaction() below); nothing here uses portals or cursors, which pipeline mode refuses.
    pipeline: true,
    options: `-c jit=off -c plan_cache_mode=force_generic_plan${opts.statementTimeoutMs ? ` -c statement_timeout=${Math.floor(opts.statementTimeoutMs)}` : ''}`,
  });
  // An idle client losing its connection (PostgreSQL restart) must not crash the process.
  pool.on('error', () => {});

  // Parameterised statements are prepared once per connection (named by a hash of their text):
  // the hot lookups skip parse and plan. Filters vary only in parameters, so the set stays small;
  // past the cap, new texts run unnamed.
  const named = new Map<string, string>();
  const nameOf = (sql: string): string | undefined => {
    let name = named.get(sql);
    if (name === undefined && named.size < 2000 && sql.length < 8000) {
      name = `q${createHash('sha1').update(sql).digest('hex').slice(0, 16)}`;
      named.set(sql, name);
    }
    return name;
  };
  const run = async <T>(q: pg.Pool | pg.PoolClient, sql: string, params?: readonly unknown[]): Promise<QueryResult<T>> => {
    const res = params && params.length > 0
      ? await q.query({ text: sql, values: params as unknown[], name: nameOf(sql) })
      : await q.query(sql);
    return { rows: res.rows as T[], rowCount: res.rowCount ?? 0 };
  };

  const listeners = new Map<string, Set<(p: string) => void>>();
  const gapListeners = new Set<() => void>();
  const gap = () => { for (const fn of gapListeners) fn(); };
  let listenClient: pg.PoolClient | undefined;
  /** Releases the LISTEN client once (close() and a later connection error must not both release it). */
  let releaseListenClient: ((err?: Error) => void) | undefined;
  let listenConnecting: Promise<pg.PoolClient> | undefined;

  let closed = false;
  let relistenTimer: NodeJS.Timeout | undefined;
  /** After the LISTEN connection is lost (PostgreSQL restart): reconnect and LISTEN again, backing off. */
  const relisten = (delayMs: number): void => {
    if (closed || relistenTimer || listeners.size === 0) return;
    relistenTimer = setTimeout(async () => {
      relistenTimer = undefined;
      try {
        const client = await ensureListenClient();
        for (const channel of listeners.keys()) await client.query(`LISTEN ${channel}`);
        gap(); // notifications sent while re-subscribing were missed too
      } catch {
        relisten(Math.min(delayMs * 2, 30_000));
      }
    }, delayMs);
    relistenTimer.unref();
  };

  const ensureListenClient = async (): Promise<pg.PoolClient> => {
    if (listenClient) return listenClient;
    listenConnecting ??= (async () => {
      const client = await pool.connect();
      let released = false;
      const release = (err?: Error) => {
        if (released) return;
        released = true;
        client.release(err);
      };
      client.on('notification', (msg) => {
        for (const fn of listeners.get(msg.channel) ?? []) fn(msg.payload ?? '');
      });
      client.on('error', (err) => {
        // Connection lost: drop it (destroyed, not returned to the pool) and re-subscribe every channel.
        if (listenClient === client) {
          listenClient = undefined;
          releaseListenClient = undefined;
        }
        listenConnecting = undefined;
        // Killed after close(): it was released then (release() is once only); nothing to re-subscribe.
        release(err);
        if (closed) return;
        gap();
        relisten(500);
      });
      listenClient = client;
      releaseListenClient = release;
      return client;
    })().catch((err) => {
      listenConnecting = undefined;
      throw err;
    });
    return listenConnecting;
  };

  return {
    kind: 'postgres',
    query: (sql, params) => run(pool, sql, params),
    exec: async (sql) => { await pool.query(sql); },
    async transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      // A checked-out client has no pool error listener: a connection lost between two statements
      // (PostgreSQL restart) would be an unhandled 'error' event and end the process.
      let lost: Error | undefined;
      const onError = (err: Error) => { lost = err; };
      client.on('error', onError);
      // Round trips (pipeline mode, see the pool): BEGIN goes out with the first statement, and
      // `queryAndCommit` writes its statement and COMMIT together. BEGIN on an idle connection
      // (every transaction starts on one, see the release below) fails only with the connection,
      // which fails the statement behind it too.
      let state = 'idle' as 'idle' | 'open' | 'done';
      const send = <R>(statements: (() => Promise<R>)[]): Promise<R>[] => {
        if (state === 'done') return statements.map(() => Promise.reject(new Error('the transaction has already ended')));
        const stream = client.connection.stream;
        stream.cork();
        try {
          const begin = state === 'idle' ? client.query('BEGIN') : undefined;
          state = 'open';
          const sent = statements.map((s) => s());
          // The first statement fails with its BEGIN (which then has no rejection of its own to leave unhandled).
          if (begin) sent[0] = Promise.all([begin, sent[0]!]).then(([, r]) => r);
          return sent;
        } finally {
          stream.uncork();
        }
      };
      // COMMIT of a transaction that a failed statement aborted answers ROLLBACK, not an error: a
      // callback that caught that statement's error must not resolve as if its work were stored.
      const committed = (res: pg.QueryResult): void => {
        if (res.command !== 'COMMIT') throw new RolledBack();
      };
      const tx: Transaction = {
        query: <R>(sql: string, params?: readonly unknown[]) => send([() => run<R>(client, sql, params)])[0]!,
        exec: async (sql) => { await send([() => client.query(sql)])[0]; },
        async queryAndCommit<R>(sql: string, params?: readonly unknown[]) {
          const [statement, commit] = send<unknown>([() => run<R>(client, sql, params), () => client.query('COMMIT')]);
          state = 'done';
          const [s, c] = await Promise.allSettled([statement!, commit!]);
          if (s.status === 'rejected') throw s.reason;
          if (c.status === 'rejected') throw c.reason;
          committed(c.value as pg.QueryResult);
          return s.value as QueryResult<R>;
        },
      };
      try {
        const result = await fn(tx);
        const open = state === 'open';
        // COMMIT ends the transaction whatever it answers: no ROLLBACK follows it.
        state = 'done';
        if (open) committed(await client.query('COMMIT'));
        return result;
      } catch (err) {
        if (state === 'open' && !lost) await client.query('ROLLBACK').catch(() => {});
        throw lost && !(err as { code?: string }).code ? lost : err;
      } finally {
        client.removeListener('error', onError);
        // A connection still inside a transaction (a failed ROLLBACK) is not reused: the next
        // transaction's BEGIN, and everything behind it, would run in this one.
        client.release(lost ?? (client.getTransactionStatus() === 'I' ? undefined : new Error('connection left inside a transaction')));
      }
    },
    async listen(channel, onPayload, onGap) {
      if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`invalid channel name ${channel}`);
      let set = listeners.get(channel);
      if (!set) {
        set = new Set();
        listeners.set(channel, set);
        const client = await ensureListenClient();
        await client.query(`LISTEN ${channel}`);
      }
      set.add(onPayload);
      if (onGap) gapListeners.add(onGap);
      return async () => {
        set!.delete(onPayload);
        if (onGap) gapListeners.delete(onGap);
      };
    },
    async close() {
      closed = true;
      if (relistenTimer) clearTimeout(relistenTimer);
      releaseListenClient?.();
      releaseListenClient = undefined;
      listenClient = undefined;
      await pool.end();
    },
  };
}
