// Set-up links and the guided wizard in real Chromium: the operator creates a link in the console and
// copies it; a fresh browser (no account) opens it and lands in the wizard of that tenant only; the
// Entra path shows the SCIM URL and a fresh token; the test plays Entra's recorded Test Connection
// (test/conformance) and a first sync against exactly those values, and the live checks turn green by themselves; the OIDC step
// points at a real OpenID provider (in-process oidc-provider), the sign-in client is entered and "Sign
// in to test" runs the real sign-in and shows the identity and its datasets; the summary says what is
// configured. The setup session cannot reach operator pages or other tenants, and revoking the link
// signs it out. The Sign-in page keeps the client when saved and lists redirect URIs. Screenshots go
// to test-output/setup-wizard/ (and docs/guides/img/wizard-*.png with UPDATE_GUIDE_SCREENSHOTS=1).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { ADMIN_TOKEN, openTestDatabase, testConfig } from '../helpers/app.js';
import { ROOT } from '../helpers/process.js';
import { browserSkip, ensureConsoleBuilt, launchChromium } from '../helpers/browser.js';
import { axeViolations } from '../helpers/axe.js';
import { startSsoTestOp, WEB_CLIENT_ID, WEB_CLIENT_SECRET, type SsoTestOp } from '../sso/helpers/op.js';
import { loadFixture, replayFixture, seedVars, type ReplayContext } from '../conformance/replay.js';

const SHOTS = join(ROOT, 'test-output/setup-wizard');
// The guides show the wizard as it is: its screenshots are committed only on request (as guide-screenshots.test.ts).
const GUIDE_IMG = process.env.UPDATE_GUIDE_SCREENSHOTS === '1' ? join(ROOT, 'docs/guides/img') : join(ROOT, 'test-output/guide-img');
const skip = browserSkip('the set-up wizard browser test');
const ENTRA_UA = 'Microsoft Azure AD SCIM Client';

