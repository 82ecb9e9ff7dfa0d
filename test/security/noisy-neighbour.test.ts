/**
 * One tenant's SCIM token must not take the database from everyone (issue 17, item 2):
 *  - a filter's cost is bounded before it runs (comparisons, co/sw/ew terms, EXISTS subqueries);
 *  - every PostgreSQL statement is bounded by IDPBRIDGE_STATEMENT_TIMEOUT_MS, and a read cancelled
 *    by it answers 400 tooMany (a write 503 + Retry-After);
 *  - one tenant's requests run at most IDPBRIDGE_TENANT_CONCURRENCY at once (the rest queue);
 *  - under the 400-term `emails co` attack from ten clients, and under ten slow requests that pass
 *    the parser, another tenant's GETs keep their latency and /readyz stays up (PostgreSQL).
 */
import { describe, test } from 'node:test';
import { spawn } from 'node:child_process';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { openDatabase } from '../../src/db/open.js';
import type { Database, Queryable } from '../../src/db/types.js';
import { TenantGate } from '../../src/http/tenant-concurrency.js';
import { MAX_FILTER_EXISTS, MAX_FILTER_SUBSTRING_TERMS } from '../../src/scim/filter/cost.js';
import { ADMIN_TOKEN, eachDatabase, startTestApp, testConfig } from '../helpers/app.js';

/** The attack of the review: `emails co "…" or …` (400 terms fit in the 8 KB filter limit). */
const attackFilter = (terms: number) => Array.from({ length: terms }, (_, i) => `emails co "${i}"`).join(' or ');

const p99 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(xs.length * 0.99) - 1)]!;

eachDatabase((kind) => {
  test('a filter over the cost limits is refused with 400 invalidFilter naming the limit, before any SQL runs', async () => {
    const t = await startTestApp(kind);
    try {
      const h = { authorization: `Bearer ${t.scimToken}` };
      const get = (filter: string) => t.app.inject({ method: 'GET', url: `${t.scimBase}/Users?filter=${encodeURIComponent(filter)}`, headers: h });
      const attack = await get(attackFilter(400));
      assert.equal(attack.statusCode, 400, attack.body);
      assert.equal(attack.json().scimType, 'invalidFilter');
      assert.match(attack.json().detail, new RegExp(`more than ${MAX_FILTER_SUBSTRING_TERMS} substring comparisons .*at most ${MAX_FILTER_SUBSTRING_TERMS}`));
      // The same through /.search.
      const search = await t.app.inject({
        method: 'POST', url: `${t.scimBase}/Users/.search`, headers: { ...h, 'content-type': 'application/scim+json' },
        payload: { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter: attackFilter(400) },
      });
      assert.equal(search.statusCode, 400, search.body);
      assert.equal(search.json().scimType, 'invalidFilter');
      // Equality on a multi-valued attribute is one EXISTS each: capped too.
      const exists = Array.from({ length: MAX_FILTER_EXISTS + 1 }, (_, i) => `emails.value eq "a${i}@example.com"`).join(' or ');
      const r = await get(exists);
      assert.equal(r.statusCode, 400, r.body);
      assert.match(r.json().detail, new RegExp(`more than ${MAX_FILTER_EXISTS} subqueries`));
      // At the limits, the filter runs.
      const ok1 = await get(attackFilter(MAX_FILTER_SUBSTRING_TERMS));
      assert.equal(ok1.statusCode, 200, ok1.body);
      const ok2 = await get(Array.from({ length: MAX_FILTER_EXISTS }, (_, i) => `emails.value eq "a${i}@example.com"`).join(' or '));
      assert.equal(ok2.statusCode, 200, ok2.body);
    } finally {
      await t.close();
    }
  });

  test('concurrent requests of one tenant are queued at IDPBRIDGE_TENANT_CONCURRENCY; other tenants are not', async () => {
    const t = await startTestApp(kind, { tenantConcurrency: 2 });
    try {
      const other = await t.newTenant('other');
      const list = (base: string, token: string) =>
        t.app.inject({ method: 'GET', url: `${base}/Users?count=5`, headers: { authorization: `Bearer ${token}` } });
      // Every request of a burst is answered (queued, not refused).
      const burst = await Promise.all(Array.from({ length: 12 }, () => list(t.scimBase, t.scimToken)));
      assert.deepEqual(burst.map((r) => r.statusCode), Array(12).fill(200));
      assert.equal((await list(other.scimBase, other.scimToken)).statusCode, 200);
    } finally {
      await t.close();
    }
  });

  test('one tenant flooding its admin/v1 reads and /v1 is gated on its canonical id; another tenant gets no 429 or 503', async () => {
    const t = await startTestApp(kind, { tenantConcurrency: 1, rateLimitPerMinute: 0 });
    try {
      const other = await t.newTenant('other');
      const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
      const apiKeyOf = async (tenantId: string) => {
        const u = await t.app.inject({ method: 'POST', url: `/admin/v1/tenants/${tenantId}/users`, headers: admin, payload: { userName: `key@${tenantId}.example` } });
        assert.equal(u.statusCode, 201, u.body);
        const k = await t.app.inject({ method: 'POST', url: `/admin/v1/tenants/${tenantId}/users/${u.json().id}/api-keys`, headers: admin, payload: { name: 'flood' } });
        assert.equal(k.statusCode, 201, k.body);
        return k.json().key as string;
      };
      const keyA = await apiKeyOf(t.tenantId);
      const keyB = await apiKeyOf(other.tenantId);
      // Upper-case and lower-case URLs of tenant A share one lane: 300 reads at once overflow its
      // queue (256 waiting behind 1 running), so some are refused with 429 + Retry-After.
      const floodA = Array.from({ length: 300 }, (_, i) => {
        const id = i % 2 ? t.tenantId.toUpperCase() : t.tenantId;
        return i % 3 === 0
          ? t.app.inject({ method: 'GET', url: `/v1/${id}/me`, headers: { authorization: `Bearer ${keyA}` } })
          : t.app.inject({ method: 'GET', url: `/admin/v1/tenants/${id}/users?limit=50`, headers: admin });
      });
      const reads = [
        `/admin/v1/tenants/${other.tenantId}/users?limit=50`, `/admin/v1/tenants/${other.tenantId}/access-groups`,
        `/admin/v1/tenants/${other.tenantId}/settings`, `/admin/v1/tenants/${other.tenantId}/sso`,
      ];
      const forB = [
        ...reads.map((url) => t.app.inject({ method: 'GET', url, headers: admin })),
        t.app.inject({ method: 'GET', url: `/v1/${other.tenantId}/me`, headers: { authorization: `Bearer ${keyB}` } }),
        t.app.inject({ method: 'GET', url: `${other.scimBase}/Users?count=5`, headers: { authorization: `Bearer ${other.scimToken}` } }),
      ];
      const [a, b] = await Promise.all([Promise.all(floodA), Promise.all(forB)]);
      assert.deepEqual(b.map((r) => r.statusCode), b.map(() => 200), b.map((r) => r.body).join('\n'));
      const refused = a.filter((r) => r.statusCode === 429);
      assert.ok(refused.length > 0, 'the flooding tenant is gated');
      assert.ok(a.every((r) => r.statusCode === 200 || r.statusCode === 429), [...new Set(a.map((r) => r.statusCode))].join());
      assert.equal(refused[0]!.json().code, 'ERR_RATE_LIMITED');
      assert.ok(Number(refused[0]!.headers['retry-after']) > 0);
      assert.equal(t.deps.tenantGate!.active(t.tenantId), 0, 'every slot is given back');
    } finally {
      await t.close();
    }
  });
});

