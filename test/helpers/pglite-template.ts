// One migrated PGlite template per set of migrations, shared by every test file through a file in
// the temp directory: a fresh in-memory PGlite runs initdb (~3 s on this machine), loading a dump
// takes ~0.4 s. The template is keyed on the migrations' text and PGlite's version, so a changed
// or added migration builds a new one; writers race harmlessly (each renames a complete file).
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPglite, type PgliteDatabase } from '../../src/db/pglite.js';
import { migrate } from '../../src/db/migrate.js';

const migrationsDir = new URL('../../src/db/migrations/', import.meta.url);

function templatePath(): string {
  const hash = createHash('sha256');
  // The installed PGlite (its package.json is not exported, so read it from the lock file).
  const lock = JSON.parse(readFileSync(new URL('../../package-lock.json', import.meta.url), 'utf8')) as { packages: Record<string, { version?: string }> };
  hash.update(lock.packages['node_modules/@electric-sql/pglite']?.version ?? 'unknown');
  for (const name of readdirSync(migrationsDir).filter((n) => n.endsWith('.sql')).sort()) {
    hash.update(name).update(readFileSync(new URL(name, migrationsDir)));
  }
  return join(tmpdir(), `idpbridge-test-pglite-${hash.digest('hex').slice(0, 16)}.tar`);
}

/** An in-memory PGlite at the head migration, started from the shared template when there is one. */
export async function openMigratedPglite(): Promise<PgliteDatabase> {
  const path = templatePath();
  if (existsSync(path)) {
    try {
      const db = await openPglite({ loadDataDir: new Blob([readFileSync(path)]) });
      await migrate(db); // a no-op at the head; it also proves the template is whole
      return db;
    } catch {
      // A damaged template: fall through and build a fresh database (and template).
    }
  }
  const db = await openPglite({});
  await migrate(db);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, Buffer.from(await (await db.dumpDataDir()).arrayBuffer()));
  renameSync(tmp, path);
  return db;
}
