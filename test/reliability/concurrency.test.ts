/**
 * Concurrency: 64 concurrent member PATCHes on one group (Entra and Okta shapes) → exactly the
 * expected membership; concurrent creates of one userName → one 201, the rest 409 uniqueness;
 * If-Match races → one winner, the rest 412. On PostgreSQL the requests are spread over two real
 * server processes on the same database; on PGlite they run concurrently in one app.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_TOKEN, eachDatabase, startTestApp, type TestApp } from '../helpers/app.js';
import { startServerProcess, type ServerProcess } from '../helpers/process.js';
import { USER, GROUP, PATCH } from '../scim/helpers.js';

interface Answer { status: number; body: any; headers: Record<string, string> }
type Send = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<Answer>;

eachDatabase((kind) => {
  let t: TestApp | undefined;
  let procs: ServerProcess[] = [];
  /** One sender per server (two processes on PostgreSQL, one in-process app on PGlite). */
  let senders: Send[] = [];
  let scimBase = '';
  let token = '';

  before(async () => {
    if (kind === 'postgres') {
      const env = { DATABASE_URL: process.env.TEST_DATABASE_URL, IDPBRIDGE_ADMIN_TOKEN: ADMIN_TOKEN, IDPBRIDGE_RATE_LIMIT_PER_MINUTE: '0', IDPBRIDGE_WORKER: 'off' };
      procs = await Promise.all([startServerProcess(env), startServerProcess(env)]);
      const admin = async (url: string, body: unknown) => {
        const r = await fetch(`${procs[0]!.url}/admin/v1${url}`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
        assert.ok(r.ok, `${url}: ${r.status}`);
        return r.json() as Promise<any>;
      };
      const tenant = await admin('/tenants', { name: 'concurrency' });
      token = (await admin(`/tenants/${tenant.id}/scim-tokens`, { name: 't' })).token;
      scimBase = `/scim/v2/${tenant.id}`;
      senders = procs.map((p) => async (method, path, body, headers = {}) => {
        const r = await fetch(`${p.url}${scimBase}${path}`, {
          method, headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/scim+json' } : {}), ...headers },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const text = await r.text();
        return { status: r.status, body: text ? JSON.parse(text) : undefined, headers: Object.fromEntries(r.headers) };
      });
    } else {
      t = await startTestApp(kind);
      scimBase = t.scimBase;
      token = t.scimToken;
      senders = [async (method, path, body, headers = {}) => {
        const r = await t!.app.inject({
          method: method as 'GET', url: `${scimBase}${path}`,
          headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/scim+json' } : {}), ...headers },
          payload: body === undefined ? undefined : JSON.stringify(body),
        });
        return { status: r.statusCode, body: r.body ? JSON.parse(r.body) : undefined, headers: r.headers as Record<string, string> };
      }];
    }
  });
  after(async () => {
    for (const p of procs) {
      assert.ok(!/"level":(5\d|60)/.test(p.output()), `a server logged an error:\n${p.output().split('\n').filter((l) => /"level":(5\d|60)/.test(l)).join('\n').slice(0, 2000)}`);
      await p.kill();
    }
    await t?.close();
  });

  /** The i-th request goes to server i mod n. */
  const via = (i: number): Send => senders[i % senders.length]!;

  async function createUsers(prefix: string, n: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < n; i += 16) {
      const batch = await Promise.all(Array.from({ length: Math.min(16, n - i) }, (_, j) =>
        via(i + j)('POST', '/Users', { schemas: [USER], userName: `${prefix}${i + j}@example.com`, active: true })));
      for (const r of batch) {
        assert.equal(r.status, 201, JSON.stringify(r.body));
        ids.push(r.body.id);
      }
    }
    return ids;
  }

  async function membersOf(groupId: string): Promise<Set<string>> {
    const r = await via(0)('GET', `/Groups/${groupId}`);
    assert.equal(r.status, 200);
    return new Set((r.body.members ?? []).map((m: { value: string }) => m.value));
  }

  test('64 concurrent member PATCHes on one group → exactly the expected membership', async () => {
    const initial = await createUsers('initial', 32);
    const fresh = await createUsers('fresh', 32);
    const g = await via(0)('POST', '/Groups', { schemas: [GROUP], displayName: 'Contended', members: initial.map((value) => ({ value })) });
    assert.equal(g.status, 201);
    const gid = g.body.id as string;
    // 32 adds (Entra "Add" with path, Okta "add" with a value list) and 32 removals (Entra filter path, Okta value list).
    const ops = [
      ...fresh.map((id, i) => (i % 2 === 0
        ? [{ op: 'Add', path: 'members', value: [{ value: id }] }]
        : [{ op: 'add', value: { members: [{ value: id }] } }])),
      ...initial.map((id, i) => (i % 2 === 0
        ? [{ op: 'Remove', path: `members[value eq "${id}"]` }]
        : [{ op: 'remove', path: 'members', value: [{ value: id }] }])),
    ];
    // Interleave adds and removals, then fire all 64 at once over both servers.
    const order = ops.map((o, i) => ({ o, k: (i * 37) % 64 })).sort((x, y) => x.k - y.k).map((x) => x.o);
    const results = await Promise.all(order.map((o, i) => via(i)('PATCH', `/Groups/${gid}`, { schemas: [PATCH], Operations: o })));
    assert.deepEqual([...new Set(results.map((r) => r.status))], [204], JSON.stringify(results.filter((r) => r.status !== 204).slice(0, 3)));
    const members = await membersOf(gid);
    assert.deepEqual([...members].sort(), [...fresh].sort(), 'final membership = initial − removed ∪ added');
    // The same again, both directions at once on the same members: add back 16 initial, remove 16 fresh.
    const back = initial.slice(0, 16);
    const gone = fresh.slice(0, 16);
    const round2 = await Promise.all([
      ...back.map((id, i) => via(i)('PATCH', `/Groups/${gid}`, { schemas: [PATCH], Operations: [{ op: 'add', path: 'members', value: [{ value: id }] }] })),
      ...gone.map((id, i) => via(i + 1)('PATCH', `/Groups/${gid}`, { schemas: [PATCH], Operations: [{ op: 'remove', path: `members[value eq "${id}"]` }] })),
    ]);
    assert.ok(round2.every((r) => r.status === 204));
    const expected = new Set([...fresh.slice(16), ...back]);
    assert.deepEqual([...(await membersOf(gid))].sort(), [...expected].sort());
  });

  test('concurrent creates of one userName (any case) → exactly one 201, the rest 409 uniqueness', async () => {
    for (const round of [1, 2]) {
      const name = `race${round}.${Date.now()}@example.com`;
      const variants = Array.from({ length: 24 }, (_, i) => (i % 3 === 0 ? name : i % 3 === 1 ? name.toUpperCase() : name.replace(/^r/, 'R')));
      const rs = await Promise.all(variants.map((userName, i) => via(i)('POST', '/Users', { schemas: [USER], userName, active: true })));
      const created = rs.filter((r) => r.status === 201);
      const conflicts = rs.filter((r) => r.status === 409);
      assert.equal(created.length, 1, rs.map((r) => r.status).join(','));
      assert.equal(conflicts.length, variants.length - 1, rs.map((r) => r.status).join(','));
      for (const c of conflicts) assert.equal(c.body.scimType, 'uniqueness');
      const list = await via(1)('GET', `/Users?filter=${encodeURIComponent(`userName eq "${name}"`)}`);
      assert.equal(list.body.totalResults, 1);
    }
    // Groups: one displayName.
    const rs = await Promise.all(Array.from({ length: 16 }, (_, i) => via(i)('POST', '/Groups', { schemas: [GROUP], displayName: `Race Group ${Date.now() >> 10}` })));
    assert.equal(rs.filter((r) => r.status === 201).length, 1, rs.map((r) => r.status).join(','));
    assert.ok(rs.every((r) => r.status === 201 || r.status === 409));
  });

  test('If-Match races → exactly one wins, the rest 412', async () => {
    const [userId] = await createUsers(`ifmatch${Date.now()}-`, 1);
    const g = await via(0)('POST', '/Groups', { schemas: [GROUP], displayName: `IfMatch ${Date.now()}` });
    for (const [path, op] of [
      // Every writer changes something (a no-op PATCH keeps the version, so it may rightly pass the same If-Match again).
      [`/Users/${userId}`, (i: number, round: number) => ({ op: 'replace', path: 'title', value: `writer ${round}.${i}` })],
      [`/Groups/${g.body.id}`, (i: number, round: number) => ({ op: 'replace', path: 'displayName', value: `IfMatch winner ${round}.${i} ${Date.now()}` })],
    ] as const) {
      for (let round = 0; round < 3; round++) {
        const cur = await via(round)('GET', path);
        const etag = cur.headers.etag!;
        assert.ok(etag, 'ETag on GET');
        const rs = await Promise.all(Array.from({ length: 16 }, (_, i) => via(i)('PATCH', path, { schemas: [PATCH], Operations: [op(i, round)] }, { 'if-match': etag })));
        const won = rs.filter((r) => r.status === 204 || r.status === 200);
        assert.equal(won.length, 1, rs.map((r) => r.status).join(','));
        assert.ok(rs.every((r) => r.status === 412 || r.status === 204 || r.status === 200), rs.map((r) => r.status).join(','));
        const after = await via(round + 1)('GET', path);
        assert.notEqual(after.headers.etag, etag);
        assert.equal(after.headers.etag, won[0]!.headers.etag, 'the winner\'s ETag is the current one');
      }
      // PUT and DELETE races too.
      const cur = await via(0)('GET', path);
      const dels = await Promise.all(Array.from({ length: 8 }, (_, i) => via(i)('DELETE', path, undefined, { 'if-match': cur.headers.etag! })));
      assert.equal(dels.filter((r) => r.status === 204).length, 1, dels.map((r) => r.status).join(','));
      assert.ok(dels.every((r) => r.status === 204 || r.status === 412 || r.status === 404), dels.map((r) => r.status).join(','));
    }
  });
});
