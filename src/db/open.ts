import type { Database } from './types.js';

export interface OpenDatabaseOptions {
  databaseUrl?: string | undefined;
  dataDir?: string | undefined;
  poolMax?: number;
  /** PostgreSQL only: statement_timeout of every pooled connection (ms; 0 or undefined = none). */
  statementTimeoutMs?: number;
  /** PGlite only: a data directory created now is migrated by the child that creates it (PgliteOptions.migrateNew). */
  migrateNew?: boolean;
}

/**
 * PostgreSQL when a URL is given, otherwise embedded PGlite (in memory when dataDir is undefined).
 * Each driver loads with its first use: a server on PostgreSQL does not hold PGlite's modules
 * (~0.5 MB of source and what V8 builds from it), nor one on PGlite `pg`'s.
 */
export async function openDatabase(opts: OpenDatabaseOptions): Promise<Database> {
  if (opts.databaseUrl) {
    const { openPostgres } = await import('./postgres.js');
    return openPostgres({ connectionString: opts.databaseUrl, max: opts.poolMax ?? 10, statementTimeoutMs: opts.statementTimeoutMs });
  }
  const { openPglite } = await import('./pglite.js');
  return openPglite({ dataDir: opts.dataDir, migrateNew: opts.migrateNew });
}
