// The tenant-wide API keys list (issue 19, seed 001: admins check every key in one place): all keys
// of the tenant across identities with their owners, paged, never a secret or hash, never another
// tenant's keys; revoking through the owner's route removes the key from the list and from /v1.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { eachDatabase, startTestApp, type TestApp } from '../helpers/app.js';

eachDatabase((kind) => {
  let t: TestApp;
  let other: { tenantId: string };
  const admin = (method: string, url: string, payload?: unknown) => t.app.inject({
    method: method as 'GET', url: `/admin/v1${url}`, headers: { authorization: `Bearer ${t.adminToken}` }, payload: payload as object,
  });

  before(async () => {
    t = await startTestApp(kind);
    other = await t.newTenant('Other org');
  });
  after(async () => { await t.close(); });

  test('lists every key of the tenant with its owner, newest first, paged, without secrets', async () => {
    const mk = async (tenantId: string, userName: string) => {
      const r = await admin('POST', `/tenants/${tenantId}/users`, { userName, displayName: `${userName} display` });
      assert.equal(r.statusCode, 201, r.body);
      return r.json().id as string;
    };
    const ada = await mk(t.tenantId, `ada-${kind}`);
    const bob = await mk(t.tenantId, `bob-${kind}`);
    const eve = await mk(other.tenantId, `eve-${kind}`);
    const secrets: string[] = [];
    for (const [user, name] of [[ada, 'ada laptop'], [bob, 'bob ci'], [ada, 'ada phone']] as const) {
      const k = await admin('POST', `/tenants/${t.tenantId}/users/${user}/api-keys`, { name });
      assert.equal(k.statusCode, 201);
      secrets.push(k.json().key);
    }
    assert.equal((await admin('POST', `/tenants/${other.tenantId}/users/${eve}/api-keys`, { name: 'eve key' })).statusCode, 201);
    await admin('PATCH', `/tenants/${t.tenantId}/users/${bob}`, { status: 'suspended' });

    const r = await admin('GET', `/tenants/${t.tenantId}/api-keys`);
    assert.equal(r.statusCode, 200, r.body);
    const body = r.json();
    assert.equal(body.total, 3);
    assert.deepEqual(body.apiKeys.map((k: { name: string }) => k.name), ['ada phone', 'bob ci', 'ada laptop']);
    const bobKey = body.apiKeys[1];
    assert.deepEqual(bobKey.owner, { id: bob, userName: `bob-${kind}`, displayName: `bob-${kind} display`, status: 'suspended' });
    assert.equal(bobKey.enabled, false);
    assert.equal(bobKey.disabledReason, 'identity_suspended');
    assert.match(bobKey.keyHint, /^….{4}$/);
    for (const s of secrets) assert.ok(!r.body.includes(s.slice(9)), 'no secret in the list');
    assert.ok(!/key_hash|"key"/.test(r.body));
    assert.ok(!r.body.includes('eve'), 'never another tenant\'s keys');

    const page2 = (await admin('GET', `/tenants/${t.tenantId}/api-keys?limit=2&offset=2`)).json();
    assert.equal(page2.total, 3);
    assert.deepEqual(page2.apiKeys.map((k: { name: string }) => k.name), ['ada laptop']);

    // Revoke (delete) through the owner's route: gone from the list and refused by /v1.
    const phone = body.apiKeys[0];
    assert.equal((await admin('DELETE', `/tenants/${t.tenantId}/users/${phone.owner.id}/api-keys/${phone.id}`)).statusCode, 204);
    const me = await t.app.inject({ method: 'GET', url: `/v1/${t.tenantId}/me`, headers: { authorization: `Bearer ${secrets[2]}` } });
    assert.equal(me.statusCode, 401);
    assert.equal((await admin('GET', `/tenants/${t.tenantId}/api-keys`)).json().total, 2);
    assert.equal((await admin('GET', `/tenants/${other.tenantId}/api-keys`)).json().total, 1);
  });

  test('bad paging is refused; an unknown tenant is 404', async () => {
    assert.equal((await admin('GET', `/tenants/${t.tenantId}/api-keys?limit=0`)).statusCode, 400);
    assert.equal((await admin('GET', `/tenants/${t.tenantId}/api-keys?offset=-1`)).statusCode, 400);
    assert.equal((await admin('GET', '/tenants/00000000-0000-4000-8000-000000000000/api-keys')).statusCode, 404);
  });
});
