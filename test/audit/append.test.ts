// The audit append (src/audit/record.ts) and the transactions it runs in (src/db/postgres.ts):
// one statement that also opens a chain, chains written before migration 024 still verifying,
// the hash template matching the verifier's hash, the audit.recorded event's data, and — on
// PostgreSQL, where the append and COMMIT are written together and BEGIN rides with the first
// statement — a failing append or commit never leaving the change stored.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ADMIN_TOKEN, eachDatabase, startTestApp, type TestApp } from '../helpers/app.js';
import { hashTemplate, recordAudit } from '../../src/audit/record.js';
import { canonicalJson, chainOf, GENESIS_HASH, hashedFields, type AuditEntry, type AuditEntryInput } from '../../src/audit/entry.js';
import { verifyChain } from '../../src/audit/verify.js';

const input = (tenantId: string | null, i: number, extra: Partial<AuditEntryInput> = {}): AuditEntryInput => ({
  tenantId, action: 'dataset.updated', outcome: 'success', actor: { kind: 'operator', id: null, login: null },
  target: { type: 'dataset', id: `ds-${i}` }, changes: { description: { before: `v${i - 1}`, after: `v${i}` } },
  clientIp: '192.0.2.7', userAgent: 'append-test/1.0', requestId: `req-${i}`, ...extra,
});

test('audit: the hash template, filled with a chain position, is the canonical JSON the verifier hashes', () => {
  const odd: Omit<AuditEntry, 'id' | 'hash' | 'seq' | 'prevHash'>[] = [
    { ...input('0f0e0d0c-0b0a-4908-8706-050403020100', 1), chain: 'tenant:0f0e0d0c-0b0a-4908-8706-050403020100', at: new Date('2026-01-02T03:04:05.678Z') },
    {
      ...input(null, 2, { target: null, clientIp: null, userAgent: null, requestId: null, changes: {} }),
      actor: { kind: 'console-account', id: 'a"b\\c', login: 'üñï\u2028"quoted"@example.com' }, chain: 'operator', at: new Date(0),
    },
    {
      ...input(null, 3, { changes: { nested: { after: { z: [1, { b: null, a: 'x' }], a: true } }, secret: { changed: true } } }),
      chain: 'operator', at: new Date('2030-12-31T23:59:59.999Z'),
    },
    {
      // An upper-case tenant id (hashed lower-case), a target without id, a key that sorts oddly in changes.
      ...input('0F0E0D0C-0B0A-4908-8706-050403020100', 4, { target: { type: 'console_session', id: null }, changes: { Z: { after: 1 }, a: { before: [], after: {} } } }),
      chain: 'tenant:0f0e0d0c-0b0a-4908-8706-050403020100', at: new Date('2026-06-30T12:00:00.000Z'),
    },
  ];
  for (const e of odd) {
    const t = hashTemplate(e);
    for (const [seq, prevHash] of [[1, GENESIS_HASH], [12345, 'ab'.repeat(32)]] as const) {
      assert.equal(`${t.pre}${prevHash}${t.mid}${seq}${t.post}`, canonicalJson(hashedFields({ ...e, seq, prevHash })));
    }
  }
});

// The append statement of the release before migration 024 (the head advanced by an UPDATE after
// a seq-0 genesis row) and its template (placeholders cut out of the canonical JSON): entries it
// stored must verify, and the chain must go on under the current statement.
const PREVIOUS_APPEND_SQL = `WITH old AS (
    SELECT seq, hash FROM audit_chains WHERE chain = $1 FOR UPDATE
  ), h AS (
    UPDATE audit_chains c
       SET seq = old.seq + 1,
           hash = encode(sha256(convert_to($2 || old.hash || $3 || (old.seq + 1)::text || $4, 'UTF8')), 'hex')
      FROM old
     WHERE c.chain = $1
    RETURNING c.seq, c.hash, old.hash AS prev_hash
  )
  INSERT INTO audit_log (chain, seq, tenant_id, at, actor_kind, actor_id, actor_login, action, outcome, target_type, target_id,
                         changes, client_ip, user_agent, request_id, prev_hash, hash)
  SELECT $1, h.seq, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, h.prev_hash, h.hash FROM h`;

