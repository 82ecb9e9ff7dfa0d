import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Queryable } from '../db/types.js';
import { ProvisioningLogWriter, type LogEntry } from './provisioning-log.js';

const entry = (n: number): LogEntry => ({
  tenant_id: '00000000-0000-4000-8000-000000000001', at: new Date(0).toISOString(), method: 'GET', path: `/p${n}`, idp: 'other',
  user_agent: null, credential_id: null, operation: 'list', outcome: 'success', status: 200, resource_type: 'User',
  resource_id: null, summary: null, error: null, duration_ms: 1,
});

test('log writer: rows arriving during a flush are kept for the next one, in one batch, none lost', async () => {
  const batches: string[][] = [];
  let open!: () => void;
  let gate: Promise<void> | undefined = new Promise((r) => { open = r; });
  const db: Queryable = {
    async query(_sql, params) {
      if (gate) await gate;
      batches.push((JSON.parse(params![0] as string) as LogEntry[]).map((e) => e.path));
      return { rows: [], rowCount: 0 };
    },
    async exec() {},
  };
  const w = new ProvisioningLogWriter(db, { error() {}, warn() {} }, 60_000);
  w.add(entry(1));
  const first = w.flush(); // blocked in its INSERT
  await new Promise((r) => setImmediate(r));
  for (let n = 2; n <= 5; n++) w.add(entry(n));
  gate = undefined;
  open();
  await first;
  assert.deepEqual(batches, [['/p1']], 'the running flush wrote only what was queued when it started');
  await w.close();
  assert.deepEqual(batches, [['/p1'], ['/p2', '/p3', '/p4', '/p5']], 'the rest in one later batch');
});
