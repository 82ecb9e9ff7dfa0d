// Issue 17, item 25: the forced exit on shutdown holds even when the main thread is stuck and can
// run no timer of its own (src/lib/shutdown-watchdog.ts; src/main.ts starts it on SIGTERM).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../helpers/process.js';

test('the shutdown watchdog kills a process whose main thread is stuck', async () => {
  // --input-type=module reaches the worker too: its source must run as an ES module as well.
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `
    import { startShutdownWatchdog } from ${JSON.stringify(join(ROOT, 'src/lib/shutdown-watchdog.ts'))};
    startShutdownWatchdog(300);
    const t0 = Date.now();
    while (Date.now() - t0 < 120000) { /* the main thread never yields */ }
    process.stdout.write('not killed');
  `], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const started = Date.now();
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (c, s) => resolve({ code: c, signal: s })));
  assert.equal(signal, 'SIGKILL', `exit ${code} ${signal}: ${out}`);
  assert.ok(Date.now() - started < 60_000, 'killed long before the busy loop would end');
  assert.doesNotMatch(out, /not killed/);
  assert.match(out, /shutdown did not finish in 300 ms/);
});
