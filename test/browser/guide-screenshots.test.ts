// Screenshots for the IdP guides (docs/guides/*.md), taken from the real console in Chromium, as the
// tenant's IT admin sees it (a tenant-admin console account), after real SCIM requests shaped like
// Entra's. Each image is cropped to the part of the page the guide talks about and written to
// docs/guides/img/ (with UPDATE_GUIDE_SCREENSHOTS=1), so the guides show the console as it is now. Every image the guides reference
// must be produced here (checked at the end).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { ADMIN_TOKEN, openTestDatabase, testConfig } from '../helpers/app.js';
import { ROOT } from '../helpers/process.js';
import { browserSkip, ensureConsoleBuilt, launchChromium } from '../helpers/browser.js';
import { startTestOp, type TestOp } from '../idp-tokens/helpers/op.js';

// The committed images change only on request (UPDATE_GUIDE_SCREENSHOTS=1): ids and dates differ on
// every run, and a test run must not dirty the work tree. Otherwise they go to test-output/.
const COMMITTED_IMG = join(ROOT, 'docs/guides/img');
const IMG = process.env.UPDATE_GUIDE_SCREENSHOTS === '1' ? COMMITTED_IMG : join(ROOT, 'test-output/guide-img');
const GUIDES = [join(ROOT, 'docs/guides/entra-id.md'), join(ROOT, 'docs/guides/okta.md')];
const skip = browserSkip('the guide screenshots');

