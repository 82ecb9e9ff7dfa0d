// src/db/pglite-session.ts: PGlite statements run as named prepared statements over the wire
// protocol, a transaction's BEGIN and COMMIT ride with its statements. What it must keep: the
// same values as PGlite's own query() for every column type, errors, DDL, and transactions.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PGlite } from '@electric-sql/pglite';
import { openMigratedPglite } from '../helpers/pglite-template.js';
import { PGLITE_START_PARAMS } from '../../src/db/pglite-settings.js';
import { PgliteSession } from '../../src/db/pglite-session.js';
import type { PgliteDatabase } from '../../src/db/pglite.js';

describe('[pglite] session', () => {
  let db: PgliteDatabase;
  let raw: PGlite;
  before(async () => {
    db = await openMigratedPglite();
    // The same database under PGlite's own query(): the reference for values.
    raw = new PGlite({ loadDataDir: await db.dumpDataDir(), startParams: PGLITE_START_PARAMS });
    await raw.waitReady;
  });
  after(async () => {
    await db.close();
    await raw.close();
  });

  test('a statement run again reuses its prepared statement: one backend call per run', async () => {
    const { statements } = db.sessionStats();
    const sql = 'SELECT $1::int + 1 AS n';
    await db.query(sql, [1]);
    const prepares = statements.prepares;
    const hits = statements.hits;
    const calls = db.sessionStats().calls;
    for (let i = 0; i < 5; i++) assert.deepEqual((await db.query<{ n: number }>(sql, [i])).rows, [{ n: i + 1 }]);
    assert.equal(statements.prepares, prepares, 'no new Parse');
    assert.equal(statements.hits, hits + 5);
    assert.equal(db.sessionStats().calls, calls + 5);
  });

  // Every column type of the schema, plus the array/bytea/json types a statement may compute.
  const samples: Record<string, { literal: string; value: unknown }> = {
    bigint: { literal: '9007199254740991', value: 42 },
    boolean: { literal: 'true', value: false },
    integer: { literal: '-7', value: 12 },
    jsonb: { literal: `'{"a":[1,"x",null],"b":{"c":true}}'`, value: { k: ['v', 1, null], n: { t: false } } },
    json: { literal: `'{"a":1}'`, value: '{"s":"string form"}' },
    real: { literal: '1.5', value: 2.25 },
    smallint: { literal: '3', value: 4 },
    text: { literal: `'héllo "quoted" \\ back'`, value: 'ünïcode, "quotes", {braces}' },
    'text[]': { literal: `ARRAY['a', NULL, 'c"d', '{x}']`, value: ['p', 'q r', ''] },
    'timestamp with time zone': { literal: `'2024-02-29 12:34:56.789+02'`, value: new Date('2025-01-02T03:04:05.678Z') },
    uuid: { literal: `'0b7a5cfe-1234-4a1b-9c3d-0123456789ab'`, value: '11111111-2222-4333-8444-555555555555' },
    'uuid[]': { literal: `ARRAY['0b7a5cfe-1234-4a1b-9c3d-0123456789ab']::uuid[]`, value: ['11111111-2222-4333-8444-555555555555'] },
    xid8: { literal: `'12345'`, value: '678' },
    bytea: { literal: `'\\xdeadbeef'`, value: new Uint8Array([0, 1, 254, 255]) },
    'integer[]': { literal: 'ARRAY[1, NULL, 3]', value: [5, 6] },
  };

  test('every column type of the schema comes out exactly as PGlite query() gives it (values, parameters, nulls, arrays)', async () => {
    const types = (await db.query<{ t: string }>(
      `SELECT DISTINCT format_type(a.atttypid, NULL) AS t FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped`,
    )).rows.map((r) => r.t);
    const missing = types.filter((t) => !samples[t]);
    assert.deepEqual(missing, [], 'a column type of the schema has no sample here: add one');
    for (const [type, { literal, value }] of Object.entries(samples)) {
      const sql = `SELECT ${literal}::${type} AS lit, $1::${type} AS param, NULL::${type} AS nul, ARRAY[$1::${type}] AS arr, $2::${type} AS nulparam`;
      const params = [value, null];
      for (let run = 0; run < 2; run++) { // prepared, then cached
        const ours = await db.query(sql, params);
        const theirs = await raw.query(sql, params);
        assert.deepEqual(ours.rows, theirs.rows, `${type} (run ${run})`);
        assert.equal(ours.rowCount, 1);
      }
    }
  });

  test('row counts: SELECT counts its rows, INSERT/UPDATE/DELETE their rows, RETURNING too', async () => {
    await db.exec('CREATE TABLE idpb_test_counts (v int PRIMARY KEY)');
    try {
      assert.equal((await db.query('INSERT INTO idpb_test_counts SELECT generate_series(1, 3)')).rowCount, 3);
      assert.equal((await db.query('INSERT INTO idpb_test_counts VALUES (4), (5) RETURNING v')).rowCount, 2);
      assert.equal((await db.query('UPDATE idpb_test_counts SET v = v + 10 WHERE v > $1', [3])).rowCount, 2);
      assert.deepEqual((await db.query('SELECT v FROM idpb_test_counts ORDER BY v')).rows.map((r) => r.v), [1, 2, 3, 14, 15]);
      assert.equal((await db.query('SELECT v FROM idpb_test_counts')).rowCount, 5);
      assert.equal((await db.query('DELETE FROM idpb_test_counts')).rowCount, 5);
      assert.equal((await db.query('SELECT v FROM idpb_test_counts')).rowCount, 0);
    } finally {
      await db.exec('DROP TABLE idpb_test_counts');
    }
  });

  test('a failing statement fails alone, with its SQLSTATE; the session goes on; a syntax error is not cached', async () => {
    await db.exec('CREATE TABLE idpb_test_err (v text PRIMARY KEY)');
    try {
      const ins = 'INSERT INTO idpb_test_err VALUES ($1)';
      await db.query(ins, ['a']);
      await assert.rejects(db.query(ins, ['a']), (e: { code?: string }) => e.code === '23505');
      await assert.rejects(db.query('SELECT $1::int', ['not a number']), (e: { code?: string }) => e.code === '22P02');
      const { statements } = db.sessionStats();
      const size = statements.size;
      await assert.rejects(db.query('SELEC nothing'), (e: { code?: string }) => e.code === '42601');
      await assert.rejects(db.query('SELEC nothing'), (e: { code?: string }) => e.code === '42601');
      assert.equal(statements.size, size, 'a statement that does not parse is not cached');
      await db.query(ins, ['b']);
      assert.deepEqual((await db.query('SELECT v FROM idpb_test_err ORDER BY v')).rows, [{ v: 'a' }, { v: 'b' }]);
    } finally {
      await db.exec('DROP TABLE idpb_test_err');
    }
  });

  test('DDL between runs: a cached statement answers the new columns (DDL by exec, by query, and by a function that hides it)', async () => {
    await db.exec('CREATE TABLE idpb_test_ddl (a int); INSERT INTO idpb_test_ddl VALUES (1)');
    try {
      const sel = 'SELECT * FROM idpb_test_ddl';
      assert.deepEqual((await db.query(sel)).rows, [{ a: 1 }]);
      await db.exec('ALTER TABLE idpb_test_ddl ADD COLUMN b text');
      assert.deepEqual((await db.query(sel)).rows, [{ a: 1, b: null }]);
      await db.query(`ALTER TABLE idpb_test_ddl ADD COLUMN c int DEFAULT 7`);
      assert.deepEqual((await db.query(sel)).rows, [{ a: 1, b: null, c: 7 }]);
      // A schema change whose text the session cannot see: the cached statement fails as stale
      // ("cached plan must not change result type") and runs again, prepared anew.
      await db.exec(`CREATE FUNCTION idpb_test_ddl_add() RETURNS void LANGUAGE plpgsql AS $$
        BEGIN EXECUTE 'ALTER TABLE idpb_test_ddl ADD COLUMN d int DEFAULT 8'; END $$`);
      assert.deepEqual((await db.query(sel)).rows, [{ a: 1, b: null, c: 7 }]);
      await db.query('SELECT idpb_test_ddl_add()');
      assert.deepEqual((await db.query(sel)).rows, [{ a: 1, b: null, c: 7, d: 8 }]);
      // Inside a transaction the stale statement fails the transaction (it cannot be re-run
      // there); the next run outside is prepared anew.
      await db.exec(`CREATE OR REPLACE FUNCTION idpb_test_ddl_add() RETURNS void LANGUAGE plpgsql AS $$
        BEGIN EXECUTE 'ALTER TABLE idpb_test_ddl ADD COLUMN e int DEFAULT 9'; END $$`);
      assert.deepEqual((await db.query(sel)).rows, [{ a: 1, b: null, c: 7, d: 8 }]);
      await db.query('SELECT idpb_test_ddl_add()');
      await assert.rejects(db.transaction((tx) => tx.query(sel)), /cached plan must not change result type/);
      assert.deepEqual((await db.query(sel)).rows, [{ a: 1, b: null, c: 7, d: 8, e: 9 }]);
    } finally {
      await db.exec('DROP TABLE idpb_test_ddl; DROP FUNCTION IF EXISTS idpb_test_ddl_add()');
    }
  });

  test('DEALLOCATE ALL by exec: the cached statements are prepared again', async () => {
    const sql = 'SELECT $1::text AS v';
    await db.query(sql, ['x']);
    await db.exec('DEALLOCATE ALL');
    assert.deepEqual((await db.query(sql, ['y'])).rows, [{ v: 'y' }]);
    await db.transaction(async (tx) => assert.deepEqual((await tx.query(sql, ['z'])).rows, [{ v: 'z' }]));
  });

  describe('transactions', () => {
    const table = 'idpb_test_tx';
    const stored = async () => (await db.query<{ v: string }>(`SELECT v FROM ${table} ORDER BY v`)).rows.map((r) => r.v);
    before(() => db.exec(`CREATE TABLE ${table} (v text PRIMARY KEY)`));
    after(() => db.exec(`DROP TABLE ${table}; DROP FUNCTION IF EXISTS ${table}_refuse()`));

    test('BEGIN rides with the first statement, COMMIT with queryAndCommit: one backend call for a one-statement transaction', async () => {
      const ins = `INSERT INTO ${table} VALUES ($1)`;
      await db.query(`DELETE FROM ${table} WHERE v = $1`, ['warm']);
      await db.transaction((tx) => tx.query(ins, ['warm'])); // prepares the statement
      let calls = db.sessionStats().calls;
      await db.transaction(async (tx) => {
        await tx.queryAndCommit!(ins, ['one call']);
        await assert.rejects(tx.query('SELECT 1'), /already ended/);
      });
      assert.equal(db.sessionStats().calls - calls, 1);
      calls = db.sessionStats().calls;
      await db.transaction(async (tx) => {
        await tx.query(ins, ['two calls']);
      });
      assert.equal(db.sessionStats().calls - calls, 2, 'BEGIN + statement, then COMMIT');
      calls = db.sessionStats().calls;
      assert.equal(await db.transaction(async () => 'nothing'), 'nothing');
      assert.equal(db.sessionStats().calls, calls, 'a transaction without statements sends nothing');
      assert.deepEqual(await stored(), ['one call', 'two calls', 'warm']);
      await db.query(`DELETE FROM ${table}`);
    });

    test('a callback that throws rolls back its statements, the first one (sent with BEGIN) too', async () => {
      await assert.rejects(db.transaction(async (tx) => {
        await tx.query(`INSERT INTO ${table} VALUES ('first')`);
        await tx.query(`INSERT INTO ${table} VALUES ($1)`, ['second']);
        throw new Error('handler failed');
      }), /handler failed/);
      assert.deepEqual(await stored(), []);
    });

    test('a swallowed failed statement: COMMIT answers ROLLBACK and the transaction rejects', async () => {
      await db.query(`INSERT INTO ${table} VALUES ('taken')`);
      await assert.rejects(db.transaction(async (tx) => {
        await tx.query(`INSERT INTO ${table} VALUES ('lost')`);
        await tx.query(`INSERT INTO ${table} VALUES ('taken')`).catch(() => undefined);
      }), (e: { code?: string }) => e.code === '25P02');
      assert.deepEqual(await stored(), ['taken']);
      await db.query(`DELETE FROM ${table}`);
    });

    test('queryAndCommit: a failing last statement, a failed earlier one, a failing COMMIT, a statement that does not parse', async () => {
      await db.transaction((tx) => tx.queryAndCommit!(`INSERT INTO ${table} VALUES ('only')`));
      await assert.rejects(db.transaction(async (tx) => {
        await tx.query(`INSERT INTO ${table} VALUES ('earlier')`);
        await tx.queryAndCommit!(`INSERT INTO ${table} VALUES ('only')`); // duplicate key
      }), /duplicate key/);
      await assert.rejects(db.transaction(async (tx) => {
        await tx.query(`INSERT INTO ${table} VALUES ('only')`).catch(() => undefined);
        await tx.queryAndCommit!(`INSERT INTO ${table} VALUES ('after a failure')`);
      }), (e: { code?: string }) => e.code === '25P02');
      await db.exec(`CREATE FUNCTION ${table}_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused at commit'; END $$;
        CREATE CONSTRAINT TRIGGER ${table}_refuse AFTER INSERT ON ${table} DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
          WHEN (NEW.v = 'deferred') EXECUTE FUNCTION ${table}_refuse()`);
      await assert.rejects(db.transaction(async (tx) => {
        await tx.query(`INSERT INTO ${table} VALUES ('with the deferred one')`);
        await tx.queryAndCommit!(`INSERT INTO ${table} VALUES ('deferred')`);
      }), /refused at commit/);
      await assert.rejects(db.transaction(async (tx) => {
        await tx.query(`INSERT INTO ${table} VALUES ('before a parse error')`);
        await tx.queryAndCommit!(`INSERTT INTO ${table} VALUES ('x')`);
      }), (e: { code?: string }) => e.code === '42601');
      assert.deepEqual(await stored(), ['only']);
      // Nothing is left open: the next statements run outside any transaction.
      await db.query(`INSERT INTO ${table} VALUES ('next')`);
      // (SAVEPOINT outside a transaction block fails with 25P01.)
      await assert.rejects(db.query('SAVEPOINT idpb_test_probe'), (e: { code?: string }) => e.code === '25P01');
      await db.query(`DELETE FROM ${table}`);
    });

    test('a transaction-level setting (SET TRANSACTION after BEGIN) and a NOTIFY delivered after COMMIT', async () => {
      const heard: string[] = [];
      const stop = await db.listen('idpb_test_chan', (p) => heard.push(p));
      try {
        const iso = await db.transaction(async (tx) => {
          await tx.exec('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
          await tx.query(`SELECT pg_notify('idpb_test_chan', $1)`, ['committed']);
          assert.deepEqual(heard, [], 'not before COMMIT');
          return (await tx.query<{ i: string }>(`SELECT current_setting('transaction_isolation') AS i`)).rows[0]!.i;
        });
        assert.equal(iso, 'repeatable read');
        await new Promise((r) => setImmediate(r));
        assert.deepEqual(heard, ['committed']);
      } finally {
        await stop();
      }
    });
  });
});

describe('[pglite] statement cache bound', () => {
  test('past its capacity the least recently used statement is closed in the backend', async () => {
    const db = await openMigratedPglite();
    const raw = new PGlite({ loadDataDir: await db.dumpDataDir(), startParams: PGLITE_START_PARAMS });
    await raw.waitReady;
    await db.close();
    try {
      const s = new PgliteSession(raw, 3);
      const prepared = async () => (await s.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name LIKE 'idpb_s%'`)).rows[0]!.n;
      for (let i = 0; i < 10; i++) await s.query(`SELECT ${i} AS v`);
      assert.equal(s.statements.size, 3);
      // The count statement is one of the three; evicted names were closed by the calls since.
      assert.ok(await prepared() <= 4, `prepared statements in the backend: ${await prepared()}`);
      // A statement evicted earlier runs again (prepared anew).
      assert.deepEqual((await s.query('SELECT 0 AS v')).rows, [{ v: 0 }]);
      await s.close();
    } finally {
      if (!raw.closed) await raw.close();
    }
  });
});
