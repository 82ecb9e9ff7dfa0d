// src/db/postgres.ts transactions: a callback that catches a failed statement's error and resolves
// has not committed anything (PostgreSQL answers that COMMIT with ROLLBACK), so the transaction
// must reject instead of resolving as if its statements were stored. PostgreSQL only (PGlite's
// transactions are src/db/pglite.ts's).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { openPostgres } from '../../src/db/postgres.js';
import type { Database } from '../../src/db/types.js';

const url = process.env.TEST_DATABASE_URL;

describe('[postgres] transactions', { skip: url ? false : 'TEST_DATABASE_URL is not set' }, () => {
  let db: Database;
  const table = `idpb_test_tx_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const stored = async () => (await db.query<{ v: string }>(`SELECT v FROM ${table} ORDER BY v`)).rows.map((r) => r.v);
  before(async () => {
    db = openPostgres({ connectionString: url!, max: 2 });
    await db.exec(`CREATE TABLE ${table} (v text PRIMARY KEY)`);
  });
  after(async () => {
    await db.exec(`DROP TABLE IF EXISTS ${table}`).catch(() => {});
    await db.close();
  });

  test('a callback that caught a failed statement and resolved rejects: nothing of it was committed', async () => {
    await db.transaction((tx) => tx.query(`INSERT INTO ${table} VALUES ('taken')`));
    await assert.rejects(db.transaction(async (tx) => {
      await tx.query(`INSERT INTO ${table} VALUES ('lost')`);
      await tx.query(`INSERT INTO ${table} VALUES ('taken')`).catch(() => undefined); // duplicate key, swallowed
      return 'resolved';
    }), /rolled back/);
    assert.deepEqual(await stored(), ['taken']);
    // The connection is clean: the next transactions on the pool's two connections commit.
    for (let i = 0; i < 4; i++) await db.transaction((tx) => tx.query(`INSERT INTO ${table} VALUES ($1)`, [`next ${i}`]));
    assert.deepEqual(await stored(), ['next 0', 'next 1', 'next 2', 'next 3', 'taken']);
  });

  test('a callback that recovers through a savepoint of its own still commits', async () => {
    const v = await db.transaction(async (tx) => {
      await tx.query(`INSERT INTO ${table} VALUES ('kept')`);
      await tx.query('SAVEPOINT sp');
      await tx.query(`INSERT INTO ${table} VALUES ('kept')`).catch(() => undefined);
      await tx.query('ROLLBACK TO SAVEPOINT sp');
      return 'committed';
    });
    assert.equal(v, 'committed');
    assert.ok((await stored()).includes('kept'));
  });
});
