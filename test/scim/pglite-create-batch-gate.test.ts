/**
 * SCIM creates on PGlite and the tenant gate (create-batch.ts, TenantSlot.share): a create that
 * waits in a shared batch lends its slot out, so one tenant's concurrent creates are written in
 * batches larger than its slots; a create that falls back to its own transaction (a userName
 * conflict) holds a slot again for it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { openTestDatabase, startTestApp, type TestApp } from '../helpers/app.js';
import type { Database } from '../../src/db/types.js';
import { scimClient, USER } from './helpers.js';

const LIMIT = 4;
let t: TestApp;
/** The users of each batched create statement, in order. */
const batches: number[] = [];
/** The tenant's held slots whenever a transaction starts. */
const activeAtTransaction: number[] = [];

before(async () => {
  const shared = await openTestDatabase('pglite');
  let app: TestApp | undefined;
  // The shared database, observed: the batch statement's users, and the gate when a transaction starts.
  const db: Database = {
    ...shared,
    query: (sql, params) => {
      if (sql.trimStart().startsWith('WITH v AS') && sql.includes('INSERT INTO scim_users')) batches.push((JSON.parse(String(params![0])) as unknown[]).length);
      return shared.query(sql, params);
    },
    transaction: (fn) => {
      if (app) activeAtTransaction.push(app.deps.tenantGate!.active(app.tenantId));
      return shared.transaction(fn);
    },
  };
  t = await startTestApp('pglite', { tenantConcurrency: LIMIT }, { db });
  app = t;
});
after(() => t.close());

test('32 concurrent creates of one tenant are written in batches larger than its 4 slots', async () => {
  const c = scimClient(t, t.scimBase, t.scimToken);
  batches.length = 0;
  const gate = t.deps.tenantGate!;
  let peak = 0;
  const watch = setInterval(() => { peak = Math.max(peak, gate.active(t.tenantId)); }, 0);
  const statuses = await Promise.all(Array.from({ length: 32 }, (_, i) => c.call('POST', '/Users', { schemas: [USER], userName: `batch-${i}@example.com` }).then((r) => r.status)));
  clearInterval(watch);
  assert.deepEqual(statuses, Array(32).fill(201));
  assert.equal(batches.reduce((a, b) => a + b, 0), 32, 'every create went through a batch statement');
  assert.ok(Math.max(...batches) > LIMIT, `a batch held more creates than the tenant has slots (batches: ${batches.join(', ')})`);
  assert.ok(peak <= LIMIT, `never more than ${LIMIT} slots held (peak ${peak})`);
  assert.equal(gate.active(t.tenantId), 0, 'every slot was given back');
  assert.equal(gate.shared(t.tenantId), 0, 'no slot is still lent out');
  const list = await c.call('GET', '/Users?filter=userName sw "batch-"&count=100');
  assert.equal(list.body.totalResults, 32);
});

test('creates that conflict fall back to a transaction that holds one of the tenant\'s slots', async () => {
  const c = scimClient(t, t.scimBase, t.scimToken);
  activeAtTransaction.length = 0;
  const statuses = await Promise.all(Array.from({ length: 12 }, () => c.call('POST', '/Users', { schemas: [USER], userName: 'same@example.com' }).then((r) => r.status)));
  assert.deepEqual(statuses.sort(), [201, ...Array(11).fill(409)], 'one is created, the others conflict');
  assert.ok(activeAtTransaction.length >= 11, `each conflicting create ran its own transaction (${activeAtTransaction.length})`);
  for (const a of activeAtTransaction) assert.ok(a >= 1 && a <= LIMIT, `a transaction ran with ${a} slots held (must hold one, at most ${LIMIT})`);
  assert.equal(t.deps.tenantGate!.active(t.tenantId), 0);
  assert.equal(t.deps.tenantGate!.shared(t.tenantId), 0);
});

test('a Bulk request keeps its slot while its creates are written', async () => {
  const c = scimClient(t, t.scimBase, t.scimToken);
  const gate = t.deps.tenantGate!;
  let sharedSeen = 0;
  const watch = setInterval(() => { sharedSeen = Math.max(sharedSeen, gate.shared(t.tenantId)); }, 0);
  const r = await c.call('POST', '/Bulk', {
    schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
    Operations: Array.from({ length: 5 }, (_, i) => ({ method: 'POST', path: '/Users', bulkId: `b${i}`, data: { schemas: [USER], userName: `bulk-${i}@example.com` } })),
  });
  clearInterval(watch);
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.Operations.map((o: { status: string }) => o.status), Array(5).fill('201'));
  assert.equal(sharedSeen, 0, 'the Bulk request never lent its slot out');
});
