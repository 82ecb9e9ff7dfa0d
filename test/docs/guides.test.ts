// The guides in docs/ run: every curl line (and `npx idpbridge` command) they show is executed
// against a real server, and the answer they document is checked (status, headers, the fields shown;
// ids and dates as placeholders). See test/docs/doc-runner.ts for the marker format.
//
// - docs/guides/entra-id.md, docs/guides/okta.md, docs/integration.md: idpbridge in-process on a real
//   socket (app.listen on port 0), with a real OpenID provider on 127.0.0.1 for the IdP tokens and a
//   webhook receiver built from the code shown in docs/integration.md.
// - docs/operator.md: idpbridge as a real process (src/main.ts) configured with the environment
//   variables the guide documents (IDPBRIDGE_PUBLIC_URL, IDPBRIDGE_TRUST_PROXY, IDPBRIDGE_ADMIN_TOKEN).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { pathToFileURL } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { ADMIN_TOKEN, eachDatabase, openTestDatabase, testConfig, type TestDatabaseKind } from '../helpers/app.js';
import { ROOT, runCli, startServerProcess, type ServerProcess } from '../helpers/process.js';
import { startTestOp, type TestOp } from '../idp-tokens/helpers/op.js';
import { checkResponse, curlToRequest, parseGuide, shellWords, type DocRequest, type Vars } from './doc-runner.js';
import { samlGuideEnv } from './saml-guide-env.js';

const DOCS = join(ROOT, 'docs');
const GUIDES = ['guides/entra-id.md', 'guides/okta.md', 'guides/entra-id-saml.md', 'guides/okta-saml.md', 'integration.md', 'operator.md'];

/** A free TCP port on 127.0.0.1 (for the webhook receiver the guide starts later). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs one documented request (curl or the CLI) and checks the documented answer. */
async function runDocRequest(req: DocRequest, vars: Vars, env: { cliEnv: Record<string, string> }): Promise<void> {
  const where = `${req.file.replace(`${ROOT}/`, '')}:${req.line} (${req.name})`;
  const attempts = req.retry ? 60 : 1;
  let problems: string[] = [];
  for (let a = 0; a < attempts; a++) {
    // Captures of a failed attempt must not leak into the next one.
    const trial = new Map(vars);
    const { words, heredoc } = shellWords(req.command, trial, where);
    if (words[0] === 'npx' && words[1] === 'idpbridge') {
      const r = await runCli(words.slice(2), env.cliEnv);
      problems = checkResponse(req.expect, { status: r.code ?? -1, headers: new Headers(), text: r.stdout + r.stderr }, trial);
      if (problems.length) problems.push(`(exit ${r.code}: ${r.stdout}${r.stderr})`);
    } else {
      assert.ok(req.expect.status > 0, `${where}: an HTTP request needs a status line in its documented answer`);
      const call = curlToRequest(words, heredoc, where);
      const res = await fetch(call.url, { method: call.method, headers: call.headers, body: call.body, redirect: 'manual' });
      const text = await res.text();
      problems = checkResponse(req.expect, { status: res.status, headers: res.headers, text }, trial);
      if (problems.length) problems.push(`(${call.method} ${call.url} answered ${res.status}: ${text.slice(0, 600)})`);
    }
    if (!problems.length) {
      for (const [k, v] of trial) vars.set(k, v);
      return;
    }
    if (a < attempts - 1) await sleep(250);
  }
  assert.fail(`${where}: the documented answer does not match\n  ${problems.join('\n  ')}`);
}

describe('guides: every documented request is executed', () => {
  test('every curl line in docs/ is a doc-test with a documented answer', () => {
    const files = GUIDES.map((g) => join(DOCS, g));
    // Other docs must not show requests the tests do not run either.
    for (const f of readdirSync(DOCS)) if (f.endsWith('.md') && !files.includes(join(DOCS, f))) files.push(join(DOCS, f));
    let total = 0;
    for (const f of files) {
      const { requests, unmarkedCurl } = parseGuide(f);
      total += requests.length;
      if (GUIDES.some((g) => join(DOCS, g) === f)) {
        assert.deepEqual(unmarkedCurl, [], `${f}: curl blocks at these lines are not marked <!-- doc-test: … -->`);
        assert.ok(requests.length > 0, `${f} has no doc-test`);
      }
      const names = requests.map((r) => r.name);
      assert.equal(new Set(names).size, names.length, `${f}: doc-test names must be unique`);
    }
    assert.ok(total >= 40, `only ${total} documented requests`);
  });
});

