/**
 * The tenant gate's synchronous fast path (src/http/tenant-concurrency.ts): a gated request with a
 * free slot takes it without a promise (`tryAcquire`), and shares the limit, the queue and the
 * hand-over of a slot with the requests that wait (`acquire`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { TenantGate, TenantSlot, registerTenantConcurrency } from '../../src/http/tenant-concurrency.js';

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

test('share lends the slot to the tenant\'s next request while the work runs; hold takes one again', async () => {
  const gate = new TenantGate({ limit: 1, waitMs: 5_000, sharedMax: 2 });
  const slot = new TenantSlot(gate, 't', gate.tryAcquire('t')!, refuse);
  let granted: (() => void) | undefined;
  const waiting = gate.acquire('t', refuse).then((r) => { granted = r; });
  let finish!: () => void;
  const work = slot.share(() => new Promise<string>((r) => { finish = () => r('written'); }));
  await waiting;
  assert.equal(typeof granted, 'function', 'the waiter got the lent slot while the shared work waits');
  assert.equal(gate.active('t'), 1, 'the limit still holds: one slot, now the waiter\'s');
  assert.equal(gate.shared('t'), 1);
  finish();
  assert.equal(await work, 'written');
  assert.equal(gate.shared('t'), 0);
  assert.equal(gate.active('t'), 1, 'the sharer did not take a slot back by itself');
  let held = false;
  const holding = slot.hold().then(() => { held = true; });
  await new Promise((r) => setImmediate(r));
  assert.equal(held, false, 'hold waits like a new request while the slot is taken');
  granted!();
  await holding;
  assert.equal(gate.active('t'), 1);
  slot.end();
  slot.end(); // a second end gives nothing back
  assert.equal(gate.active('t'), 0);
  assert.equal(typeof gate.tryAcquire('t'), 'function', 'the lane is usable again');
});

test('at sharedMax lent slots, share runs the work holding the slot', async () => {
  const gate = new TenantGate({ limit: 3, sharedMax: 1 });
  const a = new TenantSlot(gate, 't', gate.tryAcquire('t')!, refuse);
  const b = new TenantSlot(gate, 't', gate.tryAcquire('t')!, refuse);
  let openA!: () => void;
  const workA = a.share(() => new Promise<void>((r) => { openA = r; }));
  assert.equal(gate.active('t'), 1, 'a lent its slot');
  let activeInB = -1;
  await b.share(async () => { activeInB = gate.active('t'); });
  assert.equal(activeInB, 1, 'b kept its slot: one tenant lends at most sharedMax at once');
  assert.equal(gate.shared('t'), 1);
  openA();
  await workA;
  b.end();
  assert.equal(gate.active('t'), 0);
  assert.equal(gate.shared('t'), 0);
});
