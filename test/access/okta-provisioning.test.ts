/**
 * Every row of the Okta auto-provisioning table (shared/seeds), through real SCIM requests in
 * Okta's shapes (POST with password, PUT full replace, PATCH {op:"replace",value:{active:false}},
 * Push Groups), each followed by access queries through the user's auto-provisioned API key.
 */
import { before, after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eachDatabase, startTestApp, type TestApp } from '../helpers/app.js';
import { authorizeDataset, effectiveAccess, verifyApiKey } from '../../src/access/index.js';
import { CORE, GROUP, PATCH_OP, admin, createAccessGroup, createDataset, freshTenant, scim, type Tenant } from './helpers.js';

function oktaUser(userName: string, extra: Record<string, unknown> = {}) {
  return {
    schemas: [CORE],
    userName,
    name: { givenName: 'Okta', familyName: 'User' },
    emails: [{ primary: true, value: userName, type: 'work' }],
    displayName: 'Okta User',
    locale: 'en-US',
    externalId: `00u${userName.length}abc`,
    groups: [],
    password: 'xX1!correct-horse-battery',
    active: true,
    ...extra,
  };
}

async function oktaCreateUser(tn: Tenant, userName: string): Promise<string> {
  const probe = await scim(tn, 'GET', `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}&startIndex=1&count=100`, undefined, 200);
  assert.equal(probe.body.totalResults, 0);
  return (await scim(tn, 'POST', '/Users', oktaUser(userName), 201)).body.id;
}

/** Okta Push Groups: search by displayName, then POST with members. */
async function oktaPushGroup(tn: Tenant, displayName: string, members: string[]): Promise<string> {
  const probe = await scim(tn, 'GET', `/Groups?filter=${encodeURIComponent(`displayName eq "${displayName}"`)}`, undefined, 200);
  assert.equal(probe.body.totalResults, 0);
  return (await scim(tn, 'POST', '/Groups', { schemas: [GROUP], displayName, members: members.map((value) => ({ value, display: value })) }, 201)).body.id;
}

async function oktaPatchGroup(tn: Tenant, gid: string, ops: unknown[]): Promise<void> {
  const r = await scim(tn, 'PATCH', `/Groups/${gid}`, { schemas: [PATCH_OP], Operations: ops });
  assert.ok(r.status === 200 || r.status === 204, JSON.stringify(r.body));
}

/** The user's auto-provisioned key, with a fresh secret (rotate is how the product obtains it). */
async function autoKey(tn: Tenant, userId: string): Promise<{ id: string; name: string; key: string }> {
  const list = await admin(tn, 'GET', `/users/${userId}/api-keys`, undefined, 200);
  const auto = list.body.apiKeys.filter((k: { auto: boolean }) => k.auto);
  assert.equal(auto.length, 1, 'one auto-provisioned key');
  const r = await admin(tn, 'POST', `/users/${userId}/api-keys/${auto[0].id}/rotate`, undefined, 200);
  return { id: r.body.id, name: r.body.name, key: r.body.key };
}

/** Datasets the API key may use now (empty when the key is refused). */
async function keyDatasets(t: TestApp, tn: Tenant, key: string): Promise<string[]> {
  const who = await verifyApiKey(t.db, tn.tenantId, key);
  if (!who) return [];
  return ((await effectiveAccess(t.db, tn.tenantId, who.identityId))?.datasets ?? []).map((d) => d.name).sort();
}

