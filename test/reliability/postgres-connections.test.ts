/**
 * PostgreSQL connections lost under idpbridge (what a restart or a failover does to them), without
 * restarting the shared cluster: a transaction whose connection is terminated between two
 * statements fails with a connection error (→ 503) instead of an unhandled 'error' event that
 * ends the process; LISTEN subscriptions come back by themselves.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { openDatabase } from '../../src/db/open.js';
import { isConnectionError } from '../../src/db/errors.js';

const PG_URL = process.env.TEST_DATABASE_URL;

async function terminate(where: string, params: unknown[]): Promise<number> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    const r = await c.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE ${where}`, params);
    return r.rowCount ?? 0;
  } finally {
    await c.end();
  }
}

/** PostgreSQL's clock now (the clock backend_start is read from). */
async function clockTimestamp(): Promise<string> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    return (await c.query<{ t: string }>('SELECT clock_timestamp()::text AS t')).rows[0]!.t;
  } finally {
    await c.end();
  }
}

test('[postgres] a connection terminated inside a transaction → a connection error, the process lives on', { skip: !PG_URL }, async () => {
  const db = await openDatabase({ databaseUrl: PG_URL, poolMax: 2 });
  try {
    const err = await db.transaction(async (tx) => {
      const { rows } = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      assert.equal(await terminate('pid = $1', [rows[0]!.pid]), 1);
      await new Promise((r) => setTimeout(r, 300)); // the FATAL arrives while no statement runs
      await tx.query('SELECT 1');
    }).then(() => undefined, (e: unknown) => e);
    assert.ok(err, 'the transaction failed');
    assert.ok(isConnectionError(err), `a connection error (→ 503): ${(err as Error).message}`);
    // The broken connection was not returned to the pool: the next statements work.
    for (let i = 0; i < 4; i++) assert.equal((await db.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one, 1);
    assert.equal(await db.transaction(async (tx) => (await tx.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one), 1);
  } finally {
    await db.close();
  }
});

test('[postgres] LISTEN comes back after its connection is terminated', { skip: !PG_URL }, async () => {
  const db = await openDatabase({ databaseUrl: PG_URL, poolMax: 2 });
  const channel = `idpb_test_${process.pid}_${Date.now() % 100000}`;
  try {
    const got: string[] = [];
    await db.listen(channel, (p) => got.push(p));
    await db.query(`SELECT pg_notify('${channel}', 'before')`);
    for (let i = 0; i < 50 && !got.includes('before'); i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(got, ['before']);
    assert.equal(await terminate(`query = $1`, [`LISTEN ${channel}`]), 1);
    // Re-subscribed within a few seconds: keep notifying until one arrives.
    const deadline = Date.now() + 10_000;
    while (!got.includes('after') && Date.now() < deadline) {
      await db.query(`SELECT pg_notify('${channel}', 'after')`);
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(got.includes('after'), 'notifications arrive again after the LISTEN connection was lost');
  } finally {
    await db.close();
  }
});

test('[postgres] every connection of the app terminated, five times, under write load → 201/409/503 only, then recovery', { skip: !PG_URL }, async () => {
  const { startTestApp } = await import('../helpers/app.js');
  const { execFileSync } = await import('node:child_process');
  const t = await startTestApp('postgres', { worker: false });
  try {
    const statuses = new Map<number, number>();
    let stop = false;
    let n = 0;
    const load = Array.from({ length: 6 }, async () => {
      while (!stop) {
        const i = n++;
        const r = await t.app.inject({
          method: 'POST', url: `${t.scimBase}/Users`, headers: { authorization: `Bearer ${t.scimToken}`, 'content-type': 'application/scim+json' },
          payload: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: `kill${i}@example.com`, password: 'p4ssw0rd-long-enough' }),
        });
        statuses.set(r.statusCode, (statuses.get(r.statusCode) ?? 0) + 1);
        if (r.statusCode === 503) assert.equal(r.json().status, '503');
      }
    });
    let killed = 0;
    for (let round = 0; round < 5; round++) {
      await new Promise((r) => setTimeout(r, 150));
      // This process's connections to PostgreSQL, by local port. A port of ours that closes after
      // the listing can be reused at once by another test process's new connection: only backends
      // that already existed when the ports were listed are ours.
      const listedAt = await clockTimestamp();
      const ports = execFileSync('ss', ['-tnp']).toString().split('\n')
        .filter((l) => l.includes(`pid=${process.pid},`) && /:5432\s/.test(l))
        .map((l) => Number(l.trim().split(/\s+/)[3]!.split(':').pop()));
      killed += await terminate('client_port = ANY($1::int[]) AND backend_start < $2 AND pid <> pg_backend_pid()', [ports, listedAt]);
    }
    assert.ok(killed >= 5, `the app's connections were terminated (${killed})`);
    await new Promise((r) => setTimeout(r, 300));
    stop = true;
    await Promise.all(load);
    const bad = [...statuses.keys()].filter((s) => s !== 201 && s !== 409 && s !== 503);
    assert.deepEqual(bad, [], JSON.stringify([...statuses]));
    assert.ok((statuses.get(201) ?? 0) > 0);
    const after = await t.app.inject({ method: 'GET', url: `${t.scimBase}/Users?count=1`, headers: { authorization: `Bearer ${t.scimToken}` } });
    assert.equal(after.statusCode, 200);
    assert.equal((await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
  } finally {
    await t.close();
  }
});
