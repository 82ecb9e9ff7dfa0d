// Issue 21: the 1M-user walk's server RSS (390–435 MB, target < 300). V8 had decided to allocate
// pg's result rows arrays (`this.rows = []`) in the old generation; each page's rows, pushed into
// such an array, were then promoted with it at every scavenge (8.5 MB each) and the old generation
// swung to 200 MB between mark-compacts. src/lib/heap-flags.ts turns that decision off at start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../helpers/process.js';
import { turnOffPretenuring } from '../../src/lib/heap-flags.js';

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
