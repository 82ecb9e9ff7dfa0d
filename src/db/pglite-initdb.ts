/**
 * Child-process entry: creates an empty PGlite cluster in `argv[2]` and exits. PGlite runs initdb
 * in a second WebAssembly instance and copies its result through a tarball; the process that did it
 * keeps that peak's memory (several hundred MB) for its lifetime. Run here, it is returned to the OS
 * when the child exits, and the server opens the ready directory like on any later start.
 */
import { PGlite } from '@electric-sql/pglite';
import { PGLITE_START_PARAMS } from './pglite-settings.js';

const dataDir = process.argv[2];
if (!dataDir) {
  process.stderr.write('usage: pglite-initdb <data dir>\n');
  process.exit(2);
}
const db = new PGlite(dataDir, { startParams: PGLITE_START_PARAMS });
await db.waitReady;
await db.close();
