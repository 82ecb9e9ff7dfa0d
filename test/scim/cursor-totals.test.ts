// totalResults agrees with the page it comes with (list-page.ts): a write that lands after a page's
// rows are read and before its filtered total is counted must not give a total of one snapshot with
// the rows of another. Each case reads the page through db.query, then renames pfx1 out of the
// filter (or adds a match) before the count runs, and checks the answer against one snapshot:
// RFC 9865 cursor pages (a userName range count and a full count), sortBy pages, and an empty
// page past the end. Both databases.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { eachDatabase, startTestApp, type TestApp } from '../helpers/app.js';
import { insertUsers, range, scimClient, USER } from './helpers.js';
import type { Queryable } from '../../src/db/types.js';


/**
 * Runs `request` with `write` injected right after the first page read (the statement that reads
 * rows with the tenant's counts): the write commits before anything after the page read runs.
 */
async function withWriteAfterPageRead<T>(t: TestApp, write: (q: Queryable['query']) => Promise<unknown>, request: () => Promise<T>): Promise<T> {
  const query = t.db.query.bind(t.db);
  let written = false;
  t.db.query = (async (sql: string, params?: readonly unknown[]) => {
    const res = await query(sql, params);
    if (sql.includes(' AS _counts') && !written) {
      written = true;
      await write(query);
    }
    return res;
  }) as Queryable['query'];
  try {
    const out = await request();
    assert.ok(written, 'the page was read through db.query');
    return out;
  } finally {
    t.db.query = query;
  }
}

eachDatabase((kind) => {
  let t: TestApp;
  before(async () => { t = await startTestApp(kind); });
  after(async () => { await t.close(); });

  /** A tenant with pfx1 … pfx30 and five others; the id of pfx1 and a write renaming it out of `sw "pfx"`. */
  const tenantWithPrefix = async (name: string) => {
    const x = await t.newTenant(name);
    await insertUsers(t, x.tenantId, [...range('pfx', 30), ...range('other', 5)]);
    const first = (await t.db.query<{ id: string }>(`SELECT id FROM scim_users WHERE tenant_id = $1 AND user_name = 'pfx1@example.com'`, [x.tenantId])).rows[0]!.id;
    const renameFirst = (q: Queryable['query']) => q(`UPDATE scim_users SET user_name = 'renamed@example.com' WHERE tenant_id = $1 AND id = $2`, [x.tenantId, first]);
    return { c: scimClient(t, x.scimBase, x.scimToken), tenantId: x.tenantId, first, renameFirst };
  };

  for (const [label, filter] of [['a userName range count', 'userName sw "pfx"'], ['a full count', 'userName co "pfx"']] as const) {
    test(`cursor page, ${label}: a rename out of the filter between the page and its count gives one snapshot`, async () => {
      const { c, first, renameFirst } = await tenantWithPrefix(`cursor-total-${label}`);
      const r = await withWriteAfterPageRead(t, renameFirst,
        () => c.call('GET', `/Users?filter=${encodeURIComponent(filter)}&cursor=&count=10`));
      assert.equal(r.status, 200, r.raw);
      // The count sees the rename: so must the page (pfx1 gone, pfx2 first).
      assert.equal(r.body.totalResults, 29);
      assert.equal(r.body.Resources.length, 10);
      assert.ok(!r.body.Resources.some((u: { id: string }) => u.id === first), 'the page holds a user the total no longer counts');
      assert.equal(r.body.Resources[0].userName, 'pfx2@example.com');
      assert.ok(r.body.nextCursor);
    });
  }

  test('cursor page, a later one: a rename out of the filter between the page and its count gives one snapshot', async () => {
    const { c, tenantId, first, renameFirst } = await tenantWithPrefix('cursor-total-later');
    const filter = encodeURIComponent('userName co "pfx"');
    const one = await c.call('GET', `/Users?filter=${filter}&cursor=&count=10`);
    assert.equal(one.body.totalResults, 30);
    // The list version moves (pfx1 renamed and back): page two cannot reuse page one's total.
    await renameFirst(t.db.query.bind(t.db));
    await t.db.query(`UPDATE scim_users SET user_name = 'pfx1@example.com' WHERE tenant_id = $1 AND id = $2`, [tenantId, first]);
    const r = await withWriteAfterPageRead(t,
      (q) => q(`UPDATE scim_users SET user_name = 'gone@example.com' WHERE tenant_id = $1 AND user_name = 'pfx11@example.com'`, [tenantId]),
      () => c.call('GET', `/Users?filter=${filter}&cursor=${encodeURIComponent(one.body.nextCursor)}&count=10`));
    assert.equal(r.status, 200, r.raw);
    // pfx11 has left the filter in the count's snapshot: the page is of that snapshot too.
    assert.equal(r.body.totalResults, 29);
    assert.deepEqual(r.body.Resources.map((u: { userName: string }) => u.userName), [12, 13, 14, 15, 16, 17, 18, 19, 20, 21].map((i) => `pfx${i}@example.com`));
  });

  test('sortBy page: a rename out of the filter between the page and its count gives one snapshot', async () => {
    const { c, tenantId } = await tenantWithPrefix('sorted-total');
    // By userName, pfx10 comes first ('0' sorts before '@').
    const r = await withWriteAfterPageRead(t,
      (q) => q(`UPDATE scim_users SET user_name = 'renamed@example.com' WHERE tenant_id = $1 AND user_name = 'pfx10@example.com'`, [tenantId]),
      () => c.call('GET', `/Users?filter=${encodeURIComponent('userName sw "pfx"')}&sortBy=userName&count=10`));
    assert.equal(r.status, 200, r.raw);
    assert.equal(r.body.totalResults, 29);
    assert.deepEqual(r.body.Resources.map((u: { userName: string }) => u.userName), [11, 12, 13, 14, 15, 16, 17, 18, 19, 1].map((i) => `pfx${i}@example.com`));
  });

  for (const [label, query] of [['startIndex', 'startIndex=31&count=10'], ['sortBy', 'sortBy=userName&startIndex=31&count=10']] as const) {
    test(`${label} page past the end: a match created between the page and its count is on the page its total counts`, async () => {
      const { c, tenantId } = await tenantWithPrefix(`past-end-${label}`);
      const r = await withWriteAfterPageRead(t,
        // Created now and named to sort last: the 31st match in either order.
        (q) => q(`INSERT INTO scim_users (tenant_id, id, user_name, data)
                  VALUES ($1, gen_random_uuid(), 'pfxz@example.com', jsonb_build_object('schemas', jsonb_build_array('${USER}'), 'userName', 'pfxz@example.com'))`, [tenantId]),
        () => c.call('GET', `/Users?filter=${encodeURIComponent('userName co "pfx"')}&${query}`));
      assert.equal(r.status, 200, r.raw);
      assert.equal(r.body.totalResults, 31);
      assert.deepEqual(r.body.Resources.map((u: { userName: string }) => u.userName), ['pfxz@example.com']);
    });
  }
});
