// A database of one test only: for tests that rewrite every row (secret rotation) or that must not share
// the suite's database with other test files' outbox workers (which serve every tenant).
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { openDatabase } from '../../src/db/open.js';
import { migrate } from '../../src/db/migrate.js';
import type { Database } from '../../src/db/types.js';
import type { TestDatabaseKind } from './app.js';

/** A database of this test only: rotation rewrites every row, which must not touch other suites' rows. */
export async function privateDatabase(kind: TestDatabaseKind): Promise<{ db: Database; drop(): Promise<void> } | undefined> {
  if (kind === 'pglite') {
    const db = await openDatabase({});
    await migrate(db);
    return { db, drop: () => db.close() };
  }
  const url = new URL(process.env.TEST_DATABASE_URL!);
  const name = `idpb_secrets_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const adminClient = new pg.Client({ connectionString: url.href });
  await adminClient.connect();
  try {
    await adminClient.query(`CREATE DATABASE ${name}`);
  } catch {
    await adminClient.end();
    return undefined; // no CREATEDB privilege: the PGlite run covers it
  }
  url.pathname = `/${name}`;
  const db = await openDatabase({ databaseUrl: url.href, poolMax: 4 });
  await migrate(db);
  return {
    db,
    async drop() {
      await db.close();
      await adminClient.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
      await adminClient.end();
    },
  };
}

