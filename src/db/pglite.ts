import { PGlite } from '@electric-sql/pglite';
import { mkdirSync } from 'node:fs';
import type { Database, Queryable } from './types.js';
import { acquireDataDirLock, type DataDirLock } from './data-dir-lock.js';

export interface PgliteOptions {
  /** Directory to persist to; undefined keeps the database in memory (tests). */
  dataDir?: string;
  /** In memory only: start from this dump (`dumpDataDir`) instead of running initdb, which takes
   * seconds; the test suite starts each file's database from one migrated template this way. */
  loadDataDir?: Blob;
}

/** An embedded database that can also be dumped whole (the template of `loadDataDir`). */
export interface PgliteDatabase extends Database {
  dumpDataDir(): Promise<Blob>;
}

export async function openPglite(opts: PgliteOptions): Promise<PgliteDatabase> {
  let lock: DataDirLock | undefined;
  if (opts.dataDir) {
    mkdirSync(opts.dataDir, { recursive: true });
    // PGlite is single-process: a second process opening the same directory would corrupt it.
    lock = acquireDataDirLock(opts.dataDir);
  }
  let db: PGlite;
  try {
    db = opts.dataDir ? new PGlite(opts.dataDir) : new PGlite(opts.loadDataDir ? { loadDataDir: opts.loadDataDir } : {});
    await db.waitReady;
  } catch (err) {
    lock?.release();
    throw err;
  }

  const wrap = (q: { query: PGlite['query']; exec: PGlite['exec'] }): Queryable => ({
    async exec(sql: string) {
      await q.exec(sql);
    },
    async query<T>(sql: string, params?: readonly unknown[]) {
      const res = await q.query<T>(sql, params as unknown[] | undefined);
      // PGlite reports affectedRows = 0 for SELECT; pg reports the row count.
      return { rows: res.rows, rowCount: Math.max(res.affectedRows ?? 0, res.rows.length) };
    },
  });
  const top = wrap(db);

  return {
    kind: 'pglite',
    query: top.query,
    exec: top.exec,
    // PGlite serialises transactions itself (one connection); other queries wait for it.
    transaction: (fn) => db.transaction((tx) => fn(wrap(tx))),
    // In-process: no connection to lose, so no gaps.
    async listen(channel, onPayload) {
      return db.listen(channel, onPayload);
    },
    dumpDataDir: () => db.dumpDataDir('none'),
    async close() {
      try {
        await db.close();
      } finally {
        lock?.release();
      }
    },
  };
}
