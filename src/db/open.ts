import type { Database } from './types.js';
import { openPostgres } from './postgres.js';
import { openPglite } from './pglite.js';

export interface OpenDatabaseOptions {
  databaseUrl?: string | undefined;
  dataDir?: string | undefined;
  poolMax?: number;
  /** PostgreSQL only: statement_timeout of every pooled connection (ms; 0 or undefined = none). */
  statementTimeoutMs?: number;
}

/** PostgreSQL when a URL is given, otherwise embedded PGlite (in memory when dataDir is undefined). */
export async function openDatabase(opts: OpenDatabaseOptions): Promise<Database> {
  if (opts.databaseUrl) {
    return openPostgres({ connectionString: opts.databaseUrl, max: opts.poolMax ?? 10, statementTimeoutMs: opts.statementTimeoutMs });
  }
  return openPglite({ dataDir: opts.dataDir });
}
