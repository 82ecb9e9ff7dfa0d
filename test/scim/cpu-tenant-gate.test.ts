/**
 * The tenant gate's synchronous fast path (src/http/tenant-concurrency.ts): a gated request with a
 * free slot takes it without a promise (`tryAcquire`), and shares the limit, the queue and the
 * hand-over of a slot with the requests that wait (`acquire`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { TenantGate, registerTenantConcurrency } from '../../src/http/tenant-concurrency.js';

const refuse = (retryAfter: number, limit: number) => Object.assign(new Error(`busy: ${limit}, retry after ${retryAfter}`), { statusCode: 429 });

test('tryAcquire takes free slots up to the limit, then leaves the request to acquire', () => {
  const gate = new TenantGate({ limit: 2 });
  const a = gate.tryAcquire('t1');
  const b = gate.tryAcquire('t1');
  assert.equal(typeof a, 'function');
  assert.equal(typeof b, 'function');
  assert.equal(gate.active('t1'), 2);
  assert.equal(gate.tryAcquire('t1'), undefined, 'no third slot');
  assert.equal(gate.active('t1'), 2, 'a refused tryAcquire takes nothing');
  assert.equal(typeof gate.tryAcquire('t2'), 'function', 'another tenant has its own slots');
  a!();
  a!(); // a second release of the same slot gives nothing back
  assert.equal(gate.active('t1'), 1);
  b!();
  assert.equal(gate.active('t1'), 0);
  assert.equal(typeof gate.tryAcquire('t1'), 'function', 'the lane is usable again after it emptied');
});

test('a slot taken by tryAcquire passes on to a waiter of acquire, which the limit held back', async () => {
  const gate = new TenantGate({ limit: 1, waitMs: 5_000 });
  const first = gate.tryAcquire('t')!;
  let granted: (() => void) | undefined;
  const waiting = gate.acquire('t', refuse).then((release) => { granted = release; });
  await new Promise((r) => setImmediate(r));
  assert.equal(granted, undefined, 'the waiter waits while the slot is held');
  assert.equal(gate.tryAcquire('t'), undefined, 'no slot for a newcomer either');
  first();
  await waiting;
  assert.equal(typeof granted, 'function');
  assert.equal(gate.active('t'), 1, 'the slot passed on without being freed in between');
  assert.equal(gate.tryAcquire('t'), undefined);
  granted!();
  assert.equal(gate.active('t'), 0);
});

test('gated handlers of one tenant never run more than the limit at once, and over the queue get the refusal', async () => {
  const gate = new TenantGate({ limit: 2, queueMax: 3, waitMs: 5_000 });
  const app = Fastify();
  let running = 0;
  let peak = 0;
  const open: (() => void)[] = [];
  registerTenantConcurrency(app, { limit: 2, gate, error: refuse });
  app.get('/t/:tenantId', async () => {
    running++;
    peak = Math.max(peak, running);
    await new Promise<void>((r) => open.push(r));
    running--;
    return { ok: true };
  });
  await app.ready();
  try {
    const replies = Array.from({ length: 6 }, () => app.inject({ method: 'GET', url: '/t/tenant-a' }));
    for (let i = 0; i < 20 && open.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(running, 2, 'two run, the others wait or are refused');
    // Let every handler finish as it gets its turn.
    const drain = setInterval(() => open.splice(0).forEach((r) => r()), 2);
    const statuses = (await Promise.all(replies)).map((r) => r.statusCode).sort();
    clearInterval(drain);
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429], 'two running + three queued; the sixth is refused');
    assert.equal(peak, 2);
    assert.equal(gate.active('tenant-a'), 0, 'every slot was given back');
  } finally {
    await app.close();
  }
});
