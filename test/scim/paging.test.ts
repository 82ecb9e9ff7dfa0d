// Paging big lists (issue 21): exact totals from scim_resource_counts, startIndex walks that seek
// from the previous page's last row, and RFC 9865 cursors. Every page is checked against the
// list the database itself orders (created_at, id) at that moment.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { eachDatabase, startTestApp, type TestApp } from '../helpers/app.js';
import { scimClient, USER } from './helpers.js';
import { seekStats } from '../../src/scim/resources/list-positions.js';
import type { Queryable } from '../../src/db/types.js';

type Client = ReturnType<typeof scimClient>;

/** Users u1..uN straight into the table (a bulk load, as an import would), with some created_at ties. */
async function seed(t: TestApp, tenantId: string, n: number, prefix = 'u'): Promise<void> {
  await t.db.query(
    `INSERT INTO scim_users (tenant_id, id, user_name, data, created_at)
     SELECT $1::uuid, gen_random_uuid(), $3 || i || '@example.com',
            jsonb_build_object('schemas', jsonb_build_array('${USER}'), 'userName', $3 || i || '@example.com'),
            timestamptz '2025-01-01' + (i / 3) * interval '1 microsecond'
       FROM generate_series(1, $2::int) AS i`,
    [tenantId, n, prefix],
  );
}

async function expectedIds(t: TestApp, tenantId: string, where = 'true', desc = false): Promise<string[]> {
  const dir = desc ? 'DESC' : 'ASC';
  const { rows } = await t.db.query<{ id: string }>(
    `SELECT id FROM scim_users r WHERE tenant_id = $1 AND ${where} ORDER BY created_at ${dir}, id ${dir}`, [tenantId],
  );
  return rows.map((r) => r.id);
}

async function countRow(t: TestApp, tenantId: string, kind: 'User' | 'Group'): Promise<number> {
  const { rows } = await t.db.query<{ n: string | number }>('SELECT coalesce(sum(n), 0)::int AS n FROM scim_resource_counts WHERE tenant_id = $1 AND kind = $2', [tenantId, kind]);
  return Number(rows[0]!.n);
}

