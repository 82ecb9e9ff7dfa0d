// Set-up links (PRODUCT.md "Interfaces"): POST/GET/DELETE /admin/v1/tenants/{id}/setup-links. The
// secret is in the url of the creation answer only and stored hashed; opening the link gives a
// console session of that tenant only (never operator routes, never another tenant), CSRF-bound
// like every console session; expired, revoked and other-tenant links are refused.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { eachDatabase, startTestApp, type TestApp } from '../helpers/app.js';
import { client, type Client } from './helpers.js';

const DAY = 24 * 60 * 60 * 1000;

eachDatabase((kind) => {
  let t: TestApp;
  let other: { tenantId: string };
  before(async () => {
    t = await startTestApp(kind);
    other = await t.newTenant('Other org');
  });
  after(async () => { await t.close(); });
  const admin = (method: string, url: string, payload?: unknown) =>
    t.app.inject({ method: method as 'GET', url: `/admin/v1${url}`, headers: { authorization: `Bearer ${t.adminToken}` }, payload: payload as object });
  const links = (tenantId: string) => `/tenants/${tenantId}/setup-links`;
  /** The tenant and secret from a link's url (…/console/#/setup/<tenantId>/<secret>). */
  const partsOf = (url: string) => {
    const m = /\/console\/#\/setup\/([0-9a-f-]{36})\/(idpb_setup_[A-Za-z0-9_-]+)$/.exec(url);
    assert.ok(m, url);
    return { tenantId: m[1]!, secret: m[2]! };
  };
  const open = async (tenantId: string, secret: string): Promise<{ c: Client; status: number; body: string }> => {
    const c = client(t.app);
    const r = await c.req('POST', '/console/api/setup-session', { tenantId, secret }, { csrf: false });
    return { c, status: r.statusCode, body: r.body };
  };

  test(`[${kind}] create: 201 with url and 7-day default; listed without secret; stored hashed`, async () => {
    const before = Date.now();
    const r = await admin('POST', links(t.tenantId));
    assert.equal(r.statusCode, 201, r.body);
    assert.equal(r.headers['cache-control'], 'no-store');
    const link = r.json();
    const { tenantId, secret } = partsOf(link.url);
    assert.equal(tenantId, t.tenantId);
    const expires = Date.parse(link.expiresAt);
    assert.ok(Math.abs(expires - (before + 7 * DAY)) < 60_000, link.expiresAt);
    assert.equal(link.status, 'active');

    const list = await admin('GET', links(t.tenantId));
    assert.equal(list.statusCode, 200);
    assert.equal(list.json().setupLinks.length, 1);
    assert.ok(!list.body.includes(secret));
    assert.equal(list.json().setupLinks[0].url, undefined);
    const { rows } = await t.db.query<{ secret_hash: string }>('SELECT secret_hash FROM setup_links WHERE tenant_id = $1', [t.tenantId]);
    assert.equal(rows.length, 1);
    assert.ok(!rows[0]!.secret_hash.includes(secret) && rows[0]!.secret_hash.length === 64);

    const custom = await admin('POST', links(t.tenantId), { expiresInDays: 2 });
    assert.ok(Math.abs(Date.parse(custom.json().expiresAt) - (Date.now() + 2 * DAY)) < 60_000);
    for (const body of [{ expiresInDays: 31 }, { expiresAt: new Date(Date.now() - 1000).toISOString() },
      { expiresAt: new Date(Date.now() + 40 * DAY).toISOString() }, { expiresInDays: 1, expiresAt: new Date(Date.now() + DAY).toISOString() }, { secret: 'x' }]) {
      const bad = await admin('POST', links(t.tenantId), body);
      assert.equal(bad.statusCode, 400, `${JSON.stringify(body)} → ${bad.statusCode}`);
    }
    assert.equal((await admin('GET', links(t.tenantId))).json().setupLinks.length, 2, 'refused requests created nothing');
    assert.equal((await admin('POST', links('00000000-0000-4000-8000-000000000000'))).statusCode, 404);
  });

  test(`[${kind}] opening the link: a console session of that tenant only, CSRF-bound`, async () => {
    const link = (await admin('POST', links(t.tenantId))).json();
    const { tenantId, secret } = partsOf(link.url);
    const { c, status, body } = await open(tenantId, secret);
    assert.equal(status, 200, body);
    const who = (await c.req('GET', '/console/api/session')).json().principal;
    assert.equal(who.kind, 'tenant_admin');
    assert.equal(who.tenantId, t.tenantId);
    assert.equal(who.setupLink, true);

    // Its own tenant: reads and (with the CSRF token) writes work.
    assert.equal((await c.req('GET', `/admin/v1/tenants/${t.tenantId}/scim-tokens`)).statusCode, 200);
    const noCsrf = await c.req('POST', `/admin/v1/tenants/${t.tenantId}/scim-tokens`, { name: 'Entra' }, { csrf: false });
    assert.equal(noCsrf.statusCode, 403);
    assert.equal(noCsrf.json().code, 'ERR_CSRF');
    const wrongCsrf = await c.req('POST', `/admin/v1/tenants/${t.tenantId}/scim-tokens`, { name: 'Entra' }, { csrf: 'not-the-token' });
    assert.equal(wrongCsrf.statusCode, 403);
    const made = await c.req('POST', `/admin/v1/tenants/${t.tenantId}/scim-tokens`, { name: 'Entra' });
    assert.equal(made.statusCode, 201, made.body);

    // Never operator routes, never another tenant, never set-up links or console accounts.
    for (const [method, url] of [
      ['GET', '/admin/v1/tenants'], ['POST', '/admin/v1/tenants'], ['GET', `/admin/v1/tenants/${other.tenantId}/scim-tokens`],
      ['GET', `/admin/v1/tenants/${other.tenantId}`], ['DELETE', `/admin/v1/tenants/${t.tenantId}`],
      ['GET', `/admin/v1/tenants/${t.tenantId}/setup-links`], ['POST', `/admin/v1/tenants/${t.tenantId}/setup-links`],
      ['GET', `/admin/v1/tenants/${t.tenantId}/console-accounts`],
    ] as const) {
      const r = await c.req(method, url, method === 'POST' ? {} : undefined);
      assert.equal(r.statusCode, 403, `${method} ${url} → ${r.statusCode} ${r.body}`);
    }
    assert.ok((await admin('GET', links(t.tenantId))).json().setupLinks.some((l: { id: string; lastUsedAt: string | null }) => l.id === link.id && l.lastUsedAt));
  });

  test(`[${kind}] other-tenant, unknown, expired and revoked links are refused; revoking ends the sessions`, async () => {
    const link = (await admin('POST', links(t.tenantId))).json();
    const { secret } = partsOf(link.url);
    const elsewhere = await open(other.tenantId, secret);
    assert.equal(elsewhere.status, 401);
    assert.equal(JSON.parse(elsewhere.body).code, 'ERR_SETUP_LINK_INVALID');
    assert.equal((await open(t.tenantId, `${secret}x`)).status, 401);
    assert.equal((await open(t.tenantId, 'idpb_scim_whatever')).status, 401);

    const { c, status } = await open(t.tenantId, secret);
    assert.equal(status, 200);
    assert.equal((await c.req('GET', `/admin/v1/tenants/${t.tenantId}/scim-tokens`)).statusCode, 200);
    assert.equal((await admin('DELETE', `${links(t.tenantId)}/${link.id}`)).statusCode, 204);
    assert.equal((await c.req('GET', `/admin/v1/tenants/${t.tenantId}/scim-tokens`)).statusCode, 401, 'the open session ended with the link');
    assert.equal((await open(t.tenantId, secret)).status, 401);
    const listed = (await admin('GET', links(t.tenantId))).json().setupLinks.find((l: { id: string }) => l.id === link.id);
    assert.equal(listed.status, 'revoked');
    assert.equal((await admin('DELETE', `${links(other.tenantId)}/${link.id}`)).statusCode, 404, 'not revocable through another tenant');
    assert.equal((await admin('DELETE', `${links(t.tenantId)}/00000000-0000-4000-8000-000000000000`)).statusCode, 404);

    // Expiry: a link (and a session it opened) stops at expires_at.
    const soon = (await admin('POST', links(t.tenantId), { expiresInDays: 1 })).json();
    const s = partsOf(soon.url);
    const opened = await open(t.tenantId, s.secret);
    assert.equal(opened.status, 200);
    await t.db.query(`UPDATE setup_links SET expires_at = now() - interval '1 second' WHERE tenant_id = $1 AND id = $2`, [t.tenantId, soon.id]);
    assert.equal((await opened.c.req('GET', `/admin/v1/tenants/${t.tenantId}/scim-tokens`)).statusCode, 401);
    assert.equal((await open(t.tenantId, s.secret)).status, 401);
    assert.equal((await admin('GET', links(t.tenantId))).json().setupLinks.find((l: { id: string }) => l.id === soon.id).status, 'expired');
  });
});
