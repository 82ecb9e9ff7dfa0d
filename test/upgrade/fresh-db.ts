// Fresh, empty databases for the upgrade and rolling-deploy tests.
import { randomUUID } from 'node:crypto';
import { openDatabase } from '../../src/db/open.js';
import type { Database } from '../../src/db/types.js';
import type { TestDatabaseKind } from '../helpers/app.js';

let pglite: Promise<Database> | undefined;

/**
 * A fresh, empty database of the kind. PGlite: one in-memory instance per file (it takes seconds
 * to start), emptied by recreating its public schema; PostgreSQL: a database of its own, dropped afterwards.
 */
export async function freshDatabase(kind: TestDatabaseKind, label: string): Promise<{ db: Database; url?: string; drop(): Promise<void> }> {
  if (kind === 'pglite') {
    pglite ??= openDatabase({});
    const shared = await pglite;
    await shared.exec('DROP SCHEMA public CASCADE; CREATE SCHEMA public;');
    return { db: { ...shared, close: async () => {} }, drop: async () => {} };
  }
  const admin = await openDatabase({ databaseUrl: process.env.TEST_DATABASE_URL, poolMax: 1 });
  const name = `idpb_${label}_${process.pid}_${randomUUID().slice(0, 8)}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(process.env.TEST_DATABASE_URL!);
  url.pathname = `/${name}`;
  const db = await openDatabase({ databaseUrl: url.toString(), poolMax: 5 });
  return {
    db,
    url: url.toString(),
    async drop() {
      await db.close().catch(() => {});
      // Without FORCE: terminating the closed pool's connections would reach their error handlers.
      for (let i = 0; i < 50; i++) {
        const ok = await admin.query(`DROP DATABASE IF EXISTS ${name}`).then(() => true, () => false);
        if (ok) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      await admin.close();
    },
  };
}
