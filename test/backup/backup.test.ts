// Backups round-trip (docs/operator.md, "Backups"): `idpbridge backup FILE` / `idpbridge restore
// FILE` for the embedded PGlite, and the documented pg_dump / pg_restore recipe for PostgreSQL.
// After a restore, SCIM tokens and API keys work, the provisioning log is what it was, events
// delivered before the backup are not delivered again, and new writes are delivered once.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { migrate } from '../../src/db/migrate.js';
import type { Database } from '../../src/db/types.js';
import { testConfig, ADMIN_TOKEN } from '../helpers/app.js';
import { runCli } from '../helpers/process.js';
import { main as cli } from '../../src/cli.js';
import { freshDatabase } from '../upgrade/fresh-db.js';
import { startReceiver } from '../upgrade/seed.js';

const work = mkdtempSync(join(tmpdir(), 'idpbridge-backup-'));
after(() => rmSync(work, { recursive: true, force: true }));

const config = (extra: Record<string, unknown> = {}) => testConfig({
  worker: true, workerPollMs: 20, workerLeaseMs: 3_000, webhookTimeoutMs: 2_000, webhookBackoffBaseMs: 20, webhookBackoffMaxMs: 150,
  allowPrivateTargets: ['127.0.0.1'], ...extra,
});

type Receiver = Awaited<ReturnType<typeof startReceiver>>;

async function call(app: FastifyInstance, method: string, url: string, bearer: string, payload?: unknown) {
  const r = await app.inject({
    method: method as 'GET', url, headers: { authorization: `Bearer ${bearer}`, ...(payload ? { 'content-type': url.startsWith('/scim') ? 'application/scim+json' : 'application/json' } : {}) },
    ...(payload ? { payload: JSON.stringify(payload) } : {}),
  });
  return { status: r.statusCode, body: r.body ? (JSON.parse(r.body) as any) : undefined };
}

async function waitUntil(what: string, fn: () => boolean, ms = 15_000) {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

interface Made { tenantId: string; scimToken: string; apiKey: string; userIds: string[]; log: unknown[]; delivered: string[] }

/** A tenant with a webhook, three provisioned users, an API key; waits until every event is delivered. */
async function populate(app: FastifyInstance, receiver: Receiver): Promise<Made> {
  const t = await call(app, 'POST', '/admin/v1/tenants', ADMIN_TOKEN, { name: 'Backup Co' });
  const tenantId = t.body.id as string;
  const tok = await call(app, 'POST', `/admin/v1/tenants/${tenantId}/scim-tokens`, ADMIN_TOKEN, { name: 'entra' });
  const scimToken = tok.body.token as string;
  const hook = await call(app, 'POST', `/admin/v1/tenants/${tenantId}/webhooks`, ADMIN_TOKEN, { url: `${receiver.url}/hook`, events: ['user.*'] });
  assert.equal(hook.status, 201, JSON.stringify(hook.body));
  const userIds: string[] = [];
  for (const n of [1, 2, 3]) {
    const u = await call(app, 'POST', `/scim/v2/${tenantId}/Users`, scimToken, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: `b${n}@backup.example`, active: true });
    assert.equal(u.status, 201, JSON.stringify(u.body));
    userIds.push(u.body.id);
  }
  const key = await call(app, 'POST', `/admin/v1/tenants/${tenantId}/users/${userIds[0]}/api-keys`, ADMIN_TOKEN, { name: 'job' });
  assert.equal(key.status, 201, JSON.stringify(key.body));
  await waitUntil('three user.created deliveries', () => receiver.deliveries.length >= 3);
  await new Promise((r) => setTimeout(r, 200));
  // The provisioning log is written off the response path, in batches.
  let log: unknown[] = [];
  const end = Date.now() + 10_000;
  while (Date.now() < end) {
    log = (await call(app, 'GET', `/admin/v1/tenants/${tenantId}/provisioning-log?limit=100`, ADMIN_TOKEN)).body.entries;
    if (log.length >= 3) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(log.length >= 3);
  return { tenantId, scimToken, apiKey: key.body.key ?? key.body.apiKey ?? key.body.secret, userIds, log, delivered: receiver.deliveries.map((d) => d.id) };
}

/** After a restore: credentials, log, no redelivery, new writes delivered once. */
async function checkRestored(app: FastifyInstance, made: Made, receiver: Receiver) {
  const before = receiver.deliveries.length;
  const users = await call(app, 'GET', `/scim/v2/${made.tenantId}/Users`, made.scimToken);
  assert.equal(users.status, 200, 'the SCIM token works after the restore');
  assert.deepEqual(users.body.Resources.map((u: any) => u.id).sort(), [...made.userIds].sort());
  assert.ok(made.apiKey, 'the API key secret was returned at creation');
  const me = await call(app, 'GET', `/v1/${made.tenantId}/me`, made.apiKey);
  assert.equal(me.status, 200, `the API key works after the restore: ${JSON.stringify(me.body)}`);
  const log = (await call(app, 'GET', `/admin/v1/tenants/${made.tenantId}/provisioning-log?limit=100`, ADMIN_TOKEN)).body.entries as unknown[];
  // The reads above add entries of their own at the head (newest first); the old ones follow unchanged.
  assert.deepEqual(log.slice(log.length - made.log.length), made.log, 'the provisioning log is intact');
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(receiver.deliveries.length, before, 'nothing delivered before the backup is delivered again');
  const u = await call(app, 'POST', `/scim/v2/${made.tenantId}/Users`, made.scimToken, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'after-restore@backup.example' });
  assert.equal(u.status, 201);
  await waitUntil('the new user.created delivery', () => receiver.deliveries.length > before);
  await new Promise((r) => setTimeout(r, 300));
  const fresh = receiver.deliveries.slice(before);
  assert.equal(fresh.length, 1);
  assert.ok(!made.delivered.includes(fresh[0]!.id), 'a new event, not an old one again');
}

