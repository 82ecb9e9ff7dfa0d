// Issue 21: on Node 26 an idle PGlite server's RSS varied 147–172 MB between identical starts: free
// pages kept inside glibc's malloc arenas. src/lib/native-heap.ts gives them back once after the
// start-up compaction (malloc_trim through node:ffi, where this Node has it). Runs on both lines:
// with node:ffi (Node 26) the trim must release a fragmented heap; without (Node 24) it says why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ROOT, runModuleScript } from '../helpers/process.js';

interface Outcome { hasFfi: boolean; trim: { trimmed: boolean; released?: boolean; reason?: string }; fragmentedMb: number; waitedMb: number; trimmedMb: number }

/**
 * A fresh process fills the C heap with 1,000 buffers of 64 KB (below glibc's mmap threshold, so
 * inside an arena), frees nine in ten (the kept ones pin the arena's top: free() cannot give the
 * holes back), collects, waits 1 s, then trims (or not): RSS (MB) after the frees, after the wait,
 * after the trim. Then it emits an ExperimentalWarning of its own, which must still reach stderr.
 */
function fragmentThenTrim(nodeArgs: string[] = [], trim = true): Promise<{ out: Outcome; stderr: string }> {
  return runModuleScript<Outcome>(`
    import { trimNativeHeap } from ${JSON.stringify(join(ROOT, 'src/lib/native-heap.ts'))};
    import { readFileSync } from 'node:fs';
    const rss = () => Number(/VmRSS:\\s+(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) / 1024;
    let bufs = [];
    for (let i = 0; i < 1000; i++) bufs.push(Buffer.allocUnsafeSlow(64 * 1024).fill(i & 0xff));
    const kept = bufs.filter((_, i) => i % 10 === 9);
    bufs = null;
    for (let i = 0; i < 3; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 50)); }
    const fragmentedMb = rss();
    await new Promise((r) => setTimeout(r, 1000));
    const waitedMb = rss();
    const result = ${trim} ? trimNativeHeap() : { trimmed: false, reason: 'not asked' };
    const trimmedMb = rss();
    process.emitWarning('a warning of the application', 'ExperimentalWarning');
    let hasFfi = false;
    try { hasFfi = process.getBuiltinModule('node:ffi') !== undefined; } catch {}
    process.stdout.write(JSON.stringify({ hasFfi, trim: result, fragmentedMb, waitedMb, trimmedMb, kept: kept.length }));
  `, { nodeArgs: [...nodeArgs, '--expose-gc'] });
}

test('the trim gives a fragmented C heap back where this Node has node:ffi, and says why not where it has none', { timeout: 60_000 }, async () => {
  const [{ out: withIt, stderr }, { out: without }] = await Promise.all([fragmentThenTrim(), fragmentThenTrim([], false)]);
  if (withIt.hasFfi) {
    assert.equal(withIt.trim.trimmed, true, JSON.stringify(withIt));
    assert.equal(withIt.trim.released, true, JSON.stringify(withIt));
    // ~56 MB of holes: free() kept them (no drop while waiting), malloc_trim returns them.
    assert.ok(without.waitedMb > without.trimmedMb - 5 && without.fragmentedMb - without.trimmedMb < 10, `without: ${JSON.stringify(without)}`);
    assert.ok(withIt.waitedMb - withIt.trimmedMb > 30, `with: ${JSON.stringify(withIt)}`);
  } else {
    assert.deepEqual(withIt.trim, { trimmed: false, reason: 'this Node has no node:ffi' });
  }
  // FFI's own ExperimentalWarning is not printed; the application's warnings still are.
  assert.doesNotMatch(stderr, /FFI/);
  assert.match(stderr, /ExperimentalWarning: a warning of the application/);
});

test('under the permission model without --allow-ffi the trim does nothing and does not throw', { timeout: 60_000 }, async (t) => {
  const { out } = await fragmentThenTrim(['--permission', '--allow-fs-read=*', '--allow-child-process', '--allow-worker']);
  if (!out.hasFfi) return t.skip('this Node has no node:ffi');
  assert.equal(out.trim.trimmed, false, JSON.stringify(out));
  assert.match(out.trim.reason ?? '', /allow-ffi/);
});
