// Issue 17 (security round two), items 8/21, 12, 15, 17, 22, 23 and 24: impossible dateTime values,
// secrets in logged URLs, prototype-named Metadata keys, SSO behind a foreign Host header, writes
// racing a tenant's deletion, errors raised before routing, clients that disconnect mid-body.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { eachDatabase, startTestApp, type TestApp } from '../helpers/app.js';
import { captureLogs, scimProblem } from './helpers.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ACME = 'urn:ietf:params:scim:schemas:extension:2.0:Acme';
const METADATA = 'urn:ietf:params:scim:schemas:extension:2.0:Metadata';
const SCIM_JSON = 'application/scim+json';

/** Sends raw bytes and returns everything the server answers until it closes (or 5 s pass). */
function rawExchange(port: number, data: string | Buffer, opts: { endAfterWrite?: boolean } = {}): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const c = net.connect(port, '127.0.0.1', () => {
      c.write(data);
      if (opts.endAfterWrite) c.end();
    });
    const done = () => { clearTimeout(timer); resolve(Buffer.concat(chunks).toString('utf8')); };
    const timer = setTimeout(() => { c.destroy(); done(); }, 5_000);
    c.on('data', (d) => chunks.push(d));
    c.on('close', done);
    c.on('error', () => {});
  });
}

