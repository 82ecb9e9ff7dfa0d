// The totalResults of a userName range filter (sw, gt, ge, lt, le; issue 21): counted as index
// ranges, from whichever side of the tenant is smaller (list-page.ts#countByRange). Every total
// is checked against the users the list itself returns for that filter (its LIKE / comparison),
// on both sides of the probe (1000 entries), with the characters LIKE and lower() treat specially.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { eachDatabase, startTestApp, type TestApp } from '../helpers/app.js';
import { insertUsers, range, scimClient, USER } from './helpers.js';
import type { Queryable } from '../../src/db/types.js';

type Client = ReturnType<typeof scimClient>;


/** The users the filter lists, walked page by page (the page query's own LIKE / comparison). */
async function listed(c: Client, filter: string): Promise<number> {
  let n = 0;
  for (let start = 1; ; start += 1000) {
    const r = await c.call('GET', `/Users?filter=${encodeURIComponent(filter)}&startIndex=${start}&count=1000&attributes=id`);
    assert.equal(r.status, 200, filter);
    n += r.body.Resources.length;
    if (r.body.Resources.length < 1000) return n;
  }
}

eachDatabase((kind) => {
  let t: TestApp;
  before(async () => { t = await startTestApp(kind); });
  after(async () => { await t.close(); });

  test('a userName range counts exactly on either side of the probe, with LIKE\'s and lower()\'s special characters', async () => {
    const x = await t.newTenant('range-count');
    const c = scimClient(t, x.scimBase, x.scimToken);
    const odd = ['Ab%c', 'ab_c', 'ab\\c', 'abc', 'ABD', 'ab', 'Äbc', 'äbd', 'ß', 'zz', 'b', '😀x', '😀', 'İx', '\u{D7FF}q', 'n'];
    await insertUsers(t, x.tenantId, [...range('a', 1100), ...odd, ...range('m', 1200)]);
    const filters = [
      // fewer than 1000 matches: counted directly
      'userName sw "ab"', 'userName sw "AB"', 'userName sw "ab%"', 'userName sw "ab_"', 'userName sw "ab\\\\"', 'userName sw "ä"',
      'userName sw "Ä"', 'userName sw "z"', 'userName sw "😀"', 'userName sw "a1"', 'userName sw "İ"', 'userName sw "zzz"',
      'userName sw "m1"', 'userName gt "m5"', 'userName le "ab"', 'userName lt "a1"', 'userName ge "😀"',
      // more than 1000 matches, fewer than 1000 others: the tenant's count minus the others
      'userName lt "n"', 'userName gt "a"', 'userName ge "a"', 'userName le "n"',
      // … with a bound that is a user's name
      'userName ge "A1@example.com"', 'userName gt "a1@example.com"', 'userName le "m999@example.com"', 'userName lt "M999@example.com"',
      // more than 1000 on both sides: counted in full
      'userName sw "m"', 'userName sw "a"', 'userName ge "b"', 'userName gt "M"',
      // not a range count (no successor to the prefix's last code point, an empty prefix): counted as before
      'userName sw "\u{D7FF}"', 'userName sw ""',
      // a range of the same attribute under its full name
      'urn:ietf:params:scim:schemas:core:2.0:User:userName sw "ab"',
    ];
    for (const filter of filters) {
      const want = await listed(c, filter);
      // A fresh list (counted beside its first page), then the total alone (count=0).
      const first = await c.call('GET', `/Users?filter=${encodeURIComponent(filter)}&count=1`);
      assert.equal(first.body.totalResults, want, `${filter}: first page`);
      const only = await c.call('GET', `/Users?filter=${encodeURIComponent(filter)}&count=0`);
      assert.equal(only.body.totalResults, want, `${filter}: count=0`);
    }
    // The oracle itself: the special characters are literal, case folds, and the probe sides are as meant.
    assert.equal(await listed(c, 'userName sw "ab%"'), 1);
    assert.equal(await listed(c, 'userName sw "ab"'), 6);
    assert.equal(await listed(c, 'userName lt "n"'), 1100 + 1200 + odd.filter((u) => u.toLowerCase() < 'n').length);
    assert.equal(await listed(c, 'userName sw "m"'), 1200);
  });

  test('a write between the page and its range count: the total and the page are of one snapshot', async () => {
    const x = await t.newTenant('range-count-race');
    const c = scimClient(t, x.scimBase, x.scimToken);
    await insertUsers(t, x.tenantId, [...range('pfx', 30), ...range('other', 5)]);
    const first = (await t.db.query<{ id: string }>(`SELECT id FROM scim_users WHERE tenant_id = $1 AND user_name = 'pfx1@example.com'`, [x.tenantId])).rows[0]!.id;
    // The page is read, then pfx1 is renamed out of the filter, then the count runs (it sees the rename).
    const query = t.db.query.bind(t.db);
    let readPage!: () => void;
    const pageRead = new Promise<void>((resolve) => { readPage = resolve; });
    let renamed = false;
    t.db.query = (async (sql: string, params?: readonly unknown[]) => {
      if (sql.includes(' AS _counts') && !renamed) {
        const page = await query(sql, params);
        await query(`UPDATE scim_users SET user_name = 'renamed@example.com' WHERE tenant_id = $1 AND id = $2`, [x.tenantId, first]);
        renamed = true;
        readPage();
        return page;
      }
      if (sql.startsWith('WITH counts')) await pageRead;
      return query(sql, params);
    }) as Queryable['query'];
    let r;
    try {
      r = await c.call('GET', `/Users?filter=${encodeURIComponent('userName sw "pfx"')}&count=10`);
    } finally {
      t.db.query = query;
    }
    assert.ok(renamed, 'the page was read through db.query');
    assert.equal(r.status, 200);
    // Read again in the count's snapshot: pfx1 has left the filter, and 29 remain.
    assert.equal(r.body.totalResults, 29);
    assert.ok(!r.body.Resources.some((u: { id: string }) => u.id === first));
    assert.equal(r.body.Resources[0].userName, 'pfx2@example.com');
  });
});
