// src/db/upkeep.ts: PGlite gets autovacuum's vacuuming and statistics (it runs no autovacuum), and on
// PostgreSQL a table that has outgrown its statistics is analysed before autovacuum would — which
// is what replaces the pool's generic plans made while the table was empty.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { eachDatabase, startTestApp } from '../helpers/app.js';
import { privateDatabase } from '../helpers/private-database.js';
import { openDatabase } from '../../src/db/open.js';
import { readTableStats, runUpkeep, scheduleUpkeep, upkeepCommand, upkeepDue, type TableStats } from '../../src/db/upkeep.js';
import type { Database } from '../../src/db/types.js';

const stats = (table: string, reltuples: number, deadRows: number, modifiedSinceAnalyze: number): TableStats => ({ table, reltuples, deadRows, modifiedSinceAnalyze });

describe('upkeepDue', () => {
  test('autovacuum\'s rules (PGlite, PostgreSQL with autovacuum off): 50 rows + 20 % dead to vacuum, 50 + 10 % changed to analyse', () => {
    assert.deepEqual(upkeepDue('autovacuum', [stats('a', 1000, 250, 150)]), []);
    assert.deepEqual(upkeepDue('autovacuum', [stats('a', 1000, 251, 0)]), [{ table: 'a', vacuum: true, analyze: false }]);
    assert.deepEqual(upkeepDue('autovacuum', [stats('a', 1000, 0, 151)]), [{ table: 'a', vacuum: false, analyze: true }]);
    // Never analysed (-1) counts as empty.
    assert.deepEqual(upkeepDue('autovacuum', [stats('a', -1, 51, 51), stats('b', -1, 50, 50)]), [{ table: 'a', vacuum: true, analyze: true }]);
  });

  test('autovacuum\'s rules while rows are being written: only a table grown past twice its statistics is analysed, nothing vacuumed', () => {
    assert.deepEqual(upkeepDue('autovacuum', [stats('a', 1000, 100_000, 2000)], false), []);
    assert.deepEqual(upkeepDue('autovacuum', [stats('a', 1000, 100_000, 2001)], false), [{ table: 'a', vacuum: false, analyze: true }]);
    assert.deepEqual(upkeepDue('growth', [stats('a', 1000, 0, 2001)], false), [{ table: 'a', vacuum: false, analyze: true }]);
  });

  test('growth rules (PostgreSQL with autovacuum): never vacuums, analyses only a table grown past twice its statistics', () => {
    assert.deepEqual(upkeepDue('growth', [stats('a', 1000, 1_000_000, 2000)]), []);
    assert.deepEqual(upkeepDue('growth', [stats('a', 1000, 0, 2001)]), [{ table: 'a', vacuum: false, analyze: true }]);
    assert.deepEqual(upkeepDue('growth', [stats('a', -1, 0, 1000)]), []);
    assert.deepEqual(upkeepDue('growth', [stats('a', -1, 0, 1001)]), [{ table: 'a', vacuum: false, analyze: true }]);
  });

  test('commands never wait for a table another session holds, and quote the name', () => {
    assert.equal(upkeepCommand({ table: 'events', vacuum: true, analyze: true }), 'VACUUM (SKIP_LOCKED, ANALYZE) "events"');
    assert.equal(upkeepCommand({ table: 'events', vacuum: true, analyze: false }), 'VACUUM (SKIP_LOCKED) "events"');
    assert.equal(upkeepCommand({ table: 'a"b', vacuum: false, analyze: true }), 'ANALYZE (SKIP_LOCKED) "a""b"');
  });
});

/** Inserts n users of a new tenant in one transaction and makes its statistics visible at once. */
async function addUsers(db: Database, n: number): Promise<string> {
  const tenant = randomUUID();
  await db.transaction(async (tx) => {
    await tx.query(`INSERT INTO tenants (tenant_id, name) VALUES ($1, 'upkeep')`, [tenant]);
    await tx.query(`INSERT INTO scim_users (tenant_id, id, user_name, data) SELECT $1, gen_random_uuid(), 'user' || g, '{}' FROM generate_series(1, $2::int) g`, [tenant, n]);
    // Counters reach pg_stat_user_tables when the session next goes idle, at most once a second otherwise.
    await tx.query('SELECT pg_stat_force_next_flush()');
  });
  return tenant;
}

const usersStats = async (db: Database) => (await db.query<{ dead: number; analysed: boolean; reltuples: number }>(
  `SELECT s.n_dead_tup::int AS dead, (s.last_analyze IS NOT NULL) AS analysed, c.reltuples::float8 AS reltuples
     FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid WHERE s.relname = 'scim_users' AND s.schemaname = current_schema()`)).rows[0]!;