eachDatabase((kind) => {
  let t: TestApp;
  before(async () => { t = await startTestApp(kind); });
  after(async () => { await t.close(); });

  describe('Okta provisioning table (API keys)', () => {
    const setup = () => freshTenant(t, { apiKeysForProvisionedUsers: true });

    it('IdP user is created → an API key is provisioned for it', async () => {
      const tn = await setup();
      const u = await oktaCreateUser(tn, 'ann@example.okta.com');
      const k = await autoKey(tn, u);
      assert.equal(k.name, 'ann@example.okta.com');
      assert.match(k.key, /^idpb_key_[A-Za-z0-9_-]{43}$/);
      assert.deepEqual(await verifyApiKey(t.db, tn.tenantId, k.key), { identityId: u, keyId: k.id });
      // the secret is never listed; stored as SHA-256 only
      const listed = await admin(tn, 'GET', `/users/${u}/api-keys`, undefined, 200);
      assert.equal(JSON.stringify(listed.body).includes(k.key), false);
      const stored = await t.db.query<{ key_hash: string }>('SELECT key_hash FROM identity_api_keys WHERE tenant_id = $1', [tn.tenantId]);
      assert.match(stored.rows[0]!.key_hash, /^[0-9a-f]{64}$/);
    });

    it('IdP user field change → the auto-provisioned API key is renamed', async () => {
      const tn = await setup();
      const u = await oktaCreateUser(tn, 'ben@example.okta.com');
      // Okta PUT: full replace with the new userName
      await scim(tn, 'PUT', `/Users/${u}`, oktaUser('benjamin@example.okta.com', { id: u }), 200);
      const list = await admin(tn, 'GET', `/users/${u}/api-keys`, undefined, 200);
      assert.equal(list.body.apiKeys[0].name, 'benjamin@example.okta.com');
    });

    it('IdP user active field changed → API key disabled / enabled', async () => {
      const tn = await setup();
      const ds = await createDataset(tn, 'Reports');
      await createAccessGroup(tn, 'Analysts', [ds]);
      const u = await oktaCreateUser(tn, 'cat@example.okta.com');
      await oktaPushGroup(tn, 'Analysts', [u]);
      const k = await autoKey(tn, u);
      assert.deepEqual(await keyDatasets(t, tn, k.key), ['Reports']);
      await scim(tn, 'PATCH', `/Users/${u}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: false } }] });
      assert.equal(await verifyApiKey(t.db, tn.tenantId, k.key), undefined);
      assert.equal((await authorizeDataset(t.db, tn.tenantId, u, 'Reports')).allowed, false);
      await scim(tn, 'PATCH', `/Users/${u}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: true } }] });
      assert.deepEqual(await keyDatasets(t, tn, k.key), ['Reports']);
    });

    it('IdP user is deleted → API key deleted', async () => {
      const tn = await setup();
      const u = await oktaCreateUser(tn, 'dee@example.okta.com');
      const k = await autoKey(tn, u);
      await scim(tn, 'DELETE', `/Users/${u}`, undefined, 204);
      assert.equal(await verifyApiKey(t.db, tn.tenantId, k.key), undefined);
      const rows = await t.db.query('SELECT 1 FROM identity_api_keys WHERE tenant_id = $1', [tn.tenantId]);
      assert.equal(rows.rowCount, 0);
    });

    it('IdP group created → nothing changes for anyone (no matching dataset group)', async () => {
      const tn = await setup();
      const ds = await createDataset(tn, 'Secrets');
      await createAccessGroup(tn, 'Admins', [ds]);
      const u = await oktaCreateUser(tn, 'eve@example.okta.com');
      const k = await autoKey(tn, u);
      await oktaPushGroup(tn, 'Everyone Else', [u]);
      assert.deepEqual(await keyDatasets(t, tn, k.key), []);
    });

    it('IdP group members are changed → the key gets the datasets of the matching dataset group (and loses them)', async () => {
      const tn = await setup();
      const d1 = await createDataset(tn, 'HR files');
      const d2 = await createDataset(tn, 'Salaries');
      await createAccessGroup(tn, 'HR', [d1, d2]);
      const u = await oktaCreateUser(tn, 'fin@example.okta.com');
      const v = await oktaCreateUser(tn, 'gil@example.okta.com');
      const gid = await oktaPushGroup(tn, 'HR', [v]);
      const ku = await autoKey(tn, u);
      assert.deepEqual(await keyDatasets(t, tn, ku.key), []);
      await oktaPatchGroup(tn, gid, [{ op: 'add', path: 'members', value: [{ value: u, display: 'fin' }] }]);
      assert.deepEqual(await keyDatasets(t, tn, ku.key), ['HR files', 'Salaries']);
      await oktaPatchGroup(tn, gid, [{ op: 'remove', path: `members[value eq "${u}"]` }]);
      assert.deepEqual(await keyDatasets(t, tn, ku.key), []);
      // Okta PUT group with the full member list
      await scim(tn, 'PUT', `/Groups/${gid}`, { schemas: [GROUP], id: gid, displayName: 'HR', members: [{ value: u }] }, 200);
      assert.deepEqual(await keyDatasets(t, tn, ku.key), ['HR files', 'Salaries']);
      assert.deepEqual(await keyDatasets(t, tn, (await autoKey(tn, v)).key), []);
    });

    it('IdP group display_name changed → access through the old matching group removed (and the new name links)', async () => {
      const tn = await setup();
      const oldDs = await createDataset(tn, 'Old data');
      const newDs = await createDataset(tn, 'New data');
      await createAccessGroup(tn, 'Team A', [oldDs]);
      const u = await oktaCreateUser(tn, 'hugo@example.okta.com');
      const gid = await oktaPushGroup(tn, 'Team A', [u]);
      const k = await autoKey(tn, u);
      assert.deepEqual(await keyDatasets(t, tn, k.key), ['Old data']);
      await scim(tn, 'PUT', `/Groups/${gid}`, { schemas: [GROUP], id: gid, displayName: 'Team B', members: [{ value: u }] }, 200);
      assert.deepEqual(await keyDatasets(t, tn, k.key), []);
      await createAccessGroup(tn, 'Team B', [newDs]);
      assert.deepEqual(await keyDatasets(t, tn, k.key), ['New data']);
    });

    it('IdP group deleted → all access through the matching dataset group removed', async () => {
      const tn = await setup();
      const ds = await createDataset(tn, 'Board minutes');
      await createAccessGroup(tn, 'Board', [ds]);
      const u = await oktaCreateUser(tn, 'ida@example.okta.com');
      const gid = await oktaPushGroup(tn, 'Board', [u]);
      const k = await autoKey(tn, u);
      assert.deepEqual(await keyDatasets(t, tn, k.key), ['Board minutes']);
      await scim(tn, 'DELETE', `/Groups/${gid}`, undefined, 204);
      assert.deepEqual(await keyDatasets(t, tn, k.key), []);
    });

    it('Dataset creation (console) → keys in a matching dataset group get it when it is assigned', async () => {
      const tn = await setup();
      const agId = await createAccessGroup(tn, 'Ops');
      const u = await oktaCreateUser(tn, 'jay@example.okta.com');
      await oktaPushGroup(tn, 'Ops', [u]);
      const k = await autoKey(tn, u);
      assert.deepEqual(await keyDatasets(t, tn, k.key), []);
      const ds = await createDataset(tn, 'Runbooks');
      await admin(tn, 'POST', `/access-groups/${agId}/datasets`, { datasetId: ds }, 201);
      assert.deepEqual(await keyDatasets(t, tn, k.key), ['Runbooks']);
    });

    it('Dataset → dataset group assignment (console) → access at once; unassignment removes it', async () => {
      const tn = await setup();
      const ds = await createDataset(tn, 'Forecasts');
      const agId = await createAccessGroup(tn, 'Planning');
      const u = await oktaCreateUser(tn, 'kai@example.okta.com');
      await oktaPushGroup(tn, 'Planning', [u]);
      const k = await autoKey(tn, u);
      assert.deepEqual(await keyDatasets(t, tn, k.key), []);
      await admin(tn, 'POST', `/access-groups/${agId}/datasets`, { datasetId: ds }, 201);
      assert.deepEqual(await keyDatasets(t, tn, k.key), ['Forecasts']);
      await admin(tn, 'DELETE', `/access-groups/${agId}/datasets/${ds}`, undefined, 204);
      assert.deepEqual(await keyDatasets(t, tn, k.key), []);
    });

    it('auto-provisioned keys cannot be edited in the admin API; without the setting no key is created', async () => {
      const tn = await setup();
      const u = await oktaCreateUser(tn, 'lou@example.okta.com');
      const k = await autoKey(tn, u);
      const r = await admin(tn, 'PATCH', `/users/${u}/api-keys/${k.id}`, { name: 'mine' }, 409);
      assert.match(r.body.message, /auto-provisioned/);
      const off = await freshTenant(t);
      const v = await oktaCreateUser(off, 'lou@example.okta.com');
      assert.deepEqual((await admin(off, 'GET', `/users/${v}/api-keys`, undefined, 200)).body.apiKeys, []);
    });
  });
});
