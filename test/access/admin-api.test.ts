/** Admin API of the access model: manual identities, adoption, read-only provisioned identities, API keys, isolation, OpenAPI. */
import { before, after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eachDatabase, startTestApp, type TestApp } from '../helpers/app.js';
import { verifyApiKey } from '../../src/access/index.js';
import {
  CORE, FOLDERS, access, admin, createAccessGroup, createDataset, datasetNames, entraCreateGroup, entraProvisionUser, freshTenant,
  patchGroup, patchUser, scim,
} from './helpers.js';

eachDatabase((kind) => {
  let t: TestApp;
  before(async () => { t = await startTestApp(kind); });
  after(async () => { await t.close(); });

  describe('manual identities', () => {
    it('create, list with source/status, get, update, delete', async () => {
      const tn = await freshTenant(t);
      const ds = await createDataset(tn, 'Manual data', 'md');
      const c = await admin(tn, 'POST', '/users', {
        userName: 'contractor@partner.com', displayName: 'Contractor', emails: [{ value: 'contractor@partner.com', type: 'work' }],
        roles: ['User'], metadata: { team: 'blue' }, grants: ['md'], status: 'staged',
      }, 201);
      const id = c.body.id as string;
      assert.equal(c.body.source, 'manual');
      assert.equal(c.body.status, 'staged');
      assert.equal(c.body.readOnly, false);
      assert.deepEqual(c.body.roles, ['User']);
      assert.deepEqual(c.body.metadata, { team: 'blue' });
      assert.deepEqual(c.body.datasets.map((d: { id: string }) => d.id), [ds]);
      const list = await admin(tn, 'GET', '/users?source=manual&status=staged', undefined, 200);
      assert.deepEqual(list.body.users.map((u: { id: string; source: string; status: string }) => [u.id, u.source, u.status]), [[id, 'manual', 'staged']]);
      assert.equal((await admin(tn, 'GET', '/users?source=scim', undefined, 200)).body.total, 0);
      const u = await admin(tn, 'PATCH', `/users/${id}`, { displayName: 'Contractor 2', status: 'active', grants: [], metadata: null }, 200);
      assert.equal(u.body.displayName, 'Contractor 2');
      assert.equal(u.body.status, 'active');
      assert.deepEqual(u.body.datasets, []);
      assert.deepEqual(u.body.metadata, {});
      // visible through SCIM too (one identity table)
      const s = await scim(tn, 'GET', `/Users/${id}`, undefined, 200);
      assert.equal(s.body.displayName, 'Contractor 2');
      await admin(tn, 'POST', '/users', { userName: 'CONTRACTOR@partner.com' }, 409);
      await admin(tn, 'DELETE', `/users/${id}`, undefined, 204);
      await admin(tn, 'GET', `/users/${id}`, undefined, 404);
    });

    it('manual identity suspended → its API keys are refused; deleted → keys, grants and memberships gone', async () => {
      const tn = await freshTenant(t);
      const id = (await admin(tn, 'POST', '/users', { userName: 'svc@x.com', grants: ['g1'] }, 201)).body.id as string;
      const agId = await createAccessGroup(tn, 'Svc');
      await admin(tn, 'POST', `/access-groups/${agId}/members`, { identityId: id }, 201);
      const k = await admin(tn, 'POST', `/users/${id}/api-keys`, { name: 'ci' }, 201);
      assert.match(k.body.key, /^idpb_key_/);
      assert.ok(await verifyApiKey(t.db, tn.tenantId, k.body.key));
      await admin(tn, 'PATCH', `/users/${id}`, { status: 'suspended' }, 200);
      assert.equal(await verifyApiKey(t.db, tn.tenantId, k.body.key), undefined);
      await admin(tn, 'PATCH', `/users/${id}`, { status: 'active' }, 200);
      assert.ok(await verifyApiKey(t.db, tn.tenantId, k.body.key));
      await admin(tn, 'DELETE', `/users/${id}`, undefined, 204);
      assert.equal(await verifyApiKey(t.db, tn.tenantId, k.body.key), undefined);
      for (const table of ['identity_api_keys', 'identity_grants', 'access_group_members']) {
        const r = await t.db.query(`SELECT 1 FROM ${table} WHERE tenant_id = $1`, [tn.tenantId]);
        assert.equal(r.rowCount, 0, table);
      }
    });

    it('userType allow-list applies to manual identities too', async () => {
      const tn = await freshTenant(t, { userTypeAllowList: ['Premium', 'Standard'] });
      const r = await admin(tn, 'POST', '/users', { userName: 'm@x.com', userType: 'Basic' }, 400);
      assert.match(r.body.message, /allowed values.*"Premium", "Standard"/);
      await admin(tn, 'POST', '/users', { userName: 'm@x.com', userType: 'Standard' }, 201);
    });
  });

  describe('adoption and read-only provisioned identities', () => {
    it('a SCIM create with the userName of a manual identity adopts it: same id, no duplicate, keeps its keys and memberships', async () => {
      const tn = await freshTenant(t, { apiKeysForProvisionedUsers: true });
      const ds = await createDataset(tn, 'Adopted data');
      const agId = await createAccessGroup(tn, 'Hand-picked', [ds]);
      const id = (await admin(tn, 'POST', '/users', { userName: 'Pat@Corp.com' }, 201)).body.id as string;
      await admin(tn, 'POST', `/access-groups/${agId}/members`, { identityId: id }, 201);
      const key = (await admin(tn, 'POST', `/users/${id}/api-keys`, { name: 'own' }, 201)).body.key as string;
      const created = await scim(tn, 'POST', '/Users', { schemas: [CORE], userName: 'pat@corp.com', externalId: 'oid-pat', active: true }, 201);
      assert.equal(created.body.id, id);
      const a = await access(tn, id);
      assert.equal(a?.identity.source, 'scim');
      assert.equal(a?.identity.externalId, 'oid-pat');
      assert.equal(a?.identity.userName, 'pat@corp.com', 'adopted across case; the IdP spelling is kept (docs/access-model.md)');
      assert.deepEqual(await datasetNames(tn, id), ['Adopted data']);
      assert.ok(await verifyApiKey(t.db, tn.tenantId, key));
      const users = await admin(tn, 'GET', '/users', undefined, 200);
      assert.equal(users.body.total, 1);
      const keys = await admin(tn, 'GET', `/users/${id}/api-keys`, undefined, 200);
      assert.deepEqual(keys.body.apiKeys.map((k: { auto: boolean; name: string }) => [k.auto, k.name]).sort(), [[false, 'own'], [true, 'pat@corp.com']]);
      // now read-only in the admin API
      await admin(tn, 'PATCH', `/users/${id}`, { displayName: 'x' }, 409);
    });

    it('a SCIM create whose userName differs only in case from a provisioned identity is 409 uniqueness, nothing written', async () => {
      const tn = await freshTenant(t);
      const first = await scim(tn, 'POST', '/Users', { schemas: [CORE], userName: 'Adele.Vance@contoso.com', externalId: 'a1', active: true }, 201);
      const dup = await scim(tn, 'POST', '/Users', { schemas: [CORE], userName: 'adele.vance@CONTOSO.com', externalId: 'a2', active: true }, 409);
      assert.equal(dup.body.scimType, 'uniqueness');
      const users = await admin(tn, 'GET', '/users', undefined, 200);
      assert.equal(users.body.total, 1);
      assert.equal(users.body.users[0].id, first.body.id);
      assert.equal((await access(tn, first.body.id))?.identity.externalId, 'a1');
    });

    it('an IdP that matches a manual identity by userName and PATCHes it (Entra probe-then-update) makes it SCIM-managed', async () => {
      const tn = await freshTenant(t);
      const id = (await admin(tn, 'POST', '/users', { userName: 'probe@corp.com' }, 201)).body.id as string;
      const found = await scim(tn, 'GET', `/Users?filter=${encodeURIComponent('userName eq "probe@corp.com"')}`, undefined, 200);
      assert.equal(found.body.Resources[0].id, id);
      await patchUser(tn, id, [{ op: 'Replace', path: 'displayName', value: 'From IdP' }]);
      assert.equal((await access(tn, id))?.identity.source, 'scim');
      await admin(tn, 'PATCH', `/users/${id}`, { displayName: 'x' }, 409);
    });

    it('provisioned identities: IdP-owned fields → 409 with a clear message; status staged → active allowed; delete → 409', async () => {
      const tn = await freshTenant(t, { newUserStatus: 'staged' });
      const id = await entraProvisionUser(tn, 'ro@corp.com');
      const r = await admin(tn, 'PATCH', `/users/${id}`, { displayName: 'Changed', userType: 'X' }, 409);
      assert.equal(r.body.code, 'ERR_READ_ONLY_IDENTITY');
      assert.match(r.body.message, /provisioned by the identity provider.*displayName, userType.*IdP/);
      const s = await admin(tn, 'PATCH', `/users/${id}`, { status: 'suspended' }, 409);
      assert.match(s.body.message, /staged → active/);
      const ok = await admin(tn, 'PATCH', `/users/${id}`, { status: 'active' }, 200);
      assert.equal(ok.body.status, 'active');
      assert.equal(ok.body.readOnly, true);
      const d = await admin(tn, 'DELETE', `/users/${id}`, undefined, 409);
      assert.match(d.body.message, /delete or unassign the user in the IdP/);
      assert.ok(await access(tn, id));
    });
  });

  describe('API keys', () => {
    it('create (shown once), list without secret, disable/enable, rotate, delete', async () => {
      const tn = await freshTenant(t);
      const id = (await admin(tn, 'POST', '/users', { userName: 'keys@x.com' }, 201)).body.id as string;
      const c = await admin(tn, 'POST', `/users/${id}/api-keys`, { name: 'laptop' }, 201);
      const key = c.body.key as string;
      assert.equal(c.body.auto, false);
      assert.equal(c.body.enabled, true);
      const list = await admin(tn, 'GET', `/users/${id}/api-keys`, undefined, 200);
      assert.equal(list.body.apiKeys.length, 1);
      assert.equal(list.body.apiKeys[0].key, undefined);
      assert.equal(list.body.apiKeys[0].keyHint, `…${key.slice(-4)}`);
      const off = await admin(tn, 'PATCH', `/users/${id}/api-keys/${c.body.id}`, { enabled: false, name: 'old laptop' }, 200);
      assert.equal(off.body.enabled, false);
      assert.equal(off.body.disabledReason, 'disabled');
      assert.equal(off.body.name, 'old laptop');
      assert.equal(await verifyApiKey(t.db, tn.tenantId, key), undefined);
      await admin(tn, 'PATCH', `/users/${id}/api-keys/${c.body.id}`, { enabled: true }, 200);
      assert.ok(await verifyApiKey(t.db, tn.tenantId, key));
      const rotated = await admin(tn, 'POST', `/users/${id}/api-keys/${c.body.id}/rotate`, undefined, 200);
      assert.equal(await verifyApiKey(t.db, tn.tenantId, key), undefined);
      assert.ok(await verifyApiKey(t.db, tn.tenantId, rotated.body.key));
      await admin(tn, 'DELETE', `/users/${id}/api-keys/${c.body.id}`, undefined, 204);
      assert.equal(await verifyApiKey(t.db, tn.tenantId, rotated.body.key), undefined);
      // garbage and other tenants' keys are refused
      assert.equal(await verifyApiKey(t.db, tn.tenantId, 'idpb_key_nope'), undefined);
      const other = await freshTenant(t);
      const k2 = (await admin(tn, 'POST', `/users/${id}/api-keys`, {}, 201)).body.key as string;
      assert.equal(await verifyApiKey(t.db, other.tenantId, k2), undefined);
    });
  });

  describe('tenant isolation', () => {
    it("tenant A's admin routes with tenant B's ids → 404", async () => {
      const a = await freshTenant(t);
      const b = await freshTenant(t);
      const ds = await createDataset(b, 'B data');
      const ag = await createAccessGroup(b, 'B group', [ds]);
      const user = (await admin(b, 'POST', '/users', { userName: 'b@b.com' }, 201)).body.id as string;
      const scimUser = await entraProvisionUser(b, 'bs@b.com');
      const key = (await admin(b, 'POST', `/users/${user}/api-keys`, {}, 201)).body.id as string;
      const A = (method: string, path: string, body?: unknown) => admin(a, method, path, body, 404);
      await A('GET', `/datasets/${ds}`);
      await A('PATCH', `/datasets/${ds}`, { name: 'x' });
      await A('DELETE', `/datasets/${ds}`);
      await A('GET', `/access-groups/${ag}`);
      await A('PATCH', `/access-groups/${ag}`, { name: 'x' });
      await A('DELETE', `/access-groups/${ag}`);
      await A('GET', `/access-groups/${ag}/datasets`);
      await A('GET', `/access-groups/${ag}/members`);
      await A('POST', `/access-groups/${ag}/members`, { identityId: user });
      await A('GET', `/users/${user}`);
      await A('GET', `/users/${scimUser}`);
      await A('PATCH', `/users/${user}`, { displayName: 'x' });
      await A('DELETE', `/users/${user}`);
      await A('GET', `/users/${user}/api-keys`);
      await A('POST', `/users/${user}/api-keys`, {});
      await A('POST', `/users/${user}/api-keys/${key}/rotate`);
      await A('DELETE', `/users/${user}/api-keys/${key}`);
      // A's own access group cannot take B's dataset or identity
      const agA = await createAccessGroup(a, 'A group');
      await A('POST', `/access-groups/${agA}/datasets`, { datasetId: ds });
      await A('POST', `/access-groups/${agA}/members`, { identityId: user });
      // and B's SCIM group of the same name does not link into A
      const u = await entraProvisionUser(b, 'linked@b.com');
      const gid = await entraCreateGroup(b, 'A group');
      await patchGroup(b, gid, [{ op: 'Add', path: 'members', value: [{ value: u }] }]);
      assert.equal((await admin(a, 'GET', `/access-groups/${agA}`, undefined, 200)).body.linkedGroup, null);
      assert.deepEqual((await admin(a, 'GET', `/access-groups/${agA}/members`, undefined, 200)).body.members, []);
      // nothing of B changed
      assert.equal((await admin(b, 'GET', `/access-groups/${ag}/datasets`, undefined, 200)).body.datasets.length, 1);
      // unknown tenant
      await admin(a, 'GET', '/datasets', undefined, 404, '00000000-0000-4000-8000-000000000000');
    });
  });

  describe('validation and conflicts', () => {
    it('duplicate names → 409; bad bodies → 400', async () => {
      const tn = await freshTenant(t);
      await createAccessGroup(tn, 'Dup');
      const r = await admin(tn, 'POST', '/access-groups', { name: 'Dup' }, 409);
      assert.match(r.body.message, /access group named "Dup"/);
      await admin(tn, 'POST', '/access-groups', { name: 'dup' }, 201); // case-sensitive names
      await createDataset(tn, 'DS', 'e1');
      await admin(tn, 'POST', '/datasets', { name: 'DS' }, 409);
      await admin(tn, 'POST', '/datasets', { name: 'Other', externalId: 'e1' }, 409);
      await admin(tn, 'POST', '/datasets', { name: '' }, 400);
      await admin(tn, 'POST', '/access-groups', { nope: 1 }, 400);
      await admin(tn, 'GET', '/datasets/not-a-uuid', undefined, 400);
      const list = await admin(tn, 'GET', '/datasets?limit=1', undefined, 200);
      assert.equal(list.body.total, 1);
      assert.equal(list.body.datasets.length, 1);
      const d = await admin(tn, 'GET', `/datasets/${list.body.datasets[0].id}`, undefined, 200);
      assert.deepEqual(d.body.accessGroups, []);
    });
  });

  describe('OpenAPI', () => {
    it('documents the access-model routes', async () => {
      const r = await t.app.inject({ method: 'GET', url: '/admin/v1/openapi.json' });
      assert.equal(r.statusCode, 200);
      const paths = Object.keys(r.json().paths);
      for (const p of [
        '/admin/v1/tenants/{tenantId}/access-groups',
        '/admin/v1/tenants/{tenantId}/access-groups/{agId}',
        '/admin/v1/tenants/{tenantId}/access-groups/{agId}/datasets',
        '/admin/v1/tenants/{tenantId}/access-groups/{agId}/datasets/{datasetId}',
        '/admin/v1/tenants/{tenantId}/access-groups/{agId}/members',
        '/admin/v1/tenants/{tenantId}/access-groups/{agId}/members/{identityId}',
        '/admin/v1/tenants/{tenantId}/datasets',
        '/admin/v1/tenants/{tenantId}/datasets/{datasetId}',
        '/admin/v1/tenants/{tenantId}/users',
        '/admin/v1/tenants/{tenantId}/users/{userId}',
        '/admin/v1/tenants/{tenantId}/users/{userId}/api-keys',
        '/admin/v1/tenants/{tenantId}/users/{userId}/api-keys/{keyId}',
        '/admin/v1/tenants/{tenantId}/users/{userId}/api-keys/{keyId}/rotate',
      ]) assert.ok(paths.includes(p), p);
    });
  });

  it('folders on a provisioned user are visible in the admin detail view', async () => {
    const tn = await freshTenant(t);
    const u = await entraProvisionUser(tn, 'f@x.com', { [FOLDERS]: ['zz'] });
    const d = await admin(tn, 'GET', `/users/${u}`, undefined, 200);
    assert.deepEqual(d.body.grants, [{ value: 'zz', datasetId: null, datasetName: null }]);
  });
});
