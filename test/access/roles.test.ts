/** Roles: a per-tenant allow-list (like userType), and roles carried in /me and /authorize answers. */
import { before, after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eachDatabase, startTestApp, type TestApp } from '../helpers/app.js';
import { CORE, admin, createAccessGroup, createDataset, freshTenant, patchUser, scim } from './helpers.js';

const SEED_ROLES = ['ReadOnly', 'User', 'Admin', 'EnterpriseAdmin'];

eachDatabase((kind) => {
  let t: TestApp;
  before(async () => { t = await startTestApp(kind); });
  after(async () => { await t.close(); });

  describe('roles allow-list', () => {
    it('SCIM and admin writes with a role outside the list: 400 invalidValue naming the allowed values, nothing written', async () => {
      const tn = await freshTenant(t, { roleAllowList: SEED_ROLES });
      const bad = await scim(tn, 'POST', '/Users', { schemas: [CORE], userName: 'r@x.com', active: true, roles: [{ value: 'Owner' }] }, 400);
      assert.equal(bad.body.scimType, 'invalidValue');
      for (const r of SEED_ROLES) assert.ok(bad.body.detail.includes(`"${r}"`), bad.body.detail);
      assert.ok(bad.body.detail.includes('"Owner"'));
      assert.equal((await admin(tn, 'GET', '/users', undefined, 200)).body.total, 0, 'nothing stored');

      const id = (await scim(tn, 'POST', '/Users', { schemas: [CORE], userName: 'r@x.com', active: true, roles: [{ value: 'Admin' }] }, 201)).body.id as string;
      // a PATCH to a role outside the list is refused; the stored roles stay
      await patchUser(tn, id, [{ op: 'replace', path: 'roles', value: [{ value: 'admin' }] }], 400);
      const got = await scim(tn, 'GET', `/Users/${id}`, undefined, 200);
      assert.deepEqual(got.body.roles.map((r: { value: string }) => r.value), ['Admin']);
      // an unrelated change of a user whose role is fine goes through
      await patchUser(tn, id, [{ op: 'replace', path: 'displayName', value: 'R' }]);

      // admin API (manual identities) follows the same list
      const m = await admin(tn, 'POST', '/users', { userName: 'm@x.com', roles: ['Superuser'] });
      assert.equal(m.status, 400);
      assert.ok(JSON.stringify(m.body).includes('EnterpriseAdmin'), JSON.stringify(m.body));
      assert.equal((await admin(tn, 'GET', '/users', undefined, 200)).body.total, 1);
      await admin(tn, 'POST', '/users', { userName: 'm@x.com', roles: ['ReadOnly'] }, 201);
    });

    it('an empty list allows any role; /me and /authorize carry the roles', async () => {
      const tn = await freshTenant(t);
      const ds = await createDataset(tn, 'Reports');
      const ag = await createAccessGroup(tn, 'Readers', [ds]);
      const id = (await scim(tn, 'POST', '/Users', { schemas: [CORE], userName: 'any@x.com', active: true, roles: [{ value: 'Whatever' }, { value: 'User' }] }, 201)).body.id as string;
      await admin(tn, 'POST', `/access-groups/${ag}/members`, { identityId: id }, 201);
      const key = (await admin(tn, 'POST', `/users/${id}/api-keys`, { name: 'k' }, 201)).body.key as string;
      const headers = { authorization: `Bearer ${key}` };
      const me = await t.app.inject({ method: 'GET', url: `/v1/${tn.tenantId}/me`, headers });
      assert.equal(me.statusCode, 200, me.body);
      assert.deepEqual(me.json().roles, ['Whatever', 'User']);
      const yes = await t.app.inject({ method: 'POST', url: `/v1/${tn.tenantId}/authorize`, headers, payload: { dataset: 'Reports' } });
      assert.equal(yes.json().allowed, true, yes.body);
      assert.deepEqual(yes.json().roles, ['Whatever', 'User']);
      const no = await t.app.inject({ method: 'POST', url: `/v1/${tn.tenantId}/authorize`, headers, payload: { dataset: 'nope' } });
      assert.equal(no.json().allowed, false);
      assert.deepEqual(no.json().roles, ['Whatever', 'User']);
    });
  });
});