async function openRules(): Promise<{ autovacuum: boolean }> {
  const c = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
  await c.connect();
  try {
    return { autovacuum: (await c.query<{ autovacuum: string }>('SHOW autovacuum')).rows[0]!.autovacuum === 'on' };
  } finally {
    await c.end();
  }
}

eachDatabase((kind) => {
  describe(`[${kind}] table upkeep`, () => {
    if (kind === 'pglite') {
      test('vacuums dead rows and analyses changed tables, which nothing else does on PGlite', async () => {
        const priv = (await privateDatabase(kind))!;
        try {
          const tenant = await addUsers(priv.db, 2000);
          await priv.db.transaction(async (tx) => {
            await tx.query(`DELETE FROM scim_users WHERE tenant_id = $1 AND user_name LIKE '%0'`, [tenant]);
            await tx.query('SELECT pg_stat_force_next_flush()');
          });
          await priv.db.query('SELECT 1'); // the session goes idle between the two: counters flushed
          const before = await usersStats(priv.db);
          assert.equal(before.dead, 200);
          assert.equal(before.analysed, false);
          const { steps } = await runUpkeep(priv.db);
          assert.ok(steps.some((s) => s.table === 'scim_users' && s.vacuum && s.analyze), JSON.stringify(steps));
          await priv.db.query('SELECT pg_stat_force_next_flush()');
          const after = await usersStats(priv.db);
          assert.equal(after.dead, 0);
          assert.equal(after.analysed, true);
          assert.equal(after.reltuples, 1800);
          // Nothing left to do: a second round takes no step.
          assert.deepEqual((await runUpkeep(priv.db)).steps.filter((s) => s.table === 'scim_users'), []);
          assert.equal((await readTableStats(priv.db)).rules, 'autovacuum'); // PGlite runs no autovacuum, whatever it says
        } finally {
          await priv.drop();
        }
      });

      test('an idle schedule waits its idle time, and a nudge brings the round forward', async () => {
        const priv = (await privateDatabase(kind))!;
        const upkeep = scheduleUpkeep(priv.db, { info: () => {}, warn: () => {} }, { busyMs: 50, idleMs: 60_000 });
        try {
          // Two rounds 50 ms apart find nothing new: the next is a minute away.
          await new Promise((r) => setTimeout(r, 500));
          await addUsers(priv.db, 500);
          await new Promise((r) => setTimeout(r, 500));
          assert.equal((await usersStats(priv.db)).analysed, false);
          upkeep.nudge();
          const deadline = Date.now() + 5000;
          while (!(await usersStats(priv.db)).analysed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
          assert.equal((await usersStats(priv.db)).analysed, true);
        } finally {
          await upkeep.stop();
          await priv.drop();
        }
      });

      test('a server with its worker on keeps its tables: users created over SCIM are analysed within seconds', async () => {
        const priv = (await privateDatabase(kind))!;
        const t = await startTestApp(kind, { worker: true, tableUpkeep: true }, { db: priv.db });
        try {
          for (let i = 0; i < 120; i++) {
            const r = await t.app.inject({
              method: 'POST', url: `${t.scimBase}/Users`, headers: { authorization: `Bearer ${t.scimToken}`, 'content-type': 'application/scim+json' },
              payload: { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: `upkeep${i}@example.com` },
            });
            assert.equal(r.statusCode, 201);
          }
          const deadline = Date.now() + 8000;
          while (!(await usersStats(priv.db)).analysed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
          assert.equal((await usersStats(priv.db)).analysed, true);
        } finally {
          await t.close();
          await priv.drop();
        }
      });

      test('the schedule runs rounds by itself and stops cleanly', async () => {
        const priv = (await privateDatabase(kind))!;
        const infos: object[] = [];
        const upkeep = scheduleUpkeep(priv.db, { info: (o) => infos.push(o), warn: () => {} }, { busyMs: 20, idleMs: 200 });
        try {
          await addUsers(priv.db, 500);
          const deadline = Date.now() + 5000;
          while (!(await usersStats(priv.db)).analysed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
          assert.equal((await usersStats(priv.db)).analysed, true);
          assert.ok(infos.length > 0);
        } finally {
          await upkeep.stop();
          await priv.drop();
        }
      });
    }

    if (kind === 'postgres') {
      test('a generic plan made while scim_users was empty is replaced once the table has grown', async (t) => {
        const priv = await privateDatabase(kind);
        if (!priv) return t.skip('no CREATEDB privilege');
        const url = new URL(process.env.TEST_DATABASE_URL!);
        url.pathname = `/${(await priv.db.query<{ d: string }>('SELECT current_database() AS d')).rows[0]!.d}`;
        // A pooled connection as src/db/postgres.ts opens it: generic plans, prepared once.
        const client = new pg.Client({ connectionString: url.href, options: '-c plan_cache_mode=force_generic_plan' });
        await client.connect();
        try {
          // An IdP's `userName eq` probe, as src/scim/resources/list-page.ts sends it, prepared on the empty table.
          await client.query(`PREPARE probe(uuid, text) AS SELECT r.id FROM scim_users r
            WHERE r.tenant_id = $1 AND (lower(r.user_name) = lower($2)) ORDER BY r.created_at, r.id LIMIT 100 OFFSET 0`);
          const plan = async (tenant: string) => (await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN EXECUTE probe('${tenant}', 'nobody')`)).rows.map((r) => r['QUERY PLAN']).join('\n');
          // Its generic plan is made at its first execution: here, while no user exists.
          await client.query(`EXECUTE probe('${randomUUID()}', 'nobody')`);
          const tenant = await addUsers(priv.db, 3000);
          // The statistics' age the bug needs: the plan still walks the tenant's creation index.
          assert.match(await plan(tenant), /scim_users_created/);
          const { steps } = await runUpkeep(priv.db);
          assert.ok(steps.some((s) => s.table === 'scim_users' && s.analyze && !s.vacuum), JSON.stringify(steps));
          const replanned = await plan(tenant);
          assert.match(replanned, /Index Cond: \(\(tenant_id = \$1\) AND \(lower\(user_name\) = lower\(\$2\)\)\)/);
          assert.doesNotMatch(replanned, /scim_users_created/);
        } finally {
          await client.end();
          await priv.drop();
        }
      });

      test('a table another session holds is skipped without waiting, and analysed in a later round', async (t) => {
        const priv = await privateDatabase(kind);
        if (!priv) return t.skip('no CREATEDB privilege');
        const url = new URL(process.env.TEST_DATABASE_URL!);
        url.pathname = `/${(await priv.db.query<{ d: string }>('SELECT current_database() AS d')).rows[0]!.d}`;
        const other = new pg.Client({ connectionString: url.href });
        await other.connect();
        try {
          await addUsers(priv.db, 2500);
          // What a VACUUM or ANALYZE of another process holds.
          await other.query('BEGIN');
          await other.query('LOCK TABLE scim_users IN SHARE UPDATE EXCLUSIVE MODE');
          const t0 = Date.now();
          await runUpkeep(priv.db);
          assert.ok(Date.now() - t0 < 3000);
          assert.equal((await usersStats(priv.db)).analysed, false);
          await other.query('COMMIT');
          await runUpkeep(priv.db);
          assert.equal((await usersStats(priv.db)).analysed, true);
        } finally {
          await other.end();
          await priv.drop();
        }
      });

      test('a role that may not vacuum or analyse the tables leaves them alone (no warning every round)', async (t) => {
        const priv = await privateDatabase(kind);
        if (!priv) return t.skip('no CREATEDB privilege');
        const role = `idpb_upkeep_${randomUUID().replace(/-/g, '').slice(0, 10)}`;
        const url = new URL(process.env.TEST_DATABASE_URL!);
        const admin = new pg.Client({ connectionString: url.href });
        await admin.connect();
        let asRole: Database | undefined;
        try {
          const dbName = (await priv.db.query<{ d: string }>('SELECT current_database() AS d')).rows[0]!.d;
          await admin.query(`CREATE ROLE ${role} LOGIN`);
          await priv.db.query(`GRANT USAGE ON SCHEMA public TO ${role}`);
          await priv.db.query(`GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA public TO ${role}`);
          await addUsers(priv.db, 300);
          assert.ok((await readTableStats(priv.db)).tables.some((x) => x.table === 'scim_users'), 'the owner sees its tables');
          url.pathname = `/${dbName}`;
          url.username = role;
          asRole = await openDatabase({ databaseUrl: url.href, poolMax: 1 });
          assert.deepEqual((await readTableStats(asRole)).tables, [], 'a role owning neither the tables nor the database has nothing to keep');
          assert.deepEqual((await runUpkeep(asRole)).steps, [], 'and runs no command');
          assert.equal((await usersStats(priv.db)).analysed, false);
          await runUpkeep(priv.db);
          assert.equal((await usersStats(priv.db)).analysed, true, 'the owner analyses them');
        } finally {
          await asRole?.close();
          await priv.drop();
          await admin.query(`DROP ROLE IF EXISTS ${role}`).catch(() => {});
          await admin.end();
        }
      });

      test('the rules follow the server\'s autovacuum setting', async () => {
        const on = (await openRules()).autovacuum;
        const priv = (await privateDatabase(kind))!;
        try {
          assert.equal((await readTableStats(priv.db)).rules, on ? 'growth' : 'autovacuum');
        } finally {
          await priv.drop();
        }
      });
    }
  });
});
