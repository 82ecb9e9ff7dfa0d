// Issue 21: the 1M-user walk's server RSS (390–435 MB, target < 300). V8 had decided to allocate
// pg's result rows arrays (`this.rows = []`) in the old generation; each page's rows, pushed into
// such an array, were then promoted with it at every scavenge (8.5 MB each) and the old generation
// swung to 200 MB between mark-compacts. src/lib/heap-flags.ts turns that decision off at start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../helpers/process.js';
import { flushUnusedBytecodeSooner, turnOffPretenuring } from '../../src/lib/heap-flags.js';

/**
 * A fresh process (1 MB semi spaces, so the new space is at its maximum size at once) creates
 * 200,000 arrays from one literal, all kept: V8 decides to tenure that literal's site. The next
 * array from it, in optimised code, is then born in the old generation, unless pretenuring is off.
 */
function arrayAfterTenuringDecision(applyFlags: boolean): { optimized: boolean; young: boolean } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--allow-natives-syntax', '--max-semi-space-size=1', '--input-type=module', '-e', `
    import { turnOffPretenuring } from ${JSON.stringify(join(ROOT, 'src/lib/heap-flags.ts'))};
    if (process.env.APPLY_HEAP_FLAGS === '1' && !turnOffPretenuring()) throw new Error('not set');
    // Built by V8 itself (not by tsx), so the natives syntax parses; one function is one literal site.
    const make = new Function('return []');
    const probe = new Function('f', '%PrepareFunctionForOptimization(f); f(); f(); %OptimizeFunctionOnNextCall(f); const a = f(); return { optimized: %ActiveTierIsTurbofan(f), young: %InYoungGeneration(a) };');
    const keep = [];
    for (let i = 0; i < 200000; i++) keep.push(make());
    process.stdout.write(JSON.stringify(probe(make)) + '\\n' + keep.length);
  `], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, APPLY_HEAP_FLAGS: applyFlags ? '1' : '0' }, timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.split('\n')[0]!) as { optimized: boolean; young: boolean };
}

test('without the heap flags, V8 allocates a tenured literal site\'s arrays in the old generation (the mechanism)', () => {
  assert.deepEqual(arrayAfterTenuringDecision(false), { optimized: true, young: false });
});

test('turnOffPretenuring, called after start, keeps such arrays young', () => {
  assert.deepEqual(arrayAfterTenuringDecision(true), { optimized: true, young: true });
});

test('turnOffPretenuring leaves a command line that decides pretenuring either way as it is', () => {
  assert.equal(turnOffPretenuring(['--allocation-site-pretenuring']), false);
  assert.equal(turnOffPretenuring(['--allocation_site_pretenuring']), false);
  assert.equal(turnOffPretenuring(['--no-allocation-site-pretenuring', '--max-semi-space-size=8']), false);
});

/**
 * A fresh process runs 2,000 functions once (start-up code), then allocates until V8 has done three
 * major GCs of its own (an idle server's few; forced `gc()` calls never flush bytecode) without
 * running them again: the bytecode it still holds is what is measured.
 */
function bytecodeAfterMajorGcs(applyFlags: boolean): { ran: number; idle: number } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `
    import { getHeapCodeStatistics } from 'node:v8';
    import { PerformanceObserver, constants } from 'node:perf_hooks';
    import { flushUnusedBytecodeSooner } from ${JSON.stringify(join(ROOT, 'src/lib/heap-flags.ts'))};
    if (process.env.APPLY_HEAP_FLAGS === '1' && !flushUnusedBytecodeSooner()) throw new Error('not set');
    const body = Array.from({ length: 2000 }, (_, i) => 'fns.push(function f' + i + '(x) { let s = x; for (let j = 0; j < 3; j++) s = (s * ' + i + ' + j) % 7919; return s; });').join('\\n');
    const fns = [];
    new Function('fns', body)(fns);
    for (const f of fns) f(1);
    const ran = getHeapCodeStatistics().bytecode_and_metadata_size;
    let majors = 0;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) if (e.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majors++;
    }).observe({ entryTypes: ['gc'] });
    let garbage;
    while (majors < 3) {
      garbage = [];
      for (let j = 0; j < 200000; j++) garbage.push({ j });
      await new Promise((r) => setImmediate(r));
    }
    process.stdout.write(JSON.stringify({ ran, idle: getHeapCodeStatistics().bytecode_and_metadata_size, n: fns.length + garbage.length }));
  `], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, APPLY_HEAP_FLAGS: applyFlags ? '1' : '0' }, timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { ran: number; idle: number };
}

test('without the flag, three major GCs keep most bytecode of functions that ran once at start (the mechanism)', () => {
  const { ran, idle } = bytecodeAfterMajorGcs(false);
  assert.ok(idle > ran * 0.5, `${ran} -> ${idle} bytes`);
});

test('flushUnusedBytecodeSooner, called after start, drops the bytecode of functions that no longer run', () => {
  const { ran, idle } = bytecodeAfterMajorGcs(true);
  assert.ok(idle < ran * 0.1, `${ran} -> ${idle} bytes`);
});

test('flushUnusedBytecodeSooner leaves a command line that sets the age or turns flushing off as it is', () => {
  assert.equal(flushUnusedBytecodeSooner(['--bytecode-old-age=8']), false);
  assert.equal(flushUnusedBytecodeSooner(['--bytecode_old_age=3']), false);
  assert.equal(flushUnusedBytecodeSooner(['--no-flush-bytecode']), false);
});
