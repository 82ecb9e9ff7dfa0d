// Sign-in through the tenant's IdP in real Chromium: the host product sends the browser to
// /sso/{tenant}/login, the test IdP shows its login page, the user signs in, idpbridge's callback
// sends the browser back to the host product with a signed token. Also the guest password form.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { eachDatabase, startTestApp, type TestApp } from '../helpers/app.js';
import { ROOT } from '../helpers/process.js';
import { apis, seedTenant } from '../idp-tokens/helpers/setup.js';
import { startSsoTestOp, WEB_CLIENT_ID, WEB_CLIENT_SECRET, type SsoTestOp } from './helpers/op.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = join(ROOT, 'test-output/sso');
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI) throw new Error(`${CHROMIUM} is missing: under CI the sign-in browser test must run`);
const skip = haveChromium ? false : `chromium not found at ${CHROMIUM}`;

eachDatabase((kind) => {
  describe('sign-in in Chromium', { skip, timeout: 90_000 }, () => {
    let t: TestApp;
    let op: SsoTestOp;
    let base: string;
    let host: http.Server;
    let hostCb: string;
    let browser: Browser;
    let page: Page;
    const landed: URL[] = [];

    before(async () => {
      mkdirSync(SHOTS, { recursive: true });
      t = await startTestApp(kind, { accessCacheTtlMs: 0 });
      await t.app.listen({ host: '127.0.0.1', port: 0 });
      base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
      const api = apis(t);
      op = await startSsoTestOp();
      op.allowRedirect(`${base}/sso/${t.tenantId}/callback`);
      await api.ok('PUT', `/tenants/${t.tenantId}/oidc`, {
        provider: 'okta', issuer: op.issuer, discoveryUrl: op.discoveryUrl, audience: op.audience, clientId: WEB_CLIENT_ID, clientSecret: WEB_CLIENT_SECRET,
      });
      await seedTenant(api, t.tenantId, t.scimToken, {
        users: { alice: { userName: 'alice@acme.example', externalId: '00uALICE' } },
        groups: { Engineering: { members: ['alice'] } },
        datasets: { repo: 'ds-repo' },
        accessGroups: { Engineering: ['repo'] },
      });
      op.account('alice', 'alice-idp-pw', { uid: '00uALICE', email: 'alice@acme.example', groups: ['Engineering'] });

      // The host product: its sign-in callback shows who signed in.
      host = http.createServer((req, res) => {
        const u = new URL(req.url ?? '/', 'http://host');
        if (u.pathname !== '/auth/callback') {
          res.writeHead(404).end();
          return;
        }
        landed.push(u);
        const token = u.searchParams.get('token');
        const who = token ? JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).identity.userName : `error ${u.searchParams.get('error_code')}`;
        res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><title>Host product</title><h1>Signed in: ${who}</h1>`);
      });
      await new Promise<void>((r) => host.listen(0, '127.0.0.1', r));
      hostCb = `http://127.0.0.1:${(host.address() as AddressInfo).port}/auth/callback`;
      await api.ok('POST', `/tenants/${t.tenantId}/sso/redirect-uris`, { uri: hostCb });

      const { chromium } = await import('playwright-core');
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
          '--disable-component-update', '--disable-sync'],
      });
      page = await (await browser.newContext()).newPage();
      page.setDefaultTimeout(10_000);
    });

    after(async () => {
      await browser?.close();
      await t?.close();
      await op?.close();
      host?.closeAllConnections();
      await new Promise((r) => host?.close(r));
    });

    test('the user signs in at the IdP and lands in the host product with a verified token', async () => {
      await page.goto(`${base}/sso/${t.tenantId}/login?redirect_uri=${encodeURIComponent(hostCb)}&state=from-host-42`);
      await page.getByRole('heading', { name: 'Test IdP' }).waitFor();
      assert.ok(page.url().startsWith(`${op.issuer}/interaction/`), page.url());
      await page.getByLabel('Username').fill('alice');
      await page.getByLabel('Password').fill('wrong');
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByRole('alert').filter({ hasText: 'Wrong username or password' }).waitFor();
      await page.screenshot({ path: join(SHOTS, `${kind}-01-idp-login.png`) });
      await page.getByLabel('Username').fill('alice');
      await page.getByLabel('Password').fill('alice-idp-pw');
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByRole('heading', { name: 'Signed in: alice@acme.example' }).waitFor();
      await page.screenshot({ path: join(SHOTS, `${kind}-02-host-product.png`) });

      const u = landed.at(-1)!;
      assert.equal(u.searchParams.get('state'), 'from-host-42');
      const { payload } = await jwtVerify(u.searchParams.get('token')!, createRemoteJWKSet(new URL(`${base}/.well-known/jwks.json`)), { issuer: `${base}/sso/${t.tenantId}`, audience: hostCb });
      const p = payload as Record<string, any>;
      assert.equal(p.tenant, t.tenantId);
      assert.deepEqual(p.datasets.map((d: { name: string }) => d.name), ['repo']);
      assert.deepEqual(p.accessGroups.map((g: { name: string }) => g.name), ['Engineering']);

      // The IdP session is live now: a second sign-in goes straight through (no login page).
      await page.goto(`${base}/sso/${t.tenantId}/login?redirect_uri=${encodeURIComponent(hostCb)}&state=again`);
      await page.getByRole('heading', { name: 'Signed in: alice@acme.example' }).waitFor();
      assert.equal(landed.at(-1)!.searchParams.get('state'), 'again');
    });

    test('a guest signs in with the built-in password form', async () => {
      const api = apis(t);
      const guest = await api.ok('POST', `/tenants/${t.tenantId}/users`, { userName: 'guest@partner.example' });
      await api.ok('PUT', `/tenants/${t.tenantId}/users/${guest.id}/login-method`, { method: 'password', password: 'guest-password-0123' });
      await page.goto(`${base}/sso/${t.tenantId}/password-login?redirect_uri=${encodeURIComponent(hostCb)}&state=g1`);
      await page.getByLabel('User name').fill('guest@partner.example');
      await page.getByLabel('Password').fill('nope-nope-nope');
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByRole('alert').filter({ hasText: 'User name or password is wrong' }).waitFor();
      await page.getByLabel('Password').fill('guest-password-0123');
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByRole('heading', { name: 'Signed in: guest@partner.example' }).waitFor();
      await page.screenshot({ path: join(SHOTS, `${kind}-03-guest.png`) });
      assert.equal(landed.at(-1)!.searchParams.get('state'), 'g1');
    });
  });
});
