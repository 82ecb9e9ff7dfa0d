import { PGlite } from '@electric-sql/pglite';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { acquireDataDirLock } from './data-dir-lock.js';

/**
 * Backups of the embedded PGlite database (`idpbridge backup FILE` / `idpbridge restore FILE`):
 * PGlite's own dump of its data directory, a gzipped tarball. Both refuse (DataDirLockedError)
 * while a server holds the directory. PostgreSQL installations use pg_dump / pg_restore
 * (docs/operator.md).
 */
export async function backupPglite(dataDir: string, file: string): Promise<{ bytes: number }> {
  if (!existsSync(dataDir) || readdirSync(dataDir).filter((f) => f !== 'idpbridge.lock').length === 0) {
    throw new Error(`no PGlite database in ${dataDir} (set IDPBRIDGE_DATA_DIR)`);
  }
  const lock = acquireDataDirLock(dataDir);
  try {
    const db = new PGlite(dataDir);
    await db.waitReady;
    let bytes: Buffer;
    try {
      // A checkpoint first, so the dump holds everything committed.
      await db.exec('CHECKPOINT');
      bytes = Buffer.from(await (await db.dumpDataDir('gzip')).arrayBuffer());
    } finally {
      await db.close();
    }
    // Written beside the target, then renamed: a failed backup never leaves a truncated file.
    const tmp = `${file}.partial-${process.pid}`;
    writeFileSync(tmp, bytes, { mode: 0o600 });
    renameSync(tmp, file);
    return { bytes: bytes.length };
  } finally {
    lock.release();
  }
}

/** Restores FILE into dataDir, which must not hold a database (move the old one away first). */
export async function restorePglite(dataDir: string, file: string): Promise<void> {
  const archive = readFileSync(file);
  if (archive.length < 2 || archive[0] !== 0x1f || archive[1] !== 0x8b) {
    throw new Error(`${file} is not an idpbridge PGlite backup (expected a gzipped tarball from \`idpbridge backup\`)`);
  }
  mkdirSync(dataDir, { recursive: true });
  const lock = acquireDataDirLock(dataDir);
  try {
    const present = readdirSync(dataDir).filter((f) => f !== 'idpbridge.lock');
    if (present.length > 0) {
      throw new Error(`${dataDir} already holds a database: restore into an empty or new directory (move the current one away first)`);
    }
    const db = new PGlite(dataDir, { loadDataDir: new Blob([archive]) });
    try {
      await db.waitReady;
      const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
      if (!rows[0] || rows[0].n === 0) throw new Error(`${file} holds no idpbridge database`);
    } finally {
      await db.close();
    }
  } finally {
    lock.release();
  }
}
