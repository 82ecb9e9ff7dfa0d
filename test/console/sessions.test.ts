import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { buildApp } from '../../src/app.js';
import { sha256Hex } from '../../src/lib/secrets.js';
import { eachDatabase, startTestApp, testConfig, type TestApp } from '../helpers/app.js';
import { client, signInOperator } from './helpers.js';

eachDatabase((kind) => {
  let t: TestApp;
  before(async () => { t = await startTestApp(kind); });
  after(async () => { await t.close(); });

  test('operator signs in with the operator token: HttpOnly SameSite=Strict session cookie, readable CSRF cookie', async () => {
    const c = client(t.app);
    const r = await c.req('POST', '/console/api/session', { operatorToken: t.adminToken }, { csrf: false });
    assert.equal(r.statusCode, 200, r.body);
    assert.deepEqual(r.json().principal, { kind: 'operator' });
    assert.equal(r.headers['cache-control'], 'no-store');
    const cookies = ([] as string[]).concat(r.headers['set-cookie'] as string[]);
    const session = cookies.find((x) => x.startsWith('idpb_session='))!;
    const csrf = cookies.find((x) => x.startsWith('idpb_csrf='))!;
    assert.match(session, /HttpOnly/);
    assert.match(session, /SameSite=Strict/);
    assert.match(session, /Path=\//);
    // plain HTTP on localhost (inject's host): the one place without Secure
    assert.doesNotMatch(session, /Secure/);
    assert.doesNotMatch(csrf, /HttpOnly/);
    assert.equal(r.json().csrfToken, c.jar.csrf());

    const who = await c.req('GET', '/console/api/session');
    assert.equal(who.statusCode, 200);
    assert.equal(who.json().principal.kind, 'operator');
  });

  test('a wrong operator token is refused in words', async () => {
    const r = await client(t.app).req('POST', '/console/api/session', { operatorToken: 'idpb_admin_nope' }, { csrf: false });
    assert.equal(r.statusCode, 401);
    assert.equal(r.json().code, 'ERR_SIGN_IN_FAILED');
    assert.match(r.json().message, /operator token is not valid/);
    assert.equal(r.headers['set-cookie'], undefined);
  });

  test('sessions are stored hashed, never the cookie value', async () => {
    const c = await signInOperator(t.app, t.adminToken);
    const token = c.jar.cookies.get('idpb_session')!;
    const { rows } = await t.db.query<{ token_hash: string; csrf_hash: string }>('SELECT token_hash, csrf_hash FROM console_sessions WHERE token_hash = $1', [sha256Hex(token)]);
    assert.equal(rows.length, 1);
    const all = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM console_sessions WHERE token_hash = $1 OR csrf_hash = $2', [token, c.jar.csrf()]);
    assert.equal(all.rows[0]!.n, 0);
  });

  test('the admin API accepts the session cookie; writes need the CSRF header', async () => {
    const c = await signInOperator(t.app, t.adminToken);
    const list = await c.req('GET', '/admin/v1/tenants');
    assert.equal(list.statusCode, 200);

    const noCsrf = await c.req('POST', '/admin/v1/tenants', { name: 'no csrf' }, { csrf: false });
    assert.equal(noCsrf.statusCode, 403);
    assert.equal(noCsrf.json().code, 'ERR_CSRF');
    const wrong = await c.req('POST', '/admin/v1/tenants', { name: 'wrong csrf' }, { csrf: 'x'.repeat(43) });
    assert.equal(wrong.statusCode, 403);
    assert.equal(wrong.json().code, 'ERR_CSRF');
    const del = await c.req('DELETE', `/admin/v1/tenants/${randomUUID()}`, undefined, { csrf: false });
    assert.equal(del.statusCode, 403, 'DELETE needs the CSRF header too');

    const ok = await c.req('POST', '/admin/v1/tenants', { name: 'with csrf' });
    assert.equal(ok.statusCode, 201, ok.body);
  });

  test('double submit is bound to the session: another session\'s CSRF pair does not work', async () => {
    const a = await signInOperator(t.app, t.adminToken);
    const b = await signInOperator(t.app, t.adminToken);
    // A's session cookie, B's CSRF cookie and header (an attacker who planted cookies still lacks A's token)
    const res = await t.app.inject({
      method: 'POST', url: '/admin/v1/tenants', payload: { name: 'mixed' },
      headers: { cookie: `idpb_session=${a.jar.cookies.get('idpb_session')}; idpb_csrf=${b.jar.csrf()}`, 'x-csrf-token': b.jar.csrf() },
    });
    assert.equal(res.statusCode, 403);
    assert.equal(res.json().code, 'ERR_CSRF');
    // header without the matching cookie
    const res2 = await t.app.inject({
      method: 'POST', url: '/admin/v1/tenants', payload: { name: 'mixed' },
      headers: { cookie: `idpb_session=${a.jar.cookies.get('idpb_session')}`, 'x-csrf-token': a.jar.csrf() },
    });
    assert.equal(res2.statusCode, 403);
  });

  test('bearer behaviour is unchanged: an Authorization header is judged alone', async () => {
    const c = await signInOperator(t.app, t.adminToken);
    const none = await t.app.inject({ method: 'GET', url: '/admin/v1/tenants' });
    assert.equal(none.statusCode, 401);
    assert.equal(none.json().code, 'ERR_UNAUTHORIZED');
    assert.equal(none.headers['www-authenticate'], 'Bearer realm="idpbridge-admin"');
    const badBearerGoodCookie = await t.app.inject({
      method: 'GET', url: '/admin/v1/tenants', headers: { authorization: 'Bearer idpb_admin_wrong', cookie: c.jar.header() },
    });
    assert.equal(badBearerGoodCookie.statusCode, 401);
    const bearer = await t.app.inject({ method: 'POST', url: '/admin/v1/tenants', headers: { authorization: `Bearer ${t.adminToken}` }, payload: { name: 'bearer, no csrf needed' } });
    assert.equal(bearer.statusCode, 201);
  });

  test('an unknown or ended session cookie is 401 with words', async () => {
    const r = await t.app.inject({ method: 'GET', url: '/admin/v1/tenants', headers: { cookie: 'idpb_session=forged-value' } });
    assert.equal(r.statusCode, 401);
    assert.match(r.json().message, /session has ended/);
    const s = await t.app.inject({ method: 'GET', url: '/console/api/session', headers: { cookie: 'idpb_session=forged-value' } });
    assert.equal(s.statusCode, 401);
  });

  test('sign-out ends the session everywhere at once', async () => {
    const c = await signInOperator(t.app, t.adminToken);
    const cookie = c.jar.header();
    const out = await c.req('DELETE', '/console/api/session');
    assert.equal(out.statusCode, 204);
    assert.equal(c.jar.cookies.size, 0, 'cookies cleared');
    const again = await t.app.inject({ method: 'GET', url: '/admin/v1/tenants', headers: { cookie } });
    assert.equal(again.statusCode, 401);
  });

  test('sign-out needs the CSRF token (no forced sign-out from another site)', async () => {
    const c = await signInOperator(t.app, t.adminToken);
    const out = await c.req('DELETE', '/console/api/session', undefined, { csrf: false });
    assert.equal(out.statusCode, 403);
    assert.equal((await c.req('GET', '/console/api/session')).statusCode, 200);
  });

  test('sessions live in the database: another process (app) on the same database accepts the cookie', async () => {
    const c = await signInOperator(t.app, t.adminToken);
    const other = await buildApp({ config: testConfig(), db: t.db, logger: false, skipMigrations: true });
    try {
      const r = await other.app.inject({ method: 'GET', url: '/admin/v1/tenants', headers: { cookie: c.jar.header() } });
      assert.equal(r.statusCode, 200);
      const w = await other.app.inject({
        method: 'POST', url: '/admin/v1/tenants', payload: { name: 'from process B' }, headers: { cookie: c.jar.header(), 'x-csrf-token': c.jar.csrf() },
      });
      assert.equal(w.statusCode, 201);
    } finally {
      await other.app.close();
    }
  });

  test('an idle session ends', async () => {
    const c = await signInOperator(t.app, t.adminToken);
    const hash = sha256Hex(c.jar.cookies.get('idpb_session')!);
    await t.db.query(`UPDATE console_sessions SET last_seen_at = now() - interval '3 hours' WHERE token_hash = $1`, [hash]);
    assert.equal((await c.req('GET', '/admin/v1/tenants')).statusCode, 401);
    const { rows } = await t.db.query('SELECT 1 FROM console_sessions WHERE token_hash = $1', [hash]);
    assert.equal(rows.length, 0, 'removed');
  });

  test('over plain HTTP on a non-local host sign-in is refused with a reason', async () => {
    const r = await t.app.inject({ method: 'POST', url: '/console/api/session', headers: { host: 'idp.example.com' }, payload: { operatorToken: t.adminToken } });
    assert.equal(r.statusCode, 400);
    assert.equal(r.json().code, 'ERR_HTTPS_REQUIRED');
    assert.match(r.json().message, /HTTPS/);
  });

  test('over HTTPS (behind a trusted proxy) cookies are Secure with the __Host- prefix', async () => {
    const built = await buildApp({ config: testConfig({ trustProxy: true }), db: t.db, logger: false, skipMigrations: true });
    try {
      const headers = { host: 'idp.example.com', 'x-forwarded-proto': 'https' };
      const r = await built.app.inject({ method: 'POST', url: '/console/api/session', headers, payload: { operatorToken: t.adminToken } });
      assert.equal(r.statusCode, 200, r.body);
      const cookies = ([] as string[]).concat(r.headers['set-cookie'] as string[]);
      const session = cookies.find((x) => x.startsWith('__Host-idpb_session='));
      const csrf = cookies.find((x) => x.startsWith('__Host-idpb_csrf='));
      assert.ok(session && csrf, cookies.join('\n'));
      assert.match(session, /; Secure/);
      assert.match(session, /HttpOnly/);
      assert.match(session, /SameSite=Strict/);
      assert.match(csrf, /; Secure/);
      const value = decodeURIComponent(/^__Host-idpb_session=([^;]+)/.exec(session)![1]!);
      const csrfValue = decodeURIComponent(/^__Host-idpb_csrf=([^;]+)/.exec(csrf)![1]!);
      const cookie = `__Host-idpb_session=${value}; __Host-idpb_csrf=${csrfValue}`;
      const w = await built.app.inject({ method: 'POST', url: '/admin/v1/tenants', payload: { name: 'via https' }, headers: { ...headers, cookie, 'x-csrf-token': csrfValue } });
      assert.equal(w.statusCode, 201, w.body);
    } finally {
      await built.app.close();
    }
  });

  test('sign-in attempts are rate limited per address (when rate limiting is on)', async () => {
    const built = await buildApp({ config: testConfig({ rateLimitPerMinute: 1000 }), db: t.db, logger: false, skipMigrations: true });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 31; i++) {
        const r = await built.app.inject({ method: 'POST', url: '/console/api/session', payload: { operatorToken: 'idpb_admin_guess' } });
        statuses.push(r.statusCode);
      }
      assert.deepEqual(statuses.slice(0, 30), Array(30).fill(401));
      assert.equal(statuses[30], 429);
      // reading the session is not limited
      for (let i = 0; i < 40; i++) assert.equal((await built.app.inject({ method: 'GET', url: '/console/api/session' })).statusCode, 401);
    } finally {
      await built.app.close();
    }
  });
});
