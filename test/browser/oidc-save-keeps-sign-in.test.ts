// Issue 19's bug, in real Chromium: a tenant with working sign-in (OIDC configuration with client id,
// client secret and a redirect URI) opens IdP integration and clicks "Save OIDC settings". Saving
// the token-verification form must not drop what it does not show: the sign-in client and the
// stored verification fields stay, and `GET …/sso` still says ready.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { ADMIN_TOKEN, openTestDatabase, testConfig } from '../helpers/app.js';
import { browserSkip, ensureConsoleBuilt, launchChromium } from '../helpers/browser.js';

const skip = browserSkip('the OIDC save browser test');

describe('console: saving OIDC settings keeps sign-in ready', { skip, timeout: 240_000 }, () => {
  let app: FastifyInstance;
  let base: string;
  let browser: Browser;
  let page: Page;
  let tenantId = '';
  const problems: string[] = [];
  const admin = async (method: string, url: string, payload?: unknown) => {
    const r = await app.inject({ method: method as 'GET', url: `/admin/v1${url}`, headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, payload: payload as object });
    assert.ok(r.statusCode < 300, `${method} ${url} → ${r.statusCode} ${r.body}`);
    return r.json();
  };

  before(async () => {
    ensureConsoleBuilt();
    const db = await openTestDatabase('pglite');
    ({ app } = await buildApp({ config: testConfig(), db, logger: false, skipMigrations: true }));
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    tenantId = (await admin('POST', '/tenants', { name: 'Sign-in ready Ltd' })).id;
    await admin('PUT', `/tenants/${tenantId}/oidc`, {
      provider: 'entra', issuer: 'https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0',
      audience: ['api://contoso-app'], additionalIssuers: ['https://issuer.contoso.example/'], clockToleranceSeconds: 30,
      jwksUri: 'https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/discovery/v2.0/keys?appid=abc',
      clientId: '11111111-2222-4333-8444-555555555555', clientSecret: 'entra-client-secret-value',
    });
    await admin('POST', `/tenants/${tenantId}/sso/redirect-uris`, { uri: 'https://app.contoso.example/callback' });
    assert.equal((await admin('GET', `/tenants/${tenantId}/sso`)).ready, true);
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 860 } })).newPage();
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('response', (r) => { if (r.status() >= 500) problems.push(`HTTP ${r.status()} ${r.url()}`); });
  });

  after(async () => {
    await browser?.close();
    await app?.close();
  });

  test('Save OIDC settings, changing only the audience: sign-in stays ready, nothing hidden is dropped', async () => {
    await page.goto(`${base}/console/`);
    await page.getByRole('tab', { name: 'Operator' }).click();
    await page.getByLabel('Operator token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Tenants', level: 1 }).waitFor();
    await page.goto(`${base}/console/#/t/${tenantId}/integration`);
    const audience = page.getByLabel('IdP token audience');
    await audience.waitFor();
    assert.equal(await audience.inputValue(), 'api://contoso-app');
    await audience.fill('api://contoso-app, 11111111-2222-4333-8444-555555555555');
    await page.getByRole('button', { name: 'Save OIDC settings' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();

    const sso = await admin('GET', `/tenants/${tenantId}/sso`);
    assert.equal(sso.ready, true, JSON.stringify(sso));
    assert.equal(sso.clientId, '11111111-2222-4333-8444-555555555555');
    assert.equal(sso.clientSecretSet, true);
    const oidc = await admin('GET', `/tenants/${tenantId}/oidc`);
    assert.deepEqual(oidc.audiences, ['api://contoso-app', '11111111-2222-4333-8444-555555555555']);
    assert.deepEqual(oidc.additionalIssuers, ['https://issuer.contoso.example/']);
    assert.equal(oidc.clockToleranceSeconds, 30);
    assert.match(oidc.jwksUri, /appid=abc$/);
    assert.equal(oidc.version, 2);
    assert.deepEqual(problems, []);
  });
});
