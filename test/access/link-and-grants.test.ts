/** Link by exact name (derived at query time), manual members, nested groups, direct grants. */
import { before, after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eachDatabase, startTestApp, type TestApp } from '../helpers/app.js';
import { authorizeDataset, resolveDataset, findIdentity } from '../../src/access/index.js';
import {
  FOLDERS, GROUP, accessGroupNames, admin, createAccessGroup, createDataset, datasetNames, entraCreateGroup, entraProvisionUser,
  freshTenant, patchGroup, patchUser, scim,
} from './helpers.js';

eachDatabase((kind) => {
  let t: TestApp;
  before(async () => { t = await startTestApp(kind); });
  after(async () => { await t.close(); });

  describe('link by exact displayName', () => {
    it('renaming the access group re-links at once (either direction)', async () => {
      const tn = await freshTenant(t);
      const ds = await createDataset(tn, 'D1');
      const u = await entraProvisionUser(tn, 'u1@x.com');
      const gid = await entraCreateGroup(tn, 'Blue');
      await patchGroup(tn, gid, [{ op: 'Add', path: 'members', value: [{ value: u }] }]);
      const agId = await createAccessGroup(tn, 'Red', [ds]);
      assert.deepEqual(await datasetNames(tn, u), []);
      await admin(tn, 'PATCH', `/access-groups/${agId}`, { name: 'Blue' }, 200);
      assert.deepEqual(await datasetNames(tn, u), ['D1']);
      await admin(tn, 'PATCH', `/access-groups/${agId}`, { name: 'blue' }, 200); // case differs: unlinked
      assert.deepEqual(await datasetNames(tn, u), []);
    });

    it('renaming the IdP group (Entra PATCH Replace displayName) changes access at once', async () => {
      const tn = await freshTenant(t);
      const ds = await createDataset(tn, 'D2');
      await createAccessGroup(tn, 'Green', [ds]);
      const u = await entraProvisionUser(tn, 'u2@x.com');
      const gid = await entraCreateGroup(tn, 'Greenish');
      await patchGroup(tn, gid, [{ op: 'Add', path: 'members', value: [{ value: u }] }]);
      assert.deepEqual(await datasetNames(tn, u), []);
      await patchGroup(tn, gid, [{ op: 'Replace', path: 'displayName', value: 'Green' }]);
      assert.deepEqual(await datasetNames(tn, u), ['D2']);
      await patchGroup(tn, gid, [{ op: 'Replace', path: 'displayName', value: 'Gray' }]);
      assert.deepEqual(await datasetNames(tn, u), []);
    });

    it('deleting the access group or the dataset removes access at once', async () => {
      const tn = await freshTenant(t);
      const ds = await createDataset(tn, 'D3');
      const ds2 = await createDataset(tn, 'D4');
      const agId = await createAccessGroup(tn, 'Gold', [ds, ds2]);
      const u = await entraProvisionUser(tn, 'u3@x.com');
      const gid = await entraCreateGroup(tn, 'Gold');
      await patchGroup(tn, gid, [{ op: 'Add', path: 'members', value: [{ value: u }] }]);
      assert.deepEqual(await datasetNames(tn, u), ['D3', 'D4']);
      await admin(tn, 'DELETE', `/datasets/${ds2}`, undefined, 204);
      assert.deepEqual(await datasetNames(tn, u), ['D3']);
      await admin(tn, 'DELETE', `/access-groups/${agId}`, undefined, 204);
      assert.deepEqual(await datasetNames(tn, u), []);
    });

    it('effective members = linked IdP group members ∪ manual members; only manual ones removable here', async () => {
      const tn = await freshTenant(t);
      const ds = await createDataset(tn, 'D5');
      const agId = await createAccessGroup(tn, 'Mixed', [ds]);
      const viaIdp = await entraProvisionUser(tn, 'idp@x.com');
      const manual = (await admin(tn, 'POST', '/users', { userName: 'manual@x.com' }, 201)).body.id as string;
      const gid = await entraCreateGroup(tn, 'Mixed');
      await patchGroup(tn, gid, [{ op: 'Add', path: 'members', value: [{ value: viaIdp }] }]);
      await admin(tn, 'POST', `/access-groups/${agId}/members`, { identityId: manual }, 201);
      assert.deepEqual(await datasetNames(tn, manual), ['D5']);
      const m = await admin(tn, 'GET', `/access-groups/${agId}/members`, undefined, 200);
      const byId = new Map(m.body.members.map((x: { id: string }) => [x.id, x]));
      assert.equal((byId.get(viaIdp) as { viaIdpGroup: boolean }).viaIdpGroup, true);
      assert.equal((byId.get(manual) as { manual: boolean }).manual, true);
      const r = await admin(tn, 'DELETE', `/access-groups/${agId}/members/${viaIdp}`, undefined, 409);
      assert.match(r.body.message, /IdP group "Mixed"/);
      await admin(tn, 'DELETE', `/access-groups/${agId}/members/${manual}`, undefined, 204);
      assert.deepEqual(await datasetNames(tn, manual), []);
      // paging
      const p1 = await admin(tn, 'GET', `/access-groups/${agId}/members?limit=1`, undefined, 200);
      assert.equal(p1.body.members.length, 1);
      assert.equal(p1.body.next, viaIdp);
      const p2 = await admin(tn, 'GET', `/access-groups/${agId}/members?limit=1&after=${p1.body.next}`, undefined, 200);
      assert.deepEqual(p2.body.members, []);
    });

    it('nested groups grant only when the tenant enables nestedGroupsGrant', async () => {
      const tn = await freshTenant(t);
      const ds = await createDataset(tn, 'Nested');
      await createAccessGroup(tn, 'Parent', [ds]);
      const u = await entraProvisionUser(tn, 'n@x.com');
      const child = await entraCreateGroup(tn, 'Child');
      await patchGroup(tn, child, [{ op: 'Add', path: 'members', value: [{ value: u }] }]);
      const parent = (await scim(tn, 'POST', '/Groups', { schemas: [GROUP], displayName: 'Parent', members: [{ value: child, type: 'Group' }] }, 201)).body.id;
      assert.ok(parent);
      assert.deepEqual(await datasetNames(tn, u), []);
      await admin(tn, 'PUT', '/settings', { nestedGroupsGrant: true }, 200);
      assert.deepEqual(await datasetNames(tn, u), ['Nested']);
      assert.deepEqual(await accessGroupNames(tn, u), ['Parent']);
    });
  });

  describe('direct grants', () => {
    it('values are dataset ids or externalIds; names do not grant; decisions resolve id | name | externalId', async () => {
      const tn = await freshTenant(t);
      const a = await createDataset(tn, 'Alpha', 'ext-a');
      await createDataset(tn, 'Beta', 'ext-b');
      const u = await entraProvisionUser(tn, 'g@x.com', { [FOLDERS]: ['ext-a', 'Beta'] });
      assert.deepEqual(await datasetNames(tn, u), ['Alpha']);
      for (const ref of [a, 'Alpha', 'ext-a']) assert.equal((await authorizeDataset(t.db, tn.tenantId, u, ref)).allowed, true, ref);
      assert.equal((await authorizeDataset(t.db, tn.tenantId, u, 'ext-b')).reason, 'not_granted');
      assert.equal((await authorizeDataset(t.db, tn.tenantId, u, 'nope')).reason, 'dataset_not_found');
      assert.equal((await resolveDataset(t.db, tn.tenantId, 'ext-b'))?.name, 'Beta');
      assert.equal((await findIdentity(t.db, tn.tenantId, { userName: 'G@X.COM' }))?.id, u);
      assert.equal((await findIdentity(t.db, tn.tenantId, { externalId: 'g' }))?.id, u);
    });

    it('unknown values (split from one comma string) are kept and grant once a dataset with that externalId exists', async () => {
      const tn = await freshTenant(t);
      const u = await entraProvisionUser(tn, 'h@x.com', { [FOLDERS]: ['later-1,later-2'] });
      assert.deepEqual(await datasetNames(tn, u), []);
      const detail = await admin(tn, 'GET', `/users/${u}`, undefined, 200);
      assert.deepEqual(detail.body.grants.map((g: { value: string }) => g.value), ['later-1', 'later-2']);
      await createDataset(tn, 'L1', 'later-1');
      assert.deepEqual(await datasetNames(tn, u), ['L1']);
      const ds2 = await createDataset(tn, 'L2');
      await admin(tn, 'PATCH', `/datasets/${ds2}`, { externalId: 'later-2' }, 200);
      assert.deepEqual(await datasetNames(tn, u), ['L1', 'L2']);
    });

    it('a custom grants attribute (tenant setting) is honoured', async () => {
      const attr = 'urn:ietf:params:scim:schemas:extension:2.0:Acme:datasets';
      const tn = await freshTenant(t, { grantsAttribute: attr });
      await createDataset(tn, 'Custom', 'c-1');
      const u = await entraProvisionUser(tn, 'i@x.com', { [attr]: 'c-1' });
      assert.deepEqual(await datasetNames(tn, u), ['Custom']);
      await patchUser(tn, u, [{ op: 'Remove', path: attr }]);
      assert.deepEqual(await datasetNames(tn, u), []);
    });

    it('grants from direct grants and access groups are unioned without duplicates', async () => {
      const tn = await freshTenant(t);
      const ds = await createDataset(tn, 'Both', 'both');
      await createAccessGroup(tn, 'BothGroup', [ds]);
      const u = await entraProvisionUser(tn, 'j@x.com', { [FOLDERS]: ['both', ds] });
      const gid = await entraCreateGroup(tn, 'BothGroup');
      await patchGroup(tn, gid, [{ op: 'Add', path: 'members', value: [{ value: u }] }]);
      assert.deepEqual(await datasetNames(tn, u), ['Both']);
    });
  });
});