async function previousAppend(db: TestApp['db'], e: AuditEntryInput): Promise<void> {
  const chain = chainOf(e.tenantId);
  const entry = { ...e, chain, at: new Date() };
  const p = randomUUID().replace(/-/g, '');
  const q = randomUUID().replace(/-/g, '');
  const text = canonicalJson(hashedFields({ ...entry, seq: q as unknown as number, prevHash: p }));
  const [pre, rest] = text.split(p) as [string, string];
  const [mid, post] = rest.split(`"${q}"`) as [string, string];
  await db.transaction(async (tx) => {
    await tx.query('INSERT INTO audit_chains (chain, seq, hash) VALUES ($1, 0, $2) ON CONFLICT (chain) DO NOTHING', [chain, GENESIS_HASH]);
    const r = await tx.query(PREVIOUS_APPEND_SQL, [
      chain, pre, mid, post, entry.tenantId, entry.at, entry.actor.kind, entry.actor.id, entry.actor.login, entry.action, entry.outcome,
      entry.target?.type ?? null, entry.target?.id ?? null, JSON.stringify(entry.changes), entry.clientIp, entry.userAgent, entry.requestId,
    ]);
    assert.equal(r.rowCount, 1);
  });
}

eachDatabase((kind) => {
  let t: TestApp;
  before(async () => { t = await startTestApp(kind); });
  after(async () => { await t.close(); });
  const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
  const call = (method: 'POST' | 'PATCH' | 'GET', url: string, payload?: object) =>
    t.app.inject({ method, url, headers: admin, ...(payload === undefined ? {} : { payload }) });

  test('audit: a chain written before migration 024 verifies, and goes on verifying with entries appended after it', async () => {
    const tenantId = randomUUID();
    for (let i = 1; i <= 3; i++) await previousAppend(t.db, input(tenantId, i));
    for (let i = 4; i <= 6; i++) await t.db.transaction((tx) => recordAudit(tx, input(tenantId, i), { last: true }));
    await previousAppend(t.db, input(tenantId, 7)); // a process of the previous release, still running during an upgrade
    await t.db.transaction((tx) => recordAudit(tx, input(tenantId, 8), { last: true }));
    const report = await verifyChain(t.db, chainOf(tenantId));
    assert.deepEqual(report, { chain: chainOf(tenantId), entries: 8 });
    const seqs = (await t.db.query<{ seq: number; prev_hash: string }>('SELECT seq, prev_hash FROM audit_log WHERE chain = $1 ORDER BY seq', [chainOf(tenantId)])).rows;
    assert.deepEqual(seqs.map((r) => Number(r.seq)), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.equal(seqs[0]!.prev_hash, GENESIS_HASH);
  });

  test('audit: an entry whose request facts are missing (undefined, not null) is stored with nulls and verifies', async () => {
    const tenantId = randomUUID();
    const partial = { ...input(tenantId, 1), clientIp: undefined, userAgent: undefined, requestId: undefined } as unknown as AuditEntryInput;
    const e = await t.db.transaction((tx) => recordAudit(tx, partial, { last: true }));
    assert.deepEqual([e.clientIp, e.userAgent, e.requestId], [null, null, null]);
    assert.deepEqual(await verifyChain(t.db, chainOf(tenantId)), { chain: chainOf(tenantId), entries: 1 });
  });

  test('audit: concurrent writers opening a new chain: one creates its head, the others follow it, and the chain verifies', async () => {
    const tenantId = randomUUID();
    const n = 12;
    const entries = await Promise.all(Array.from({ length: n }, (_, i) => t.db.transaction((tx) => recordAudit(tx, input(tenantId, i + 1), { last: true }))));
    assert.deepEqual(entries.map((e) => e.seq).sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i + 1));
    assert.equal(entries.find((e) => e.seq === 1)!.prevHash, GENESIS_HASH);
    assert.deepEqual(await verifyChain(t.db, chainOf(tenantId)), { chain: chainOf(tenantId), entries: n });
    const head = (await t.db.query<{ seq: number; hash: string; prev_hash: string }>('SELECT seq, hash, prev_hash FROM audit_chains WHERE chain = $1', [chainOf(tenantId)])).rows[0]!;
    const last = entries.find((e) => e.seq === n)!;
    assert.deepEqual({ seq: Number(head.seq), hash: head.hash, prev_hash: head.prev_hash }, { seq: n, hash: last.hash, prev_hash: last.prevHash });
  });

  test('audit: the audit.recorded event carries the entry (action, outcome, actor, target, changes, at, clientIp, requestId, chainSeq, hash)', async () => {
    const { tenantId } = await t.newTenant('Event data');
    assert.equal((await call('POST', `/admin/v1/tenants/${tenantId}/webhooks`, { url: 'https://siem.example.com/hook', events: ['audit.recorded'] })).statusCode, 201);
    const ds = await call('POST', `/admin/v1/tenants/${tenantId}/datasets`, { name: 'evented', description: 'old' });
    assert.equal(ds.statusCode, 201, ds.body);
    assert.equal((await call('PATCH', `/admin/v1/tenants/${tenantId}/datasets/${ds.json().id}`, { description: 'new' })).statusCode, 200);
    const entry = (await call('GET', `/admin/v1/tenants/${tenantId}/audit-log?action=dataset.updated`)).json().entries[0];
    const ev = (await t.db.query<{ data: unknown }>(
      `SELECT data FROM events WHERE tenant_id = $1 AND type = 'audit.recorded' AND data->>'action' = 'dataset.updated'`, [tenantId],
    )).rows;
    assert.equal(ev.length, 1);
    const data = typeof ev[0]!.data === 'string' ? JSON.parse(ev[0]!.data) : ev[0]!.data;
    assert.deepEqual(data, {
      action: 'dataset.updated', outcome: 'success', actor: { kind: 'operator', id: null, login: null },
      target: { type: 'dataset', id: ds.json().id }, changes: { description: { before: 'old', after: 'new' } },
      at: entry.at, clientIp: entry.clientIp, requestId: entry.requestId, chainSeq: entry.sequence, hash: entry.hash,
    });
    // An entry without a target (the operator chain has no webhooks; written here to a subscribed tenant directly).
    await t.db.transaction((tx) => recordAudit(tx, input(tenantId, 1, { action: 'test.untargeted', target: null, clientIp: null, requestId: null }), { last: true }));
    const untargeted = (await t.db.query<{ data: unknown }>(`SELECT data FROM events WHERE tenant_id = $1 AND data->>'action' = 'test.untargeted'`, [tenantId])).rows[0]!;
    const d2 = (typeof untargeted.data === 'string' ? JSON.parse(untargeted.data) : untargeted.data) as Record<string, unknown>;
    assert.deepEqual([d2.target, d2.clientIp, d2.requestId], [null, null, null]);
    assert.match(d2.at as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  test('audit: an append that fails rolls back the change it records (and its chain stays where it was)', async () => {
    const { tenantId } = await t.newTenant('Failing append');
    const ds = await call('POST', `/admin/v1/tenants/${tenantId}/datasets`, { name: 'kept', description: 'before' });
    assert.equal(ds.statusCode, 201, ds.body);
    const dsId = ds.json().id as string;
    const head = async () => Number((await t.db.query<{ seq: number }>('SELECT seq FROM audit_chains WHERE chain = $1', [chainOf(tenantId)])).rows[0]!.seq);
    const seqBefore = await head();
    // The entry of this dataset cannot be stored: the append statement fails after the change ran.
    const fn = `idpb_test_refuse_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
    await t.db.exec(`CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.target_id = '${dsId}' THEN RAISE EXCEPTION 'refused by test'; END IF; RETURN NEW; END $$;
      CREATE TRIGGER ${fn} BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION ${fn}()`);
    try {
      const r = await call('PATCH', `/admin/v1/tenants/${tenantId}/datasets/${dsId}`, { description: 'after' });
      assert.equal(r.statusCode, 500, r.body);
      // Directly too: a statement of the transaction, then the failing append as its last statement.
      await assert.rejects(t.db.transaction(async (tx) => {
        await tx.query(`UPDATE datasets SET description = 'direct' WHERE tenant_id = $1 AND id = $2`, [tenantId, dsId]);
        await recordAudit(tx, input(tenantId, 1, { target: { type: 'dataset', id: dsId } }), { last: true });
      }), /refused by test/);
    } finally {
      await t.db.exec(`DROP TRIGGER ${fn} ON audit_log; DROP FUNCTION ${fn}()`);
    }
    assert.equal((await call('GET', `/admin/v1/tenants/${tenantId}/datasets/${dsId}`)).json().description, 'before');
    assert.equal(await head(), seqBefore);
    // The pool's connections are clean afterwards: the next audited writes go through.
    for (let i = 0; i < 12; i++) {
      assert.equal((await call('PATCH', `/admin/v1/tenants/${tenantId}/datasets/${dsId}`, { description: `after ${i}` })).statusCode, 200);
    }
    assert.equal(await head(), seqBefore + 12);
  });

  if (kind === 'postgres') {
    test('postgres transactions: BEGIN sent with the first statement still covers it; a statement and COMMIT written together commit or fail together', async () => {
      const table = `idpb_test_tx_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
      await t.db.exec(`CREATE TABLE ${table} (v text PRIMARY KEY)`);
      const stored = async () => (await t.db.query<{ v: string }>(`SELECT v FROM ${table} ORDER BY v`)).rows.map((r) => r.v);
      try {
        // The first statement (sent with BEGIN) is rolled back with the rest.
        await assert.rejects(t.db.transaction(async (tx) => {
          await tx.query(`INSERT INTO ${table} VALUES ('first')`);
          throw new Error('handler failed');
        }), /handler failed/);
        // No statement at all: nothing to send.
        assert.equal(await t.db.transaction(async () => 'nothing'), 'nothing');
        // The only statement, with BEGIN and COMMIT in one write.
        await t.db.transaction(async (tx) => {
          assert.equal(typeof tx.queryAndCommit, 'function', 'PostgreSQL transactions commit with their last statement');
          await tx.queryAndCommit!(`INSERT INTO ${table} VALUES ('only')`);
          await assert.rejects(tx.query('SELECT 1'), /already ended/);
        });
        // A failing last statement: COMMIT answers ROLLBACK, the earlier statement is gone.
        await assert.rejects(t.db.transaction(async (tx) => {
          await tx.query(`INSERT INTO ${table} VALUES ('earlier')`);
          await tx.queryAndCommit!(`INSERT INTO ${table} VALUES ('only')`); // duplicate key
        }), /duplicate key/);
        // A commit that fails (a deferred check) after a statement that succeeded.
        await t.db.exec(`CREATE FUNCTION ${table}_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused at commit'; END $$;
          CREATE CONSTRAINT TRIGGER ${table}_refuse AFTER INSERT ON ${table} DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
            WHEN (NEW.v = 'deferred') EXECUTE FUNCTION ${table}_refuse()`);
        await assert.rejects(t.db.transaction(async (tx) => {
          await tx.query(`INSERT INTO ${table} VALUES ('with the deferred one')`);
          await tx.queryAndCommit!(`INSERT INTO ${table} VALUES ('deferred')`);
        }), /refused at commit/);
        assert.deepEqual(await stored(), ['only']);
      } finally {
        await t.db.exec(`DROP TABLE ${table}; DROP FUNCTION IF EXISTS ${table}_refuse()`);
      }
    });
  }
});
