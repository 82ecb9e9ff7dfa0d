// Refusal entries are coalesced: at most one entry per (client address, action, tenant) a minute,
// carrying the number of refusals it stands for; the counts of a window are written with the key's
// next entry, an eviction, or the app's close. On both databases; the coalescer itself as data.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Database } from '../../src/db/types.js';
import { RefusalCoalescer } from '../../src/audit/coalesce.js';
import { verifyChains } from '../../src/audit/verify.js';
import { eachDatabase, openTestDatabase, startTestApp, type TestApp } from '../helpers/app.js';

interface Row { client_ip: string; changes: { count?: { after?: number }; status?: { after?: number } } }

test('coalescer: the first refusal of a window is written, later ones counted and written with the next window', () => {
  const c = new RefusalCoalescer<string>(60_000, 100);
  assert.deepEqual(c.admit('a', 'a1', 0), { count: 1, flush: [] });
  assert.deepEqual(c.admit('a', 'a2', 1_000), { flush: [] });
  assert.deepEqual(c.admit('a', 'a3', 59_999), { flush: [] });
  assert.deepEqual(c.admit('b', 'b1', 2_000), { count: 1, flush: [] }, 'another key has its own window');
  // The next window's first refusal stands for itself and the two counted before it.
  assert.deepEqual(c.admit('a', 'a4', 60_000), { count: 3, flush: [] });
  assert.deepEqual(c.admit('a', 'a5', 60_001), { flush: [] });
  assert.deepEqual(c.drain(), [{ item: 'a5', count: 1 }], 'only counts not yet written');
  assert.equal(c.size, 0);
});

test('coalescer: the map is bounded; an evicted key hands its counted refusals back for an entry', () => {
  const c = new RefusalCoalescer<string>(60_000, 2);
  c.admit('a', 'a1', 0);
  c.admit('a', 'a2', 1);
  c.admit('b', 'b1', 2);
  assert.deepEqual(c.admit('c', 'c1', 3), { count: 1, flush: [{ item: 'a2', count: 1 }] }, 'the oldest key goes, its count with it');
  assert.equal(c.size, 2);
  assert.deepEqual(c.admit('d', 'd1', 4), { count: 1, flush: [] }, 'b had nothing pending');
});

eachDatabase((kind) => {
  let db: Database;
  let t: TestApp;
  before(async () => {
    db = await openTestDatabase(kind);
    t = await startTestApp(kind, {}, { db });
  });
  after(async () => {
    await t.close();
    if (kind === 'postgres') await db.close();
  });

  const refusals = async (ip: string) => (await db.query<Row>(
    "SELECT client_ip, changes FROM audit_log WHERE action = 'admin.auth_refused' AND client_ip = $1 ORDER BY seq", [ip])).rows;
  const wrongToken = (ip: string) => t.app.inject({
    method: 'GET', url: '/admin/v1/tenants', remoteAddress: ip, headers: { authorization: 'Bearer wrong-token', 'user-agent': 'flood/1.0' },
  });
  async function until(fn: () => Promise<boolean>): Promise<void> {
    const end = Date.now() + 3000;
    while (!(await fn())) {
      if (Date.now() > end) assert.fail('not recorded in time');
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  test('a refused set-up sign-in names the tenant of its body only if that tenant exists; made-up ids are coalesced under none', async () => {
    const n = Math.floor(Math.random() * 250) + 1;
    const ip = `192.0.2.${n}`;
    const signIn = (tenantId: string) => t.app.inject({
      method: 'POST', url: '/console/api/setup-session', remoteAddress: ip,
      headers: { 'content-type': 'application/json' }, payload: { tenantId, secret: 'not the set-up secret' },
    });
    const made = Array.from({ length: 10 }, () => crypto.randomUUID());
    for (const id of made) assert.equal((await signIn(id)).statusCode, 401);
    assert.equal((await signIn(t.tenantId.toUpperCase())).statusCode, 401);
    const rows = async () => (await db.query<{ tenant_id: string | null }>(
      "SELECT tenant_id FROM audit_log WHERE action = 'console.sign_in_refused' AND client_ip = $1 ORDER BY tenant_id NULLS FIRST", [ip])).rows;
    await until(async () => (await rows()).length === 2);
    const got = (await rows()).map((r) => r.tenant_id);
    assert.deepEqual(got, [null, t.tenantId], 'ten made-up tenant ids: one entry under no tenant; the real one under its tenant');
    const chains = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_log WHERE tenant_id = ANY($1::uuid[])', [made])).rows[0]!.n;
    assert.equal(chains, 0, 'no chain for a tenant that does not exist');
  });

  test('50 bad-token admin requests from one address write two entries whose counts add up to 50; another address gets its own', async () => {
    // Addresses unique to this run: the PostgreSQL test database keeps earlier runs' entries.
    const n = Math.floor(Math.random() * 250) + 1;
    const flood = `198.51.100.${n}`;
    const other = `203.0.113.${n}`;
    for (let i = 0; i < 50; i++) assert.equal((await wrongToken(flood)).statusCode, 401);
    await until(async () => (await refusals(flood)).length === 1);
    assert.equal((await wrongToken(other)).statusCode, 401);
    await until(async () => (await refusals(other)).length === 1);
    const during = await refusals(flood);
    assert.equal(during.length, 1, 'one entry while the window is open');
    assert.equal(during[0]!.changes.count?.after, 1, 'the first refusal is written at once, for itself');

    await t.app.close(); // the final flush writes the counts still in memory
    const rows = await refusals(flood);
    assert.equal(rows.length, 2, JSON.stringify(rows));
    assert.deepEqual(rows.map((r) => r.changes.count?.after), [1, 49]);
    assert.equal(rows.reduce((s, r) => s + (r.changes.count?.after ?? 0), 0), 50);
    assert.deepEqual((await refusals(other)).map((r) => r.changes.count?.after), [1], 'the other address: its own entry, nothing counted');
    assert.deepEqual((await verifyChains(db)).filter((r) => r.chain === 'operator').map((r) => r.broken), [undefined], 'the operator chain still verifies');
  });
});
