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
import { releaseFileBundle } from '../lib/pglite-bundle.js';
import type { StatementCache } from './pglite-statements.js';

export interface PgliteOptions {
  /** Directory to persist to; undefined keeps the database in memory (tests). */
  dataDir?: string;
  /** In memory only: start from this dump (`dumpDataDir`) instead of running initdb, which takes
   * seconds; the test suite starts each file's database from one migrated template this way. */
  loadDataDir?: Blob;
  /**
   * A data directory created now also gets the schema's migrations, in the child that creates it:
   * their DDL grows PostgreSQL's caches and memory contexts inside the WebAssembly heap, which never
   * shrinks (~10 MB of an idle server's RSS). For callers that migrate next anyway (the server);
   * their own `migrate` then finds nothing to do. An existing directory is opened as it is.
   */
  migrateNew?: boolean;
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
    if (opts.dataDir && !existsSync(join(opts.dataDir, 'PG_VERSION'))) await createInChild(opts.dataDir, opts.migrateNew ?? false);
    db = opts.dataDir
      ? new PGlite(opts.dataDir, { startParams: PGLITE_START_PARAMS })
      : new PGlite({ startParams: PGLITE_START_PARAMS, ...(opts.loadDataDir ? { loadDataDir: opts.loadDataDir } : {}) });
    await db.waitReady;
    releaseFileBundle(db); // started: what it still reads of the bundle gets copies (src/lib/pglite-bundle.ts)
  } catch (err) {
    lock?.release();
    throw err;
  }

  return wrapPglite(db, () => lock?.release());
}

/** The Database of a started PGlite; `released` runs once it is closed. */
export function wrapPglite(db: PGlite, released: () => void = () => {}): PgliteDatabase {
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
        released();
      }
    },
  };
}

const here = fileURLToPath(import.meta.url);
const run = promisify(execFile);

/** Creates the cluster of an empty data directory, migrated or not, in a child process (see pglite-initdb.ts). */
async function createInChild(dataDir: string, migrated: boolean): Promise<void> {
  // The same file type as this module: .js when built, .ts under a TypeScript loader, whose
  // `--import`/`--require` flags the child needs too.
  const script = join(here, '..', `pglite-initdb${extname(here)}`);
  try {
    await run(process.execPath, [...loaderArgs(process.execArgv), script, dataDir, ...(migrated ? ['--migrate'] : [])], { maxBuffer: 16 * 1024 * 1024 });
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