/** The CLI in this process (a child process per call costs seconds); returns the exit code and what it wrote. */
async function inProcess(args: string[], env: Record<string, string | undefined>) {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  const out = { stdout: '', stderr: '' };
  const w1 = process.stdout.write.bind(process.stdout);
  const w2 = process.stderr.write.bind(process.stderr);
  const set = (vars: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(vars)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  };
  set(env);
  process.stdout.write = ((c: string) => { out.stdout += c; return true; }) as typeof process.stdout.write;
  process.stderr.write = ((c: string) => { out.stderr += c; return true; }) as typeof process.stderr.write;
  try {
    return { code: await cli(args), ...out };
  } finally {
    process.stdout.write = w1;
    process.stderr.write = w2;
    set(saved);
  }
}

test('PGlite: idpbridge backup / restore round-trip; both refuse while a server holds the data directory', { timeout: 300_000 }, async () => {
  const dataDir = join(work, 'pglite-data');
  const restored = join(work, 'pglite-restored');
  const file = join(work, 'idpbridge.backup');
  const receiver = await startReceiver();
  try {
    const { app } = await buildApp({ config: config({ dataDir, databaseUrl: undefined }) });
    await app.ready();
    let made: Made;
    try {
      made = await populate(app, receiver);
      const busy = await runCli(['backup', file], { IDPBRIDGE_DATA_DIR: dataDir, DATABASE_URL: '' });
      assert.equal(busy.code, 3, `backup refuses while the server runs: ${busy.stderr}`);
      assert.match(busy.stderr, /in use by another idpbridge process \(pid \d+\)/);
      assert.equal(existsSync(file), false);
    } finally {
      await app.close();
    }
    const ok = await inProcess(['backup', file], { IDPBRIDGE_DATA_DIR: dataDir, DATABASE_URL: '' });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /written to/);
    assert.ok(statSync(file).size > 1000);

    const usage = await inProcess(['backup'], { IDPBRIDGE_DATA_DIR: dataDir, DATABASE_URL: '' });
    assert.equal(usage.code, 2);
    const pg = await inProcess(['backup', file], { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/x' });
    assert.equal(pg.code, 2);
    assert.match(pg.stderr, /pg_dump/);
    const notEmpty = await inProcess(['restore', file], { IDPBRIDGE_DATA_DIR: dataDir, DATABASE_URL: '' });
    assert.notEqual(notEmpty.code, 0, 'restore never overwrites a database');
    assert.match(notEmpty.stderr, /already holds a database/);

    const res = await inProcess(['restore', file], { IDPBRIDGE_DATA_DIR: restored, DATABASE_URL: '' });
    assert.equal(res.code, 0, res.stderr);
    const again = await buildApp({ config: config({ dataDir: restored, databaseUrl: undefined }) });
    await again.app.ready();
    try {
      const busy = await runCli(['restore', file], { IDPBRIDGE_DATA_DIR: restored, DATABASE_URL: '' });
      assert.equal(busy.code, 3, `restore refuses while the server runs: ${busy.stderr}`);
      await checkRestored(again.app, made, receiver);
    } finally {
      await again.app.close();
    }
  } finally {
    await receiver.close();
  }
});

const havePgTools = spawnSync('pg_dump', ['--version']).status === 0 && spawnSync('pg_restore', ['--version']).status === 0;

test('PostgreSQL: the pg_dump / pg_restore recipe of docs/operator.md round-trips', {
  timeout: 300_000,
  skip: !process.env.TEST_DATABASE_URL ? 'TEST_DATABASE_URL is not set' : !havePgTools ? 'pg_dump / pg_restore are not installed' : false,
}, async () => {
  const source = await freshDatabase('postgres', 'backup_src');
  const target = await freshDatabase('postgres', 'backup_dst');
  const receiver = await startReceiver();
  const file = join(work, 'idpbridge.dump');
  const open = async (db: Database) => (await buildApp({ config: config(), db, skipMigrations: true })).app;
  try {
    await migrate(source.db);
    const app = await open(source.db);
    await app.ready();
    let made: Made;
    try {
      made = await populate(app, receiver);
    } finally {
      await app.close();
    }
    // The recipe: pg_dump --format=custom, then pg_restore into an empty database.
    const dump = spawnSync('pg_dump', ['--format=custom', '--no-owner', `--file=${file}`, source.url!], { encoding: 'utf8' });
    assert.equal(dump.status, 0, dump.stderr);
    const restore = spawnSync('pg_restore', ['--no-owner', '--exit-on-error', `--dbname=${target.url!}`, file], { encoding: 'utf8' });
    assert.equal(restore.status, 0, restore.stderr);
    assert.deepEqual(await migrate(target.db), [], 'the restored schema is at the head');
    const restored = await open(target.db);
    await restored.ready();
    try {
      await checkRestored(restored, made, receiver);
    } finally {
      await restored.close();
    }
  } finally {
    await receiver.close();
    await source.drop();
    await target.drop();
  }
});
