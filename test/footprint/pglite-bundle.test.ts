// Issue 21: PGlite keeps its whole file bundle (pglite.data, 6.2 MB) in memory for good; a started
// database gives back what it never reads (src/lib/pglite-bundle.ts). If a PGlite upgrade changes
// how the bundle is held, the release finds nothing to free and the first test says so.
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { PGlite } from '@electric-sql/pglite';
import { releaseFileBundle } from '../../src/lib/pglite-bundle.js';
import { PGLITE_START_PARAMS } from '../../src/db/pglite-settings.js';

let db: PGlite;
let freed = 0;
let buffersBefore = 0;
before(async () => {
  db = new PGlite({ startParams: PGLITE_START_PARAMS });
  await db.waitReady;
  buffersBefore = process.memoryUsage().arrayBuffers;
  freed = releaseFileBundle(db);
});
after(() => db.close());

it('a started database gives back the bundle: its ArrayBuffer is emptied, ~3.6 MB of unused files are gone', () => {
  assert.ok(freed > 5_000_000, `bytes freed: ${freed}`);
  const FS = db.Module.FS;
  assert.equal(FS.analyzePath('/pglite/share/postgresql/postgres.bki').exists, false);
  assert.equal(FS.analyzePath('/pglite/lib/postgresql/utf8_and_sjis.so').exists, false);
  global.gc?.();
  const dropped = buffersBefore - process.memoryUsage().arrayBuffers;
  assert.ok(!global.gc || dropped > 5_000_000, `ArrayBuffer bytes given back: ${dropped}`);
});

it('what a running database reads is still there: time zones, their abbreviations, PL/pgSQL, text search', async () => {
  await db.exec(`SET TimeZone = 'Europe/Berlin'`);
  const { rows } = await db.query<{ t: string; a: string }>(
    `SELECT '2026-07-01 12:00:00+00'::timestamptz::text AS t, ('2026-01-01 12:00 PST'::timestamptz AT TIME ZONE 'UTC')::text AS a`,
  );
  assert.equal(rows[0]!.t, '2026-07-01 14:00:00+02');
  assert.equal(rows[0]!.a, '2026-01-01 20:00:00');
  await db.exec(`CREATE FUNCTION f(x int) RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN x + 1; END $$`);
  assert.equal((await db.query<{ y: number }>('SELECT f(1) AS y')).rows[0]!.y, 2);
  assert.equal((await db.query<{ v: string }>(`SELECT to_tsvector('english', 'running dogs')::text AS v`)).rows[0]!.v, `'dog':2 'run':1`);
  assert.equal((await db.query<{ c: string }>(`SELECT 'b' < 'a' COLLATE "und-x-icu" AS c`)).rows.length, 1);
});
