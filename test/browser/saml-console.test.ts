// The console's SAML sign-in page in real Chromium, as an IT admin uses it: create a SAML connection
// by pasting a real IdP's metadata (samlify in IdP mode, served on 127.0.0.1), copy the ACS URL and
// Entity ID the page shows (copy buttons, read back from the clipboard) into the IdP, then
// "Sign in to test": a new tab goes through the SP-initiated sign-in (AuthnRequest → the IdP's page →
// the signed response POSTed to the ACS URL) and both tabs show the identity idpbridge resolved.
// axe-core finds no serious or critical violation on the list, the connection and the result.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { eachDatabase, startTestApp, type TestApp } from '../helpers/app.js';
import { axeViolations } from '../helpers/axe.js';
import { browserSkip, ensureConsoleBuilt, launchChromium } from '../helpers/browser.js';
import { ROOT } from '../helpers/process.js';
import { apis, seedTenant } from '../idp-tokens/helpers/setup.js';
import { TestSamlIdp } from '../sso/saml/helpers/idp.js';

const skip = browserSkip('the console SAML page test');
// The SAML guides' screenshots (img/saml-*.png), as in guide-screenshots.test.ts: committed images
// change only with UPDATE_GUIDE_SCREENSHOTS=1, otherwise they go to test-output/.
const IMG = process.env.UPDATE_GUIDE_SCREENSHOTS === '1' ? join(ROOT, 'docs/guides/img') : join(ROOT, 'test-output/guide-img');
const SAML_GUIDES = ['docs/guides/entra-id-saml.md', 'docs/guides/okta-saml.md'].map((g) => join(ROOT, g));

/** The SP as an IdP admin types it in (Entity ID and ACS URL, nothing else): what the test IdP works from. */
const spFromCopiedValues = (entityId: string, acsUrl: string) => `<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="${entityId}">
<SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" AuthnRequestsSigned="false" WantAssertionsSigned="true">
<AssertionConsumerService index="0" isDefault="true" Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${acsUrl}"/>
</SPSSODescriptor></EntityDescriptor>`;

