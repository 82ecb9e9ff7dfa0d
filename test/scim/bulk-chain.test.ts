/**
 * Issue 17, item 14: a Bulk request chained through bulkIds, listed in the worst order (each
 * references the next), runs each operation after the one it references, through the real route.
 * The time bound (linear scheduling) is src/scim/bulk/bulk.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eachDatabase, startTestApp } from '../helpers/app.js';
import { GROUP } from './helpers.js';

const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
const N = 100;

/** Group i has group i+1 as a member; `reversed` lists them so that each references one created later. */
function chain(prefix: string, reversed: boolean) {
  const ops = Array.from({ length: N }, (_, i) => ({
    method: 'POST', path: '/Groups', bulkId: `${prefix}${i}`,
    data: {
      schemas: [GROUP], displayName: `${prefix}-${i}`, externalId: `${prefix}-${i}`,
      members: i + 1 < N ? [{ value: `bulkId:${prefix}${i + 1}` }] : [],
    },
  }));
  return { schemas: [BULK], Operations: reversed ? ops : ops.reverse() };
}

eachDatabase((kind) => {
  test('chained bulkIds in the worst order and in dependency order both resolve', { timeout: 280_000 }, async () => {
    const t = await startTestApp(kind);
    try {
      const other = await t.newTenant('bulk-forward');
      const run = async (base: string, token: string, body: unknown) => {
        const t0 = performance.now();
        const r = await t.app.inject({ method: 'POST', url: `${base}/Bulk`, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' }, payload: JSON.stringify(body) });
        const ms = performance.now() - t0;
        assert.equal(r.statusCode, 200, r.body.slice(0, 500));
        const ops = r.json().Operations as Array<{ status: string; bulkId: string; location?: string }>;
        assert.equal(ops.length, N);
        assert.deepEqual([...new Set(ops.map((o) => o.status))], ['201'], JSON.stringify(ops.find((o) => o.status !== '201')));
        return { ms, ops };
      };
      const forward = await run(other.scimBase, other.scimToken, chain('f', false));
      const worst = await run(t.scimBase, t.scimToken, chain('w', true));
      // Each group holds the next one of the chain.
      const idOf = new Map(worst.ops.map((o) => [o.bulkId, o.location!.slice(o.location!.lastIndexOf('/') + 1)]));
      const g0 = (await t.app.inject({ method: 'GET', url: `${t.scimBase}/Groups/${idOf.get('w0')}`, headers: { authorization: `Bearer ${t.scimToken}` } })).json();
      assert.deepEqual(g0.members.map((m: { value: string }) => m.value), [idOf.get('w1')]);
      assert.ok(forward.ms > 0 && worst.ms > 0);
    } finally {
      await t.close();
    }
  });
});
