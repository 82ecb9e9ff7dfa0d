import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loaderArgs, openPglite } from '../../src/db/pglite.js';
import { loadMigrations, migrate } from '../../src/db/migrate.js';

test('an empty data directory gets a cluster that runs with small shared buffers, and a restart resumes it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'idpb-pglite-footprint-'));
  try {
    const db = await openPglite({ dataDir: join(dir, 'data') });
    try {
      assert.ok(existsSync(join(dir, 'data', 'PG_VERSION')));
      // The stock 128MB sits in the never-shrinking WebAssembly heap of the server process, and so
      // would room for 100 connections and 10 WAL senders of a one-backend database.
      const { rows } = await db.query<{ name: string; setting: string }>(
        `SELECT name, current_setting(name) AS setting FROM unnest(ARRAY['shared_buffers', 'max_connections', 'max_wal_senders']) AS name`);
      assert.deepEqual(rows, [
        { name: 'shared_buffers', setting: '8MB' }, { name: 'max_connections', setting: '8' }, { name: 'max_wal_senders', setting: '0' },
      ]);
      const shm = await db.query<{ mb: number }>('SELECT (sum(allocated_size) / 1048576)::int AS mb FROM pg_shmem_allocations');
      assert.ok(shm.rows[0]!.mb <= 12, `${shm.rows[0]!.mb} MB of shared memory`);
      // Without migrateNew the directory is an empty cluster (upgrade tests build earlier levels on it).
      assert.equal((await db.query("SELECT to_regclass('schema_migrations') AS t")).rows[0]?.t ?? null, null);
    } finally {
      await db.close();
    }
    // A restart resumes the cluster the child created.
    const again = await openPglite({ dataDir: join(dir, 'data') });
    try {
      assert.deepEqual((await again.query<{ n: number }>('SELECT 1 AS n')).rows, [{ n: 1 }]);
    } finally {
      await again.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a new data directory opened with migrateNew is migrated by the child that creates it: the server process runs no DDL', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'idpb-pglite-migrate-new-'));
  try {
    const db = await openPglite({ dataDir: join(dir, 'data'), migrateNew: true });
    try {
      assert.equal(db.sessionStats().calls, 0, 'nothing ran in this process before the first query');
      const { rows } = await db.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
      assert.deepEqual(rows.map((r) => r.version), loadMigrations().map((m) => m.version));
      assert.deepEqual(await migrate(db), [], 'the server\'s own migrate finds nothing to apply');
    } finally {
      await db.close();
    }
    // An existing directory is opened as it is: migrateNew does not start a child for it.
    const again = await openPglite({ dataDir: join(dir, 'data'), migrateNew: true });
    try {
      assert.equal(again.sessionStats().calls, 0);
      assert.deepEqual(await migrate(again), []);
    } finally {
      await again.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the initdb child inherits module-loader flags only', () => {
  assert.deepEqual(
    loaderArgs(['--import', 'tsx', '--test', '--test-concurrency=1', '--require=./a.cjs', '--inspect', '-r', 'b', '--loader', 'c']),
    ['--import', 'tsx', '--require=./a.cjs', '-r', 'b', '--loader', 'c'],
  );
});