function parseRaw(text: string): { status: number; headers: Record<string, string>; body: string } {
  const [head = '', ...rest] = text.split('\r\n\r\n');
  const lines = head.split('\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0);
  const headers = Object.fromEntries(lines.slice(1).map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  return { status, headers, body: rest.join('\r\n\r\n') };
}

eachDatabase((kind) => {
  let t: TestApp;
  let port: number;
  const logs = captureLogs();
  const admin = () => ({ authorization: `Bearer ${t.adminToken}` });

  before(async () => {
    t = await startTestApp(kind, { logLevel: 'info' }, { loggerStream: logs.stream });
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    port = (t.app.server.address() as AddressInfo).port;
  });

  after(async () => { await t?.close(); });

  const scim = (tenant: { tenantId: string; scimToken: string }, method: string, path: string, body?: unknown) => t.app.inject({
    method: method as 'GET', url: `/scim/v2/${tenant.tenantId}${path}`,
    headers: { authorization: `Bearer ${tenant.scimToken}`, 'content-type': SCIM_JSON },
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  });

  test('impossible dateTime values are refused with 400 invalidValue; filters and sorts on the attribute keep working', async () => {
    const tn = await t.newTenant(`dates ${kind}`);
    const put = await t.app.inject({
      method: 'PUT', url: `/admin/v1/tenants/${tn.tenantId}/settings`, headers: admin(),
      payload: { extensionAttributes: [{ schema: ACME, name: 'hiredAt', type: 'dateTime', multiValued: false }] },
    });
    assert.equal(put.statusCode, 200, put.body);
    for (const bad of ['2024-02-30T00:00:00Z', '2023-02-29T00:00:00Z', '2024-04-31T00:00:00Z', '0000-01-01T00:00:00Z']) {
      const r = await scim(tn, 'POST', '/Users', { schemas: [USER, ACME], userName: `u-${bad}`, [ACME]: { hiredAt: bad } });
      assert.equal(r.statusCode, 400, `${bad}: ${r.body}`);
      assert.equal(r.json().scimType, 'invalidValue');
    }
    const ok = await scim(tn, 'POST', '/Users', { schemas: [USER, ACME], userName: 'leap', [ACME]: { hiredAt: '2024-02-29T00:00:00Z' } });
    assert.equal(ok.statusCode, 201, ok.body);
    const created = ok.json();
    const patched = await scim(tn, 'PATCH', `/Users/${created.id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: `${ACME}:hiredAt`, value: '2024-02-30T00:00:00Z' }],
    });
    assert.equal(patched.statusCode, 400, patched.body);
    const filter = encodeURIComponent(`${ACME}:hiredAt gt "2024-01-01T00:00:00Z"`);
    const list = await scim(tn, 'GET', `/Users?filter=${filter}&sortBy=${encodeURIComponent(`${ACME}:hiredAt`)}`);
    assert.equal(list.statusCode, 200, list.body);
    assert.deepEqual(list.json().Resources.map((u: { userName: string }) => u.userName), ['leap']);
  });

  test('Metadata keys named constructor, toString and hasOwnProperty are kept', async () => {
    const meta = { constructor: 'c1', toString: 't1', hasOwnProperty: 'h1', valueOf: 'v1' };
    const r = await scim({ tenantId: t.tenantId, scimToken: t.scimToken }, 'POST', '/Users', { schemas: [USER, METADATA], userName: `meta-${kind}`, [METADATA]: meta });
    assert.equal(r.statusCode, 201, r.body);
    assert.deepEqual(r.json()[METADATA], meta);
    const got = await scim({ tenantId: t.tenantId, scimToken: t.scimToken }, 'GET', `/Users/${r.json().id}`);
    assert.deepEqual(got.json()[METADATA], meta);
    const patched = await scim({ tenantId: t.tenantId, scimToken: t.scimToken }, 'PATCH', `/Users/${r.json().id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: `${METADATA}:toString`, value: 't2' }],
    });
    assert.ok(patched.statusCode === 200 || patched.statusCode === 204, patched.body);
    const again = await scim({ tenantId: t.tenantId, scimToken: t.scimToken }, 'GET', `/Users/${r.json().id}`);
    assert.deepEqual(again.json()[METADATA], { ...meta, toString: 't2' });
  });

  test('OAuth code and state and other query secrets are redacted from the logged request URLs', async () => {
    logs.clear();
    const secrets = ['CODE-SECRET-1234', 'STATE-SECRET-5678', 'TOKEN-SECRET-9012', 'PASSWORD-SECRET-3456', 'CLIENT-SECRET-7890'];
    await fetch(`http://127.0.0.1:${port}/sso/${t.tenantId}/callback?code=${secrets[0]}&state=${secrets[1]}&iss=https%3A%2F%2Fidp.example`);
    await fetch(`http://127.0.0.1:${port}/admin/v1/tenants?token=${secrets[2]}&Password=${secrets[3]}&client_secret=${secrets[4]}&keep=visible-value`);
    const text = logs.lines.join('\n');
    assert.ok(text.includes(`/sso/${t.tenantId}/callback`), 'the request is logged');
    assert.ok(text.includes('keep=visible-value'), 'other parameters stay');
    assert.ok(text.includes('code=[redacted]'));
    for (const s of secrets) assert.ok(!text.includes(s), `${s} is in the logs`);
  });

  test('without IDPBRIDGE_PUBLIC_URL, sign-in is refused for a non-loopback Host (the token issuer does not follow the Host header)', async () => {
    const cb = 'https://app.example.com/auth/callback';
    const reg = await t.app.inject({ method: 'POST', url: `/admin/v1/tenants/${t.tenantId}/sso/redirect-uris`, headers: admin(), payload: { uri: cb } });
    assert.ok(reg.statusCode === 201 || reg.statusCode === 409, reg.body);
    const user = await t.app.inject({ method: 'POST', url: `/admin/v1/tenants/${t.tenantId}/users`, headers: admin(), payload: { userName: `guest-host-${kind}@partner.example` } });
    assert.equal(user.statusCode, 201, user.body);
    const pw = await t.app.inject({
      method: 'PUT', url: `/admin/v1/tenants/${t.tenantId}/users/${user.json().id}/login-method`, headers: admin(), payload: { method: 'password', password: 'guest-password-0123' },
    });
    assert.ok(pw.statusCode < 300, pw.body);
    const login = (host: string) => t.app.inject({
      method: 'POST', url: `/sso/${t.tenantId}/password-login`, headers: { host, 'content-type': 'application/json' },
      payload: { userName: `guest-host-${kind}@partner.example`, password: 'guest-password-0123', redirect_uri: cb },
    });
    const evil = await login('idpbridge.attacker.example');
    assert.equal(evil.statusCode, 409, evil.body);
    assert.equal(evil.json().code, 'ERR_SSO_NOT_CONFIGURED');
    assert.match(evil.json().message, /IDPBRIDGE_PUBLIC_URL/);
    const start = await t.app.inject({ method: 'GET', url: `/sso/${t.tenantId}/login?redirect_uri=${encodeURIComponent(cb)}`, headers: { host: 'idpbridge.attacker.example' } });
    assert.notEqual(start.statusCode, 302, 'no redirect to the IdP with an attacker-chosen callback URL');
    assert.ok(start.statusCode >= 400 && start.statusCode < 500, `${start.statusCode} ${start.body.slice(0, 200)}`);

    const local = await login('localhost:8080');
    assert.equal(local.statusCode, 200, local.body);
    const claims = JSON.parse(Buffer.from(local.json().token.split('.')[1], 'base64url').toString());
    assert.equal(claims.iss, `http://localhost:8080/sso/${t.tenantId}`);
  });

  test('a console account created while its tenant is deleted is a 404, never a 500', async () => {
    const seen = new Map<number, number>();
    for (let i = 0; i < 8; i++) {
      const tn = await t.newTenant(`doomed ${kind} ${i}`);
      const [created, deleted] = await Promise.all([
        t.app.inject({ method: 'POST', url: `/admin/v1/tenants/${tn.tenantId}/console-accounts`, headers: admin(), payload: { login: `racer-${kind}-${i}-${Date.now()}`, password: 'correct horse battery staple' } }),
        t.app.inject({ method: 'DELETE', url: `/admin/v1/tenants/${tn.tenantId}`, headers: admin() }),
      ]);
      seen.set(created.statusCode, (seen.get(created.statusCode) ?? 0) + 1);
      assert.ok([201, 404].includes(created.statusCode), `POST console-accounts → ${created.statusCode} ${created.body}`);
      if (created.statusCode === 404) assert.equal(created.json().code, 'ERR_NOT_FOUND');
      assert.equal(deleted.statusCode, 204, deleted.body);
      const left = await t.db.query('SELECT 1 FROM console_accounts WHERE tenant_id = $1', [tn.tenantId]);
      assert.equal(left.rows.length, 0, 'nothing of the deleted tenant is left');
    }
    assert.ok(![...seen.keys()].some((s) => s >= 500), JSON.stringify([...seen]));
  });

  test('HTTP parser errors before routing are answered in the SCIM format on SCIM paths and the API family elsewhere', async () => {
    const scimPath = `/scim/v2/${t.tenantId}/Users`;
    const cases = [
      { name: 'bad header name', path: scimPath, raw: (p: string) => `GET ${p} HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n`, status: 400 },
      { name: 'bare LF line ends', path: scimPath, raw: (p: string) => `GET ${p} HTTP/1.1\nHost: x\n\n`, status: 400 },
      { name: 'Content-Length with Transfer-Encoding', path: scimPath, raw: (p: string) => `POST ${p} HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, status: 400 },
      { name: 'URL over 16 KB', path: scimPath, raw: (p: string) => `GET ${p}?filter=${'a'.repeat(17_000)} HTTP/1.1\r\nHost: x\r\n\r\n`, status: 431 },
      { name: 'headers over 16 KB', path: scimPath, raw: (p: string) => `GET ${p} HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(17_000)}\r\n\r\n`, status: 431 },
    ];
    // Found by the fuzz campaign: a HEAD answer carries no body (a client would read it as the next answer).
    for (const path of [scimPath, '/admin/v1/tenants']) {
      const head = await rawExchange(port, `HEAD ${path}?x=${'a'.repeat(17_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
      assert.match(head, /^HTTP\/1\.1 431 /);
      assert.ok(head.endsWith('\r\n\r\n'), `no body after the headers of a HEAD answer: ${JSON.stringify(head.slice(-80))}`);
    }
    for (const c of cases) {
      for (const path of [c.path, '/admin/v1/tenants']) {
        const res = parseRaw(await rawExchange(port, c.raw(path)));
        assert.equal(res.status, c.status, `${c.name} ${path}: ${res.body}`);
        if (path.startsWith('/scim/')) {
          const problem = scimProblem({ status: res.status, headers: res.headers, body: res.body }, true);
          assert.equal(problem, undefined, `${c.name}: ${problem} ${res.body}`);
          if (res.status === 400) assert.equal(JSON.parse(res.body).scimType, 'invalidSyntax');
        } else {
          const b = JSON.parse(res.body);
          assert.equal(b.statusCode, c.status);
          assert.equal(b.code, c.status === 431 ? 'ERR_HEADERS_TOO_LARGE' : 'ERR_BAD_REQUEST', res.body);
          assert.match(res.headers['content-type'] ?? '', /^application\/json/);
        }
      }
    }
  });

  test('a client that disconnects mid-body is neither an error-level log line nor a database outage', async () => {
    logs.clear();
    const before503 = await t.app.inject({ method: 'GET', url: '/metrics' });
    const count503 = (m: string) => m.split('\n').filter((l) => l.startsWith('idpbridge_http_requests_total') && l.includes('status="503"'))
      .reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
    const start = count503(before503.body);
    for (let i = 0; i < 5; i++) {
      for (const path of [`/scim/v2/${t.tenantId}/Users`, '/admin/v1/tenants']) {
        const auth = path.startsWith('/scim/') ? `Bearer ${t.scimToken}` : `Bearer ${t.adminToken}`;
        await new Promise<void>((resolve) => {
          const c = net.connect(port, '127.0.0.1', () => {
            c.write(`POST ${path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: ${auth}\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{"userName": "half`);
            setTimeout(() => { c.destroy(); resolve(); }, 150);
          });
          c.on('error', () => resolve());
        });
      }
    }
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(logs.errors(), [], 'no error-level log line');
    assert.ok(logs.lines.some((l) => l.includes('request aborted by the client')), 'the abort is logged at info level');
    assert.ok(!logs.lines.some((l) => /database is unavailable|ERR_DATABASE_UNAVAILABLE/.test(l)), 'not logged as a database outage');
    const after503 = await t.app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(count503(after503.body), start, 'no 503 counted');
  });
});
