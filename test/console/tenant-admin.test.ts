import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { eachDatabase, startTestApp, type TestApp } from '../helpers/app.js';
import { client, signInAccount, signInOperator } from './helpers.js';

eachDatabase((kind) => {
  let t: TestApp;
  let other: { tenantId: string };
  const login = `it-admin-${kind}-${Date.now()}@contoso.example`;
  const password = 'correct horse battery staple';
  before(async () => {
    t = await startTestApp(kind);
    other = await t.newTenant('Other org');
  });
  after(async () => { await t.close(); });
  const admin = () => ({ authorization: `Bearer ${t.adminToken}` });
  const accounts = (tenantId: string) => `/admin/v1/tenants/${tenantId}/console-accounts`;

  test('the operator creates tenant-admin accounts; passwords are scrypt hashes; logins unique across tenants', async () => {
    const weak = await t.app.inject({ method: 'POST', url: accounts(t.tenantId), headers: admin(), payload: { login, password: 'short' } });
    assert.equal(weak.statusCode, 400);
    const c = await t.app.inject({ method: 'POST', url: accounts(t.tenantId), headers: admin(), payload: { login, password, displayName: 'IT admin' } });
    assert.equal(c.statusCode, 201, c.body);
    assert.equal(c.json().login, login);
    assert.equal(c.json().password, undefined);
    const { rows } = await t.db.query<{ password_hash: string }>('SELECT password_hash FROM console_accounts WHERE tenant_id = $1 AND id = $2', [t.tenantId, c.json().id]);
    assert.match(rows[0]!.password_hash, /^scrypt\$32768\$8\$1\$/);
    assert.ok(!rows[0]!.password_hash.includes(password));

    const dup = await t.app.inject({ method: 'POST', url: accounts(other.tenantId), headers: admin(), payload: { login: login.toUpperCase(), password } });
    assert.equal(dup.statusCode, 409);
    assert.match(dup.json().message, /already used/);

    const list = await t.app.inject({ method: 'GET', url: accounts(t.tenantId), headers: admin() });
    assert.equal(list.json().accounts.length, 1);
  });

  test('a tenant admin signs in with login and password (login case-insensitive)', async () => {
    const bad = await client(t.app).req('POST', '/console/api/session', { login, password: 'wrong password!!' }, { csrf: false });
    assert.equal(bad.statusCode, 401);
    assert.match(bad.json().message, /login or password is not correct/);
    const unknown = await client(t.app).req('POST', '/console/api/session', { login: 'nobody@example.com', password }, { csrf: false });
    assert.equal(unknown.statusCode, 401);
    assert.equal(unknown.json().message, bad.json().message, 'same answer for unknown logins');

    const c = await signInAccount(t.app, login.toUpperCase(), password);
    const who = await c.req('GET', '/console/api/session');
    assert.equal(who.json().principal.kind, 'tenant_admin');
    assert.equal(who.json().principal.tenantId, t.tenantId);
    assert.equal(who.json().principal.tenantName, 'Test tenant');
  });

  test('a tenant admin reaches its own tenant\'s routes only', async () => {
    const c = await signInAccount(t.app, login, password);
    const own = (p = '') => `/admin/v1/tenants/${t.tenantId}${p}`;
    for (const p of ['', '/scim-tokens', '/settings', '/scim-users', '/scim-groups', '/access-groups', '/datasets', '/webhooks', '/provisioning-log', '/users']) {
      const r = await c.req('GET', own(p));
      assert.equal(r.statusCode, 200, `GET ${p}: ${r.body}`);
    }
    // upper-case tenant id in the URL is the same tenant
    assert.equal((await c.req('GET', `/admin/v1/tenants/${t.tenantId.toUpperCase()}/settings`)).statusCode, 200);
    const tok = await c.req('POST', own('/scim-tokens'), { name: 'from tenant admin' });
    assert.equal(tok.statusCode, 201);

    const refused: [string, string, unknown?][] = [
      ['GET', '/admin/v1/tenants'],
      ['POST', '/admin/v1/tenants', { name: 'nope' }],
      ['GET', `/admin/v1/tenants/${other.tenantId}`],
      ['GET', `/admin/v1/tenants/${other.tenantId}/scim-users`],
      ['POST', `/admin/v1/tenants/${other.tenantId}/scim-tokens`, {}],
      ['DELETE', own()],
      ['GET', accounts(t.tenantId)],
      ['POST', accounts(t.tenantId), { login: 'x@example.com', password: 'another long password' }],
    ];
    for (const [method, url, body] of refused) {
      const r = await c.req(method, url, body);
      assert.equal(r.statusCode, 403, `${method} ${url}: ${r.body}`);
      assert.equal(r.json().code, 'ERR_FORBIDDEN');
      assert.ok(r.json().message.length > 20);
    }
    // the tenant is still there
    assert.equal((await t.app.inject({ method: 'GET', url: own(), headers: admin() })).statusCode, 200);
  });

  test('disabling, a new password or deleting an account ends its sessions', async () => {
    const acc = await t.app.inject({ method: 'POST', url: accounts(t.tenantId), headers: admin(), payload: { login: `tmp-${kind}-${Date.now()}`, password } });
    const id = acc.json().id as string;
    const loginName = acc.json().login as string;
    const s1 = await signInAccount(t.app, loginName, password);
    await t.app.inject({ method: 'PATCH', url: `${accounts(t.tenantId)}/${id}`, headers: admin(), payload: { disabled: true } });
    assert.equal((await s1.req('GET', `/admin/v1/tenants/${t.tenantId}`)).statusCode, 401);
    const refused = await client(t.app).req('POST', '/console/api/session', { login: loginName, password }, { csrf: false });
    assert.equal(refused.statusCode, 403);
    assert.match(refused.json().message, /disabled/);

    await t.app.inject({ method: 'PATCH', url: `${accounts(t.tenantId)}/${id}`, headers: admin(), payload: { disabled: false } });
    const s2 = await signInAccount(t.app, loginName, password);
    await t.app.inject({ method: 'PATCH', url: `${accounts(t.tenantId)}/${id}`, headers: admin(), payload: { password: 'a brand new long password' } });
    assert.equal((await s2.req('GET', `/admin/v1/tenants/${t.tenantId}`)).statusCode, 401);
    const s3 = await signInAccount(t.app, loginName, 'a brand new long password');

    const d = await t.app.inject({ method: 'DELETE', url: `${accounts(t.tenantId)}/${id}`, headers: admin() });
    assert.equal(d.statusCode, 204);
    assert.equal((await s3.req('GET', `/admin/v1/tenants/${t.tenantId}`)).statusCode, 401);
    const { rows } = await t.db.query('SELECT 1 FROM console_logins WHERE login = $1', [loginName.toLowerCase()]);
    assert.equal(rows.length, 0, 'login name freed');
  });

  test('ten failed sign-ins lock the account for a while', async () => {
    const loginName = `lock-${kind}-${Date.now()}`;
    await t.app.inject({ method: 'POST', url: accounts(t.tenantId), headers: admin(), payload: { login: loginName, password } });
    for (let i = 0; i < 10; i++) {
      const r = await client(t.app).req('POST', '/console/api/session', { login: loginName, password: `wrong-${i}-password` }, { csrf: false });
      assert.equal(r.statusCode, 401);
    }
    const locked = await client(t.app).req('POST', '/console/api/session', { login: loginName, password }, { csrf: false });
    assert.equal(locked.statusCode, 429);
    assert.equal(locked.json().code, 'ERR_ACCOUNT_LOCKED');
    assert.match(locked.json().message, /try again in \d+ minutes/);
    assert.ok(Number(locked.headers['retry-after']) > 0);
  });

  test('deleting the tenant deletes its accounts and their sessions', async () => {
    const org = await t.newTenant('Short-lived org');
    const loginName = `gone-${kind}-${Date.now()}`;
    await t.app.inject({ method: 'POST', url: accounts(org.tenantId), headers: admin(), payload: { login: loginName, password } });
    const s = await signInAccount(t.app, loginName, password);
    const op = await signInOperator(t.app, t.adminToken);
    assert.equal((await op.req('DELETE', `/admin/v1/tenants/${org.tenantId}`)).statusCode, 204);
    assert.equal((await s.req('GET', '/console/api/session')).statusCode, 401);
    const again = await client(t.app).req('POST', '/console/api/session', { login: loginName, password }, { csrf: false });
    assert.equal(again.statusCode, 401);
  });
});
