import { PGlite } from '@electric-sql/pglite';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Database, Queryable } from './types.js';
import { acquireDataDirLock, type DataDirLock } from './data-dir-lock.js';
import { PGLITE_START_PARAMS } from './pglite-settings.js';

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
    if (opts.dataDir && !existsSync(join(opts.dataDir, 'PG_VERSION'))) await initdbInChild(opts.dataDir);
    db = opts.dataDir
      ? new PGlite(opts.dataDir, { startParams: PGLITE_START_PARAMS })
      : new PGlite({ startParams: PGLITE_START_PARAMS, ...(opts.loadDataDir ? { loadDataDir: opts.loadDataDir } : {}) });
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

const here = fileURLToPath(import.meta.url);
const run = promisify(execFile);

/** Creates the cluster of an empty data directory in a child process (see pglite-initdb.ts). */
async function initdbInChild(dataDir: string): Promise<void> {
  // The same file type as this module: .js when built, .ts under a TypeScript loader, whose
  // `--import`/`--require` flags the child needs too.
  const script = join(here, '..', `pglite-initdb${extname(here)}`);
  try {
    await run(process.execPath, [...loaderArgs(process.execArgv), script, dataDir], { maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim();
    throw new Error(`creating the embedded database in ${dataDir} failed${stderr ? `: ${stderr.slice(-2000)}` : ''}`);
  }
}

/** The module-loader flags of `execArgv` (a test runner's or inspector's flags stay behind). */
export function loaderArgs(execArgv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const a = execArgv[i]!;
    if (/^--(import|require|loader|experimental-loader)=/.test(a)) out.push(a);
    else if (/^--(import|require|loader|experimental-loader)$/.test(a) || a === '-r') {
      const v = execArgv[i + 1];
      if (v !== undefined) out.push(a, v);
      i++;
    }
  }
  return out;
}