describe('TenantGate', () => {
  const refusal = (retryAfter: number, limit: number) => Object.assign(new Error(`busy ${limit}`), { retryAfter });

  test('holds at most `limit` per tenant, hands a freed slot to the next waiter, keeps tenants apart', async () => {
    const gate = new TenantGate({ limit: 2, queueMax: 10, waitMs: 5_000 });
    const a1 = await gate.acquire('a', refusal);
    const a2 = await gate.acquire('a', refusal);
    const third: { release?: () => void } = {};
    const waiting = gate.acquire('a', refusal).then((r) => { third.release = r; });
    const b1 = await gate.acquire('b', refusal); // another tenant is not held up
    await new Promise((r) => setImmediate(r));
    assert.equal(third.release, undefined);
    assert.equal(gate.active('a'), 2);
    a1();
    a1(); // a second release is a no-op
    await waiting;
    assert.ok(third.release);
    assert.equal(gate.active('a'), 2);
    a2();
    (third.release as () => void)();
    b1();
    assert.equal(gate.active('a'), 0);
    assert.equal(gate.active('b'), 0);
  });

  test('a full queue is refused at once; a wait past waitMs is refused', async () => {
    const gate = new TenantGate({ limit: 1, queueMax: 1, waitMs: 50 });
    const held = await gate.acquire('a', refusal);
    const queued = gate.acquire('a', refusal);
    await assert.rejects(gate.acquire('a', refusal), /busy 1/); // queue full
    await assert.rejects(queued, (e: Error & { retryAfter?: number }) => e.retryAfter === 1); // waited 50 ms
    held();
    assert.equal(gate.active('a'), 0);
  });
});

/**
 * `clients` connections in a child process, each sending GET `url` again `pauseMs` after it is
 * answered, for `ms`; the statuses. (The review's attack was ten requests in flight, each holding the
 * database 10 s: about one a second. The CPU cost of a flood of cheap refused requests is the
 * per-tenant rate limit's to bound, IDPBRIDGE_RATE_LIMIT_PER_MINUTE, not this test's subject.)
 */
