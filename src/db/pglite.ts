import { PGlite } from '@electric-sql/pglite';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Database } from './types.js';
import { acquireDataDirLock, type DataDirLock } from './data-dir-lock.js';
import { PGLITE_START_PARAMS } from './pglite-settings.js';
import { PgliteSession } from './pglite-session.js';
import type { StatementCache } from './pglite-statements.js';

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
  /** How the session talks to the backend: its calls so far, and its prepared statements. */
  sessionStats(): { calls: number; statements: StatementCache };
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

  const session = new PgliteSession(db);
  return {
    kind: 'pglite',
    query: (sql, params) => session.query(sql, params),
    exec: (sql) => session.exec(sql),
    transaction: (fn) => session.transaction(fn),
    // In-process: no connection to lose, so no gaps. LISTEN goes through the session's queue: it
    // must not run inside another caller's transaction.
    async listen(channel, onPayload) {
      const unlisten = await session.exclusive(() => db.listen(channel, onPayload));
      return () => session.exclusive(() => unlisten());
    },
    dumpDataDir: () => session.exclusive(() => db.dumpDataDir('none')),
    sessionStats: () => ({ calls: session.calls, statements: session.statements }),
    async close() {
      try {
        await session.close();
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
