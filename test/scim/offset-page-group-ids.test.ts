// An OFFSET page computes its users' group ids for the page's rows only (list-page.ts,
// pageStatement): PostgreSQL projects every row an OFFSET skips, so with the group-ids subquery in
// the page's own select list a page at startIndex 50,001 ran it 50,100 times. Each case captures
// the page statement the server runs, EXPLAIN ANALYZEs it with the same parameters and counts the
// loops of the subquery over scim_group_members; the answer must be the same users with their
// groups. Both databases; startIndex pages (no remembered position: OFFSET) and sortBy pages.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { eachDatabase, startTestApp, type TestApp } from '../helpers/app.js';
import { insertUsers, range, scimClient } from './helpers.js';
import type { Queryable } from '../../src/db/types.js';

interface PlanNode { 'Node Type': string; 'Relation Name'?: string; 'Subplan Name'?: string; 'Actual Loops': number; Plans?: PlanNode[] }

/** Loops of every subplan that reads scim_group_members. */
function groupIdLoops(node: PlanNode): number {
  const reads = (n: PlanNode): boolean => n['Relation Name'] === 'scim_group_members' || (n.Plans ?? []).some(reads);
  let loops = node['Subplan Name']?.startsWith('SubPlan') && reads(node) ? node['Actual Loops'] : 0;
  if (!loops) for (const c of node.Plans ?? []) loops += groupIdLoops(c);
  return loops;
}

eachDatabase((kind) => {
  let t: TestApp;
  let c: ReturnType<typeof scimClient>;
  let groupId: string;
  before(async () => {
    t = await startTestApp(kind);
    c = scimClient(t, t.scimBase, t.scimToken);
    await insertUsers(t, t.tenantId, range('off', 300));
    const ids = (await t.db.query<{ id: string }>('SELECT id FROM scim_users WHERE tenant_id = $1 ORDER BY created_at', [t.tenantId])).rows.map((r) => r.id);
    groupId = (await c.createGroup('Everyone', ids)).id;
  });
  after(() => t.close());

  /** The page statement of `path` and its parameters, as the server ran them. */
  async function pageStatementOf(path: string): Promise<{ body: any; sql: string; params: readonly unknown[] }> {
    const query = t.db.query.bind(t.db);
    let seen: { sql: string; params: readonly unknown[] } | undefined;
    t.db.query = (async (sql: string, params?: readonly unknown[]) => {
      if (sql.includes(' AS _counts') && sql.includes('scim_group_members')) seen = { sql, params: params ?? [] };
      return query(sql, params);
    }) as Queryable['query'];
    try {
      const r = await c.call('GET', path);
      assert.equal(r.status, 200, r.raw);
      assert.ok(seen, 'the page was read with its users\' group ids');
      return { body: r.body, ...seen };
    } finally {
      t.db.query = query;
    }
  }

  async function loopsOf(sql: string, params: readonly unknown[]): Promise<number> {
    const { rows } = await t.db.query<Record<string, unknown>>(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`, params);
    const raw = Object.values(rows[0]!)[0];
    const plan = (typeof raw === 'string' ? JSON.parse(raw) : raw) as { Plan: PlanNode }[];
    return groupIdLoops(plan[0]!.Plan);
  }

  for (const [name, path, first] of [
    ['a startIndex page', '/Users?startIndex=201&count=50', 201],
    ['a sortBy page', '/Users?sortBy=userName&startIndex=201&count=50', 201],
    ['a descending sortBy page', '/Users?sortBy=userName&sortOrder=descending&startIndex=11&count=50', 11],
  ] as const) {
    test(`${name} computes group ids for its own rows only`, async () => {
      const { body, sql, params } = await pageStatementOf(path);
      assert.equal(body.totalResults, 300);
      assert.equal(body.startIndex, first);
      assert.equal(body.Resources.length, 50);
      for (const u of body.Resources) assert.deepEqual(u.groups.map((g: { value: string }) => g.value), [groupId], `${u.userName} lists its group`);
      const loops = await loopsOf(sql, params);
      assert.ok(loops > 0 && loops <= 50, `the group-ids subquery ran ${loops} times for a page of 50`);
    });
  }

  test('OFFSET pages give the rows of the same order as a walk from the start', async () => {
    const all: string[] = [];
    for (let i = 1; i <= 300; i += 100) all.push(...(await c.call('GET', `/Users?sortBy=userName&startIndex=${i}&count=100`)).body.Resources.map((u: { userName: string }) => u.userName));
    const sorted = range('off', 300).sort();
    assert.deepEqual(all, sorted);
    const mid = (await c.call('GET', '/Users?sortBy=userName&startIndex=137&count=20')).body.Resources.map((u: { userName: string }) => u.userName);
    assert.deepEqual(mid, sorted.slice(136, 156));
    const created = (await c.call('GET', '/Users?startIndex=250&count=10&sortOrder=descending')).body.Resources.map((u: { userName: string }) => u.userName);
    assert.deepEqual(created, range('off', 300).reverse().slice(249, 259));
  });
});
