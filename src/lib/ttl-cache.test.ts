import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TtlCache } from './ttl-cache.js';

function clocked(maxEntries = 100, ttlMs = 1_000) {
  let now = 1_000_000;
  const cache = new TtlCache<string, number | undefined>({ maxEntries, ttlMs, now: () => now });
  return { cache, advance: (ms: number) => { now += ms; } };
}

test('an entry lives exactly its TTL (default or per entry)', () => {
  const { cache, advance } = clocked();
  cache.set('a', 1);
  cache.set('b', 2, 5_000);
  advance(999);
  assert.equal(cache.get('a'), 1);
  advance(1);
  assert.equal(cache.get('a'), undefined, 'expired at its TTL');
  assert.equal(cache.size, 1, 'the expired entry is dropped when looked up');
  assert.equal(cache.get('b'), 2);
  advance(4_000);
  assert.equal(cache.lookup('b'), undefined);
});

test('a TTL of 0 or less stores nothing', () => {
  const { cache } = clocked(100, 0);
  cache.set('a', 1);
  cache.set('b', 2, -5);
  assert.equal(cache.size, 0);
  assert.equal(cache.lookup('a'), undefined);
});

test('undefined is a cached value: lookup tells it from a miss', async () => {
  const { cache } = clocked();
  cache.set('none', undefined);
  assert.deepEqual(cache.lookup('none'), { value: undefined });
  assert.equal(cache.lookup('other'), undefined);
  let loads = 0;
  const load = async () => { loads++; return undefined; };
  assert.equal(await cache.getOrLoad('x', load), undefined);
  assert.equal(await cache.getOrLoad('x', load), undefined);
  assert.equal(loads, 1, 'a cached miss is not loaded again');
});

test('bounded: a full cache drops its oldest tenth; setting a key again makes it newest', () => {
  const { cache } = clocked(20);
  for (let i = 0; i < 20; i++) cache.set(`k${i}`, i);
  cache.set('k0', 0); // k0 is now the newest
  cache.set('new', 99);
  assert.ok(cache.size <= 20);
  assert.equal(cache.get('k1'), undefined, 'oldest dropped');
  assert.equal(cache.get('k2'), undefined, 'the oldest tenth (2 of 20) dropped');
  assert.equal(cache.get('k3'), 3);
  assert.equal(cache.get('k0'), 0);
  assert.equal(cache.get('new'), 99);
});

test('delete and deleteWhere', () => {
  const { cache } = clocked();
  for (const k of ['t1:a', 't1:b', 't2:a']) cache.set(k, 1);
  cache.deleteWhere((k) => k.startsWith('t1:'));
  assert.deepEqual(['t1:a', 't1:b', 't2:a'].map((k) => cache.get(k)), [undefined, undefined, 1]);
  cache.delete('t2:a');
  assert.equal(cache.size, 0);
});
