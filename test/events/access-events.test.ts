/**
 * access.granted / access.revoked: one event per (identity, dataset) whose access really changed,
 * from every cause, expanded by the outbox worker from the compact access change each write records.
 */
import { before, after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eachDatabase, startTestApp, type TestApp } from '../helpers/app.js';
import { expandAccessChanges } from '../../src/events/access-events.js';
import {
  FOLDERS, admin, createAccessGroup, createDataset, entraCreateGroup, entraProvisionUser, freshTenant, patchGroup, patchUser, scim,
  type Tenant,
} from '../access/helpers.js';

interface AccessEvent { type: string; sequence: number; identity: string; dataset: string; data: any }

/** Waits until the tenant has no access change left (expanded here, or by another test file's worker on the same database). */
async function settle(tn: Tenant, chunk: number): Promise<void> {
  for (let i = 0; ; i++) {
    await expandAccessChanges(tn.t.db, chunk);
    const { rows } = await tn.t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM access_changes WHERE tenant_id = $1', [tn.tenantId]);
    if (rows[0]!.n === 0) return;
    if (i > 3000) throw new Error('access changes not expanded');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Runs the worker's expansion until idle; returns the access events written since the last call. */
function drainer(tn: Tenant) {
  let last = 0;
  return async (): Promise<AccessEvent[]> => {
    await settle(tn, 2); // small chunks: exercises the cursor
    const { rows } = await tn.t.db.query<{ seq: string; type: string; data: any }>(
      `SELECT seq, type, data FROM events WHERE tenant_id = $1 AND type LIKE 'access.%' AND seq > $2 ORDER BY seq`,
      [tn.tenantId, last],
    );
    if (rows.length) last = Number(rows[rows.length - 1]!.seq);
    return rows.map((r) => ({ type: r.type, sequence: Number(r.seq), identity: r.data.identity.id, dataset: r.data.dataset.id, data: r.data }));
  };
}

const brief = (evs: AccessEvent[]) => evs.map((e) => `${e.type === 'access.granted' ? '+' : '-'}${e.identity}:${e.dataset}`).sort();
const plus = (i: string, d: string) => `+${i}:${d}`;
const minus = (i: string, d: string) => `-${i}:${d}`;

eachDatabase((kind) => {
  let t: TestApp;
  before(async () => { t = await startTestApp(kind, { worker: false }); });
  after(async () => { await t.close(); });

  describe('access events', () => {
    it('SCIM membership add/remove, group rename and delete; a second route announces nothing', async () => {
      const tn = await freshTenant(t);
      const drain = drainer(tn);
      const d1 = await createDataset(tn, 'D1', 'ext-d1');
      const agBlue = await createAccessGroup(tn, 'Blue', [d1]);
      await createAccessGroup(tn, 'Blue2', [d1]);
      const u = await entraProvisionUser(tn, 'a@x.com');
      const v = await entraProvisionUser(tn, 'b@x.com');
      const g = await entraCreateGroup(tn, 'Blue');
      const g2 = await entraCreateGroup(tn, 'Blue2');
      assert.deepEqual(await drain(), []);

      await patchGroup(tn, g, [{ op: 'Add', path: 'members', value: [{ value: u }, { value: v }] }]);
      const added = await drain();
      assert.deepEqual(brief(added), [plus(u, d1), plus(v, d1)].sort());
      const e = added.find((x) => x.identity === u)!;
      assert.equal(e.data.identity.userName, 'a@x.com');
      assert.deepEqual(e.data.dataset, { id: d1, externalId: 'ext-d1', name: 'D1' });
      assert.deepEqual(e.data.via, [{ type: 'accessGroup', id: agBlue, name: 'Blue' }]);
      assert.equal(e.data.cause.type, 'group.members_changed');
      assert.equal(e.data.cause.group.id, g);
      // the event follows the membership event that caused it
      const { rows: memberEv } = await t.db.query<{ seq: string }>(
        `SELECT seq FROM events WHERE tenant_id = $1 AND type = 'group.members_added' ORDER BY seq DESC LIMIT 1`, [tn.tenantId]);
      assert.ok(Number(memberEv[0]!.seq) < e.sequence);

      // a second route to the same dataset: nothing
      await patchGroup(tn, g2, [{ op: 'Add', path: 'members', value: [{ value: u }] }]);
      assert.deepEqual(await drain(), []);
      // losing one of two routes: nothing; losing the last: revoked
      await patchGroup(tn, g, [{ op: 'Remove', path: `members[value eq "${u}"]` }]);
      assert.deepEqual(await drain(), []);
      await patchGroup(tn, g2, [{ op: 'Remove', path: `members[value eq "${u}"]` }]);
      const rev = await drain();
      assert.deepEqual(brief(rev), [minus(u, d1)]);
      assert.deepEqual(rev[0]!.data.via, [{ type: 'accessGroup', id: (await admin(tn, 'GET', '/access-groups?name=Blue2', undefined, 200)).body.accessGroups[0].id, name: 'Blue2' }]);

      // group rename moves the link: v loses D1; back again: v regains it
      await patchGroup(tn, g, [{ op: 'Replace', path: 'displayName', value: 'Green' }]);
      const renamed = await drain();
      assert.deepEqual(brief(renamed), [minus(v, d1)]);
      assert.equal(renamed[0]!.data.cause.type, 'group.renamed');
      await patchGroup(tn, g, [{ op: 'Replace', path: 'displayName', value: 'Blue' }]);
      assert.deepEqual(brief(await drain()), [plus(v, d1)]);
      // group delete
      assert.equal((await scim(tn, 'DELETE', `/Groups/${g}`)).status, 204);
      const del = await drain();
      assert.deepEqual(brief(del), [minus(v, d1)]);
      assert.equal(del[0]!.data.cause.type, 'group.deleted');
    });

    it('access group create/rename/delete and dataset assign/unassign', async () => {
      const tn = await freshTenant(t);
      const drain = drainer(tn);
      const d1 = await createDataset(tn, 'D1');
      const d2 = await createDataset(tn, 'D2');
      const users = [await entraProvisionUser(tn, 'a@x.com'), await entraProvisionUser(tn, 'b@x.com'), await entraProvisionUser(tn, 'c@x.com')];
      const g = await entraCreateGroup(tn, 'Team');
      await patchGroup(tn, g, [{ op: 'Add', path: 'members', value: users.map((value) => ({ value })) }]);
      assert.deepEqual(await drain(), []);

      // create: a new access group has no datasets, so no one's access changes
      const ag = await createAccessGroup(tn, 'Team');
      assert.deepEqual(await drain(), []);
      await admin(tn, 'POST', `/access-groups/${ag}/datasets`, { datasetId: d1 }, 201);
      const assigned = await drain();
      assert.deepEqual(brief(assigned), users.map((u) => plus(u, d1)).sort());
      assert.equal(assigned[0]!.data.cause.type, 'dataset.assigned');
      assert.deepEqual(assigned[0]!.data.cause.accessGroup, { id: ag, name: 'Team' });
      // assigning again changes nothing
      await admin(tn, 'POST', `/access-groups/${ag}/datasets`, { datasetId: d1 }, 200);
      assert.deepEqual(await drain(), []);
      await admin(tn, 'POST', `/access-groups/${ag}/datasets`, { datasetId: d2 }, 201);
      assert.deepEqual(brief(await drain()), users.map((u) => plus(u, d2)).sort());
      await admin(tn, 'DELETE', `/access-groups/${ag}/datasets/${d2}`, undefined, 204);
      const unassigned = await drain();
      assert.deepEqual(brief(unassigned), users.map((u) => minus(u, d2)).sort());
      assert.equal(unassigned[0]!.data.cause.type, 'dataset.unassigned');

      // rename unlinks (revoked), rename back relinks (granted)
      await admin(tn, 'PATCH', `/access-groups/${ag}`, { name: 'Other' }, 200);
      const ren = await drain();
      assert.deepEqual(brief(ren), users.map((u) => minus(u, d1)).sort());
      assert.equal(ren[0]!.data.cause.type, 'accessGroup.renamed');
      await admin(tn, 'PATCH', `/access-groups/${ag}`, { name: 'Team' }, 200);
      assert.deepEqual(brief(await drain()), users.map((u) => plus(u, d1)).sort());
      // a description change is no access change
      await admin(tn, 'PATCH', `/access-groups/${ag}`, { description: 'x' }, 200);
      assert.deepEqual(await drain(), []);
      // delete
      await admin(tn, 'DELETE', `/access-groups/${ag}`, undefined, 204);
      const del = await drain();
      assert.deepEqual(brief(del), users.map((u) => minus(u, d1)).sort());
      assert.equal(del[0]!.data.cause.type, 'accessGroup.deleted');
    });

    it('direct grants: extension attribute, dataset create resolving a pending grant, manual members', async () => {
      const tn = await freshTenant(t);
      const drain = drainer(tn);
      const u = await entraProvisionUser(tn, 'a@x.com', { [FOLDERS]: ['f-1,f-2'] });
      // pending: no dataset has these externalIds yet
      assert.deepEqual(await drain(), []);
      const f1 = await createDataset(tn, 'F1', 'f-1');
      const created = await drain();
      assert.deepEqual(brief(created), [plus(u, f1)]);
      assert.equal(created[0]!.data.cause.type, 'dataset.created');
      assert.deepEqual(created[0]!.data.via, [{ type: 'grant', value: 'f-1' }]);
      // a dataset no one's grants name: nothing
      await createDataset(tn, 'F9', 'f-9');
      assert.deepEqual(await drain(), []);
      const f2 = await createDataset(tn, 'F2', 'f-2');
      assert.deepEqual(brief(await drain()), [plus(u, f2)]);
      // the attribute changes through SCIM: f-2 dropped
      await patchUser(tn, u, [{ op: 'Replace', path: FOLDERS, value: 'f-1' }]);
      const dropped = await drain();
      assert.deepEqual(brief(dropped), [minus(u, f2)]);
      assert.equal(dropped[0]!.data.cause.type, 'user.updated');

      // manual member add/remove (F1 also through the access group: a second route, nothing)
      const ag = await createAccessGroup(tn, 'Hand', [f1, f2]);
      assert.deepEqual(await drain(), []);
      await admin(tn, 'POST', `/access-groups/${ag}/members`, { identityId: u }, 201);
      const man = await drain();
      assert.deepEqual(brief(man), [plus(u, f2)]);
      assert.equal(man[0]!.data.cause.type, 'accessGroup.member_added');
      await admin(tn, 'DELETE', `/access-groups/${ag}/members/${u}`, undefined, 204);
      assert.deepEqual(brief(await drain()), [minus(u, f2)]);

      // dataset delete revokes, with what was known about it
      await admin(tn, 'DELETE', `/datasets/${f1}`, undefined, 204);
      const gone = await drain();
      assert.deepEqual(brief(gone), [minus(u, f1)]);
      assert.deepEqual(gone[0]!.data.dataset, { id: f1, externalId: 'f-1', name: 'F1', deleted: true });
    });

    it('suspend, reactivate and delete of the identity; manual identities too', async () => {
      const tn = await freshTenant(t);
      const drain = drainer(tn);
      const d1 = await createDataset(tn, 'D1');
      await createAccessGroup(tn, 'Team', [d1]);
      const u = await entraProvisionUser(tn, 'a@x.com');
      const g = await entraCreateGroup(tn, 'Team');
      await patchGroup(tn, g, [{ op: 'Add', path: 'members', value: [{ value: u }] }]);
      assert.deepEqual(brief(await drain()), [plus(u, d1)]);
      await patchUser(tn, u, [{ op: 'Replace', path: 'active', value: false }]);
      const susp = await drain();
      assert.deepEqual(brief(susp), [minus(u, d1)]);
      assert.equal(susp[0]!.data.cause.type, 'user.suspended');
      // a change that keeps it suspended: nothing
      await patchUser(tn, u, [{ op: 'Replace', path: 'displayName', value: 'Still off' }]);
      assert.deepEqual(await drain(), []);
      await patchUser(tn, u, [{ op: 'Replace', path: 'active', value: true }]);
      const re = await drain();
      assert.deepEqual(brief(re), [plus(u, d1)]);
      assert.equal(re[0]!.data.cause.type, 'user.reactivated');
      assert.equal((await scim(tn, 'DELETE', `/Users/${u}`)).status, 204);
      const del = await drain();
      assert.deepEqual(brief(del), [minus(u, d1)]);
      assert.deepEqual(del[0]!.data.identity, { id: u, userName: 'a@x.com', externalId: 'a' });
      assert.equal(del[0]!.data.cause.type, 'user.deleted');

      // manual identity: created with a grant, suspended, deleted
      const m = (await admin(tn, 'POST', '/users', { userName: 'svc@x.com', grants: [d1] }, 201)).body.id as string;
      assert.deepEqual(brief(await drain()), [plus(m, d1)]);
      await admin(tn, 'PATCH', `/users/${m}`, { status: 'suspended' }, 200);
      assert.deepEqual(brief(await drain()), [minus(m, d1)]);
      await admin(tn, 'PATCH', `/users/${m}`, { status: 'active' }, 200);
      assert.deepEqual(brief(await drain()), [plus(m, d1)]);
      await admin(tn, 'DELETE', `/users/${m}`, undefined, 204);
      assert.deepEqual(brief(await drain()), [minus(m, d1)]);
    });

    it('nested-group setting change grants and revokes through parent groups', async () => {
      const tn = await freshTenant(t);
      const drain = drainer(tn);
      const d1 = await createDataset(tn, 'D1');
      await createAccessGroup(tn, 'Parent', [d1]);
      const u = await entraProvisionUser(tn, 'a@x.com');
      const parent = await entraCreateGroup(tn, 'Parent');
      const child = await entraCreateGroup(tn, 'Child');
      await patchGroup(tn, child, [{ op: 'Add', path: 'members', value: [{ value: u }] }]);
      await patchGroup(tn, parent, [{ op: 'Add', path: 'members', value: [{ value: child, type: 'Group' }] }]);
      assert.deepEqual(await drain(), []);
      await admin(tn, 'PUT', '/settings', { nestedGroupsGrant: true }, 200);
      const on = await drain();
      assert.deepEqual(brief(on), [plus(u, d1)]);
      assert.equal(on[0]!.data.cause.type, 'settings.nestedGroupsGrant');
      // with nesting on, removing the child group from the parent revokes its members' access
      await patchGroup(tn, parent, [{ op: 'Remove', path: `members[value eq "${child}"]` }]);
      assert.deepEqual(brief(await drain()), [minus(u, d1)]);
      await patchGroup(tn, parent, [{ op: 'Add', path: 'members', value: [{ value: child, type: 'Group' }] }]);
      assert.deepEqual(brief(await drain()), [plus(u, d1)]);
      await admin(tn, 'PUT', '/settings', { nestedGroupsGrant: false }, 200);
      assert.deepEqual(brief(await drain()), [minus(u, d1)]);
    });

    // On PGlite only: each test file has its own PGlite, while every file's workers share the one
    // PostgreSQL test database and would spend their passes expanding this tenant's 5k fan-out.
    if (kind === 'pglite') it('scale: assigning a dataset to an access group linked to a 5k-member group answers at once; the worker announces each member exactly once', async () => {
      const tn = await freshTenant(t);
      const drain = drainer(tn);
      const N = 5000;
      const d1 = await createDataset(tn, 'Big');
      const g = await entraCreateGroup(tn, 'Many');
      // bulk-load identities and memberships directly (the SCIM path is not what is measured here)
      await t.db.query(
        `INSERT INTO scim_users (tenant_id, id, user_name, data, source, status, active)
         SELECT $1, gen_random_uuid(), 'u' || i || '@x.com', jsonb_build_object('userName', 'u' || i || '@x.com'), 'scim', 'active', true
           FROM generate_series(1, ${N}) i`,
        [tn.tenantId],
      );
      await t.db.query(
        `INSERT INTO scim_group_members (tenant_id, group_id, member_id, member_type)
         SELECT $1, $2, id, 'User' FROM scim_users WHERE tenant_id = $1`,
        [tn.tenantId, g],
      );
      const ag = await createAccessGroup(tn, 'Many');
      const start = Date.now();
      await admin(tn, 'POST', `/access-groups/${ag}/datasets`, { datasetId: d1 }, 201);
      const answeredMs = Date.now() - start;
      // one compact change row, no fan-out in the request
      const { rows } = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM access_changes WHERE tenant_id = $1', [tn.tenantId]);
      assert.equal(rows[0]!.n, 1);
      assert.ok(answeredMs < 5_000, `assign answered in ${answeredMs} ms`);
      await settle(tn, 1000);
      const evs = await drain();
      assert.equal(evs.length, N);
      assert.equal(new Set(evs.map((e) => e.identity)).size, N);
      assert.ok(evs.every((e) => e.type === 'access.granted' && e.dataset === d1));
      // a repeat pass announces nothing more
      assert.deepEqual(await drain(), []);
    });
  });
});
