import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Database } from '../db/types.js';
import { GroupNameCache } from './group-names.js';

/** A database that answers the name query from a map and counts the queries; listen is captured. */
function fakeDb(names: Map<string, string>) {
  const state = { queries: 0, onPayload: (_p: string) => {}, onGap: () => {}, gate: undefined as Promise<void> | undefined };
  const db = {
    kind: 'postgres',
    async query(_sql: string, params?: readonly unknown[]) {
      state.queries++;
      if (state.gate) await state.gate;
      const ids = params![1] as string[];
      return { rows: ids.filter((id) => names.has(id)).map((id) => ({ id, display_name: names.get(id)! })), rowCount: 0 };
    },
    async exec() {},
    async transaction() { throw new Error('unused'); },
    async listen(_c: string, onPayload: (p: string) => void, onGap?: () => void) {
      state.onPayload = onPayload;
      state.onGap = onGap ?? (() => {});
      return async () => {};
    },
    async close() {},
  } as unknown as Database;
  return { db, state };
}

test('group names: cached after one query; a notification, a gap or forget() reads again', async () => {
  const names = new Map([['g1', 'Eng'], ['g2', 'Ops']]);
  const { db, state } = fakeDb(names);
  const c = new GroupNameCache(db);
  assert.deepEqual([...(await c.resolve('t', ['g1', 'g2', 'gone']))], [['g1', 'Eng'], ['g2', 'Ops']]);
  assert.equal(state.queries, 1);
  await c.resolve('t', ['g1', 'g2']);
  assert.equal(state.queries, 1, 'all cached');

  names.set('g1', 'Engineering');
  state.onPayload('t:g1');
  assert.equal((await c.resolve('t', ['g1', 'g2'])).get('g1'), 'Engineering');
  assert.equal(state.queries, 2);

  names.set('g2', 'Operations');
  state.onGap();
  assert.equal((await c.resolve('t', ['g2'])).get('g2'), 'Operations');
  assert.equal(state.queries, 3);

  names.set('g2', 'Ops 2');
  c.forget('t');
  assert.equal((await c.resolve('t', ['g2'])).get('g2'), 'Ops 2');
  await c.resolve('other-tenant', ['g2']);
  assert.equal(state.queries, 5, 'tenants are cached apart');
});

test('group names: a read that raced a rename is answered but not kept', async () => {
  const names = new Map([['g1', 'Old']]);
  const { db, state } = fakeDb(names);
  const c = new GroupNameCache(db);
  let open!: () => void;
  state.gate = new Promise((r) => { open = r; });
  const pending = c.resolve('t', ['g1']);
  await new Promise((r) => setImmediate(r));
  c.forget('t', 'g1'); // the rename committed while the read was in flight
  names.set('g1', 'New');
  open();
  assert.equal((await pending).get('g1'), 'New');
  state.gate = undefined;
  names.set('g1', 'Newer');
  assert.equal((await c.resolve('t', ['g1'])).get('g1'), 'Newer', 'the raced answer was not cached');
  assert.equal(state.queries, 2);
});
