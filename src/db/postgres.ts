import pg from 'pg';
import type { Database, Queryable, QueryResult } from './types.js';

// Timestamps stay Date; int8 (counts) become numbers — our counts never reach 2^53.
pg.types.setTypeParser(20, (v: string) => Number(v));

export interface PostgresOptions {
  connectionString: string;
  max?: number;
  /** Application name shown in pg_stat_activity. */
  applicationName?: string;
}

export function openPostgres(opts: PostgresOptions): Database {
  const pool = new pg.Pool({
    connectionString: opts.connectionString,
    max: opts.max ?? 10,
    application_name: opts.applicationName ?? 'idpbridge',
    connectionTimeoutMillis: 5_000,
  });
  // An idle client losing its connection (PostgreSQL restart) must not crash the process.
  pool.on('error', () => {});

  const run = async <T>(q: pg.Pool | pg.PoolClient, sql: string, params?: readonly unknown[]): Promise<QueryResult<T>> => {
    const res = await q.query(sql, params as unknown[] | undefined);
    return { rows: res.rows as T[], rowCount: res.rowCount ?? 0 };
  };

  const listeners = new Map<string, Set<(p: string) => void>>();
  let listenClient: pg.PoolClient | undefined;
  let listenConnecting: Promise<pg.PoolClient> | undefined;

  const ensureListenClient = async (): Promise<pg.PoolClient> => {
    if (listenClient) return listenClient;
    listenConnecting ??= (async () => {
      const client = await pool.connect();
      client.on('notification', (msg) => {
        for (const fn of listeners.get(msg.channel) ?? []) fn(msg.payload ?? '');
      });
      client.on('error', () => {
        // Connection lost: drop it; the next listen() reconnects and re-subscribes.
        listenClient = undefined;
        listenConnecting = undefined;
      });
      listenClient = client;
      return client;
    })();
    return listenConnecting;
  };

  return {
    kind: 'postgres',
    query: (sql, params) => run(pool, sql, params),
    exec: async (sql) => { await pool.query(sql); },
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const tx: Queryable = { query: (sql, params) => run(client, sql, params), exec: async (sql) => { await client.query(sql); } };
        const result = await fn(tx);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        client.release();
      }
    },
    async listen(channel, onPayload) {
      if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`invalid channel name ${channel}`);
      let set = listeners.get(channel);
      if (!set) {
        set = new Set();
        listeners.set(channel, set);
        const client = await ensureListenClient();
        await client.query(`LISTEN ${channel}`);
      }
      set.add(onPayload);
      return async () => {
        set!.delete(onPayload);
      };
    },
    async close() {
      listenClient?.release();
      listenClient = undefined;
      await pool.end();
    },
  };
}