eachDatabase((kind: TestDatabaseKind) => {
  describe('guides run against an in-process server', { timeout: 180_000 }, () => {
    let app: FastifyInstance;
    let base = '';
    let op: TestOp;
    let webhookPort = 0;
    let receiver: { close(cb?: () => void): void } | undefined;
    const cliDir = mkdtempSync(join(tmpdir(), 'idpb-doc-cli-'));

    before(async () => {
      op = await startTestOp({ audience: 'api://default' });
      webhookPort = await freePort();
      const db = await openTestDatabase(kind);
      ({ app } = await buildApp({
        config: testConfig({ worker: true, workerPollMs: 50, webhookBackoffBaseMs: 200, webhookBackoffMaxMs: 1000 }),
        db, logger: false, skipMigrations: true,
      }));
      await app.listen({ host: '127.0.0.1', port: 0 });
      base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    });

    after(async () => {
      receiver?.close();
      await app?.close();
      await op?.close();
      rmSync(cliDir, { recursive: true, force: true });
    });

    /** What the console does for the IT admin before the IdP guides start: a tenant and its SCIM URL + secret token. */
    const consoleSetup = async (name: string, vars: Vars) => {
      const admin = (method: string, path: string, body?: unknown) => fetch(`${base}/admin/v1${path}`, {
        method, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
      }).then(async (r) => { assert.ok(r.status < 300, `${method} ${path}: ${r.status}`); return r.json() as Promise<Record<string, string>>; });
      const t = await admin('POST', '/tenants', { name });
      const k = await admin('POST', `/tenants/${t.id}/scim-tokens`, { name: `${name} provisioning` });
      vars.set('SCIM_URL', t.scimBaseUrl!);
      vars.set('SCIM_TOKEN', k.token!);
      vars.set('TENANT_ID', t.id!);
      return admin;
    };

    const runGuide = async (t: { test: (name: string, fn: () => Promise<void>) => Promise<void> }, file: string, vars: Vars) => {
      const { requests } = parseGuide(join(DOCS, file));
      for (const r of requests) await t.test(r.name, () => runDocRequest(r, vars, { cliEnv: { IDPBRIDGE_DATA_DIR: cliDir } }));
      return requests.length;
    };

    test('docs/guides/entra-id.md', async (t) => {
      const vars: Vars = new Map();
      const admin = await consoleSetup('Contoso', vars);
      // The console steps of the guide: a dataset and an access group named like the Entra group
      // (Datasets, Access groups pages), and "Allowed userType values" on Provisioning settings.
      await admin('POST', `/tenants/${vars.get('TENANT_ID')}/datasets`, { name: 'Payroll reports', externalId: 'ds-payroll' });
      await admin('POST', `/tenants/${vars.get('TENANT_ID')}/access-groups`, { name: 'Finance' });
      await admin('PUT', `/tenants/${vars.get('TENANT_ID')}/settings`, { userTypeAllowList: ['Premium', 'Standard'] });
      assert.ok(await runGuide(t, 'guides/entra-id.md', vars) >= 10);
    });

    test('docs/guides/okta.md', async (t) => {
      const vars: Vars = new Map();
      await consoleSetup('Acme', vars);
      assert.ok(await runGuide(t, 'guides/okta.md', vars) >= 8);
    });

    // The SAML guides: their requests, then a sign-in with the claims they tell the admin to set.
    for (const [file, idp, min] of [['guides/entra-id-saml.md', 'entra', 4], ['guides/okta-saml.md', 'okta', 4]] as const) {
      test(`docs/${file}`, async (t) => {
        const vars: Vars = new Map();
        const env = await samlGuideEnv(base, idp, vars);
        try {
          assert.ok(await runGuide(t, file, vars) >= min);
          await env.checkSignIn(vars);
        } finally {
          await env.close();
        }
      });
    }

    test('docs/integration.md', async (t) => {
      const vars: Vars = new Map([
        ['IDPBRIDGE', base], ['ADMIN_TOKEN', ADMIN_TOKEN], ['ISSUER', op.issuer], ['AUDIENCE', op.audience],
        ['WEBHOOK_URL', `http://127.0.0.1:${webhookPort}/idpbridge-events`],
      ]);
      // The end user's IdP access token: Okta-shaped claims (uid = the Okta user id that SCIM sent as externalId).
      op.user('adele-app', { uid: '00u1adelevance0001', email: 'adele.vance@acme.example', groups: ['Finance'] });
      vars.set('ACCESS_TOKEN', await op.token('adele-app'));

      const { requests, code } = parseGuide(join(DOCS, 'integration.md'));
      const receiverSource = code.find((c) => c.name === 'webhook-receiver');
      assert.ok(receiverSource, 'integration.md shows the webhook receiver (<!-- doc-code: webhook-receiver -->)');
      const dir = mkdtempSync(join(tmpdir(), 'idpb-doc-receiver-'));
      const file = join(dir, 'receiver.mjs');
      writeFileSync(file, receiverSource.source);
      const mod = await import(pathToFileURL(file).href) as {
        startReceiver(o: { port: number; secret: string; onEvent: (e: { id: string; type: string }) => void | Promise<void> }): Promise<{ close(cb?: () => void): void }>;
        verifyIdpbridgeSignature(secret: string, raw: string, header: string): boolean;
      };
      const received: { id: string; type: string }[] = [];

      for (const r of requests) {
        await t.test(r.name, () => runDocRequest(r, vars, { cliEnv: { IDPBRIDGE_DATA_DIR: cliDir } }));
        // The guide starts its receiver once the webhook (and so its secret) exists.
        if (!receiver && vars.has('WEBHOOK_SECRET')) {
          receiver = await mod.startReceiver({ port: webhookPort, secret: vars.get('WEBHOOK_SECRET')!, onEvent: (e) => { received.push(e); } });
        }
      }
      assert.ok(receiver, 'the guide creates a webhook and captures its secret as $WEBHOOK_SECRET');
      // The receiver verified signatures and got the events of the worked example.
      for (let i = 0; i < 80 && !received.some((e) => e.type === 'user.created'); i++) await sleep(100);
      assert.ok(received.some((e) => e.type === 'user.created'), `events received: ${received.map((e) => e.type).join(', ')}`);
      assert.equal(mod.verifyIdpbridgeSignature('whsec_wrong-secret-0123456789', '{}', `t=${Math.floor(Date.now() / 1000)},v1=00`), false);
      assert.ok(requests.length >= 15);
      rmSync(dir, { recursive: true, force: true });
    });
  });

  describe('docs/operator.md against a real process', { timeout: 120_000 }, () => {
    let server: ServerProcess | undefined;
    const dataDir = mkdtempSync(join(tmpdir(), 'idpb-doc-op-'));
    const cliDir = mkdtempSync(join(tmpdir(), 'idpb-doc-op-cli-'));
    const operatorToken = 'idpb_admin_doc-test-operator-token-0123456789';

    before(async () => {
      server = await startServerProcess({
        ...(kind === 'postgres' ? { DATABASE_URL: process.env.TEST_DATABASE_URL } : { IDPBRIDGE_DATA_DIR: dataDir }),
        IDPBRIDGE_ADMIN_TOKEN: operatorToken,
        IDPBRIDGE_PUBLIC_URL: 'https://idpbridge.example.com',
        IDPBRIDGE_TRUST_PROXY: 'true',
        IDPBRIDGE_WORKER: 'off',
      });
    });

    after(async () => {
      await server?.kill();
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(cliDir, { recursive: true, force: true });
    });

    test('docs/operator.md', async (t) => {
      const vars: Vars = new Map([['IDPBRIDGE', server!.url], ['ADMIN_TOKEN', operatorToken]]);
      const { requests } = parseGuide(join(DOCS, 'operator.md'));
      for (const r of requests) await t.test(r.name, () => runDocRequest(r, vars, { cliEnv: { IDPBRIDGE_DATA_DIR: cliDir } }));
      assert.ok(requests.length >= 8);
    });
  });
});
