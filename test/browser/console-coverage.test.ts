// Issue 19 "the console covers what the API can do", in real Chromium against the real server on a
// socket: each action is done through the console's UI and its effect checked through the admin
// API (or the surface it changes: SCIM with the Basic credential, /v1 with a revoked key).
// - the user page: roles (shown, edited, an invalid one shows the API's refusal), Metadata values,
//   the login method (set a password, back to the IdP);
// - the SCIM page: the HTTP Basic credential (set, username shown, password never, remove);
// - the tenant-wide API keys list (owners, revoke);
// - provisioning health for the tenant and across tenants (IdPs, causes with the fix, the chart).
// Every write the pages make carries the CSRF header (they go through web/src/api.ts); axe-core
// finds no serious or critical violation on any of these pages.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import type { AppDeps } from '../../src/app-deps.js';
import { ADMIN_TOKEN, openTestDatabase, testConfig } from '../helpers/app.js';
import { ROOT } from '../helpers/process.js';
import { axeViolations } from '../helpers/axe.js';
import { browserSkip, ensureConsoleBuilt, launchChromium } from '../helpers/browser.js';

const SHOTS = join(ROOT, 'test-output/console-coverage');
const skip = browserSkip('the console coverage browser test');
const ENTRA_UA = 'Microsoft.Identity.Provisioning (SCIM) Azure AD';

