// One SP-initiated SAML sign-in end to end in real Chromium: the host product's sign-in button goes
// to GET /sso/login?email=… (routing by verified domain), idpbridge sends the browser to the SAML IdP
// (samlify, served on 127.0.0.1) with a Redirect-binding AuthnRequest, the IdP's page POSTs the
// signed response to the ACS URL, and the browser lands in the host product with an idpbridge token.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { eachDatabase, startTestApp, type TestApp } from '../../helpers/app.js';
import { browserSkip, launchChromium } from '../../helpers/browser.js';
import { apis, seedTenant } from '../../idp-tokens/helpers/setup.js';
import { TestSamlIdp } from './helpers/idp.js';

const skip = browserSkip('the SAML sign-in browser test');
// Verified domains are unique across the database (which PostgreSQL runs keep): each run uses its own.
const DOMAIN = `saml-browser-${randomBytes(4).toString('hex')}.example`;

eachDatabase((kind) => {
  describe('SAML sign-in in Chromium', { skip, timeout: 120_000 }, () => {
    let t: TestApp;
    let base: string;
    let idpServer: http.Server;
    let host: http.Server;
    let hostCb: string;
    let browser: Browser;
    let page: Page;
    let idp: TestSamlIdp;
    let spMetadata = '';
    let users: Record<string, string>;

    before(async () => {
      t = await startTestApp(kind, { accessCacheTtlMs: 0 });
      await t.app.listen({ host: '127.0.0.1', port: 0 });
      base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
      const api = apis(t);
      ({ users } = await seedTenant(api, t.tenantId, t.scimToken, { users: { alice: { userName: `alice@${DOMAIN}` } } }));

      // The IdP: its SSO endpoint reads the AuthnRequest and answers with a page that POSTs the signed response.
      idpServer = http.createServer((req, res) => {
        void (async () => {
          const u = new URL(req.url ?? '/', `http://${req.headers.host}`);
          if (u.pathname !== '/saml/sso') return res.writeHead(404).end();
          const request = await idp.parseRequest(spMetadata, u.href);
          const saml = await idp.response(spMetadata, { inResponseTo: request.id, nameId: `alice@${DOMAIN}` });
          const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
          res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><title>Test SAML IdP</title>
<h1>Test SAML IdP</h1><form method="post" action="${esc(request.acsUrl!)}">
<input type="hidden" name="SAMLResponse" value="${esc(saml)}"><input type="hidden" name="RelayState" value="${esc(request.relayState)}">
<button type="submit">Continue</button></form>`);
        })().catch((err: Error) => res.writeHead(500).end(err.message));
      });
      await new Promise<void>((r) => idpServer.listen(0, '127.0.0.1', r));
      idp = new TestSamlIdp({ ssoUrl: `http://127.0.0.1:${(idpServer.address() as AddressInfo).port}/saml/sso` });

      host = http.createServer((req, res) => {
        const u = new URL(req.url ?? '/', 'http://host');
        const token = u.searchParams.get('token');
        const who = token ? JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).identity.userName : `error ${u.searchParams.get('error_code')}`;
        res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><title>Host product</title><h1>Signed in: ${who}</h1>`);
      });
      await new Promise<void>((r) => host.listen(0, '127.0.0.1', r));
      hostCb = `http://127.0.0.1:${(host.address() as AddressInfo).port}/auth/callback`;
      await api.ok('POST', `/tenants/${t.tenantId}/sso/redirect-uris`, { uri: hostCb });

      const created = await api.ok('POST', `/tenants/${t.tenantId}/connections`, { type: 'saml', name: 'SAML', idpMetadataXml: idp.metadata() });
      spMetadata = await (await fetch(`${base}/sso/saml/${t.tenantId}/${created.id}/metadata`)).text();
      // The domain is the tenant's (verified here directly: DNS verification has its own test).
      await api.ok('POST', `/tenants/${t.tenantId}/domains`, { domain: DOMAIN });
      await t.db.query('UPDATE sso_domains SET verified_at = now() WHERE tenant_id = $1', [t.tenantId]);

      browser = await launchChromium();
      page = await (await browser.newContext()).newPage();
      page.setDefaultTimeout(20_000);
    });

    after(async () => {
      await browser?.close();
      await t?.close();
      for (const s of [idpServer, host]) {
        s?.closeAllConnections();
        await new Promise((r) => s?.close(r));
      }
    });

    test('sign-in button → IdP → ACS → host product with a token', async () => {
      await page.goto(`${base}/sso/login?email=${encodeURIComponent(`alice@${DOMAIN}`)}&redirect_uri=${encodeURIComponent(hostCb)}&state=b1`);
      await page.getByRole('heading', { name: 'Test SAML IdP' }).waitFor();
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.getByRole('heading', { name: `Signed in: alice@${DOMAIN}` }).waitFor();
      const landed = new URL(page.url());
      assert.equal(`${landed.origin}${landed.pathname}`, hostCb);
      assert.equal(landed.searchParams.get('state'), 'b1');
      const claims = JSON.parse(Buffer.from(landed.searchParams.get('token')!.split('.')[1]!, 'base64url').toString());
      assert.equal(claims.sub, users.alice);
      assert.equal(claims.iss, `${base}/sso/${t.tenantId}`);
    });
  });
});
