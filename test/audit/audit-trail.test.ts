// The audit trail end to end on both databases: what admin writes and console actions record,
// reading and exporting it, the hash chain under concurrent writers, a tampered row caught by
// `idpbridge audit verify`, retention and the operator's purge.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, operatorCalls, type EntryView } from './helpers.js';
import { eachDatabase, startTestApp, type TestApp } from '../helpers/app.js';
import { client } from '../console/helpers.js';
import { auditVerify } from '../../src/cli.js';
import { verifyChains } from '../../src/audit/verify.js';
import { cleanupAudit } from '../../src/audit/retention.js';
import { chainOf } from '../../src/audit/entry.js';
import { runCli } from '../helpers/process.js';

eachDatabase((kind) => {
  let t: TestApp;
  before(async () => { t = await startTestApp(kind); });
  after(async () => { await t.close(); });
  const { admin, call, log } = operatorCalls(() => t);

  test('audit: tenant creation, SCIM token and settings changes are recorded with actor, target, before/after and request facts', async () => {
    const made = await call('POST', '/admin/v1/tenants', { name: 'Audited tenant' });
    assert.equal(made.statusCode, 201, made.body);
    const tenantId = made.json().id as string;
    assert.equal((await call('POST', `/admin/v1/tenants/${tenantId}/scim-tokens`, { name: 'first' })).statusCode, 201);
    const created = await log(tenantId, '?action=tenant.created');
    assert.equal(created.length, 1);
    assert.equal(created[0]!.actor.kind, 'operator');
    assert.deepEqual(created[0]!.target, { type: 'tenant', id: tenantId });
    assert.deepEqual(created[0]!.changes.name, { after: 'Audited tenant' });
    assert.equal(created[0]!.userAgent, 'audit-test/1.0');
    assert.ok(created[0]!.requestId && created[0]!.clientIp);

    const tokens = await log(tenantId, '?action=scim_token.*');
    assert.equal(tokens.length, 1, 'the helper created one token');
    const del = await call('DELETE', `/admin/v1/tenants/${tenantId}/scim-tokens/${tokens[0]!.target!.id}`);
    assert.equal(del.statusCode, 204, del.body);
    const revoked = await log(tenantId, '?action=scim_token.revoked');
    assert.deepEqual(revoked[0]!.target, { type: 'scim_token', id: tokens[0]!.target!.id });

    const before = (await call('GET', `/admin/v1/tenants/${tenantId}/settings`)).json();
    const put = await call('PUT', `/admin/v1/tenants/${tenantId}/settings`, { logRetentionDays: before.logRetentionDays + 1 });
    assert.equal(put.statusCode, 200, put.body);
    const s = await log(tenantId, '?action=settings.updated');
    assert.deepEqual(s[0]!.changes, { logRetentionDays: { before: before.logRetentionDays, after: before.logRetentionDays + 1 } });

    // A PATCH records the values it replaced, read in its transaction from the resource's own view.
    const ds = await call('POST', `/admin/v1/tenants/${tenantId}/datasets`, { name: 'ledger', description: 'old text' });
    assert.equal(ds.statusCode, 201, ds.body);
    assert.equal((await call('PATCH', `/admin/v1/tenants/${tenantId}/datasets/${ds.json().id}`, { name: 'ledger', description: 'new text' })).statusCode, 200);
    const upd = await log(tenantId, '?action=dataset.updated');
    assert.deepEqual(upd[0]!.changes, { description: { before: 'old text', after: 'new text' } }, 'unchanged fields are left out');
    assert.deepEqual(upd[0]!.target, { type: 'dataset', id: ds.json().id });

    // A failed write records nothing and changes nothing.
    const bad = await call('PUT', `/admin/v1/tenants/${tenantId}/settings`, { logRetentionDays: 'many' });
    assert.equal(bad.statusCode, 400);
    assert.equal((await log(tenantId, '?action=settings.updated')).length, 1);
  });

  test('audit: the entry commits with the change, in one transaction (a failing audit write leaves no change)', async () => {
    const { tenantId } = await t.newTenant('Atomic');
    // Break the audit write of this tenant's chain: its head row is made unusable for the next entry.
    await t.db.query(`UPDATE audit_chains SET seq = seq - 1 WHERE chain = $1`, [chainOf(tenantId)]);
    const r = await call('POST', `/admin/v1/tenants/${tenantId}/datasets`, { name: 'never-stored' });
    assert.equal(r.statusCode, 409, `the duplicate (chain, seq) fails the write: ${r.body}`);
    const ds = await call('GET', `/admin/v1/tenants/${tenantId}/datasets`);
    assert.ok(!ds.body.includes('never-stored'), 'the dataset was rolled back with its audit entry');
    await t.db.query(`UPDATE audit_chains SET seq = seq + 1 WHERE chain = $1`, [chainOf(tenantId)]);
    const ok = await call('POST', `/admin/v1/tenants/${tenantId}/datasets`, { name: 'stored' });
    assert.equal(ok.statusCode, 201, ok.body);
    assert.equal((await log(tenantId, '?action=dataset.created'))[0]!.target!.id, ok.json().id);
  });

  test('audit: 401 and 403 on the admin API and refused console sign-ins are recorded; console actions carry the account', async () => {
    const { tenantId } = await t.newTenant('Refusals');
    const r = await t.app.inject({ method: 'GET', url: `/admin/v1/tenants/${tenantId}/settings`, headers: { authorization: 'Bearer wrong-token', 'user-agent': 'intruder/0.1' } });
    assert.equal(r.statusCode, 401);
    // Refusals are written after their answer: wait for it.
    const mine = await eventually(async () => ((await call('GET', `/admin/v1/audit-log?tenantId=operator&action=admin.auth_refused`)).json().entries as EntryView[])
      .find((e) => e.userAgent === 'intruder/0.1' && e.target?.id?.includes('/settings')));
    assert.ok(mine, 'the 401 is recorded in the operator chain');
    assert.equal(mine.outcome, 'refused');
    assert.deepEqual(mine.target, { type: 'route', id: 'GET /admin/v1/tenants/:tenantId/settings' });

    const login = `admin-${tenantId.slice(0, 8)}@example.com`;
    const acct = await call('POST', `/admin/v1/tenants/${tenantId}/console-accounts`, { login, password: 'correct horse battery staple' });
    assert.equal(acct.statusCode, 201, acct.body);
    const c = client(t.app);
    const refused = await c.req('POST', '/console/api/session', { login, password: 'not the password at all' }, { csrf: false });
    assert.equal(refused.statusCode, 401, refused.body);
    const signIns = await eventually(async () => { const l = await log(tenantId, '?action=console.sign_in_refused'); return l.length ? l : undefined; });
    assert.equal(signIns.length, 1, 'the refused sign-in lands in the account\'s tenant chain');
    assert.equal(signIns[0]!.actor.login, login);
    assert.ok(!JSON.stringify(signIns).includes('not the password'), 'never the password');

    const ok = await c.req('POST', '/console/api/session', { login, password: 'correct horse battery staple' }, { csrf: false });
    assert.equal(ok.statusCode, 200, ok.body);
    const sess = await log(tenantId, '?action=console.signed_in');
    assert.equal(sess[0]!.actor.kind, 'console-account');
    assert.equal(sess[0]!.actor.id, acct.json().id);
    // A tenant admin's write is theirs, and they read their own tenant's log.
    const ds = await c.req('POST', `/admin/v1/tenants/${tenantId}/datasets`, { name: 'by-the-admin' });
    assert.equal(ds.statusCode, 201, ds.body);
    const mineLog = await c.req('GET', `/admin/v1/tenants/${tenantId}/audit-log?action=dataset.created`);
    assert.equal(mineLog.statusCode, 200);
    assert.deepEqual(mineLog.json().entries[0].actor, { kind: 'console-account', id: acct.json().id, login });
    // …but not the operator-wide one: a 403, itself recorded with who tried.
    const wide = await c.req('GET', '/admin/v1/audit-log');
    assert.equal(wide.statusCode, 403);
    const forbidden = await eventually(async () => {
      const l = (await call('GET', `/admin/v1/audit-log?tenantId=operator&action=admin.auth_refused&actor=${encodeURIComponent(login)}`)).json().entries;
      return l.length ? l : undefined;
    });
    assert.equal(forbidden.length, 1);
    const out = await c.req('DELETE', '/console/api/session');
    assert.equal(out.statusCode, 204);
    assert.equal((await log(tenantId, '?action=console.signed_out'))[0]!.actor.login, login);
  });

  test('audit: filters, cursor paging, JSON Lines and CSV exports', async () => {
    const { tenantId } = await t.newTenant('Paging');
    for (let i = 0; i < 7; i++) assert.equal((await call('POST', `/admin/v1/tenants/${tenantId}/datasets`, { name: `ds-${i}` })).statusCode, 201);
    const seen: string[] = [];
    let cursor = '';
    for (let page = 0; page < 10; page++) {
      const r = await call('GET', `/admin/v1/tenants/${tenantId}/audit-log?action=dataset.created&limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      const body = r.json();
      seen.push(...body.entries.map((e: EntryView) => e.changes.name && (e.changes.name as { after: string }).after));
      if (!body.nextCursor) break;
      cursor = body.nextCursor;
    }
    assert.deepEqual(seen, ['ds-6', 'ds-5', 'ds-4', 'ds-3', 'ds-2', 'ds-1', 'ds-0'], 'newest first, each once');
    const from = new Date(Date.now() + 60_000).toISOString();
    assert.equal((await log(tenantId, `?from=${encodeURIComponent(from)}`)).length, 0);
    assert.equal((await log(tenantId, '?targetType=tenant')).length, 1);

    const jsonl = await call('GET', `/admin/v1/tenants/${tenantId}/audit-log?format=jsonl`);
    assert.equal(jsonl.statusCode, 200);
    assert.match(String(jsonl.headers['content-type']), /ndjson/);
    const lines = jsonl.body.trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(lines.length >= 9);
    assert.ok(lines.every((l) => l.tenantId === tenantId));
    const csv = await call('GET', `/admin/v1/tenants/${tenantId}/audit-log?format=csv&action=dataset.created`);
    assert.equal(csv.statusCode, 200);
    assert.match(String(csv.headers['content-type']), /text\/csv/);
    const rows = csv.body.trim().split('\r\n');
    assert.equal(rows.length, 8);
    assert.match(rows[0]!, /^id,tenantId,sequence,at,actorKind/);

    const badCursor = await call('GET', `/admin/v1/tenants/${tenantId}/audit-log?cursor=abc`);
    assert.equal(badCursor.statusCode, 400);
  });

  test('audit: the chain verifies across concurrent writers; a row edited in the database fails verify, naming the entry', async () => {
    const { tenantId } = await t.newTenant('Chain');
    const writes = await Promise.all(Array.from({ length: 16 }, (_, i) => call('POST', `/admin/v1/tenants/${tenantId}/datasets`, { name: `c-${i}` })));
    assert.deepEqual(writes.map((w) => w.statusCode), Array(16).fill(201));
    // Operator-chain writers at the same time as tenant ones.
    await Promise.all(Array.from({ length: 6 }, () => t.app.inject({ method: 'GET', url: '/admin/v1/tenants', headers: { authorization: 'Bearer nope' } })));
    const [report] = await verifyChains(t.db, tenantId);
    assert.equal(report!.broken, undefined, JSON.stringify(report));
    assert.equal(report!.entries, 18, 'tenant created, its token, 16 datasets');
    const op = (await verifyChains(t.db)).find((r) => r.chain === 'operator')!;
    assert.equal(op.broken, undefined, JSON.stringify(op));

    const victim = (await log(tenantId, '?action=dataset.created&limit=1'))[0]!;
    const target = (await t.db.query<{ seq: string }>(`SELECT seq FROM audit_log WHERE id = $1`, [victim.id])).rows[0]!;
    await t.db.query(`UPDATE audit_log SET actor_login = 'someone-else' WHERE id = $1`, [victim.id]);
    let out = '';
    const code = await auditVerify(t.db, { tenant: tenantId }, (s) => { out += s; });
    assert.equal(code, 1, out);
    assert.match(out, new RegExp(`BROKEN tenant:${tenantId}: entry ${target.seq} \\(id ${victim.id}\\)`));
    assert.match(out, /changed/);
    if (kind === 'postgres') {
      // The command itself, as an operator runs it.
      const cli = await runCli(['audit', 'verify', '--tenant', tenantId], { DATABASE_URL: process.env.TEST_DATABASE_URL });
      assert.equal(cli.code, 1, cli.stderr);
      assert.match(cli.stdout, new RegExp(`BROKEN tenant:${tenantId}: entry ${target.seq} \\(id ${victim.id}\\)`));
    }
    await t.db.query(`UPDATE audit_log SET actor_login = NULL WHERE id = $1`, [victim.id]);
    assert.equal(await auditVerify(t.db, { tenant: tenantId }, () => {}), 0, 'restored, it verifies again');

    // A deleted entry in the middle is a broken link too.
    await t.db.query(`DELETE FROM audit_log WHERE chain = $1 AND seq = 5`, [chainOf(tenantId)]);
    let out2 = '';
    assert.equal(await auditVerify(t.db, { tenant: tenantId }, (s) => { out2 += s; }), 1);
    assert.match(out2, /entry 6 .*missing/);
  });

  // The before values of concurrent PATCH and PUT writes: test/audit/before-values.test.ts.
  test('audit: retention keeps the rest verifiable; a deleted tenant keeps its entries until the operator purges them (audited)', async () => {
    const { tenantId } = await t.newTenant('Retained');
    for (let i = 0; i < 4; i++) await call('POST', `/admin/v1/tenants/${tenantId}/datasets`, { name: `r-${i}` });
    // Age the three oldest entries past the retention period.
    await t.db.query(`UPDATE audit_log SET at = at - interval '400 days' WHERE chain = $1 AND seq <= 3`, [chainOf(tenantId)]);
    // (the edit breaks those entries' hashes: retention removes exactly them)
    const removed = await cleanupAudit(t.db, 365);
    assert.ok(removed >= 3);
    const [r] = await verifyChains(t.db, tenantId);
    assert.equal(r!.broken, undefined, JSON.stringify(r));
    assert.equal(r!.entries, 3);

    assert.equal((await call('DELETE', `/admin/v1/tenants/${tenantId}`)).statusCode, 204);
    const kept = await log(tenantId);
    assert.equal(kept[0]!.action, 'tenant.deleted');
    assert.equal((await verifyChains(t.db, tenantId))[0]!.broken, undefined);

    const purge = await call('POST', '/admin/v1/audit-log/purge', { tenantId });
    assert.equal(purge.statusCode, 200, purge.body);
    assert.equal(purge.json().removed, 4);
    assert.equal((await log(tenantId)).length, 0);
    const audited = (await call('GET', '/admin/v1/audit-log?tenantId=operator&action=audit.purged')).json().entries as EntryView[];
    assert.ok(audited.some((e) => (e.changes.tenantId as { after: string }).after === tenantId));
    const none = await call('POST', '/admin/v1/audit-log/purge', {});
    assert.equal(none.statusCode, 400);
  });

  test('audit: entries of a tenant reach its outbox as audit.recorded events', async () => {
    const { tenantId } = await t.newTenant('Streamed');
    const events = async () => {
      const ev = await call('GET', `/admin/v1/tenants/${tenantId}/events?type=audit.recorded`);
      assert.equal(ev.statusCode, 200, ev.body);
      return ev.json().events.map((e: { data: { action: string } }) => e.data.action) as string[];
    };
    // A catch-all webhook does not ask for audit events: none are queued.
    assert.equal((await call('POST', `/admin/v1/tenants/${tenantId}/webhooks`, { url: 'https://siem.example.com/all' })).statusCode, 201);
    await call('POST', `/admin/v1/tenants/${tenantId}/datasets`, { name: 'unstreamed' });
    assert.deepEqual(await events(), []);
    const wh = await call('POST', `/admin/v1/tenants/${tenantId}/webhooks`, { url: 'https://siem.example.com/hook', events: ['audit.*'] });
    assert.equal(wh.statusCode, 201, wh.body);
    await call('POST', `/admin/v1/tenants/${tenantId}/datasets`, { name: 'streamed' });
    const actions = await events();
    assert.ok(actions.includes('webhook.created') && actions.includes('dataset.created'), actions.join());
  });
});