describe('set-up link and guided wizard in Chromium', { skip, timeout: 280_000 }, () => {
  let app: FastifyInstance;
  let base: string;
  let browser: Browser;
  let operator: Page;
  let itCtx: BrowserContext;
  let it: Page;
  let tenantId = '';
  let otherTenantId = '';
  let linkUrl = '';
  let scimUrl = '';
  let scimToken = '';
  let op: SsoTestOp;
  const problems: string[] = [];
  const admin = async (method: string, url: string, payload?: unknown) => {
    const r = await app.inject({ method: method as 'GET', url: `/admin/v1${url}`, headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, payload: payload as object });
    assert.ok(r.statusCode < 300, `${method} ${url} → ${r.statusCode} ${r.body}`);
    return r.statusCode === 204 ? undefined : r.json();
  };
  const a11y: string[] = [];
  // Every screenshot is also an accessibility check: axe-core's serious and critical violations.
  const shot = async (p: Page, name: string, guide?: string) => {
    await p.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
    if (guide) await p.screenshot({ path: join(GUIDE_IMG, `wizard-${guide}.png`), fullPage: true });
    for (const v of await axeViolations(p)) a11y.push(`${name}: ${v}`);
  };
  const watch = (p: Page) => {
    p.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    p.on('response', (r) => { if (r.status() >= 500) problems.push(`HTTP ${r.status()} ${r.request().method()} ${r.url()}`); });
  };
  const scim = (method: string, path: string, body?: unknown) => fetch(`${scimUrl.replace(/\?.*$/, '')}${path}`, {
    method,
    headers: { authorization: `Bearer ${scimToken}`, 'content-type': 'application/scim+json', 'user-agent': ENTRA_UA },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

  before(async () => {
    ensureConsoleBuilt();
    mkdirSync(SHOTS, { recursive: true });
    mkdirSync(GUIDE_IMG, { recursive: true });
    const db = await openTestDatabase('pglite');
    ({ app } = await buildApp({ config: testConfig(), db, logger: false, skipMigrations: true }));
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    tenantId = (await admin('POST', '/tenants', { name: 'Contoso Wizard' })).id;
    otherTenantId = (await admin('POST', '/tenants', { name: 'Fabrikam' })).id;
    // The product already has an access group named like the Entra group the sync brings, with a dataset.
    const finance = await admin('POST', `/tenants/${tenantId}/access-groups`, { name: 'Finance' });
    const ledger = await admin('POST', `/tenants/${tenantId}/datasets`, { name: 'General ledger' });
    await admin('POST', `/tenants/${tenantId}/access-groups/${finance.id}/datasets`, { datasetId: ledger.id });
    // The organisation's IdP: a real OpenID provider whose user is the one the sync provisions.
    op = await startSsoTestOp();
    op.allowRedirect(`${base}/sso/${tenantId}/callback`);
    op.account('adele', 'adele-idp-pw', { uid: 'oid-adele.vance', email: 'adele.vance@contoso.example' });
    browser = await launchChromium();
    operator = await (await browser.newContext({ viewport: { width: 1280, height: 860 } })).newPage();
    operator.setDefaultTimeout(15_000);
    watch(operator);
    itCtx = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    it = await itCtx.newPage();
    it.setDefaultTimeout(20_000);
    watch(it);
  });

  after(async () => {
    await browser?.close();
    await app?.close();
    await op?.close();
  });

  test('the operator creates a set-up link in the console and copies it', async () => {
    await operator.goto(`${base}/console/`);
    await operator.getByRole('tab', { name: 'Operator' }).click();
    await operator.getByLabel('Operator token').fill(ADMIN_TOKEN);
    await operator.getByRole('button', { name: 'Sign in', exact: true }).click();
    await operator.getByRole('heading', { name: 'Tenants', level: 1 }).waitFor();
    await operator.goto(`${base}/console/#/t/${tenantId}/setup-links`);
    await operator.getByText('No set-up link yet').waitFor();
    await operator.getByLabel('Valid for').selectOption('3');
    await operator.getByRole('button', { name: 'Create set-up link' }).click();
    linkUrl = await operator.getByTestId('setup-link-url').inputValue();
    assert.match(linkUrl, new RegExp(`^${base}/console/#/setup/${tenantId}/idpb_setup_`));
    await shot(operator, '01-operator-link-created');
    await operator.getByRole('button', { name: 'I have copied it' }).click();
    await operator.getByTestId('setup-links-table').getByText('active').waitFor();
    assert.equal(await operator.getByTestId('setup-link-url').count(), 0, 'the url is not shown again');
  });

  test('a fresh browser opens the link: the wizard of that tenant, the secret gone from the address bar', async () => {
    await it.goto(linkUrl);
    await it.getByRole('heading', { name: 'Guided set-up', level: 1 }).waitFor();
    assert.ok(!it.url().includes('idpb_setup_'), it.url());
    assert.match(it.url(), new RegExp(`#/t/${tenantId}/setup$`));
    await it.getByTestId('tenant-name').getByText('Contoso Wizard').waitFor();
    assert.equal(await it.getByRole('link', { name: 'Set-up links' }).count(), 0);
    assert.equal(await it.getByRole('link', { name: 'Console accounts' }).count(), 0);
    await shot(it, '02-wizard-choose', '1-choose');

    // Operator pages and other tenants stay out of reach, in the UI and in the API.
    await it.goto(`${base}/console/#/tenants`);
    await it.waitForURL(new RegExp(`#/t/${tenantId}/setup$`));
    await it.goto(`${base}/console/#/t/${otherTenantId}/users`);
    await it.waitForURL(new RegExp(`#/t/${tenantId}/setup$`));
    // A string, so the test's TypeScript transform adds nothing the page does not have.
    const statuses = await it.evaluate(`(async () => {
      const csrf = decodeURIComponent(/(?:^|; )(?:__Host-)?idpb_csrf=([^;]*)/.exec(document.cookie)?.[1] ?? '');
      const call = async (method, url, withCsrf) => (await fetch(url, {
        method, headers: withCsrf ? { 'content-type': 'application/json', 'x-csrf-token': csrf } : { 'content-type': 'application/json' },
        body: method === 'GET' ? undefined : '{}',
      })).status;
      return [
        await call('GET', '/admin/v1/tenants', true), await call('GET', '/admin/v1/tenants/${otherTenantId}/scim-tokens', true),
        await call('POST', '/admin/v1/tenants/${tenantId}/setup-links', true), await call('POST', '/admin/v1/tenants/${tenantId}/scim-tokens', false),
      ];
    })()`);
    assert.deepEqual(statuses, [403, 403, 403, 403]);
    await it.getByRole('heading', { name: 'Guided set-up', level: 1 }).waitFor();
  });

  test('Entra path: copy the Tenant URL and a fresh token; Test Connection turns the first check green', async () => {
    await it.getByRole('radio', { name: 'Microsoft Entra ID' }).check();
    await it.getByRole('button', { name: 'Continue' }).click();
    await it.getByRole('heading', { name: '2. Connect provisioning' }).waitFor();
    scimUrl = await it.getByTestId('wizard-scim-url').inputValue();
    assert.equal(scimUrl, `${base}/scim/v2/${tenantId}?aadOptscim062020`);
    await it.getByRole('button', { name: 'Create a secret token' }).click();
    scimToken = await it.getByTestId('wizard-token').inputValue();
    assert.match(scimToken, /^idpb_scim_/);
    const check = it.getByTestId('check-first-request');
    await check.getByText("Waiting for your IdP's first request…").waitFor();
    await shot(it, '03-wizard-connect-waiting', '2-connect-waiting');

    // Entra's Test Connection, as recorded in test/conformance (a random user and a random group,
    // each answered with an empty list), against the URL and token the wizard shows.
    const testConnection = loadFixture('entra-users').filter((st) => st.name.startsWith('Connection test'));
    assert.equal(testConnection.length, 2);
    const asEntra: ReplayContext['app'] = {
      inject: ((o: { headers?: Record<string, string> }) => app.inject({ ...o, headers: { ...o.headers, 'user-agent': ENTRA_UA } } as never)) as never,
    };
    await replayFixture(testConnection, { app: asEntra, scimBase: new URL(scimUrl).pathname, token: scimToken });
    await check.getByText(/Test Connection received from Entra ID at \d\d:\d\d/).waitFor();
    assert.equal(await check.getAttribute('data-status'), 'ok');
    await shot(it, '04-wizard-connect-green', '2-connect-green');
  });

  test('first sync: users, a group linked to an access group; the sync check turns green', async () => {
    await it.getByRole('button', { name: 'Continue' }).click();
    await it.getByRole('heading', { name: '3. Assign users and groups' }).waitFor();
    await it.getByTestId('check-first-sync').getByText('Waiting for the first sync…').waitFor();
    // Entra's first sync as recorded in test/conformance (entra-groups: the users are created after a probe,
    // the group is looked up, created and given its members in batches), against the wizard's URL and token.
    // The group is the one the access group links to by name; users A and B are the ones who sign in later.
    const firstSync = loadFixture('entra-groups').slice(0, 12);
    assert.equal(firstSync[11]!.name, 'Get Group: members A, B, C');
    const asEntra: ReplayContext['app'] = {
      inject: ((o: { headers?: Record<string, string> }) => app.inject({ ...o, headers: { ...o.headers, 'user-agent': ENTRA_UA } } as never)) as never,
    };
    const vars = { ...seedVars(), userName: 'adele.vance@contoso.example', userName2: 'alex.wilber@contoso.example', groupName: 'Finance' };
    await replayFixture(firstSync, { app: asEntra, scimBase: new URL(scimUrl).pathname, token: scimToken, vars });
    const check = it.getByTestId('check-first-sync');
    await check.getByText('First sync: 4 users, 1 group, 1 linked to access groups').waitFor();
    assert.equal(await check.getAttribute('data-status'), 'ok');
    await shot(it, '05-wizard-first-sync-green', '3-first-sync');
  });

  test('OIDC step against the organisation\'s IdP; the sign-in client; "sign in to test" shows the identity and its datasets', async () => {
    await it.getByRole('button', { name: 'Continue' }).click();
    await it.getByLabel('OpenID Connect discovery URL').fill(op.discoveryUrl);
    await it.getByLabel('IdP token issuer').fill(op.issuer);
    await it.getByLabel('IdP token audience').fill(op.audience);
    await it.getByLabel('Provider').selectOption('okta');
    await it.getByRole('button', { name: 'Save OIDC settings' }).click();
    await it.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    await shot(it, '06-wizard-oidc', '4-oidc');

    // The callback URL to register at the IdP, then the client the IdP issued.
    assert.equal(await it.getByTestId('wizard-callback-url').inputValue(), `${base}/sso/${tenantId}/callback`);
    await it.getByLabel('Client id', { exact: true }).fill(WEB_CLIENT_ID);
    await it.getByLabel('Client secret', { exact: true }).fill(WEB_CLIENT_SECRET);
    await it.getByRole('button', { name: 'Save client' }).click();
    await it.locator('[data-testid="check-signin-client"][data-status="ok"]').waitFor();
    await it.getByTestId('signin-secret-state').getByText('Set').waitFor();
    assert.equal(await it.getByText(WEB_CLIENT_SECRET).count(), 0, 'the secret is never shown back');
    const oidc = await admin('GET', `/tenants/${tenantId}/oidc`);
    assert.deepEqual([oidc.issuer, oidc.audiences[0], oidc.discoveryUrl, oidc.clientId, oidc.clientSecretSet],
      [op.issuer, op.audience, op.discoveryUrl, WEB_CLIENT_ID, true], 'saving the client kept the verification settings');
    await shot(it, '06b-wizard-signin-client', '4-signin-client');

    // The real sign-in: the IdP's login page, back through the broker to the wizard with the result.
    await it.getByRole('button', { name: 'Sign in to test' }).click();
    await it.getByLabel('Username').fill('adele');
    await it.getByLabel('Password').fill('adele-idp-pw');
    await it.getByRole('button', { name: 'Sign in', exact: true }).click();
    const result = it.getByTestId('signin-test-result');
    await result.waitFor();
    assert.equal(await result.getAttribute('data-status'), 'ok', await result.innerText());
    assert.equal(await it.getByTestId('signin-test-user').innerText(), 'adele.vance@contoso.example');
    assert.equal(await it.getByTestId('signin-test-datasets').innerText(), 'General ledger');
    assert.ok(!it.url().includes('token='), 'no token in the address bar');
    await it.getByRole('heading', { name: 'Guided set-up', level: 1 }).waitFor();
    await shot(it, '06c-wizard-signin-test', '4-signin-test');

    // An IdP set up for SAML instead: the step points to the SAML page, and the summary lists what is left.
    assert.equal(await it.getByTestId('wizard-saml-link').getAttribute('href'), `#/t/${tenantId}/saml`);
    await admin('POST', `/tenants/${tenantId}/connections`, { type: 'saml', name: 'Subsidiary SAML' });

    await it.getByRole('button', { name: 'Continue' }).click();
    await it.getByRole('heading', { name: '5. Summary' }).waitFor();
    await it.getByTestId('sum-sso').getByText("register your product's redirect URI", { exact: false }).waitFor();
    await it.locator('[data-testid="sum-saml"][data-status="waiting"]').getByText('Left to do: finish SAML connection “Subsidiary SAML”', { exact: false }).waitFor();
    for (const id of ['sum-token', 'sum-sync', 'sum-oidc']) {
      await it.locator(`[data-testid="${id}"][data-status="ok"]`).waitFor();
    }
    await it.getByTestId('sum-sync').getByText('4 users and 1 group provisioned, 1 linked to access groups').waitFor();
    await shot(it, '07-wizard-summary', '5-summary');
  });

  test('Sign-in page (operator): callback URL, client kept when saved, redirect URIs added and refused, secret write-only', async () => {
    await operator.goto(`${base}/console/#/t/${tenantId}/sign-in`);
    await operator.getByRole('heading', { name: 'Sign-in', level: 1 }).waitFor();
    assert.equal(await operator.getByTestId('signin-callback-url').inputValue(), `${base}/sso/${tenantId}/callback`);
    await operator.getByText('Register at least one redirect URI').waitFor();
    await operator.getByLabel('Add a redirect URI').fill('javascript:alert(1)');
    await operator.getByRole('button', { name: 'Add', exact: true }).click();
    await operator.getByRole('alert').getByText(/scheme cannot be a redirect URI/).waitFor();
    for (const uri of ['https://app.contoso.example/auth/callback', 'msauth.com.contoso.app://auth', 'http://127.0.0.1/native/cb']) {
      await operator.getByLabel('Add a redirect URI').fill(uri);
      await operator.getByRole('button', { name: 'Add', exact: true }).click();
      await operator.getByTestId('redirect-uri').getByText(uri, { exact: true }).waitFor();
    }
    await operator.getByTestId('signin-ready').getByText('Ready').waitFor();
    // Saving the client form unchanged keeps the secret and every verification setting.
    await operator.getByRole('button', { name: 'Save client' }).click();
    await operator.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    const sso = await admin('GET', `/tenants/${tenantId}/sso`);
    assert.deepEqual([sso.ready, sso.clientId, sso.clientSecretSet], [true, WEB_CLIENT_ID, true]);
    assert.equal((await admin('GET', `/tenants/${tenantId}/oidc`)).audiences[0], op.audience);
    await shot(operator, '07b-sign-in-page', 'sign-in-page');
    // Remove a redirect URI.
    await operator.getByRole('button', { name: 'Remove http://127.0.0.1/native/cb' }).click();
    await operator.getByRole('dialog').getByRole('button', { name: 'Remove' }).click();
    await operator.getByTestId('redirect-uri').getByText('http://127.0.0.1/native/cb').waitFor({ state: 'detached' });
    assert.equal((await admin('GET', `/tenants/${tenantId}/sso/redirect-uris`)).redirectUris.length, 2);
    // Back where the next test expects the operator.
    await operator.goto(`${base}/console/#/t/${tenantId}/setup-links`);
    await operator.getByTestId('setup-links-table').waitFor();
  });

  test('an IT admin with a console account signs in to the console with the organisation\'s IdP', async () => {
    await admin('POST', `/tenants/${tenantId}/console-accounts`, { login: 'adele.vance@contoso.example', password: 'a long console password 1' });
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 860 } })).newPage();
    page.setDefaultTimeout(20_000);
    watch(page);
    await page.goto(`${base}/console/#/?org=${tenantId}`);
    await page.getByRole('heading', { name: 'Sign in to the console' }).waitFor();
    assert.equal(await page.getByLabel('Organisation id').inputValue(), tenantId);
    await shot(page, '07c-console-org-sign-in', 'console-sign-in');
    await page.getByRole('button', { name: 'Sign in with your organisation' }).click();
    await page.getByLabel('Username').fill('adele');
    await page.getByLabel('Password').fill('adele-idp-pw');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'IdP integration', level: 1 }).waitFor();
    assert.match(page.url(), new RegExp(`#/t/${tenantId}/integration$`));
    await page.locator('.who-label').getByText('adele.vance@contoso.example').waitFor();
    assert.equal(await page.getByRole('link', { name: 'Set-up links' }).count(), 0, 'a tenant admin, not the operator');
    await page.context().close();
  });

  test('revoking the link in the console signs the IT admin out', async () => {
    await operator.reload();
    await operator.getByRole('button', { name: 'Revoke…' }).click();
    await operator.getByRole('dialog').getByRole('button', { name: 'Revoke link' }).click();
    await operator.getByTestId('setup-links-table').getByText('revoked').waitFor();
    // The summary keeps polling: its next request is refused and the console says the session ended.
    await it.getByRole('heading', { name: 'Sign in to the console' }).waitFor();
    await it.getByText('Your session has ended; sign in again.').waitFor();
    await it.goto(linkUrl);
    await it.getByText('unknown, has expired or was revoked').waitFor();
    await shot(it, '08-link-refused');
    assert.deepEqual(problems, []);
  });

  test('keyboard only: the wizard is completed with Tab, arrow keys, Enter and typing', async () => {
    const link = await admin('POST', `/tenants/${otherTenantId}/setup-links`);
    const kb = await (await browser.newContext({ viewport: { width: 1280, height: 860 } })).newPage();
    kb.setDefaultTimeout(20_000);
    watch(kb);
    await kb.goto(link.url.replace(/^https?:\/\/[^/]+/, base)); // created through inject: no real host in it
    await kb.getByRole('heading', { name: 'Guided set-up', level: 1 }).waitFor();
    const focused = () => kb.evaluate(`(() => { const e = document.activeElement; if (!e) return '';
      return ((e.labels && e.labels[0] && e.labels[0].textContent) || e.getAttribute('aria-label') || e.textContent || '').trim(); })()`) as Promise<string>;
    /** Presses Tab until the focused control is called `name` (at most 80 times). */
    const tabTo = async (name: string) => {
      for (let i = 0; i < 80; i++) {
        if ((await focused()) === name) return;
        await kb.keyboard.press('Tab');
      }
      throw new Error(`Tab never reached "${name}" (last: "${await focused()}")`);
    };
    await tabTo('Microsoft Entra ID');
    await kb.keyboard.press('ArrowDown');
    assert.equal(await focused(), 'Okta');
    assert.ok(await kb.getByRole('radio', { name: 'Okta' }).isChecked());
    await tabTo('Continue');
    await kb.keyboard.press('Enter');
    await kb.getByRole('heading', { name: '2. Connect provisioning' }).waitFor();
    await kb.getByLabel('SCIM connector base URL', { exact: true }).waitFor();
    await tabTo('Create a secret token');
    await kb.keyboard.press('Enter');
    assert.match(await kb.getByTestId('wizard-token').inputValue(), /^idpb_scim_/);
    await tabTo('Continue');
    await kb.keyboard.press('Enter');
    await kb.getByRole('heading', { name: '3. Assign users and groups' }).waitFor();
    await tabTo('Continue');
    await kb.keyboard.press('Enter');
    await tabTo('IdP token issuer');
    await kb.keyboard.type('https://fabrikam.okta.com/oauth2/default');
    await tabTo('IdP token audience');
    await kb.keyboard.type('api://default');
    await tabTo('Save OIDC settings');
    await kb.keyboard.press('Enter');
    await kb.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    await tabTo('Continue');
    await kb.keyboard.press('Enter');
    await kb.getByRole('heading', { name: '5. Summary' }).waitFor();
    await kb.locator('[data-testid="sum-oidc"][data-status="ok"]').waitFor();
    await kb.locator('[data-testid="sum-token"][data-status="ok"]').waitFor();
    assert.equal((await admin('GET', `/tenants/${otherTenantId}/oidc`)).provider, 'okta');
    await shot(kb, '09-keyboard-summary');
  });

  test('every console page of the tenant, as the operator (shot and checked with axe-core)', async () => {
    const pages = [['tenants', '#/tenants', 'Tenants'], ['integration', `#/t/${tenantId}/integration`, 'IdP integration'],
      ['settings', `#/t/${tenantId}/settings`, 'Provisioning settings'], ['users', `#/t/${tenantId}/users`, 'Users'],
      ['groups', `#/t/${tenantId}/groups`, 'Groups'], ['access-groups', `#/t/${tenantId}/access-groups`, 'Access groups'],
      ['datasets', `#/t/${tenantId}/datasets`, 'Datasets'], ['webhooks', `#/t/${tenantId}/webhooks`, 'Webhooks'],
      ['log', `#/t/${tenantId}/log`, 'Provisioning log'], ['admins', `#/t/${tenantId}/admins`, 'Console accounts'],
      ['setup-links', `#/t/${tenantId}/setup-links`, 'Set-up links'], ['wizard', `#/t/${tenantId}/setup`, 'Guided set-up'],
      ['sign-in', `#/t/${tenantId}/sign-in`, 'Sign-in'], ['saml', `#/t/${tenantId}/saml`, 'SAML sign-in'],
      ['audit', `#/t/${tenantId}/audit`, 'Audit log'], ['health', `#/t/${tenantId}/health`, 'Provisioning health'],
      ['api-keys', `#/t/${tenantId}/api-keys`, 'API keys'], ['operator-health', '#/health', 'Provisioning health'],
      ['operator-audit', '#/audit', 'Audit log']] as const;
    for (const [name, hash, title] of pages) {
      await operator.goto(`${base}/console/${hash}`);
      await operator.getByRole('heading', { name: title, level: 1 }).waitFor();
      await operator.waitForLoadState('networkidle').catch(() => undefined);
      await shot(operator, `10-page-${name}`);
    }
  });

  test('axe-core: no serious or critical violation on any page shot above', async () => {
    // The checker itself works: a button without a name is a critical violation.
    const probe = await (await browser.newContext()).newPage();
    await probe.setContent('<!doctype html><html lang="en"><head><title>probe</title></head><body><main><button></button></main></body></html>');
    assert.match((await axeViolations(probe)).join('\n'), /critical button-name/);
    assert.deepEqual(a11y, []);
  });
});
