import { openSync, writeSync, closeSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

export class DataDirLockedError extends Error {
  readonly code = 'ERR_DATA_DIR_LOCKED';
  constructor(readonly dataDir: string, readonly pid: number) {
    super(
      `The PGlite data directory ${dataDir} is in use by another idpbridge process (pid ${pid}). ` +
        'Stop that server first, or use the admin API of the running server, or set DATABASE_URL to use PostgreSQL.',
    );
  }
}

export interface DataDirLock {
  release(): void;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A pid lock file: exclusive create, stale locks (dead pid) are taken over. */
export function acquireDataDirLock(dataDir: string): DataDirLock {
  const file = join(dataDir, 'idpbridge.lock');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          try {
            unlinkSync(file);
          } catch {
            /* already gone */
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let pid = NaN;
      try {
        pid = Number(readFileSync(file, 'utf8').trim());
      } catch {
        /* vanished between calls: retry */
      }
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
        throw new DataDirLockedError(dataDir, pid);
      }
      try {
        unlinkSync(file);
      } catch {
        /* someone else removed it */
      }
    }
  }
  throw new Error(`could not lock ${dataDir}`);
}
