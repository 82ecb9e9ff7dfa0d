import type { PGlite } from '@electric-sql/pglite';

/**
 * PGlite unpacks its file bundle (pglite.data, 6.2 MB: timezones, initdb's inputs, shared
 * libraries) into its in-memory file system as views of one ArrayBuffer, which the closures of its
 * start-up also keep: the whole bundle stays in memory for the life of the process. A started
 * database reads few of those files, and never these (~3.6 MB): initdb's inputs (the cluster is made
 * in a child process or before `waitReady`), the extension build kit, the replication libraries, and
 * the encoding conversions (the only client, our session, speaks UTF8: src/db/pglite-session.ts).
 */
const UNUSED_ONCE_STARTED = [
  /^\/pglite\/share\/postgresql\/(postgres\.bki|information_schema\.sql|system_\w+\.sql|snowball_create\.sql|sql_features\.txt|errcodes\.txt|[\w.]+\.sample)$/,
  /^\/pglite\/lib\/postgresql\/pgxs\//,
  /^\/pglite\/lib\/postgresql\/(libpqwalreceiver|pgoutput)\.so$/,
  /^\/pglite\/lib\/postgresql\/(utf8_and|euc|latin|cyrillic)\w*\.so$/,
];

/** The bundle's files: under these directories (the data directory is a mount of its own). */
const BUNDLE_ROOTS = ['/pglite/bin', '/pglite/icu', '/pglite/lib', '/pglite/share', '/home/postgres'];

interface MemFile {
  contents?: Uint8Array | null;
  usedBytes?: number;
}

/**
 * Gives the bundle's memory back once `db` is started: removes the files above, gives each file it
 * keeps its own copy of its bytes, then detaches the bundle's ArrayBuffer, which no
 * file views any more. Returns the bytes freed: 0 when the bundle is not found as expected, or a
 * view of it remains (then it stays whole, and every file readable).
 */
export function releaseFileBundle(db: PGlite): number {
  const FS = db.Module.FS;
  const files: Array<{ path: string; file: MemFile }> = [];
  const walk = (dir: string) => {
    for (const name of FS.readdir(dir)) {
      if (name === '.' || name === '..') continue;
      const path = `${dir}/${name}`;
      const { node } = FS.lookupPath(path, { follow: false });
      if (FS.isDir(node.mode)) walk(path);
      else if (FS.isFile(node.mode)) files.push({ path, file: node as unknown as MemFile });
    }
  };
  for (const root of BUNDLE_ROOTS) if (FS.analyzePath(root).exists) walk(root);

  const bundle = files.find((f) => f.path.endsWith('/postgres.bki'))?.file.contents?.buffer;
  if (!(bundle instanceof ArrayBuffer)) return 0;
  const kept: MemFile[] = [];
  for (const { path, file } of files) {
    if (file.contents?.buffer !== bundle) continue;
    if (UNUSED_ONCE_STARTED.some((r) => r.test(path))) {
      FS.unlink(path);
    } else {
      // MEMFS keeps a file's bytes in `contents` (its first `usedBytes`); a copy owns its memory.
      file.contents = file.contents.slice(0, file.usedBytes ?? file.contents.length);
      kept.push(file);
    }
  }
  // A view of the bundle left anywhere keeps it whole.
  if (kept.some((f) => f.contents?.buffer === bundle)) return 0;
  const size = bundle.byteLength;
  // Detaches it: its memory moves to a clone that nothing keeps (freed at the next GC).
  structuredClone(bundle, { transfer: [bundle] });
  return size;
}