eachDatabase((kind) => {
  let t: TestApp;
  before(async () => { t = await startTestApp(kind); });
  after(async () => { await t.close(); });

  const tenant = async (): Promise<{ id: string; c: Client }> => {
    const x = await t.newTenant('paging');
    return { id: x.tenantId, c: scimClient(t, x.scimBase, x.scimToken) };
  };

  test('the tenant counts stay exact through every kind of write, concurrent POSTs included', async () => {
    const { id, c } = await tenant();
    await seed(t, id, 40);
    await Promise.all(Array.from({ length: 24 }, (_, i) => c.createUser(`conc${i}@example.com`)));
    const dup = await c.call('POST', '/Users', { schemas: [USER], userName: 'conc3@example.com' });
    assert.equal(dup.status, 409);
    const bulk = await c.call('POST', '/Bulk', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations: [1, 2, 3].map((i) => ({ method: 'POST', bulkId: `b${i}`, path: '/Users', data: { schemas: [USER], userName: `bulk${i}@example.com` } })),
    });
    assert.equal(bulk.status, 200);
    const victim = await c.createUser('gone@example.com');
    assert.equal((await c.call('DELETE', `/Users/${victim.id}`)).status, 204);
    await c.createGroup('g1');
    const g2 = await c.createGroup('g2');
    assert.equal((await c.call('DELETE', `/Groups/${g2.id}`)).status, 204);
    const { rows } = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM scim_users WHERE tenant_id = $1', [id]);
    assert.equal(rows[0]!.n, 40 + 24 + 3);
    assert.equal(await countRow(t, id, 'User'), rows[0]!.n);
    assert.equal(await countRow(t, id, 'Group'), 1);
    const list = await c.call('GET', '/Users?count=5&startIndex=3');
    assert.equal(list.body.totalResults, 67);
    assert.equal((await c.call('GET', '/Groups?count=0')).body.totalResults, 1);
  });

  test('a startIndex walk returns every user once, in creation order, seeking from the second page on', async () => {
    const { id, c } = await tenant();
    await seed(t, id, 103);
    const want = await expectedIds(t, id);
    const seeksBefore = seekStats.seeks;
    const got: string[] = [];
    for (let start = 1; start <= 103; start += 10) {
      const r = await c.call('GET', `/Users?startIndex=${start}&count=10&attributes=userName`);
      assert.equal(r.status, 200);
      assert.equal(r.body.totalResults, 103);
      assert.equal(r.body.startIndex, start);
      got.push(...r.body.Resources.map((u: { id: string }) => u.id));
    }
    assert.deepEqual(got, want);
    // Pages 2–11 came from remembered positions, not OFFSET.
    assert.equal(seekStats.seeks - seeksBefore, 10);
  });

  test('a write between pages: the next page is what OFFSET would give now, and totalResults follows', async () => {
    const { id, c } = await tenant();
    await seed(t, id, 50);
    const first = await c.call('GET', '/Users?startIndex=1&count=10');
    // One user of the first page leaves and one arrives: every later position moves.
    assert.equal((await c.call('DELETE', `/Users/${first.body.Resources[3].id}`)).status, 204);
    await c.createUser('late@example.com');
    const seeksBefore = seekStats.seeks;
    const second = await c.call('GET', '/Users?startIndex=11&count=10');
    assert.equal(seekStats.seeks, seeksBefore, 'a stale position is not used');
    const want = await expectedIds(t, id);
    assert.deepEqual(second.body.Resources.map((u: { id: string }) => u.id), want.slice(10, 20));
    assert.equal(second.body.totalResults, 50);
    // With nothing moving, the walk seeks again.
    const third = await c.call('GET', '/Users?startIndex=21&count=10');
    assert.deepEqual(third.body.Resources.map((u: { id: string }) => u.id), want.slice(20, 30));
    assert.equal(seekStats.seeks, seeksBefore + 1);
    // An update moves nothing in creation order: the unfiltered walk keeps seeking.
    assert.equal((await c.patch(`/Users/${want[0]}`, [{ op: 'replace', path: 'displayName', value: 'x' }])).status, 204);
    const fourth = await c.call('GET', '/Users?startIndex=31&count=10');
    assert.deepEqual(fourth.body.Resources.map((u: { id: string }) => u.id), want.slice(30, 40));
    assert.equal(seekStats.seeks, seeksBefore + 2);
  });

  test('descending creation order pages the same way', async () => {
    const { id, c } = await tenant();
    await seed(t, id, 25);
    const want = await expectedIds(t, id, 'true', true);
    const got: string[] = [];
    for (let start = 1; start <= 25; start += 7) {
      const r = await c.call('GET', `/Users?startIndex=${start}&count=7&sortOrder=descending`);
      got.push(...r.body.Resources.map((u: { id: string }) => u.id));
    }
    assert.deepEqual(got, want);
  });

  test('a filtered walk: exact totals, counted once per list version, and an update that leaves the filter is seen', async () => {
    const { id, c } = await tenant();
    await seed(t, id, 60, 'a');
    await seed(t, id, 30, 'b');
    const want = await expectedIds(t, id, `user_name LIKE 'a%'`);
    const got: string[] = [];
    for (let start = 1; start <= 60; start += 25) {
      const r = await c.call('GET', `/Users?filter=${encodeURIComponent('userName sw "a"')}&startIndex=${start}&count=25`);
      assert.equal(r.status, 200);
      assert.equal(r.body.totalResults, 60);
      got.push(...r.body.Resources.map((u: { id: string }) => u.id));
    }
    assert.deepEqual(got, want);
    // a1 becomes b-something: it leaves the filter, and the next page's total says so.
    assert.equal((await c.patch(`/Users/${want[0]}`, [{ op: 'replace', path: 'userName', value: 'b-renamed@example.com' }])).status, 204);
    const r = await c.call('GET', `/Users?filter=${encodeURIComponent('userName sw "a"')}&startIndex=26&count=25`);
    assert.equal(r.body.totalResults, 59);
    assert.deepEqual(r.body.Resources.map((u: { id: string }) => u.id), want.slice(26, 51));
    // Past the end: an empty page with the exact total.
    const end = await c.call('GET', `/Users?filter=${encodeURIComponent('userName sw "a"')}&startIndex=500&count=25`);
    assert.equal(end.body.totalResults, 59);
    assert.equal(end.body.Resources.length, 0);
  });

  test('a filtered list counts a userName prefix as index ranges in the pool\'s generic plan, and a prefix most users share by the users outside it', { skip: kind !== 'postgres' && 'PostgreSQL plans (the pool plans generically)' }, async () => {
    const { id, c } = await tenant();
    await seed(t, id, 1500, 'pfx');
    await seed(t, id, 5, 'other');
    await t.db.query('VACUUM ANALYZE scim_users');
    // Each count the list runs, explained and run as the pool plans it (generically: EXPLAIN
    // EXECUTE goes through the plan cache, as the pool's prepared statements do).
    const plans: string[] = [];
    const literal = (v: unknown) => `'${String(v).replace(/'/g, "''")}'`;
    const query = t.db.query.bind(t.db);
    t.db.query = (async (sql: string, params: readonly unknown[] = []) => {
      if (/^(SELECT count\(\*\)|WITH counts)/.test(sql)) {
        plans.push(await t.db.transaction(async (tx) => {
          await tx.exec('SET LOCAL plan_cache_mode = force_generic_plan');
          await tx.exec(`PREPARE paging_count AS ${sql}`);
          const { rows } = await tx.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) EXECUTE paging_count(${params.map(literal).join(', ')})`);
          await tx.exec('DEALLOCATE paging_count');
          return rows.map((r) => r['QUERY PLAN']).join('\n');
        }));
      }
      return query(sql, params);
    }) as Queryable['query'];
    /** Index entries the count read, over every scan of scim_users in its plan. */
    const entriesRead = (plan: string) => [...plan.matchAll(/Scan .*on scim_users .*rows=(\d+) loops=(\d+)/g)].reduce((n, m) => n + Number(m[1]) * Number(m[2]), 0);
    try {
      // Few: pfx11, pfx110..119 and pfx1100..1199 (the rest of the tenant is not read).
      const few = await c.call('GET', `/Users?filter=${encodeURIComponent('userName sw "PFX11"')}&count=10`);
      assert.equal(few.status, 200);
      assert.equal(few.body.totalResults, 111);
      assert.equal(few.body.Resources.length, 10);
      // All but the 5 others: the tenant's count minus those 5.
      const most = await c.call('GET', `/Users?filter=${encodeURIComponent('userName sw "pfx"')}&count=10`);
      assert.equal(most.body.totalResults, 1500);
    } finally {
      t.db.query = query;
    }
    assert.equal(plans.length, 2);
    for (const plan of plans) {
      assert.doesNotMatch(plan, /Seq Scan on scim_users |scim_users_created/);
      assert.match(plan, /Index Only Scan using scim_users_user_name_c .*\n\s+Index Cond: \(\(tenant_id = \$1\) AND \(\(lower\(user_name\)\) >= lower\(\$2\)\) AND \(\(lower\(user_name\)\) < \("left"\(lower\(\$2\)/);
    }
    assert.equal(entriesRead(plans[0]!), 111);
    // The first 1000 matches (the probe), then the 5 others; not the 1500 matches.
    assert.equal(entriesRead(plans[1]!), 1005);
  });

  test('/ServiceProviderConfig advertises RFC 9865 pagination', async () => {
    const { c } = await tenant();
    const r = await c.call('GET', '/ServiceProviderConfig');
    assert.equal(r.body.pagination.cursor, true);
    assert.equal(r.body.pagination.index, true);
    assert.equal(r.body.pagination.defaultPaginationMethod, 'index');
    assert.ok(r.body.pagination.cursorTimeout > 0);
    assert.ok(r.body.pagination.maxPageSize > 0);
  });

  test('a cursor walk (RFC 9865): every user once, nextCursor until the last page, previousCursor back', async () => {
    const { id, c } = await tenant();
    await seed(t, id, 47);
    const want = await expectedIds(t, id);
    const pages: { ids: string[]; next?: string; prev?: string }[] = [];
    let cursor = '';
    for (;;) {
      const r = await c.call('GET', `/Users?cursor=${encodeURIComponent(cursor)}&count=10`);
      assert.equal(r.status, 200, r.raw);
      assert.equal(r.body.totalResults, 47);
      assert.equal(r.body.startIndex, undefined);
      assert.equal(r.body.itemsPerPage, r.body.Resources.length);
      pages.push({ ids: r.body.Resources.map((u: { id: string }) => u.id), next: r.body.nextCursor, prev: r.body.previousCursor });
      if (!r.body.nextCursor) break;
      cursor = r.body.nextCursor;
      assert.ok(pages.length < 10);
    }
    assert.deepEqual(pages.flatMap((p) => p.ids), want);
    assert.equal(pages.length, 5);
    assert.equal(pages[0]!.prev, undefined);
    // Back from the last page: the fourth page, which has its own way back and forth.
    const back = await c.call('GET', `/Users?cursor=${encodeURIComponent(pages[4]!.prev!)}&count=10`);
    assert.deepEqual(back.body.Resources.map((u: { id: string }) => u.id), pages[3]!.ids);
    assert.ok(back.body.previousCursor && back.body.nextCursor);
    const fwd = await c.call('GET', `/Users?cursor=${encodeURIComponent(back.body.nextCursor)}&count=10`);
    assert.deepEqual(fwd.body.Resources.map((u: { id: string }) => u.id), pages[4]!.ids);
    // Back to the start: no previousCursor on the first page.
    const firstAgain = await c.call('GET', `/Users?cursor=${encodeURIComponent(pages[1]!.prev!)}&count=10`);
    assert.deepEqual(firstAgain.body.Resources.map((u: { id: string }) => u.id), pages[0]!.ids);
    assert.equal(firstAgain.body.previousCursor, undefined);
    // A user created during the walk is on a later page, none is repeated (keyset, not offset).
    const mid = await c.call('GET', `/Users?cursor=${encodeURIComponent(pages[2]!.next!)}&count=100`);
    const late = await c.createUser('late@example.com');
    assert.equal((await c.call('DELETE', `/Users/${want[0]}`)).status, 204);
    const rest = await c.call('GET', `/Users?cursor=${encodeURIComponent(pages[2]!.next!)}&count=100`);
    assert.deepEqual(rest.body.Resources.map((u: { id: string }) => u.id), [...mid.body.Resources.map((u: { id: string }) => u.id), late.id]);
    assert.equal(rest.body.totalResults, 47);
  });

  test('a cursor walk of a filtered, descending list, and of Groups', async () => {
    const { id, c } = await tenant();
    await seed(t, id, 30, 'a');
    await seed(t, id, 10, 'b');
    const filter = encodeURIComponent('userName sw "b"');
    const want = await expectedIds(t, id, `user_name LIKE 'b%'`, true);
    const got: string[] = [];
    let cursor = '';
    do {
      const r = await c.call('GET', `/Users?filter=${filter}&sortOrder=descending&cursor=${encodeURIComponent(cursor)}&count=3`);
      assert.equal(r.body.totalResults, 10);
      got.push(...r.body.Resources.map((u: { id: string }) => u.id));
      cursor = r.body.nextCursor;
    } while (cursor);
    assert.deepEqual(got, want);
    for (let i = 0; i < 5; i++) await c.createGroup(`grp${i}`);
    const g1 = await c.call('POST', '/Groups/.search', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], cursor: '', count: 3 });
    assert.equal(g1.status, 200);
    assert.equal(g1.body.Resources.length, 3);
    const g2 = await c.call('GET', `/Groups?cursor=${encodeURIComponent(g1.body.nextCursor)}&count=3`);
    assert.deepEqual(g2.body.Resources.map((g: { displayName: string }) => g.displayName), ['grp3', 'grp4']);
    assert.equal(g2.body.nextCursor, undefined);
  });

  test('bad cursors are 400 invalidCursor / expiredCursor, never another list', async () => {
    const { id, c } = await tenant();
    await seed(t, id, 12);
    const other = await tenant();
    await seed(t, other.id, 12);
    const first = await c.call('GET', '/Users?cursor=&count=5');
    const good = first.body.nextCursor as string;
    const bad = async (query: string, scimType = 'invalidCursor', client = c) => {
      const r = await client.call('GET', `/Users?${query}`);
      assert.equal(r.status, 400, `${query}: ${r.raw}`);
      assert.equal(r.body.scimType, scimType, query);
      assert.equal(r.body.schemas[0], 'urn:ietf:params:scim:api:messages:2.0:Error');
    };
    await bad('cursor=garbage');
    await bad('cursor=a.b.c');
    await bad(`cursor=${encodeURIComponent(`${good.slice(0, -2)}AA`)}`);
    // Another tenant's cursor, another endpoint's, another filter's, another order's.
    await bad(`cursor=${encodeURIComponent(good)}`, 'invalidCursor', other.c);
    assert.equal((await c.call('GET', `/Groups?cursor=${encodeURIComponent(good)}`)).body.scimType, 'invalidCursor');
    await bad(`cursor=${encodeURIComponent(good)}&filter=${encodeURIComponent('userName sw "u"')}`);
    await bad(`cursor=${encodeURIComponent(good)}&sortOrder=descending`);
    await bad(`cursor=${encodeURIComponent(good)}&startIndex=6`);
    await bad('cursor=&sortBy=userName');
    const root = await c.call('POST', '/.search', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], cursor: '' });
    assert.equal(root.status, 400);
    assert.equal(root.body.scimType, 'invalidCursor');
    // A payload signed with the installation's key but issued two days ago has expired.
    const { rows } = await t.db.query<{ value: string }>(`SELECT value FROM system_settings WHERE key = 'scim_cursor_key'`);
    const payload = JSON.parse(Buffer.from(good.split('.')[0]!, 'base64url').toString()) as Record<string, unknown>;
    const old = Buffer.from(JSON.stringify({ ...payload, iat: Math.floor(Date.now() / 1000) - 2 * 86_400 })).toString('base64url');
    const sig = createHmac('sha256', Buffer.from(rows[0]!.value, 'base64url')).update(old).digest().subarray(0, 16).toString('base64url');
    await bad(`cursor=${encodeURIComponent(`${old}.${sig}`)}`, 'expiredCursor');
    // The good cursor still works.
    assert.equal((await c.call('GET', `/Users?cursor=${encodeURIComponent(good)}&count=5`)).status, 200);
  });
});
