// AdminClient.createSetupLink against a running idpbridge: the host product makes a set-up link for
// its customer's IT admin and redirects them to it; the link opens a console session of that tenant.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { eachDatabase, startTestApp, type TestApp } from '../../../test/helpers/app.js';
import { AdminClient, IdpbridgeError } from '../src/index.js';

eachDatabase((kind) => {
  let t: TestApp;
  let base: string;
  let admin: AdminClient;
  before(async () => {
    t = await startTestApp(kind);
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    admin = new AdminClient({ baseUrl: base, adminToken: t.adminToken });
  });
  after(async () => { await t?.close(); });

  test(`[${kind}] createSetupLink: a url that opens the console for that tenant; listed and revoked through request()`, async () => {
    const link = await admin.createSetupLink(t.tenantId, { expiresInDays: 3 });
    assert.ok(link.url!.startsWith(`${base}/console/#/setup/${t.tenantId}/idpb_setup_`), link.url);
    assert.ok(Math.abs(Date.parse(link.expiresAt!) - (Date.now() + 3 * 86_400_000)) < 60_000);
    const [tenantId, secret] = link.url!.split('#/setup/')[1]!.split('/');
    const opened = await fetch(`${base}/console/api/setup-session`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenantId, secret }),
    });
    assert.equal(opened.status, 200);
    assert.equal(((await opened.json()) as { principal: { tenantId: string } }).principal.tenantId, t.tenantId);

    const listed = await admin.request('get', '/tenants/{tenantId}/setup-links', { path: { tenantId: t.tenantId } });
    assert.deepEqual(listed.setupLinks!.map((l) => l.id), [link.id]);
    await admin.request('delete', '/tenants/{tenantId}/setup-links/{linkId}', { path: { tenantId: t.tenantId, linkId: link.id! } });
    assert.equal((await admin.request('get', '/tenants/{tenantId}/setup-links', { path: { tenantId: t.tenantId } })).setupLinks![0]!.status, 'revoked');
    await assert.rejects(admin.createSetupLink(t.tenantId, { expiresInDays: 90 }), (e: unknown) => e instanceof IdpbridgeError && e.status === 400);
  });
});
