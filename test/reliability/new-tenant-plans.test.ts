/**
 * A tenant created after the last ANALYZE is "empty" to the planner. With custom plans the Entra
 * probe (`userName eq`, ordered by created) then walked that tenant's whole `created` index; the
 * pool runs prepared statements with generic plans so the probe stays an index lookup.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { openDatabase } from '../../src/db/open.js';
import { migrate } from '../../src/db/migrate.js';
import { GROUP_IDS, USER_COLUMNS } from '../../src/directory/users-store.js';

const url = process.env.TEST_DATABASE_URL;

test('[postgres] a new tenant\'s userName probe reads a handful of buffers, not the tenant', { skip: !url }, async () => {
  const db = await openDatabase({ databaseUrl: url, poolMax: 2 });
  await migrate(db);
  const old = randomUUID();
  const fresh = randomUUID();
  try {
    await db.query('INSERT INTO tenants (tenant_id, name) VALUES ($1, $2), ($3, $4)', [old, 'plans old', fresh, 'plans fresh']);
    const seed = (tenant: string, n: number, prefix: string) => db.query(
      `INSERT INTO scim_users (tenant_id, id, user_name, active, data, source, status)
       SELECT $1, gen_random_uuid(), $3 || g || '@example.com', true, jsonb_build_object('userName', $3 || g || '@example.com'), 'scim', 'active'
         FROM generate_series(1, $2::int) g`,
      [tenant, n, prefix],
    );
    await seed(old, 20_000, 'old');
    await db.exec('ANALYZE scim_users');
    await seed(fresh, 3_000, 'fresh'); // after ANALYZE: the planner has never seen this tenant
    const sql = `SELECT ${USER_COLUMNS.split(', ').map((c) => `r.${c}`).join(', ')}, ${GROUP_IDS} FROM scim_users r
      WHERE r.tenant_id = $1 AND (lower(r.user_name) = $2) ORDER BY r.created_at ASC, r.id ASC LIMIT $3 OFFSET $4`;
    const hits = await db.transaction(async (tx) => {
      // One connection: the statement is prepared and run as the pool runs it (beyond the five
      // custom-plan executions after which PostgreSQL may keep a custom plan).
      await tx.exec(`PREPARE probe(uuid, text, int, int) AS ${sql}`);
      for (let i = 0; i < 6; i++) await tx.query(`EXECUTE probe('${fresh}', 'nobody${i}@example.com', 100, 0)`);
      const { rows } = await tx.query<{ 'QUERY PLAN': [{ Plan: { 'Shared Hit Blocks': number; 'Shared Read Blocks': number } }] }>(
        `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE probe('${fresh}', 'fresh2999@example.com', 100, 0)`,
      );
      await tx.exec('DEALLOCATE probe');
      const plan = rows[0]!['QUERY PLAN'][0].Plan;
      return plan['Shared Hit Blocks'] + plan['Shared Read Blocks'];
    });
    assert.ok(hits < 30, `the probe read ${hits} buffers`);
  } finally {
    await db.query('DELETE FROM tenants WHERE tenant_id = ANY($1::uuid[])', [[old, fresh]]);
    await db.close();
  }
});
