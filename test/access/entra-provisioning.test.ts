/**
 * Every row of the Entra ID auto-provisioning table (shared/seeds), through real SCIM requests in
 * Entra's shapes, each followed by access queries. Plus the Entra guides' userType, folders,
 * roles, metadata and staged-user behaviour.
 */
import { before, after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eachDatabase, startTestApp, type TestApp } from '../helpers/app.js';
import {
  FOLDERS, METADATA, access, accessGroupNames, admin, createAccessGroup, createDataset, datasetNames, entraCreateGroup,
  entraProvisionUser, freshTenant, patchGroup, patchUser, scim,
} from './helpers.js';

eachDatabase((kind) => {
  let t: TestApp;
  before(async () => { t = await startTestApp(kind); });
  after(async () => { await t.close(); });

  describe('Entra provisioning table', () => {
    it('IdP user is created → a new identity', async () => {
      const tn = await freshTenant(t);
      const id = await entraProvisionUser(tn, 'alice@contoso.com');
      const a = await access(tn, id);
      assert.ok(a);
      assert.equal(a.identity.userName, 'alice@contoso.com');
      assert.equal(a.identity.source, 'scim');
      assert.equal(a.identity.status, 'active');
      assert.equal(a.identity.externalId, 'alice');
      assert.deepEqual(a.datasets, []);
      const listed = await admin(tn, 'GET', '/users?source=scim', undefined, 200);
      assert.deepEqual(listed.body.users.map((u: { userName: string }) => u.userName), ['alice@contoso.com']);
    });

    it('IdP user field change → the identity is updated', async () => {
      const tn = await freshTenant(t);
      const id = await entraProvisionUser(tn, 'bob@contoso.com');
      await patchUser(tn, id, [
        { op: 'Replace', path: 'displayName', value: 'Robert' },
        { op: 'Replace', path: 'userName', value: 'robert@contoso.com' },
        { op: 'Add', path: 'externalId', value: 'oid-robert' },
      ]);
      const a = await access(tn, id);
      assert.equal(a?.identity.displayName, 'Robert');
      assert.equal(a?.identity.userName, 'robert@contoso.com');
      assert.equal(a?.identity.externalId, 'oid-robert');
      const got = await admin(tn, 'GET', `/users/${id}`, undefined, 200);
      assert.equal(got.body.displayName, 'Robert');
    });

    it('IdP user is deleted → identity deleted and removed from its access groups', async () => {
      const tn = await freshTenant(t);
      const ds = await createDataset(tn, 'Payroll');
      const agId = await createAccessGroup(tn, 'Finance', [ds]);
      const id = await entraProvisionUser(tn, 'carol@contoso.com');
      const gid = await entraCreateGroup(tn, 'Finance');
      await patchGroup(tn, gid, [{ op: 'Add', path: 'members', value: [{ value: id }] }]);
      await admin(tn, 'POST', `/access-groups/${agId}/members`, { identityId: id }, 201); // manual row on top of the IdP membership
      assert.deepEqual(await datasetNames(tn, id), ['Payroll']);
      // Entra's deprovisioning: PATCH active "False", then DELETE
      await patchUser(tn, id, [{ op: 'Replace', path: 'active', value: 'False' }]);
      await scim(tn, 'DELETE', `/Users/${id}`, undefined, 204);
      assert.equal(await access(tn, id), undefined);
      const members = await admin(tn, 'GET', `/access-groups/${agId}/members`, undefined, 200);
      assert.deepEqual(members.body.members, []);
      await admin(tn, 'GET', `/users/${id}`, undefined, 404);
    });

    it('IdP group created → linked to the access group with the same name; members added later get access', async () => {
      const tn = await freshTenant(t);
      const ds = await createDataset(tn, 'Campaigns');
      const agId = await createAccessGroup(tn, 'Sales and Marketing', [ds]);
      const u1 = await entraProvisionUser(tn, 'dan@contoso.com');
      const gid = await entraCreateGroup(tn, 'Sales and Marketing');
      const ag = await admin(tn, 'GET', `/access-groups/${agId}`, undefined, 200);
      assert.equal(ag.body.linkedGroup.id, gid);
      assert.deepEqual(await datasetNames(tn, u1), []);
      await patchGroup(tn, gid, [{ op: 'Add', path: 'members', value: [{ value: u1 }] }]);
      assert.deepEqual(await accessGroupNames(tn, u1), ['Sales and Marketing']);
      assert.deepEqual(await datasetNames(tn, u1), ['Campaigns']);
      const m = await admin(tn, 'GET', `/access-groups/${agId}/members`, undefined, 200);
      assert.deepEqual(m.body.members.map((x: { id: string; viaIdpGroup: boolean }) => [x.id, x.viaIdpGroup]), [[u1, true]]);
    });

    it('IdP group created → no access group of that exact name (case differs) → no link', async () => {
      const tn = await freshTenant(t);
      const ds = await createDataset(tn, 'D');
      const agId = await createAccessGroup(tn, 'engineering', [ds]);
      const u = await entraProvisionUser(tn, 'erin@contoso.com');
      const gid = await entraCreateGroup(tn, 'Engineering');
      await patchGroup(tn, gid, [{ op: 'Add', path: 'members', value: [{ value: u }] }]);
      assert.deepEqual(await datasetNames(tn, u), []);
      assert.equal((await admin(tn, 'GET', `/access-groups/${agId}`, undefined, 200)).body.linkedGroup, null);
    });

    it('IdP group members are changed → access-group memberships follow (both Entra removal shapes)', async () => {
      const tn = await freshTenant(t);
      const ds = await createDataset(tn, 'Ledger');
      await createAccessGroup(tn, 'Accounting', [ds]);
      const [a, b, c] = [await entraProvisionUser(tn, 'a@c.com'), await entraProvisionUser(tn, 'b@c.com'), await entraProvisionUser(tn, 'c@c.com')];
      const gid = await entraCreateGroup(tn, 'Accounting');
      await patchGroup(tn, gid, [{ op: 'Add', path: 'members', value: [{ value: a }, { value: b }, { value: c }] }]);
      for (const u of [a, b, c]) assert.deepEqual(await datasetNames(tn, u), ['Ledger']);
      await patchGroup(tn, gid, [{ op: 'Remove', path: `members[value eq "${a}"]` }]);
      assert.deepEqual(await datasetNames(tn, a), []);
      assert.deepEqual(await datasetNames(tn, b), ['Ledger']);
      await patchGroup(tn, gid, [{ op: 'Remove', path: 'members', value: [{ value: b }] }]);
      assert.deepEqual(await datasetNames(tn, b), []);
      assert.deepEqual(await datasetNames(tn, c), ['Ledger']);
    });

    it('IdP group deleted → its users lose the access group', async () => {
      const tn = await freshTenant(t);
      const ds = await createDataset(tn, 'Roadmap');
      const agId = await createAccessGroup(tn, 'Product', [ds]);
      const u = await entraProvisionUser(tn, 'fay@contoso.com');
      const gid = await entraCreateGroup(tn, 'Product');
      await patchGroup(tn, gid, [{ op: 'Add', path: 'members', value: [{ value: u }] }]);
      assert.deepEqual(await datasetNames(tn, u), ['Roadmap']);
      await scim(tn, 'DELETE', `/Groups/${gid}`, undefined, 204);
      assert.deepEqual(await datasetNames(tn, u), []);
      assert.deepEqual(await accessGroupNames(tn, u), []);
      const ag = await admin(tn, 'GET', `/access-groups/${agId}`, undefined, 200);
      assert.equal(ag.body.linkedGroup, null);
      // the identity itself stays
      assert.ok(await access(tn, u));
    });

    it('Access group created later (console) → picks up the existing IdP group\'s members at once', async () => {
      const tn = await freshTenant(t);
      const u = await entraProvisionUser(tn, 'gus@contoso.com');
      const gid = await entraCreateGroup(tn, 'Support');
      await patchGroup(tn, gid, [{ op: 'Add', path: 'members', value: [{ value: u }] }]);
      assert.deepEqual(await accessGroupNames(tn, u), []);
      const ds = await createDataset(tn, 'Tickets');
      const agId = await createAccessGroup(tn, 'Support', [ds]);
      assert.deepEqual(await accessGroupNames(tn, u), ['Support']);
      assert.deepEqual(await datasetNames(tn, u), ['Tickets']);
      const m = await admin(tn, 'GET', `/access-groups/${agId}/members`, undefined, 200);
      assert.deepEqual(m.body.members.map((x: { id: string }) => x.id), [u]);
    });
  });

  describe('Entra attribute mappings (userType, folders, roles, metadata, active)', () => {
    it('userType outside the allow-list → 400 invalidValue naming the allowed values, nothing written', async () => {
      const tn = await freshTenant(t, { userTypeAllowList: ['Premium', 'Standard'] });
      const bad = await scim(tn, 'POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'x@c.com', userType: 'Gold' }, 400);
      assert.equal(bad.body.scimType, 'invalidValue');
      assert.match(bad.body.detail, /"Premium", "Standard"/);
      const none = await scim(tn, 'GET', `/Users?filter=${encodeURIComponent('userName eq "x@c.com"')}`, undefined, 200);
      assert.equal(none.body.totalResults, 0);
      assert.equal((await admin(tn, 'GET', '/users', undefined, 200)).body.total, 0);
      // exact match required
      await scim(tn, 'POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'x@c.com', userType: 'premium' }, 400);
      const ok = await entraProvisionUser(tn, 'x@c.com', { userType: 'Premium' });
      assert.equal((await access(tn, ok))?.userType, 'Premium');
      // a change to a disallowed value is refused and rolled back
      const r = await patchUser(tn, ok, [{ op: 'Replace', path: 'userType', value: 'Enterprise' }], 400);
      assert.equal(r.body.scimType, 'invalidValue');
      assert.equal((await access(tn, ok))?.userType, 'Premium');
      // Okta-style PUT with a bad value: refused too
      const put = await scim(tn, 'PUT', `/Users/${ok}`, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'x@c.com', userType: 'Nope' }, 400);
      assert.equal(put.body.scimType, 'invalidValue');
      await patchUser(tn, ok, [{ op: 'Replace', path: 'userType', value: 'Standard' }]);
      assert.equal((await access(tn, ok))?.userType, 'Standard');
    });

    it('folders: Split() multi-values and a single comma-separated string both grant; unknown values grant once the dataset exists', async () => {
      const tn = await freshTenant(t);
      const f1 = await createDataset(tn, 'Folder one', 'F-1');
      const f2 = await createDataset(tn, 'Folder two');
      const u = await entraProvisionUser(tn, 'hal@contoso.com', { [FOLDERS]: [`F-1`, f2] });
      assert.deepEqual(await datasetNames(tn, u), ['Folder one', 'Folder two']);
      // Entra without Split(): one string "a, b, c"
      const v = await entraProvisionUser(tn, 'ivy@contoso.com', {
        'urn:ietf:params:scim:schemas:extension:2.0:CustomExtensionName': { folders: `F-1, ${f2} ,F-unknown` },
      });
      assert.deepEqual(await datasetNames(tn, v), ['Folder one', 'Folder two']);
      const detail = await admin(tn, 'GET', `/users/${v}`, undefined, 200);
      assert.deepEqual(detail.body.grants.map((g: { value: string; datasetId: string | null }) => [g.value, g.datasetId]),
        [[f2, f2], ['F-1', f1], ['F-unknown', null]].sort((x, y) => (x[0]! < y[0]! ? -1 : 1)));
      // the unknown value starts granting as soon as a matching dataset is created
      await createDataset(tn, 'Folder three', 'F-unknown');
      assert.deepEqual(await datasetNames(tn, v), ['Folder one', 'Folder three', 'Folder two']);
      // Entra's Replace with a value object of URN keys changes the grants
      await patchUser(tn, v, [{ op: 'Replace', value: { [FOLDERS]: ['F-1'] } }]);
      assert.deepEqual(await datasetNames(tn, v), ['Folder one']);
      await patchUser(tn, v, [{ op: 'Remove', path: FOLDERS }]);
      assert.deepEqual(await datasetNames(tn, v), []);
    });

    it('roles and metadata are returned; metadata values are strings', async () => {
      const tn = await freshTenant(t);
      const u = await entraProvisionUser(tn, 'jo@contoso.com', {
        roles: [{ primary: 'True', type: 'WindowsAzureActiveDirectoryRole', value: 'Admin' }],
        [`${METADATA}:costCenter`]: 4711,
      });
      await patchUser(tn, u, [{ op: 'Add', path: `${METADATA}:department`, value: 'Sales' }]);
      const a = await access(tn, u);
      assert.deepEqual(a?.roles, ['Admin']);
      assert.deepEqual(a?.metadata, { costCenter: '4711', department: 'Sales' });
      await patchUser(tn, u, [{ op: 'Replace', path: 'roles', value: [{ value: 'ReadOnly' }, { value: 'EnterpriseAdmin' }] }]);
      assert.deepEqual((await access(tn, u))?.roles, ['ReadOnly', 'EnterpriseAdmin']);
    });

    it('active "False" → suspended (API keys refused); "True" → restored', async () => {
      const tn = await freshTenant(t, { apiKeysForProvisionedUsers: true });
      const ds = await createDataset(tn, 'Vault');
      const u = await entraProvisionUser(tn, 'kim@contoso.com', { [FOLDERS]: [ds] });
      const keys = await admin(tn, 'GET', `/users/${u}/api-keys`, undefined, 200);
      assert.equal(keys.body.apiKeys.length, 1);
      const key = (await admin(tn, 'POST', `/users/${u}/api-keys/${keys.body.apiKeys[0].id}/rotate`, undefined, 200)).body.key as string;
      const { verifyApiKey, authorizeDataset } = await import('../../src/access/index.js');
      assert.deepEqual(await verifyApiKey(t.db, tn.tenantId, key), { identityId: u, keyId: keys.body.apiKeys[0].id });
      await patchUser(tn, u, [{ op: 'Replace', path: 'active', value: 'False' }]);
      assert.equal((await access(tn, u))?.identity.status, 'suspended');
      assert.equal(await verifyApiKey(t.db, tn.tenantId, key), undefined);
      assert.deepEqual((await authorizeDataset(t.db, tn.tenantId, u, 'Vault')).reason, 'identity_suspended');
      const listed = await admin(tn, 'GET', `/users/${u}/api-keys`, undefined, 200);
      assert.equal(listed.body.apiKeys[0].enabled, false);
      assert.equal(listed.body.apiKeys[0].disabledReason, 'identity_suspended');
      await patchUser(tn, u, [{ op: 'Replace', path: 'active', value: 'True' }]);
      assert.equal((await access(tn, u))?.identity.status, 'active');
      assert.ok(await verifyApiKey(t.db, tn.tenantId, key));
      assert.equal((await authorizeDataset(t.db, tn.tenantId, u, 'Vault')).allowed, true);
    });

    it('newUserStatus staged → staged identity; activated on first successful authorize', async () => {
      const tn = await freshTenant(t, { newUserStatus: 'staged' });
      const u = await entraProvisionUser(tn, 'lee@contoso.com');
      assert.equal((await access(tn, u))?.identity.status, 'staged');
      const { activateStagedIdentity } = await import('../../src/access/index.js');
      assert.equal(await activateStagedIdentity(t.db, tn.tenantId, u), true);
      assert.equal(await activateStagedIdentity(t.db, tn.tenantId, u), false);
      assert.equal((await access(tn, u))?.identity.status, 'active');
    });
  });
});
