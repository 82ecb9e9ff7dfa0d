import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { ADMIN_TOKEN } from '../helpers/app.js';
import { runCli, startServerProcess, type ServerProcess } from '../helpers/process.js';
import { openDatabase } from '../../src/db/open.js';
import { migrate } from '../../src/db/migrate.js';

const PG_URL = process.env.TEST_DATABASE_URL;
if (!PG_URL && process.env.CI) throw new Error('TEST_DATABASE_URL must be set under CI');

/** A fresh, empty PostgreSQL database for tests that need one (migrations from zero). */
async function freshDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `idpb_t_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(PG_URL!);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

describe('[postgres] processes', { skip: !PG_URL }, () => {
  test('migrations run twice and concurrently without error', async () => {
    // Six starters: the race on creating schema_migrations itself (a duplicate-type error from the
    // catalog, seen in CI under load) needs the advisory lock from the first statement on.
    const fresh = await freshDatabase();
    try {
      const dbs = await Promise.all([1, 2, 3, 4, 5, 6].map(() => openDatabase({ databaseUrl: fresh.url, poolMax: 2 })));
      const applied = await Promise.all(dbs.map((db) => migrate(db)));
      // Exactly one process applied each migration; the others found it done.
      const all = applied.flat();
      assert.equal(all.length, new Set(all).size);
      assert.ok(all.includes('001_foundation.sql'));
      assert.deepEqual(await migrate(dbs[0]!), [], 'a second run applies nothing');
      const { rows } = await dbs[0]!.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
      assert.equal(rows[0]!.n, all.length);
      await Promise.all(dbs.map((db) => db.close()));
    } finally {
      await fresh.drop();
    }
  });

  describe('two server processes on one PostgreSQL', () => {
    let a: ServerProcess;
    let b: ServerProcess;
    before(async () => {
      const env = { DATABASE_URL: PG_URL, IDPBRIDGE_ADMIN_TOKEN: ADMIN_TOKEN, IDPBRIDGE_RATE_LIMIT_PER_MINUTE: '0' };
      [a, b] = await Promise.all([startServerProcess(env), startServerProcess(env)]);
    });
    after(async () => {
      await Promise.all([a?.kill(), b?.kill()]);
    });

    test('a token revoked through one process is refused by the other within 1 s', async () => {
      const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
      const tenant = await (await fetch(`${a.url}/admin/v1/tenants`, { method: 'POST', headers: admin, body: JSON.stringify({ name: 'Two processes' }) })).json() as { id: string };
      const tok = await (await fetch(`${a.url}/admin/v1/tenants/${tenant.id}/scim-tokens`, { method: 'POST', headers: admin, body: '{}' })).json() as { id: string; token: string };
      const getB = () => fetch(`${b.url}/scim/v2/${tenant.id}/Users`, { headers: { authorization: `Bearer ${tok.token}` } });
      assert.equal((await getB()).status, 200, 'process B accepts the token (and caches it)');
      const del = await fetch(`${a.url}/admin/v1/tenants/${tenant.id}/scim-tokens/${tok.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      assert.equal(del.status, 204);
      const revokedAt = Date.now();
      // The contract is on when a request is sent, not on when a loaded machine answers it: a request
      // B receives 1 s after the revocation is refused (its cached "valid" lives at most 1 s).
      await new Promise((r) => setTimeout(r, Math.max(0, revokedAt + 1_000 - Date.now())));
      assert.equal((await getB()).status, 401, 'process B refuses the token 1 s after the revocation');
    });

    test('CLI tenant create and token create against PostgreSQL; the token works on the server', async () => {
      const t = await runCli(['tenant', 'create', '--name', 'From CLI', '--json'], { DATABASE_URL: PG_URL });
      assert.equal(t.code, 0, t.stderr);
      const tenant = JSON.parse(t.stdout) as { id: string; name: string; scimBaseUrl: string };
      assert.equal(tenant.name, 'From CLI');
      const k = await runCli(['token', 'create', '--tenant', tenant.id, '--json'], { DATABASE_URL: PG_URL });
      assert.equal(k.code, 0, k.stderr);
      const tok = JSON.parse(k.stdout) as { token: string };
      const r = await fetch(`${a.url}/scim/v2/${tenant.id}/Users`, { headers: { authorization: `Bearer ${tok.token}` } });
      assert.equal(r.status, 200);
      const bad = await runCli(['token', 'create', '--tenant', '00000000-0000-4000-8000-000000000000', '--json'], { DATABASE_URL: PG_URL });
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /not found/);
    });

    test('SIGTERM shuts down gracefully (exit code 0)', async () => {
      const c = await startServerProcess({ DATABASE_URL: PG_URL, IDPBRIDGE_ADMIN_TOKEN: ADMIN_TOKEN });
      assert.equal(await c.kill('SIGTERM'), 0);
      assert.match(c.output(), /shutting down/);
    });
  });
});

describe('[pglite] processes', () => {
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'idpb-pglite-')); });
  after(() => { rmSync(dir, { recursive: true, force: true }); });

  test('CLI refuses clearly while a server holds the PGlite data dir, works after it stops', async () => {
    const server = await startServerProcess({ IDPBRIDGE_DATA_DIR: dir, DATABASE_URL: '', IDPBRIDGE_ADMIN_TOKEN: '' });
    try {
      // First start without IDPBRIDGE_ADMIN_TOKEN prints a generated operator token once.
      assert.match(server.output(), /Generated operator token[\s\S]*idpb_admin_/);
      const r = await runCli(['tenant', 'create', '--name', 'Blocked', '--json'], { IDPBRIDGE_DATA_DIR: dir, DATABASE_URL: '' });
      assert.equal(r.code, 3);
      assert.match(r.stderr, /in use by another idpbridge process \(pid \d+\)/);
      assert.equal(r.stdout, '');
    } finally {
      assert.equal(await server.kill('SIGTERM'), 0);
    }
    const ok = await runCli(['tenant', 'create', '--name', 'After stop', '--json'], { IDPBRIDGE_DATA_DIR: dir, DATABASE_URL: '' });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).name, 'After stop');
    // Second start: the operator token exists (hashed); nothing new is printed.
    const again = await startServerProcess({ IDPBRIDGE_DATA_DIR: dir, DATABASE_URL: '', IDPBRIDGE_ADMIN_TOKEN: '' });
    assert.doesNotMatch(again.output(), /Generated operator token/);
    await again.kill('SIGTERM');
  });

  test('CLI usage errors exit 2 with a message', async () => {
    const r = await runCli(['tenant', 'create'], { IDPBRIDGE_DATA_DIR: dir, DATABASE_URL: '' });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /needs --name/);
    const u = await runCli(['frobnicate'], {});
    assert.equal(u.code, 2);
  });
});