describe('guide screenshots from the console', { skip, timeout: 90_000 }, () => {
  let app: FastifyInstance;
  let base = '';
  let browser: Browser;
  let page: Page;
  let op: TestOp;
  let tenantId = '';
  let scimBaseUrl = '';
  let scimToken = '';
  const written = new Set<string>();
  const problems: string[] = [];

  /** Saves a cropped screenshot (the element only) as docs/guides/img/<name>.png. */
  const shot = async (name: string, target: Locator) => {
    await page.waitForTimeout(50);
    await target.screenshot({ path: join(IMG, `${name}.png`), animations: 'disabled' });
    written.add(`${name}.png`);
  };

  const admin = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${base}/admin/v1${path}`, {
      method, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
    });
    assert.ok(r.status < 300, `${method} ${path} → ${r.status} ${await r.clone().text()}`);
    return r.status === 204 ? undefined : r.json() as Promise<Record<string, unknown>>;
  };
  // Entra's provisioning service (its User-Agent makes the log's IdP column say "entra").
  const scim = (method: string, path: string, body?: unknown) => fetch(`${scimBaseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${scimToken}`, 'content-type': 'application/scim+json', 'user-agent': 'Microsoft Azure AD SCIM Client' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

  before(async () => {
    ensureConsoleBuilt();
    mkdirSync(IMG, { recursive: true });
    const db = await openTestDatabase('pglite');
    // The URL the IT admin copies is the public one, as in production.
    ({ app } = await buildApp({ config: testConfig({ publicUrl: 'https://idpbridge.example.com' }), db, logger: false, skipMigrations: true }));
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    op = await startTestOp({ audience: 'api://contoso-product' });
    browser = await launchChromium();
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await ctx.newPage();
    page.setDefaultTimeout(10_000);
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('response', (r) => { if (r.status() >= 500) problems.push(`HTTP ${r.status()} ${r.request().method()} ${r.url()}`); });

    // The operator's part: the tenant, its dataset and access group, the IT admin's console account.
    const t = await admin('POST', '/tenants', { name: 'Contoso' });
    tenantId = t!.id as string;
    await admin('POST', `/tenants/${tenantId}/datasets`, { name: 'Payroll reports', externalId: 'ds-payroll' });
    await admin('POST', `/tenants/${tenantId}/access-groups`, { name: 'Finance', description: 'Entra group Finance' });
    await admin('PUT', `/tenants/${tenantId}/settings`, { userTypeAllowList: ['Premium', 'Standard'] });
    await admin('POST', `/tenants/${tenantId}/console-accounts`, { login: 'it.admin@contoso.com', password: 'a long enough password 42', displayName: 'Contoso IT' });
  });

  after(async () => {
    await browser?.close();
    await app?.close();
    await op?.close();
  });

  test('SCIM base URL and a secret token shown once', async () => {
    await page.goto(`${base}/console/`);
    await page.getByLabel('Login').fill('it.admin@contoso.com');
    await page.getByLabel('Password').fill('a long enough password 42');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'IdP integration' }).waitFor();
    assert.equal(await page.getByTestId('scim-base-url').inputValue(), `https://idpbridge.example.com/scim/v2/${tenantId}`);
    scimBaseUrl = `${base}/scim/v2/${tenantId}`;
    await page.getByLabel('Token name').fill('Entra provisioning');
    await page.getByRole('button', { name: 'Generate secret token' }).click();
    await page.getByText('It is shown only once').waitFor();
    scimToken = await page.getByTestId('secret-value').inputValue();
    assert.match(scimToken, /^idpb_scim_/);
    await shot('console-scim-token', page.locator('section[aria-labelledby="scim-h"]'));
    await page.getByRole('button', { name: 'I have copied it' }).click();
  });

  test('provisioned users, their detail and the linked group', async () => {
    const probe = await scim('GET', `/Users?filter=${encodeURIComponent('userName eq "test-connection-3f1c@contoso.com"')}`);
    assert.equal(probe.status, 200);
    const ids: string[] = [];
    for (const [given, family, type] of [['Adele', 'Vance', 'Premium'], ['Alex', 'Wilber', 'Standard'], ['Megan', 'Bowen', 'Premium']] as const) {
      const userName = `${given}.${family}@contoso.com`.toLowerCase();
      const r = await scim('POST', '/Users', {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', 'urn:ietf:params:scim:schemas:extension:2.0:CustomExtensionName', 'urn:ietf:params:scim:schemas:extension:2.0:Metadata'],
        externalId: crypto.randomUUID(), userName, active: true, displayName: `${given} ${family}`,
        name: { givenName: given, familyName: family }, emails: [{ primary: true, type: 'work', value: userName }], userType: type,
        roles: [{ primary: true, value: given === 'Adele' ? 'Admin' : 'User' }],
        'urn:ietf:params:scim:schemas:extension:2.0:CustomExtensionName': { folders: given === 'Adele' ? ['ds-payroll, ds-ledger'] : [] },
        'urn:ietf:params:scim:schemas:extension:2.0:Metadata': { costCenter: 'CC-1042' },
      });
      assert.equal(r.status, 201, await r.clone().text());
      ids.push(((await r.json()) as { id: string }).id);
    }
    const g = await scim('POST', '/Groups', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], externalId: crypto.randomUUID(), displayName: 'Finance', members: ids.slice(0, 2).map((value) => ({ value })),
    });
    assert.equal(g.status, 201);
    await scim('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], externalId: crypto.randomUUID(), displayName: 'Sales', members: [{ value: ids[2] }] });
    // Two refusals for the log: a duplicate userName and a userType that is not allowed.
    assert.equal((await scim('POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'Adele.Vance@contoso.com' })).status, 409);
    assert.equal((await scim('POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'lee.gu@contoso.com', userType: 'premium' })).status, 400);
    await scim('PATCH', `/Users/${ids[2]}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] });

    await page.getByRole('link', { name: 'Users', exact: true }).click();
    await page.getByTestId('users-table').getByRole('link', { name: 'adele.vance@contoso.com' }).waitFor();
    await shot('console-users', page.locator('#main'));

    await page.getByTestId('users-table').getByRole('link', { name: 'adele.vance@contoso.com' }).click();
    await page.getByRole('heading', { name: 'Adele Vance' }).waitFor();
    await page.getByText('Payroll reports').first().waitFor();
    await shot('console-user-detail', page.locator('#main'));

    await page.getByRole('link', { name: 'Groups', exact: true }).click();
    await page.getByTestId('groups-table').getByText('Linked').waitFor();
    await shot('console-groups', page.locator('#main'));
  });

  test('the provisioning log, refusals first', async () => {
    await page.getByRole('link', { name: 'Provisioning log' }).click();
    const log = page.getByTestId('log-table');
    await log.getByText('uniqueness').first().waitFor();
    await page.getByLabel('Outcome').selectOption('failure');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await log.getByText('invalidValue').first().waitFor();
    for (let i = 0; i < 50 && (await log.locator('tbody tr').count()) !== 2; i++) await page.waitForTimeout(100);
    assert.equal(await log.locator('tbody tr').count(), 2, 'only the two refusals are listed');
    await shot('console-provisioning-log', page.locator('#main'));
  });

  test('regenerating the secret token warns first', async () => {
    await page.getByRole('link', { name: 'IdP integration' }).click();
    await page.getByRole('button', { name: 'Regenerate…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Regenerate this secret token?' });
    await dialog.getByText('stops working immediately').waitFor();
    await shot('console-regenerate', dialog);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
  });

  const fillOidc = async (values: { discovery: string; issuer: string; audience: string; provider: string }) => {
    await page.getByLabel('OpenID Connect discovery URL').fill(values.discovery);
    await page.getByLabel('IdP token issuer').fill(values.issuer);
    await page.getByLabel('IdP token audience').fill(values.audience);
    await page.getByLabel('Provider').selectOption(values.provider);
    await page.getByRole('button', { name: 'Save OIDC settings' }).click();
    await page.getByText('Saved.').waitFor();
  };

  test('OIDC settings: Entra values, Okta values, and a passing Test connection', async () => {
    const dir = '72f988bf-86f1-41af-91ab-2d7cd011db47';
    await fillOidc({
      discovery: `https://login.microsoftonline.com/${dir}/v2.0/.well-known/openid-configuration`,
      issuer: `https://sts.windows.net/${dir}/`, audience: 'api://contoso-product, 6731de76-14a6-49ae-97bc-6eba6914391e', provider: 'entra',
    });
    await shot('console-oidc-entra', page.locator('section[aria-labelledby="oidc-h"] form'));
    await fillOidc({
      discovery: 'https://acme.okta.com/oauth2/default/.well-known/oauth-authorization-server',
      issuer: 'https://acme.okta.com/oauth2/default', audience: 'api://default', provider: 'okta',
    });
    await shot('console-oidc-okta', page.locator('section[aria-labelledby="oidc-h"] form'));
    // What success looks like, against a real OpenID provider on this machine (no internet here),
    // with a sample token of a provisioned user.
    op.user('adele', { oid: 'unknown', preferred_username: 'adele.vance@contoso.com' });
    await fillOidc({ discovery: op.discoveryUrl, issuer: op.issuer, audience: op.audience, provider: 'entra' });
    await page.getByLabel('Sample access token').fill(await op.token('adele'));
    await page.getByRole('button', { name: 'Test connection' }).click();
    await page.getByText('All checks passed').waitFor({ timeout: 20_000 });
    await shot('console-oidc-test', page.locator('section[aria-labelledby="oidc-h"] .subsection'));
  });

  test('every image the guides show was produced here, and they stay small', () => {
    const referenced = new Set<string>();
    for (const g of GUIDES) for (const m of readFileSync(g, 'utf8').matchAll(/\]\(img\/([\w.-]+\.png)\)/g)) referenced.add(m[1]!);
    // wizard-*.png come from test/browser/setup-wizard.test.ts and saml-*.png from test/browser/saml-console.test.ts.
    const takenElsewhere = (r: string) => r.startsWith('wizard-') || r.startsWith('saml-');
    assert.deepEqual([...referenced].filter((r) => !written.has(r) && !takenElsewhere(r)), [], 'images referenced by the guides but not taken');
    assert.deepEqual([...referenced].filter((r) => !existsSync(join(COMMITTED_IMG, r))), [], 'images referenced by the guides but not committed (run with UPDATE_GUIDE_SCREENSHOTS=1)');
    let total = 0;
    for (const f of written) total += statSync(join(IMG, f)).size;
    assert.ok(total < 2_000_000, `guide screenshots total ${total} bytes`);
    assert.deepEqual(problems, []);
  });
});