eachDatabase((kind) => {
  describe('console: SAML sign-in page', { skip, timeout: 240_000 }, () => {
    let t: TestApp;
    let base = '';
    let idpServer: http.Server;
    let idp: TestSamlIdp;
    /** Set once the admin has copied the SP values into the IdP; until then the IdP knows no SP. */
    let spConfig: string | undefined;
    let browser: Browser;
    let ctx: BrowserContext;
    let page: Page;
    const problems: string[] = [];
    const written = new Set<string>();
    /** A guide screenshot of one part of the page (taken on one database only). */
    const shot = async (name: string, target: Locator) => {
      if (kind !== 'pglite') return;
      mkdirSync(IMG, { recursive: true });
      await target.screenshot({ path: join(IMG, `${name}.png`), animations: 'disabled' });
      written.add(`${name}.png`);
    };
    const card = (heading: RegExp) => page.locator('section.card').filter({ has: page.getByRole('heading', { name: heading }) });
    const watch = (p: Page) => {
      p.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
      p.on('response', (r) => { if (r.status() >= 500) problems.push(`HTTP ${r.status()} ${r.request().method()} ${r.url()}`); });
    };

    before(async () => {
      ensureConsoleBuilt();
      t = await startTestApp(kind, { accessCacheTtlMs: 0 });
      await t.app.listen({ host: '127.0.0.1', port: 0 });
      base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
      const api = apis(t);
      await seedTenant(api, t.tenantId, t.scimToken, {
        users: { adele: { userName: 'adele.vance@contoso.example', externalId: 'oid-adele' } },
        groups: { Finance: { members: ['adele'] } },
        datasets: { 'Payroll reports': 'ds-payroll' },
        accessGroups: { Finance: ['Payroll reports'] },
      });

      // The IdP's sign-in page: reads the AuthnRequest, answers with a form that POSTs the signed response.
      idpServer = http.createServer((req, res) => {
        void (async () => {
          const u = new URL(req.url ?? '/', `http://${req.headers.host}`);
          if (u.pathname !== '/saml/sso') return res.writeHead(404).end();
          if (!spConfig) return res.writeHead(400, { 'content-type': 'text/plain' }).end('this IdP has no application for that SP yet');
          const request = await idp.parseRequest(spConfig, u.href);
          const saml = await idp.response(spConfig, { inResponseTo: request.id, nameId: 'adele.vance@contoso.example' });
          const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
          res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><html lang="en"><title>Test SAML IdP</title>
<h1>Test SAML IdP</h1><form method="post" action="${esc(request.acsUrl ?? '')}">
<input type="hidden" name="SAMLResponse" value="${esc(saml)}"><input type="hidden" name="RelayState" value="${esc(request.relayState)}">
<button type="submit">Continue</button></form></html>`);
        })().catch((err: Error) => res.writeHead(500).end(err.message));
      });
      await new Promise<void>((r) => idpServer.listen(0, '127.0.0.1', r));
      idp = new TestSamlIdp({ ssoUrl: `http://127.0.0.1:${(idpServer.address() as AddressInfo).port}/saml/sso` });

      browser = await launchChromium();
      ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
      page = await ctx.newPage();
      page.setDefaultTimeout(20_000);
      watch(page);
    });

    after(async () => {
      await browser?.close();
      await t?.close();
      idpServer?.closeAllConnections();
      await new Promise((r) => idpServer?.close(r));
    });

    /** Clicks the copy button next to a field and returns what reached the clipboard. */
    const copied = async (label: string) => {
      await page.getByRole('button', { name: `Copy ${label}` }).click();
      await page.getByText(`${label} copied to the clipboard`).waitFor({ state: 'attached' });
      return page.evaluate<string>('navigator.clipboard.readText()');
    };

    test('create a connection by pasting metadata, copy the values into the IdP, sign in to test', async () => {
      await page.goto(`${base}/console/`);
      await page.getByRole('tab', { name: 'Operator' }).click();
      await page.getByLabel('Operator token').fill(t.adminToken);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByRole('heading', { name: 'Tenants', level: 1 }).waitFor();
      await page.goto(`${base}/console/#/t/${t.tenantId}/integration`);
      await page.getByRole('link', { name: 'SAML sign-in' }).click();
      await page.getByRole('heading', { name: 'SAML sign-in', level: 1 }).waitFor();
      await page.getByText('No sign-in connection yet').waitFor();
      assert.deepEqual(await axeViolations(page), [], 'axe on the empty SAML page');

      // Bad metadata is refused in plain words and creates nothing.
      await page.getByLabel('Name').first().fill('Contoso SAML');
      await page.getByRole('textbox', { name: 'Metadata XML' }).fill('<html>not metadata</html>');
      await page.getByRole('button', { name: 'Create SAML connection' }).click();
      await page.getByText(/IdP metadata:/).waitFor();
      assert.equal((await apis(t).ok('GET', `/tenants/${t.tenantId}/connections`)).length, 0);

      await page.getByRole('textbox', { name: 'Metadata XML' }).fill(idp.metadata());
      await page.getByLabel('E-mail domains (optional)').fill('contoso.example');
      await page.getByRole('button', { name: 'Create SAML connection' }).click();
      await page.getByRole('heading', { name: /Give your IdP these values: Contoso SAML/ }).waitFor();
      const [conn] = await apis(t).ok('GET', `/tenants/${t.tenantId}/connections`) as { id: string; domains: string[]; saml: { ready: boolean; allowIdpInitiated: boolean; jitProvisioning: boolean } }[];
      assert.ok(conn);
      assert.equal(conn.saml.ready, true);
      assert.deepEqual(conn.domains, ['contoso.example']);
      assert.equal(conn.saml.allowIdpInitiated, false);
      assert.equal(conn.saml.jitProvisioning, false);
      assert.match(await page.getByTestId('saml-idp').innerText(), /https:\/\/idp\.test\.example\/saml/);

      // The IT admin copies the two values into the IdP's application.
      const acsUrl = await copied('ACS URL (Reply URL, HTTP-POST)');
      const entityId = await copied('Entity ID (Identifier, Audience URI)');
      assert.equal(acsUrl, `${base}/sso/saml/${t.tenantId}/${conn.id}/acs`);
      assert.equal(entityId, `${base}/sso/saml/${t.tenantId}/${conn.id}`);
      assert.equal(await page.getByTestId('saml-metadata-url').inputValue(), `${entityId}/metadata`);
      spConfig = spFromCopiedValues(entityId, acsUrl);
      // "Copied ✓" shows for 2.5 s under the button's "Copy …" name (ui.tsx CopyButton): axe runs after it.
      while (await page.locator('.copy-row button', { hasText: 'Copied' }).count() > 0) await page.waitForTimeout(200);
      await shot('saml-values', card(/Give your IdP these values/));
      await shot('saml-idp-settings', card(/The IdP's metadata and options/));
      assert.deepEqual(await axeViolations(page), [], 'axe on the connection page');

      // Sign in to test: a new tab signs in at the IdP and lands back in the console.
      const [tab] = await Promise.all([ctx.waitForEvent('page'), page.getByRole('button', { name: 'Sign in to test' }).click()]);
      watch(tab);
      await tab.getByRole('heading', { name: 'Test SAML IdP' }).waitFor();
      await tab.getByRole('button', { name: 'Continue' }).click();
      await tab.getByRole('heading', { name: 'Sign-in test' }).waitFor();
      await tab.getByTestId('sign-in-test-user').waitFor();
      assert.equal(await tab.getByTestId('sign-in-test-user').innerText(), 'adele.vance@contoso.example');
      assert.doesNotMatch(tab.url(), /token=/, 'the landing drops the token from the address bar');
      assert.deepEqual(await axeViolations(tab), [], 'axe on the sign-in test result tab');

      // The console tab that started it shows the same result.
      const result = page.getByTestId('sign-in-test-result');
      await result.waitFor();
      assert.equal(await page.getByTestId('sign-in-test-user').innerText(), 'adele.vance@contoso.example');
      assert.equal(await page.getByTestId('sign-in-test-datasets').innerText(), 'Payroll reports');
      assert.match(await result.innerText(), /Finance/);
      assert.ok((await apis(t).ok('GET', `/tenants/${t.tenantId}/sso/redirect-uris`)).redirectUris.some((r: { uri: string }) => r.uri === `${base}/console/?sign-in-test=1`));
      assert.deepEqual(await axeViolations(page), [], 'axe on the connection page with a result');
      await shot('saml-test-result', card(/Sign in to test/));

      // A landing URL this console never started shows nothing as a result.
      const stray = await ctx.newPage();
      await stray.goto(`${base}/console/?sign-in-test=1&state=forged&token=a.${Buffer.from('{"identity":{"userName":"mallory"}}').toString('base64url')}.c`);
      await stray.getByText('This sign-in was not started from this console').waitFor();
      assert.equal(await stray.getByText('mallory').count(), 0);

      // Options are saved with the connection; the list shows it ready.
      await page.getByLabel('Allow IdP-initiated sign-in').check();
      await page.getByLabel('Just-in-time provisioning').check();
      await page.getByRole('button', { name: 'Save connection' }).click();
      await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
      const saved = await apis(t).ok('GET', `/tenants/${t.tenantId}/connections/${conn.id}`);
      assert.equal(saved.saml.allowIdpInitiated, true);
      assert.equal(saved.saml.jitProvisioning, true);
      assert.equal(saved.saml.idpCertificates, 1, 'saving without new metadata keeps the IdP settings');
      await page.getByRole('link', { name: '← All connections' }).click();
      const row = page.getByTestId('connections-table').getByRole('row', { name: /Contoso SAML/ });
      await row.getByText('Ready').waitFor();
      assert.deepEqual(problems, []);
      if (kind === 'pglite') {
        const referenced = SAML_GUIDES.flatMap((g) => [...readFileSync(g, 'utf8').matchAll(/\(img\/(saml-[\w-]+\.png)\)/g)].map((m) => m[1]!));
        assert.ok(referenced.length >= 3);
        for (const img of referenced) assert.ok(written.has(img), `${img} is in a SAML guide but no test takes it`);
      }
    });
  });
});