describe('console covers the API (issue 19)', { skip, timeout: 240_000 }, () => {
  let app: FastifyInstance;
  let deps: AppDeps;
  let base: string;
  let browser: Browser;
  let ctx: BrowserContext;
  let page: Page;
  let tenantId = '';
  let guestId = '';
  let provisionedId = '';
  const problems: string[] = [];
  const writes: { method: string; url: string; csrf: string | undefined }[] = [];

  const admin = async (method: string, url: string, payload?: unknown) => {
    const r = await app.inject({ method: method as 'GET', url: `/admin/v1${url}`, headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, payload: payload as object });
    return { status: r.statusCode, body: r.body ? r.json() : undefined };
  };
  const ok = async (method: string, url: string, payload?: unknown) => {
    const r = await admin(method, url, payload);
    assert.ok(r.status < 300, `${method} ${url} → ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const scim = (auth: string, method: string, path: string, body?: unknown, ua = ENTRA_UA) => fetch(`${base}/scim/v2/${tenantId}${path}`, {
    method, body: body === undefined ? undefined : JSON.stringify(body),
    headers: { authorization: auth, 'content-type': 'application/scim+json', 'user-agent': ua },
  });
  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  const noAxe = async (what: string) => assert.deepEqual(await axeViolations(page), [], `axe on ${what}`);
  const open = async (hashPath: string, heading: string) => {
    await page.goto(`${base}/console/#${hashPath}`);
    await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
  };

  before(async () => {
    ensureConsoleBuilt();
    mkdirSync(SHOTS, { recursive: true });
    const db = await openTestDatabase('pglite');
    ({ app, deps } = await buildApp({ config: testConfig(), db, logger: false, skipMigrations: true }));
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;

    tenantId = (await ok('POST', '/tenants', { name: 'Coverage Ltd' })).id;
    await ok('PUT', `/tenants/${tenantId}/settings`, { roleAllowList: ['ReadOnly', 'User', 'Admin', 'EnterpriseAdmin'] });
    guestId = (await ok('POST', `/tenants/${tenantId}/users`, {
      userName: 'guest@partner.example', displayName: 'Grace Guest', roles: ['User'], metadata: { costCenter: 'CC-4711', region: 'EMEA' },
    })).id;

    browser = await launchChromium();
    ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await ctx.newPage();
    page.setDefaultTimeout(15_000);
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('response', (r) => { if (r.status() >= 500) problems.push(`HTTP ${r.status()} ${r.url()}`); });
    page.on('request', (r) => {
      if (r.method() !== 'GET' && new URL(r.url()).pathname.startsWith('/admin/v1/')) writes.push({ method: r.method(), url: r.url(), csrf: r.headers()['x-csrf-token'] });
    });
    // Operator session for the browser context (the sign-in page itself is covered by test/browser/console.test.ts).
    const s = await ctx.request.post(`${base}/console/api/session`, { data: { operatorToken: ADMIN_TOKEN } });
    assert.equal(s.status(), 200, await s.text());
  });

  after(async () => {
    await browser?.close();
    await app?.close();
  });

  test('user page: roles are shown and edited, an invalid role shows the refusal, Metadata values are listed', async () => {
    await open(`/t/${tenantId}/users/${guestId}`, 'Grace Guest');
    const roles = page.locator('section', { has: page.getByRole('heading', { name: 'Roles', level: 2 }) });
    assert.equal((await roles.getByTestId('user-roles').innerText()).trim(), 'User');
    await roles.getByText('Roles this tenant allows').waitFor();
    const meta = page.getByTestId('user-metadata');
    assert.match(await meta.innerText(), /costCenter\s+CC-4711/);
    assert.match(await meta.innerText(), /region\s+EMEA/);
    await noAxe('the user page');
    await shot('01-user-page');

    const input = roles.getByLabel(/^Roles/);
    await input.fill('Admin, Superuser');
    await roles.getByRole('button', { name: 'Save roles' }).click();
    const alert = roles.getByRole('alert');
    await alert.waitFor();
    assert.match(await alert.innerText(), /"Superuser" is not allowed.*"EnterpriseAdmin"/s);
    assert.deepEqual((await ok('GET', `/tenants/${tenantId}/users/${guestId}`)).roles, ['User'], 'nothing written');

    await input.fill('Admin, EnterpriseAdmin');
    await roles.getByRole('button', { name: 'Save roles' }).click();
    await roles.getByRole('status').filter({ hasText: 'Roles saved.' }).waitFor();
    assert.deepEqual((await ok('GET', `/tenants/${tenantId}/users/${guestId}`)).roles, ['Admin', 'EnterpriseAdmin']);
    await page.getByTestId('user-roles').filter({ hasText: 'EnterpriseAdmin' }).waitFor();
  });

  test('user page: set a password (the login method becomes password), then back to the IdP', async () => {
    await open(`/t/${tenantId}/users/${guestId}`, 'Grace Guest');
    const section = page.locator('section', { has: page.getByRole('heading', { name: 'Sign-in', level: 2 }) });
    assert.match(await section.getByTestId('login-method').innerText(), /through the identity provider/);
    await section.getByLabel(/With a password/).check();
    await section.getByLabel(/^Password/).fill('short');
    await section.getByRole('button', { name: 'Set password' }).click();
    // The browser's own minLength check stops it; nothing is sent or written.
    assert.equal((await ok('GET', `/tenants/${tenantId}/users/${guestId}/login-method`)).method, 'idp');
    await section.getByLabel(/^Password/).fill('a guest password of some length');
    await section.getByRole('button', { name: 'Set password' }).click();
    await section.getByRole('status').filter({ hasText: 'Password set' }).waitFor();
    const lm = await ok('GET', `/tenants/${tenantId}/users/${guestId}/login-method`);
    assert.deepEqual([lm.method, lm.passwordSet], ['password', true]);
    assert.equal(await section.getByLabel(/^New password/).inputValue(), '', 'the password is not kept in the form');
    await section.getByTestId('login-method').filter({ hasText: 'with a password' }).waitFor();
    await noAxe('the user page with the password form');
    await shot('02-user-login-method');

    await section.getByLabel(/Through the identity provider/).check();
    await section.getByRole('button', { name: 'Save login method' }).click();
    await section.getByRole('status').filter({ hasText: 'through the IdP' }).waitFor();
    const back = await ok('GET', `/tenants/${tenantId}/users/${guestId}/login-method`);
    assert.deepEqual([back.method, back.passwordSet], ['idp', false]);
  });

  test('a provisioned user: roles shown read-only, no roles form', async () => {
    const r = await scim(`Bearer ${(await ok('POST', `/tenants/${tenantId}/scim-tokens`, { name: 'entra' })).token}`, 'POST', '/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'ada@contoso.example', displayName: 'Ada Provisioned',
      roles: [{ value: 'ReadOnly' }],
    });
    const text = await r.text();
    assert.equal(r.status, 201, text);
    provisionedId = JSON.parse(text).id;
    await open(`/t/${tenantId}/users/${provisionedId}`, 'Ada Provisioned');
    assert.equal((await page.getByTestId('user-roles').innerText()).trim(), 'ReadOnly');
    assert.equal(await page.getByRole('button', { name: 'Save roles' }).count(), 0);
    await noAxe('a provisioned user page');
  });

  test('provisioning overrides (issue 18): set on an identity and on an access group; saving one field keeps the other', async () => {
    await open(`/t/${tenantId}/users/${guestId}`, 'Grace Guest');
    const form = page.getByTestId('provisioning-overrides');
    assert.equal(await form.getByLabel('New user status').inputValue(), 'inherit');
    await form.getByLabel('New user status').selectOption('staged');
    await form.getByLabel('Invitation e-mail').selectOption('skip');
    await form.getByRole('button', { name: 'Save overrides' }).click();
    await form.getByRole('status').filter({ hasText: 'Overrides saved.' }).waitFor();
    assert.deepEqual(await ok('GET', `/tenants/${tenantId}/users/${guestId}/provisioning`), { newUserStatus: 'staged', automaticInvitation: false });
    await noAxe('the user page with provisioning overrides');

    // A fresh load shows what is stored; changing one field sends both, so the other is kept.
    await open(`/t/${tenantId}/users/${guestId}`, 'Grace Guest');
    assert.equal(await form.getByLabel('Invitation e-mail').inputValue(), 'skip');
    await form.getByLabel('New user status').selectOption('inherit');
    await form.getByRole('button', { name: 'Save overrides' }).click();
    await form.getByRole('status').filter({ hasText: 'Overrides saved.' }).waitFor();
    assert.deepEqual(await ok('GET', `/tenants/${tenantId}/users/${guestId}/provisioning`), { newUserStatus: null, automaticInvitation: false });

    const ag = await ok('POST', `/tenants/${tenantId}/access-groups`, { name: 'Contractors' });
    await open(`/t/${tenantId}/access-groups/${ag.id}`, 'Contractors');
    await form.getByLabel('Invitation e-mail').selectOption('send');
    await form.getByRole('button', { name: 'Save overrides' }).click();
    await form.getByRole('status').filter({ hasText: 'Overrides saved.' }).waitFor();
    assert.deepEqual(await ok('GET', `/tenants/${tenantId}/access-groups/${ag.id}/provisioning`), { newUserStatus: null, automaticInvitation: true });
    await noAxe('the access group page with provisioning overrides');
  });

  test('SCIM page: set the HTTP Basic credential, see the username (never the password), provision with it, remove it', async () => {
    await open(`/t/${tenantId}/integration`, 'IdP integration');
    const box = page.getByTestId('scim-basic');
    await box.getByLabel('Username').fill('okta-basic');
    await box.getByLabel(/^Password/).fill('basic-password-0123456789');
    await box.getByRole('button', { name: 'Save Basic credential' }).click();
    await box.getByTestId('scim-basic-username').filter({ hasText: 'okta-basic' }).waitFor();
    assert.equal((await ok('GET', `/tenants/${tenantId}/scim-basic`)).username, 'okta-basic');
    assert.ok(!(await page.content()).includes('basic-password-0123456789'), 'the password is not on the page');
    const basic = `Basic ${Buffer.from('okta-basic:basic-password-0123456789').toString('base64')}`;
    assert.equal((await scim(basic, 'GET', '/Users?count=1')).status, 200, 'the credential set in the console works');
    await noAxe('the IdP integration page with the Basic credential');
    await shot('03-scim-basic');

    await box.getByRole('button', { name: 'Remove…' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Remove credential' }).click();
    await box.getByRole('status').filter({ hasText: 'removed' }).waitFor();
    assert.equal((await admin('GET', `/tenants/${tenantId}/scim-basic`)).status, 404);
    assert.equal((await scim(basic, 'GET', '/Users?count=1')).status, 401, 'refused once removed');
    await box.getByRole('button', { name: 'Save Basic credential' }).waitFor();
  });

  test('API keys page: every key of the tenant with its owner; revoking one refuses it within the access-cache TTL', async () => {
    const k1 = await ok('POST', `/tenants/${tenantId}/users/${guestId}/api-keys`, { name: 'partner laptop' });
    const k2 = await ok('POST', `/tenants/${tenantId}/users/${provisionedId}/api-keys`, { name: 'ada ci' });
    await open(`/t/${tenantId}/api-keys`, 'API keys');
    const table = page.getByTestId('api-keys-table');
    const row = (name: string) => table.getByRole('row').filter({ hasText: name });
    assert.match(await row('partner laptop').innerText(), /Grace Guest[\s\S]*guest@partner\.example[\s\S]*active[\s\S]*/);
    assert.match(await row('ada ci').innerText(), /Ada Provisioned/);
    assert.match(await row('ada ci').innerText(), new RegExp(k2.keyHint.replace('…', '.')));
    assert.match(await row('partner laptop').innerText(), /never/, 'never used yet');
    assert.equal((await fetch(`${base}/v1/${tenantId}/me`, { headers: { authorization: `Bearer ${k1.key}` } })).status, 200);
    await noAxe('the API keys page');
    await shot('04-api-keys');

    await row('partner laptop').getByRole('button', { name: /^Revoke/ }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke key' }).click();
    await page.getByRole('status').filter({ hasText: 'revoked' }).waitFor();
    await row('partner laptop').waitFor({ state: 'detached' });
    const list = await ok('GET', `/tenants/${tenantId}/api-keys`);
    assert.deepEqual(list.apiKeys.map((k: { name: string }) => k.name), ['ada ci']);
    // API-key checks are reused for IDPBRIDGE_ACCESS_CACHE_TTL_MS (2 s by default, docs/idp-tokens.md): refused within it.
    const revokedAt = Date.now();
    let status = 0;
    while (Date.now() - revokedAt < 6_000) {
      status = (await fetch(`${base}/v1/${tenantId}/me`, { headers: { authorization: `Bearer ${k1.key}` } })).status;
      if (status === 401) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(status, 401, 'the revoked key is refused');

    await row('ada ci').getByRole('button', { name: /^Disable/ }).click();
    await page.getByRole('status').filter({ hasText: 'disabled' }).waitFor();
    assert.equal((await ok('GET', `/tenants/${tenantId}/api-keys`)).apiKeys[0].enabled, false);
  });

  test('health pages: the IdP\'s last request, failures by cause with the fix, the chart; the operator sees every tenant', async () => {
    const token = `Bearer ${(await ok('POST', `/tenants/${tenantId}/scim-tokens`, { name: 'entra 2' })).token}`;
    const dup = { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'ada@contoso.example' };
    assert.equal((await scim(token, 'POST', '/Users', dup)).status, 409);
    assert.equal((await scim(token, 'GET', '/Users?filter=userName%20eq%20%22ada%40contoso.example%22')).status, 200);
    await deps.provisioningLog.flush();

    await open(`/t/${tenantId}/health`, 'Provisioning health');
    const idps = page.getByTestId('health-idps');
    assert.match(await idps.innerText(), /Microsoft Entra ID[\s\S]*Azure AD[\s\S]*list User \(GET\)[\s\S]*success/);
    const causes = page.getByTestId('health-causes');
    assert.match(await causes.innerText(), /1× 409 uniqueness[\s\S]*Fix: A user or group with this userName/);
    const api = await ok('GET', `/tenants/${tenantId}/provisioning-health`);
    const totals = page.getByTestId('health-totals');
    assert.match(await totals.innerText(), new RegExp(`Requests\\s+${api.totals.requests}\\b`));
    assert.equal(await page.getByTestId('health-chart').locator('rect.bar-fail').count(), 1, 'one bucket with refusals');
    assert.ok(await page.getByTestId('health-chart').locator('rect.bar-ok').count() >= 1);
    await noAxe('the tenant health page');
    await shot('05-tenant-health');

    await page.getByLabel('Period').selectOption({ label: 'Last 7 days' });
    await page.getByRole('heading', { name: 'Requests and failures, last 7 days' }).waitFor();

    await page.goto(`${base}/console/#/tenants`);
    await page.getByRole('link', { name: 'Provisioning health' }).click();
    await page.getByRole('heading', { name: 'Provisioning health', level: 1 }).waitFor();
    const tenants = page.getByTestId('health-tenants');
    const mine = tenants.getByRole('row').filter({ hasText: 'Coverage Ltd' });
    assert.match(await mine.innerText(), /Microsoft Entra ID/);
    await noAxe('the operator health page');
    await shot('06-operator-health');
    await mine.getByRole('link', { name: 'Coverage Ltd' }).click();
    await page.getByTestId('health-idps').waitFor();
  });

  test('audit log page (issue 23): the tenant\'s changes with actor and target, filtered by action, exported as JSON Lines; no secret shown', async () => {
    await open(`/t/${tenantId}/audit`, 'Audit log');
    const table = page.getByTestId('audit-table');
    await table.getByText('identity.login_method_set').first().waitFor();
    await table.getByText('settings.updated').first().waitFor();
    const text = await table.innerText();
    assert.ok(!text.includes('a guest password of some length'), 'the password set on the user page is not in the audit log');
    await noAxe('the audit log page');

    await page.getByLabel('Action (e.g. scim_token.*)').fill('settings.*');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByRole('button', { name: 'Clear' }).waitFor();
    // Two rows carry this action until the filtered page replaces the table: `first()` is detached only
    // when none is left (a strict locator throws while both are shown).
    await table.getByText('identity.login_method_set').first().waitFor({ state: 'detached' });
    const actions = await table.locator('tbody tr td[data-label="Action"] .mono').allInnerTexts();
    assert.ok(actions.length > 0 && actions.every((a) => a.startsWith('settings.')), actions.join(','));

    const href = await page.getByTestId('audit-export-jsonl').getAttribute('href');
    assert.ok(href?.includes('format=jsonl') && href.includes('action=settings.*'), String(href));
    const exported = await ctx.request.get(`${base}${href}`);
    assert.equal(exported.status(), 200);
    const lines = (await exported.text()).trim().split('\n').map((l) => JSON.parse(l) as { tenantId: string; action: string });
    assert.ok(lines.length === actions.length && lines.every((l) => l.tenantId === tenantId && l.action.startsWith('settings.')), JSON.stringify(lines));
  });

  test('every write went through api.ts with the CSRF header, and nothing failed in the page', async () => {
    const csrf = (await ctx.cookies(base)).find((c) => c.name === 'idpb_csrf' || c.name === '__Host-idpb_csrf')?.value;
    assert.ok(csrf);
    assert.ok(writes.length >= 8, `writes seen: ${writes.length}`);
    for (const w of writes) assert.equal(w.csrf, csrf, `${w.method} ${w.url} carries the CSRF token`);
    const kinds = new Set(writes.map((w) => `${w.method} ${new URL(w.url).pathname.replace(/[0-9a-f-]{36}/g, ':id')}`));
    for (const k of ['PATCH /admin/v1/tenants/:id/users/:id', 'PUT /admin/v1/tenants/:id/users/:id/login-method', 'PUT /admin/v1/tenants/:id/scim-basic',
      'DELETE /admin/v1/tenants/:id/scim-basic', 'DELETE /admin/v1/tenants/:id/users/:id/api-keys/:id', 'PATCH /admin/v1/tenants/:id/users/:id/api-keys/:id']) {
      assert.ok(kinds.has(k), `${k} in ${[...kinds].join(', ')}`);
    }
    // The guard refuses such a write without the header: the pages could not have succeeded otherwise.
    const s = await ctx.request.put(`${base}/admin/v1/tenants/${tenantId}/scim-basic`, { data: { username: 'x', password: 'y'.repeat(16) } });
    assert.equal(s.status(), 403);
    assert.deepEqual(problems, []);
  });
});
