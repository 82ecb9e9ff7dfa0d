/**
 * A user's `groups[].display` comes from a per-process cache of group names (group-names.ts):
 * a rename must show at once in the process that made it, in other processes once the NOTIFY
 * arrives, and a deleted group must leave the user's groups.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eachDatabase, startTestApp, testDatabases } from '../helpers/app.js';
import { scimClient } from './helpers.js';

const displays = (u: { groups?: { value: string; display: string }[] }) => (u.groups ?? []).map((g) => g.display);

eachDatabase((kind) => {
  test('renamed and deleted groups show in users\' groups at once, by id and in a userName probe', async () => {
    const t = await startTestApp(kind);
    try {
      const c = scimClient(t, t.scimBase, t.scimToken);
      const u = await c.createUser('names@example.com');
      const eng = await c.createGroup('Eng', [u.id]);
      await c.createGroup('Ops', [u.id]);
      assert.deepEqual(displays((await c.call('GET', `/Users/${u.id}`)).body), ['Eng', 'Ops']); // names now cached

      assert.equal((await c.patch(`/Groups/${eng.id}`, [{ op: 'replace', path: 'displayName', value: 'Zed Engineering' }])).status, 204);
      assert.deepEqual(displays((await c.call('GET', `/Users/${u.id}`)).body), ['Ops', 'Zed Engineering'], 'sorted by name, new name');
      const probe = await c.call('GET', `/Users?filter=${encodeURIComponent('userName eq "names@example.com"')}`);
      assert.deepEqual(displays(probe.body.Resources[0]), ['Ops', 'Zed Engineering']);

      // PUT renames too.
      const put = await c.call('PUT', `/Groups/${eng.id}`, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Alpha', members: [{ value: u.id }] });
      assert.equal(put.status, 200);
      assert.deepEqual(displays((await c.call('GET', `/Users/${u.id}`)).body), ['Alpha', 'Ops']);

      assert.equal((await c.call('DELETE', `/Groups/${eng.id}`)).status, 204);
      assert.deepEqual(displays((await c.call('GET', `/Users/${u.id}`)).body), ['Ops']);
    } finally {
      await t.close();
    }
  });
});

test('[postgres] a rename in one process reaches another process\'s cached names through NOTIFY', { skip: !testDatabases().includes('postgres') }, async () => {
  const a = await startTestApp('postgres');
  const b = await startTestApp('postgres'); // its own pool and cache, on the same database
  try {
    const ca = scimClient(a, a.scimBase, a.scimToken);
    const cb = scimClient(b, a.scimBase, a.scimToken);
    const u = await ca.createUser('cross@example.com');
    const g = await ca.createGroup('Before', [u.id]);
    assert.deepEqual(displays((await cb.call('GET', `/Users/${u.id}`)).body), ['Before']); // cached in b
    assert.equal((await ca.patch(`/Groups/${g.id}`, [{ op: 'replace', value: { displayName: 'After' } }])).status, 204);
    const deadline = Date.now() + 3000;
    let seen: string[] = [];
    while (Date.now() < deadline) {
      seen = displays((await cb.call('GET', `/Users/${u.id}`)).body);
      if (seen[0] === 'After') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual(seen, ['After']);
  } finally {
    await b.close();
    await a.close();
  }
});
