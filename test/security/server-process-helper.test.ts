// test/helpers/process.ts#startServerProcess: a server that does not come up in time is killed, not
// left running behind the failed test (it would hold its port, data directory and CPU).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startServerProcess } from '../helpers/process.js';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('startServerProcess kills the child when start-up times out', async () => {
  // 50 ms: tsx alone takes longer to load, so the start times out while the child is running.
  const err = await startServerProcess({ IDPBRIDGE_DATA_DIR: '' }, 50).then(
    () => assert.fail('a server cannot start in 50 ms'),
    (e: Error & { pid?: number }) => e,
  );
  assert.match(err.message, /did not start in 50 ms/);
  assert.equal(typeof err.pid, 'number');
  const deadline = Date.now() + 5_000;
  while (alive(err.pid!) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.equal(alive(err.pid!), false, 'the child is gone');
});