function attack(url: string, authorization: string, clients: number, ms: number, pauseMs: number): { started: Promise<void>; done: Promise<number[]> } {
  const script = `
    const [url, authorization, clients, ms, pauseMs] = process.argv.slice(1);
    const end = Date.now() + Number(ms);
    const statuses = [];
    let first = true;
    const one = async () => { while (Date.now() < end) { const r = await fetch(url, { headers: { authorization } }); await r.arrayBuffer(); statuses.push(r.status); if (first) { first = false; process.stderr.write('started\\n'); } await new Promise((f) => setTimeout(f, Number(pauseMs))); } };
    Promise.all(Array.from({ length: Number(clients) }, one)).then(() => process.stdout.write(JSON.stringify(statuses)));
  `;
  const child = spawn(process.execPath, ['-e', script, url, authorization, String(clients), String(ms), String(pauseMs)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const started = new Promise<void>((resolve) => child.stderr.once('data', () => resolve()));
  const done = new Promise<number[]>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as number[]) : reject(new Error(`attacker process exited with ${code}`))));
  });
  return { started, done };
}

if (process.env.TEST_DATABASE_URL) {
  describe('[postgres] noisy neighbour', () => {
    const STATEMENT_TIMEOUT_MS = 1_500;
    /** Queries whose parameters hold this marker sleep instead (an expensive query that passes the parser). */
    const SLOW = 'slow-marker@example.com';
    const slowly = (q: Queryable): Queryable => ({
      exec: (sql) => q.exec(sql),
      query: (sql, params) =>
        params?.some((p) => typeof p === 'string' && p.toLowerCase().includes(SLOW)) ? q.query('SELECT pg_sleep(30)') : q.query(sql, params),
    });

    async function start(): Promise<{ app: FastifyInstance; db: Database; close(): Promise<void> }> {
      const db = await openDatabase({ databaseUrl: process.env.TEST_DATABASE_URL, poolMax: 10, statementTimeoutMs: STATEMENT_TIMEOUT_MS });
      const wrapped: Database = { ...db, ...slowly(db), transaction: (fn) => db.transaction((tx) => fn(slowly(tx))) };
      const { app } = await buildApp({ config: testConfig({ pgPoolMax: 10, tenantConcurrency: 4 }), db: wrapped, skipMigrations: true });
      await app.ready();
      return { app, db, close: async () => { await app.close(); await db.close(); } };
    }

    async function tenant(app: FastifyInstance, name: string) {
      const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
      const t = await app.inject({ method: 'POST', url: '/admin/v1/tenants', headers: admin, payload: { name } });
      assert.equal(t.statusCode, 201, t.body);
      const id = t.json().id as string;
      const k = await app.inject({ method: 'POST', url: `/admin/v1/tenants/${id}/scim-tokens`, headers: admin, payload: { name: 'test' } });
      assert.equal(k.statusCode, 201, k.body);
      return { id, base: `/scim/v2/${id}`, h: { authorization: `Bearer ${k.json().token as string}` } };
    }

    test('the pool bounds every statement: a read cancelled by statement_timeout is 400 tooMany, a write 503 + Retry-After', async () => {
      const s = await start();
      try {
        const raw = await s.db.query('SHOW statement_timeout').then((r) => (r.rows[0] as { statement_timeout: string }).statement_timeout);
        assert.equal(raw, '1500ms');
        const a = await tenant(s.app, 'timeout');
        const t0 = Date.now();
        const read = await s.app.inject({ method: 'GET', url: `${a.base}/Users?filter=${encodeURIComponent(`userName eq "${SLOW}"`)}`, headers: a.h });
        assert.ok(Date.now() - t0 < 15_000, 'cancelled near the statement timeout, not after the 30 s sleep');
        assert.equal(read.statusCode, 400, read.body);
        assert.equal(read.json().scimType, 'tooMany');
        const write = await s.app.inject({
          method: 'POST', url: `${a.base}/Users`, headers: { ...a.h, 'content-type': 'application/scim+json' },
          payload: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: SLOW },
        });
        assert.equal(write.statusCode, 503, write.body);
        assert.equal(write.headers['retry-after'], '5');
        const after = await s.app.inject({ method: 'GET', url: `${a.base}/Users?filter=${encodeURIComponent('userName pr')}`, headers: a.h });
        assert.equal(after.json().totalResults, 0, 'the cancelled write changed nothing');
      } finally {
        await s.close();
      }
    });

    test('ten attackers on a 3,000-user tenant: another tenant keeps its p99 and /readyz stays up', { timeout: 240_000 }, async () => {
      const s = await start();
      try {
        const a = await tenant(s.app, 'attacker');
        const b = await tenant(s.app, 'neighbour');
        await s.db.query(
          `INSERT INTO scim_users (tenant_id, id, user_name, active, data, source, status)
           SELECT $1, gen_random_uuid(), 'u' || g || '@example.com', true,
                  jsonb_build_object('userName', 'u' || g || '@example.com',
                    'emails', jsonb_build_array(jsonb_build_object('value', 'u' || g || '@example.com', 'type', 'work', 'primary', true),
                                                jsonb_build_object('value', 'p' || g || '@example.org', 'type', 'home'))),
                  'scim', 'active'
             FROM generate_series(1, 3000) g`,
          [a.id],
        );
        for (let i = 0; i < 20; i++) {
          const r = await s.app.inject({
            method: 'POST', url: `${b.base}/Users`, headers: { ...b.h, 'content-type': 'application/scim+json' },
            payload: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: `b${i}@example.com` },
          });
          assert.equal(r.statusCode, 201, r.body);
        }
        await s.db.exec('ANALYZE scim_users');

        // Over real HTTP connections, as the attack came: ten clients, each sending again when answered.
        const origin = await s.app.listen({ host: '127.0.0.1', port: 0 });
        const probe = async (): Promise<number> => {
          const i = Math.floor(Math.random() * 20);
          const t0 = performance.now();
          const r = await fetch(`${origin}${b.base}/Users?filter=${encodeURIComponent(`userName eq "b${i}@example.com"`)}`, { headers: b.h });
          const body = await r.json() as { totalResults?: number };
          const ms = performance.now() - t0;
          assert.equal(r.status, 200, JSON.stringify(body));
          assert.equal(body.totalResults, 1);
          return ms;
        };
        const measure = async (ms: number): Promise<number[]> => {
          const out: number[] = [];
          const end = Date.now() + ms;
          while (Date.now() < end) out.push(await probe());
          return out;
        };
        for (let i = 0; i < 10; i++) await probe(); // warm up
        const idle = p99(await measure(4_000));

        // 1. The 400-term `emails co` filter from ten clients, each sending again 100 ms after its answer (a hundred
        //    times the review's rate): each is refused before any SQL runs (on this tenant, unbounded, each ran seconds).
        //    The attackers run in another process, as remote clients would (their own work is not the server's).
        const attackers = attack(`${origin}${a.base}/Users?filter=${encodeURIComponent(attackFilter(400))}`, a.h.authorization, 10, 6_000, 100);
        await attackers.started;
        const underFilterAttack = await measure(4_000);
        const ready1 = await fetch(`${origin}/readyz`);
        const statuses = await attackers.done;
        assert.ok(statuses.length > 0 && statuses.every((x) => x === 400), `attack answers: ${[...new Set(statuses)].join(',')}`);
        assert.equal(ready1.status, 200);

        // 2. Ten expensive requests that pass the parser (each would hold a connection 30 s): at most four run,
        //    each is cancelled at the statement timeout, and the neighbour keeps the rest of the pool.
        const slow = Array.from({ length: 10 }, () =>
          fetch(`${origin}${a.base}/Users?filter=${encodeURIComponent(`userName eq "${SLOW}"`)}`, { headers: a.h })
            .then(async (r) => ({ status: r.status, body: await r.json() as { scimType?: string } })));
        const underSlowAttack = await measure(4_000);
        const ready2 = await fetch(`${origin}/readyz`);
        const slowAnswers = await Promise.all(slow);
        assert.equal(ready2.status, 200);
        assert.ok(slowAnswers.every((r) => r.status === 400 && r.body.scimType === 'tooMany'), slowAnswers.map((r) => r.status).join(','));

        const p1 = p99(underFilterAttack);
        const p2 = p99(underSlowAttack);
        console.log(`idle p99 ${idle.toFixed(1)} ms; under the filter attack ${p1.toFixed(1)} ms (${underFilterAttack.length} GETs, ${statuses.length} attacks refused); under ten slow requests ${p2.toFixed(1)} ms (${underSlowAttack.length} GETs)`);
        // Under the filter attack every neighbour GET succeeded (probe asserts 200) well within the pool's 5 s
        // connection wait (unbounded, the attack held every connection for seconds: the neighbour waited 5 s,
        // then got 503). The refusals themselves cost CPU, which on a shared, busy test machine shows in the
        // latency: that part is the per-tenant rate limit's to bound, so the bound here is loose.
        assert.ok(p1 < 4_000, `p99 under the filter attack ${p1.toFixed(1)} ms`);
        // Ten requests that each hold a connection: the neighbour keeps its latency (generous: the machine is shared).
        const bound = 2 * idle + 500;
        assert.ok(p2 <= bound, `p99 under ten slow requests ${p2.toFixed(1)} ms > ${bound.toFixed(1)} ms`);
      } finally {
        await s.close();
      }
    });
  });
}
