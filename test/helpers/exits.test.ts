/**
 * A test file on the shared PGlite exits by itself once its tests are done: the suite's runner
 * passes --test-force-exit, which would hide a handle that keeps a file's process alive.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const fixture = fileURLToPath(new URL('./fixtures/shared-pglite-app.ts', import.meta.url));
// Generous for a loaded machine; a leaked PGlite timer keeps the process alive forever.
const EXIT_WITHIN_MS = 60_000;

test('a test file with apps on the shared PGlite exits without --test-force-exit', async () => {
  // Without NODE_TEST_CONTEXT, which makes a nested `node --test` skip its files.
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', fixture], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...env, TEST_DATABASE_URL: '' },
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d; });
  child.stderr.on('data', (d: Buffer) => { out += d; });
  const timer = setTimeout(() => child.kill('SIGKILL'), EXIT_WITHIN_MS);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
  clearTimeout(timer);
  assert.equal(signal, null, `the file did not exit within ${EXIT_WITHIN_MS} ms:\n${out}`);
  assert.equal(code, 0, out);
  assert.match(out, /# pass 1\b/);
});
