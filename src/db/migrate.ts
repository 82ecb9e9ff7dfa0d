import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type { Database, Queryable } from './types.js';

// Migrations live in src/db/migrations; the build copies them next to dist/db.
const here = dirname(fileURLToPath(import.meta.url));
function migrationsDir(): string {
  for (const dir of [join(here, 'migrations'), join(here, '../../src/db/migrations')]) {
    try {
      readdirSync(dir);
      return dir;
    } catch {
      /* try next */
    }
  }
  throw new Error('migrations directory not found');
}

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export function loadMigrations(): Migration[] {
  const dir = migrationsDir();
  return readdirSync(dir)
    .filter((f) => /^\d+_.+\.sql$/.test(f))
    .sort()
    .map((f) => ({ version: Number(f.split('_')[0]), name: f, sql: readFileSync(join(dir, f), 'utf8') }));
}

// Any constant works; it only has to be the same in every idpbridge process.
const MIGRATION_LOCK_KEY = 7_294_113_001;

/**
 * Applies pending migrations, each in its own transaction. On PostgreSQL a transaction-scoped
 * advisory lock serialises concurrent starters, from the creation of `schema_migrations` on
 * (CREATE TABLE IF NOT EXISTS is not safe against a concurrent one: the loser fails on the catalog's
 * unique indexes); the loser then sees each version as applied.
 * `upTo` stops after that version (upgrade tests build databases at earlier levels).
 */
export async function migrate(db: Database, opts: { upTo?: number } = {}): Promise<string[]> {
  const serialised = (fn: (tx: Queryable) => Promise<void>) => db.transaction(async (tx) => {
    if (db.kind === 'postgres') {
      // A migration (or waiting for another process's) may outlast the pool's statement_timeout.
      await tx.exec('SET LOCAL statement_timeout = 0');
      await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    }
    await fn(tx);
  });
  const applied: string[] = [];
  await serialised((tx) => tx.exec(
    `CREATE TABLE IF NOT EXISTS schema_migrations (
       version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
  ));
  for (const m of loadMigrations()) {
    if (opts.upTo !== undefined && m.version > opts.upTo) break;
    await serialised(async (tx) => {
      const done = await tx.query('SELECT 1 FROM schema_migrations WHERE version = $1', [m.version]);
      if (done.rowCount > 0) return;
      await tx.exec(m.sql);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      applied.push(m.name);
    });
  }
  return applied;
}
