import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loaderArgs, openPglite } from '../../src/db/pglite.js';

test('an empty data directory gets a cluster that runs with small shared buffers, and a restart resumes it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'idpb-pglite-footprint-'));
  try {
    const db = await openPglite({ dataDir: join(dir, 'data') });
    try {
      assert.ok(existsSync(join(dir, 'data', 'PG_VERSION')));
      const { rows } = await db.query<{ shared_buffers: string }>('SHOW shared_buffers');
      // The stock 128MB sits in the never-shrinking WebAssembly heap of the server process.
      assert.equal(rows[0]?.shared_buffers, '16MB');
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

test('the initdb child inherits module-loader flags only', () => {
  assert.deepEqual(
    loaderArgs(['--import', 'tsx', '--test', '--test-concurrency=1', '--require=./a.cjs', '--inspect', '-r', 'b', '--loader', 'c']),
    ['--import', 'tsx', '--require=./a.cjs', '-r', 'b', '--loader', 'c'],
  );
});
