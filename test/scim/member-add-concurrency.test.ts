/**
 * Concurrent member-add PATCHes (Entra's shape) to one group,
 * overlapping, must still leave every member once, one members_added event per member actually
 * added, and a version that moved once per PATCH that added someone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eachDatabase, startTestApp } from '../helpers/app.js';
import { scimClient } from './helpers.js';
import { allEvents } from '../events/helpers.js';

eachDatabase((kind) => {
  test('concurrent overlapping member adds: each member once, each addition in exactly one event', async () => {
    const t = await startTestApp(kind, { worker: false });
    try {
      const c = scimClient(t, t.scimBase, t.scimToken);
      const users = await Promise.all(Array.from({ length: 30 }, (_, i) => c.createUser(`m${i}@example.com`)));
      const g = await c.createGroup('Concurrent');
      const before = Number(/\d+/.exec((await c.call('GET', `/Groups/${g.id}`)).headers.etag as string)![0]);
      // 15 PATCHes of 6 members each, overlapping (i..i+5 mod 30), all at once; plus an unknown id.
      const res = await Promise.all(Array.from({ length: 15 }, (_, k) => c.patch(`/Groups/${g.id}`, [{
        op: 'Add', path: 'members', value: [...Array.from({ length: 6 }, (_, j) => ({ value: users[(k * 2 + j) % 30]!.id })), { value: '00000000-0000-4000-8000-000000000000' }],
      }])));
      assert.ok(res.every((r) => r.status === 204), res.map((r) => r.status).join(','));
      const members = await c.call('GET', `/Users?filter=${encodeURIComponent(`groups.value eq "${g.id}"`)}&count=100`);
      assert.equal(members.body.totalResults, 30);
      const added = (await allEvents(t.app, t.tenantId)).filter((e) => e.type === 'group.members_added').flatMap((e) => e.data.memberIds as string[]);
      assert.equal(added.length, 30, 'each member in exactly one event');
      assert.equal(new Set(added).size, 30);
      const after = Number(/\d+/.exec((await c.call('GET', `/Groups/${g.id}`)).headers.etag as string)![0]);
      assert.ok(after - before >= 1 && after - before <= 15, `version ${before} → ${after}`);
      assert.equal(after - before, (await allEvents(t.app, t.tenantId)).filter((e) => e.type === 'group.members_added').length, 'one version step per adding PATCH');
      // A group that does not exist: 404, nothing written.
      const missing = await c.patch('/Groups/00000000-0000-4000-8000-00000000abcd', [{ op: 'Add', path: 'members', value: [{ value: users[0]!.id }] }]);
      assert.equal(missing.status, 404);
    } finally {
      await t.close();
    }
  });
});
