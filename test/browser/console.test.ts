// The console in real Chromium (Debian's, driven by playwright-core) against the real server on a
// socket: sign in, create a tenant, generate a SCIM token and provision with it, see the user and
// the group link, regenerate the token and see the old one refused. Screenshots of every page go
// to test-output/console/ for a reviewer.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { buildApp } from '../../src/app.js';
import { ADMIN_TOKEN, openTestDatabase, testConfig } from '../helpers/app.js';
import { ROOT } from '../helpers/process.js';
import { browserSkip, ensureConsoleBuilt, launchChromium } from '../helpers/browser.js';
import type { FastifyInstance } from 'fastify';

// Browser globals inside page.evaluate callbacks (the root tsconfig has no DOM lib; these stay local to this module).
declare const document: {
  documentElement: { scrollWidth: number };
  activeElement: { id: string; textContent: string | null } | null;
  querySelector(selector: string): { textContent: string | null } | null;
};
declare const window: { innerWidth: number };

const SHOTS = join(ROOT, 'test-output/console');
const skip = browserSkip('the console browser test');

describe('console in Chromium', { skip, timeout: 90_000 }, () => {
  let app: FastifyInstance;
  let base: string;
  let browser: Browser;
  let ctx: BrowserContext;
  let page: Page;
  const problems: string[] = [];

  const shot = async (name: string, p: Page = page) => {
    await p.waitForTimeout(50);
    await p.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  };
  const watch = (p: Page) => {
    p.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    p.on('console', (m) => {
      // 4xx answers are logged by Chromium as resource errors and are part of the flows (not signed in
      // yet, no OIDC configuration yet, a refused route); CSP violations and React errors are not.
      if (m.type() === 'error' && !/^Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())) problems.push(`console: ${m.text()}`);
    });
    p.on('response', (r) => { if (r.status() >= 500) problems.push(`HTTP ${r.status()} ${r.request().method()} ${r.url()}`); });
  };

  before(async () => {
    ensureConsoleBuilt();
    mkdirSync(SHOTS, { recursive: true });
    const db = await openTestDatabase('pglite');
    ({ app } = await buildApp({ config: testConfig(), db, logger: false, skipMigrations: true }));
    await app.listen({ host: '127.0.0.1', port: 0 });
    const addr = app.server.address() as { port: number };
    base = `http://127.0.0.1:${addr.port}`;
    browser = await launchChromium();
    ctx = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    page = await ctx.newPage();
    page.setDefaultTimeout(10_000);
    watch(page);
  });

  after(async () => {
    await browser?.close();
    await app?.close();
  });

  let tenantId = '';
  let scimBaseUrl = '';
  let firstToken = '';
  let secondToken = '';
  const scim = (token: string, method: string, path: string, body?: unknown) => fetch(`${scimBaseUrl}${path}`, {
    method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' }, body: body === undefined ? undefined : JSON.stringify(body),
  });

  test('sign in with the operator token', async () => {
    await page.goto(`${base}/console/`);
    await page.getByRole('heading', { name: 'Sign in to the console' }).waitFor();
    await shot('01-sign-in');
    await page.getByRole('tab', { name: 'Operator' }).click();
    await page.getByLabel('Operator token').fill('idpb_admin_wrong');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'operator token is not valid' }).waitFor();
    await page.getByLabel('Operator token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Tenants', level: 1 }).waitFor();
    await page.getByText('No tenants yet').waitFor();
    await shot('02-tenants-empty');
  });

  test('create a tenant and generate a secret token', async () => {
    await page.getByLabel('Organisation name').fill('Contoso Ltd');
    await page.getByRole('button', { name: 'Create tenant' }).click();
    await page.getByRole('heading', { name: 'IdP integration' }).waitFor();
    tenantId = /#\/t\/([0-9a-f-]{36})\//.exec(page.url())![1]!;
    scimBaseUrl = await page.getByTestId('scim-base-url').inputValue();
    assert.equal(scimBaseUrl, `${base}/scim/v2/${tenantId}`);
    await page.getByText('No active secret token').waitFor();
    await page.getByLabel('Token name').fill('Entra provisioning');
    await page.getByRole('button', { name: 'Generate secret token' }).click();
    await page.getByText('It is shown only once').waitFor();
    firstToken = await page.getByTestId('secret-value').inputValue();
    assert.match(firstToken, /^idpb_scim_/);
    await shot('03-integration-token-shown');
    await page.getByRole('button', { name: 'I have copied it' }).click();
    await page.getByTestId('tokens-table').getByText('Entra provisioning').waitFor();
  });

  test('a real SCIM request with that token provisions a user who appears in the console', async () => {
    // Entra's connection test, then a user and a group
    const probe = await scim(firstToken, 'GET', `/Users?filter=${encodeURIComponent('userName eq "probe-1234"')}`);
    assert.equal(probe.status, 200);
    const u = await scim(firstToken, 'POST', '/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'adele.vance@contoso.example', displayName: 'Adele Vance',
      emails: [{ value: 'adele.vance@contoso.example', type: 'work', primary: true }], active: true,
    });
    assert.equal(u.status, 201, await u.clone().text());
    const user = await u.json() as { id: string };
    const g = await scim(firstToken, 'POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Engineering', members: [{ value: user.id }] });
    assert.equal(g.status, 201);

    await page.getByRole('link', { name: 'Users', exact: true }).click();
    await page.getByTestId('users-table').getByRole('link', { name: 'adele.vance@contoso.example' }).waitFor();
    await page.getByTestId('users-table').getByText('Provisioned · read-only').waitFor();
    await shot('04-users');

    await page.getByRole('searchbox', { name: 'Search users' }).fill('nobody-here');
    await page.getByText('No user matches “nobody-here”').waitFor();
    await page.getByRole('searchbox', { name: 'Search users' }).fill('adele');
    await page.getByTestId('users-table').getByRole('link', { name: 'adele.vance@contoso.example' }).click();
    await page.getByRole('heading', { name: 'Adele Vance' }).waitFor();
    await page.getByText('its fields are read-only here').waitFor();
    await shot('05-user-detail');
  });

  test('groups: the IdP group is shown, not yet linked', async () => {
    await page.getByRole('link', { name: 'Groups', exact: true }).click();
    await page.getByTestId('groups-table').getByRole('link', { name: 'Engineering' }).waitFor();
    await page.getByTestId('groups-table').getByText('No access group').waitFor();
    await shot('06-groups');
  });

  test('an access group named like the IdP group links to it and shows its members', async () => {
    await page.getByRole('link', { name: 'Datasets', exact: true }).click();
    await page.getByText('No datasets yet').waitFor();
    await page.getByLabel('Name', { exact: true }).fill('Payroll reports');
    await page.getByLabel(/^externalId/).fill('ds-payroll');
    await page.getByRole('button', { name: 'Create dataset' }).click();
    await page.getByTestId('datasets-table').getByText('Payroll reports').waitFor();
    await shot('07-datasets');

    await page.getByRole('link', { name: 'Access groups', exact: true }).click();
    await page.getByText('No access groups yet').waitFor();
    await page.getByLabel(/^Name/).fill('Engineering');
    await page.getByRole('button', { name: 'Create access group' }).click();
    await page.getByRole('heading', { name: 'Engineering', level: 1 }).waitFor();
    const linked = page.getByTestId('linked-group');
    await linked.getByText('Linked').waitFor();
    assert.match(await linked.innerText(), /IdP group\s+Engineering/);
    await page.getByTestId('members-table').getByRole('link', { name: 'adele.vance@contoso.example' }).waitFor();
    await page.getByLabel('Assign a dataset').selectOption({ label: 'Payroll reports' });
    await page.getByRole('button', { name: 'Assign', exact: true }).click();
    await page.getByRole('button', { name: 'Unassign Payroll reports' }).waitFor();
    await shot('08-access-group');

    await page.getByRole('link', { name: 'Groups', exact: true }).click();
    await page.getByTestId('groups-table').getByText('Linked').waitFor();
  });

  test('settings, webhooks and the provisioning log pages', async () => {
    await page.getByRole('link', { name: 'Provisioning settings' }).click();
    await page.getByText('Staged: an administrator activates each one').click();
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.getByText('Settings saved.').waitFor();
    await shot('09-settings');

    await page.getByRole('link', { name: 'Webhooks', exact: true }).click();
    await page.getByText('No webhooks yet').waitFor();
    await page.getByLabel('URL').fill('http://127.0.0.1:9/hooks');
    await page.getByRole('button', { name: 'Add webhook' }).click();
    await page.getByRole('heading', { name: 'Signing secret' }).waitFor();
    await page.getByRole('button', { name: 'I have copied it' }).click();
    await page.getByRole('link', { name: 'http://127.0.0.1:9/hooks' }).click();
    await page.getByRole('heading', { name: 'Webhook deliveries' }).waitFor();
    await page.getByLabel('Status').waitFor();
    await shot('10-webhook-deliveries');
    await page.getByRole('link', { name: 'Webhooks', exact: true }).click();
    await page.getByRole('link', { name: 'http://127.0.0.1:9/hooks' }).waitFor();
    await shot('11-webhooks');

    await page.getByRole('link', { name: 'Provisioning log' }).click();
    const log = page.getByTestId('log-table');
    await log.getByText('/Users', { exact: false }).first().waitFor();
    await page.getByLabel('Resource', { exact: true }).selectOption('Group');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    // The unfiltered page already lists /Groups rows: wait for the filtered answer to replace it.
    await page.waitForFunction(() => {
      const t = document.querySelector('[data-testid="log-table"]')?.textContent ?? '';
      return t.includes('/Groups') && !t.includes('/Users');
    }, undefined, { timeout: 10_000 }).catch(() => {});
    await log.getByText('/Groups').first().waitFor();
    assert.equal(await log.getByText(/\/Users/).count(), 0, 'filtered to groups');
    await shot('12-provisioning-log');
  });

  test('regenerating the token warns, shows the new one once, and the old one is refused', async () => {
    await page.getByRole('link', { name: 'IdP integration' }).click();
    await page.getByTestId('tokens-table').waitFor();
    await page.getByRole('button', { name: 'Regenerate…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Regenerate this secret token?' });
    await dialog.getByText('stops working immediately').waitFor();
    await shot('13-regenerate-warning');
    await dialog.getByRole('button', { name: 'Regenerate token' }).click();
    await page.getByText('the old one no longer works').waitFor();
    secondToken = await page.getByTestId('secret-value').inputValue();
    assert.notEqual(secondToken, firstToken);
    await shot('14-regenerated');

    const old = await scim(firstToken, 'GET', '/Users');
    assert.equal(old.status, 401, 'old token refused');
    const fresh = await scim(secondToken, 'GET', '/Users');
    assert.equal(fresh.status, 200);
    await page.getByRole('button', { name: 'I have copied it' }).click();
    await page.getByText('1 revoked or expired token').waitFor();
  });

  test('OIDC settings and Test connection show each check', async () => {
    await page.getByLabel('IdP token issuer').fill(`${base}/no-such-issuer`);
    await page.getByLabel('IdP token audience').fill('api://contoso-product');
    await page.getByRole('button', { name: 'Save OIDC settings' }).click();
    await page.getByText('Saved.').waitFor();
    await page.getByRole('button', { name: 'Test connection' }).click();
    await page.getByText('Some checks failed').waitFor();
    assert.ok(await page.locator('.check').count() >= 1);
    await shot('15-integration-oidc-test');
  });

  test('works at 390px: navigation and tables stay usable', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('link', { name: 'Users', exact: true }).click();
    await page.getByTestId('users-table').getByRole('link', { name: 'adele.vance@contoso.example' }).waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `page scrolls sideways by ${overflow}px at 390px`);
    await shot('16-users-390px');
    await page.getByRole('link', { name: 'IdP integration' }).click();
    await page.getByTestId('scim-base-url').waitFor();
    const overflow2 = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow2 <= 1, `integration page scrolls sideways by ${overflow2}px at 390px`);
    await shot('17-integration-390px');
    await page.setViewportSize({ width: 1280, height: 860 });
  });

  test('keyboard: focus moves to the page title, the skip link works, dialogs close with Escape', async () => {
    await page.getByRole('link', { name: 'Datasets', exact: true }).click();
    await page.waitForFunction(() => document.activeElement?.id === 'page-title' && document.activeElement.textContent === 'Datasets');
    await page.getByRole('link', { name: 'IdP integration' }).click();
    await page.getByTestId('tokens-table').waitFor();
    await page.waitForFunction(() => document.activeElement?.id === 'page-title' && document.activeElement.textContent === 'IdP integration');
    await page.locator('.skip').focus();
    const box = await page.locator('.skip').boundingBox();
    assert.ok(box && box.x >= 0, 'skip link visible when focused');
    const before = page.url();
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'main');
    assert.equal(page.url(), before, 'the skip link leaves the route alone');
    await page.getByRole('button', { name: 'Revoke…' }).focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Revoke this secret token?' });
    await dialog.waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
  });

  test('a tenant admin signs in with a password and sees only that tenant', async () => {
    const login = 'it.admin@contoso.example';
    const password = 'a long enough password 42';
    const op = await page.context().request.post(`${base}/admin/v1/tenants/${tenantId}/console-accounts`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, data: { login, password, displayName: 'Contoso IT' },
    });
    assert.equal(op.status(), 201);
    await page.getByRole('link', { name: 'Console accounts' }).click();
    await page.getByRole('cell', { name: login }).waitFor();
    await shot('18-console-accounts');

    const ctx2 = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const p2 = await ctx2.newPage();
    watch(p2);
    await p2.goto(`${base}/console/`);
    await p2.getByLabel('Login').fill(login);
    await p2.getByLabel('Password').fill('not the password');
    await p2.getByRole('button', { name: 'Sign in', exact: true }).click();
    await p2.getByRole('alert').filter({ hasText: 'login or password is not correct' }).waitFor();
    await p2.getByLabel('Password').fill(password);
    await p2.getByRole('button', { name: 'Sign in', exact: true }).click();
    await p2.getByRole('heading', { name: 'IdP integration' }).waitFor();
    assert.equal(await p2.getByTestId('tenant-name').innerText(), 'Contoso Ltd');
    assert.equal(await p2.getByRole('link', { name: 'Tenants' }).count(), 0, 'no tenant list for a tenant admin');
    assert.equal(await p2.getByRole('link', { name: 'Console accounts' }).count(), 0);
    await shot('19-tenant-admin', p2);
    const cookies = await ctx2.cookies();
    const session = cookies.find((c) => c.name === 'idpb_session')!;
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Strict');
    // the admin API refuses this session elsewhere
    const r = await p2.evaluate(async () => (await fetch('/admin/v1/tenants')).status);
    assert.equal(r, 403);
    await p2.getByRole('button', { name: 'Sign out' }).click();
    await p2.getByRole('heading', { name: 'Sign in to the console' }).waitFor();
    await ctx2.close();
  });

  test('no script errors or CSP violations in the browser', () => {
    assert.deepEqual(problems, []);
  });
});
