/**
 * Child-process entry: creates an empty PGlite cluster in `argv[2]`, with `--migrate` also applies
 * the schema's migrations, and exits. PGlite runs initdb in a second WebAssembly instance and copies
 * its result through a tarball; the process that did it keeps that peak's memory (several hundred
 * MB) for its lifetime, and 24 migrations' DDL leave PostgreSQL's caches and memory contexts grown
 * inside a WebAssembly heap that never shrinks. Run here, both are returned to the OS when the child
 * exits, and the server opens the ready directory like on any later start.
 */
import { PGlite } from '@electric-sql/pglite';
import { PGLITE_START_PARAMS } from './pglite-settings.js';
import { wrapPglite } from './pglite.js';
import { migrate } from './migrate.js';

const [dataDir, ...flags] = process.argv.slice(2);
if (!dataDir || flags.some((f) => f !== '--migrate')) {
  process.stderr.write('usage: pglite-initdb <data dir> [--migrate]\n');
  process.exit(2);
}
const pg = new PGlite(dataDir, { startParams: PGLITE_START_PARAMS });
await pg.waitReady;
const db = wrapPglite(pg);
try {
  if (flags.includes('--migrate')) await migrate(db);
} finally {
  await db.close();
}
