/**
 * SCIM creates on embedded PGlite are written together (src/scim/resources/create-batch.ts): the
 * creates that arrive while a statement runs share the next one. Each still answers for itself —
 * a taken userName (also taken by another create of the same statement) is a 409 — and each
 * created user has its user.created event and is counted.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { eachDatabase, openTestDatabase, startTestApp } from '../helpers/app.js';
import { scimClient, USER } from './helpers.js';
import type { Database } from '../../src/db/types.js';

eachDatabase((kind) => {
  it('40 concurrent creates: one answer each, duplicates refused, events and counts exact; on PGlite fewer statements than creates', async () => {
    const base = await openTestDatabase(kind);
    let inserts = 0;
    const db: Database = Object.assign(Object.create(base) as Database, {
      query: (sql: string, params?: readonly unknown[]) => {
        if (/^\s*WITH (v|main) AS/.test(sql) && sql.includes('INSERT INTO scim_users')) inserts++;
        return base.query(sql, params);
      },
    });
    const t = await startTestApp(kind, { worker: false }, { db });
    try {
      const x = await t.newTenant('batch');
      const c = scimClient(t, x.scimBase, x.scimToken);
      const names = Array.from({ length: 36 }, (_, i) => `batch${i}@example.com`);
      // Four names twice (the second spelled in upper case): exactly one of each pair is created.
      const all = [...names, ...names.slice(0, 4).map((n) => n.toUpperCase())];
      const answers = await Promise.all(all.map((userName, i) =>
        c.call('POST', '/Users', { schemas: [USER], userName, displayName: `User ${i}`, active: true })));
      const created = answers.filter((a) => a.status === 201);
      assert.equal(created.length, 36, JSON.stringify(answers.filter((a) => a.status !== 201).map((a) => a.status)));
      assert.equal(answers.filter((a) => a.status === 409).length, 4);
      for (const a of created) {
        const got = await c.call('GET', `/Users/${a.body.id}`);
        assert.equal(got.status, 200);
        assert.equal(got.body.userName, a.body.userName);
        assert.equal(got.body.displayName, a.body.displayName);
        assert.equal(got.headers.etag, a.headers.etag);
      }
      const { rows: events } = await t.db.query<{ id: string }>(
        `SELECT data->'user'->>'id' AS id FROM events WHERE tenant_id = $1 AND type = 'user.created'`, [x.tenantId]);
      assert.deepEqual(events.map((e) => e.id).sort(), created.map((a) => a.body.id as string).sort());
      const list = await c.call('GET', '/Users?count=0');
      assert.equal(list.body.totalResults, 36);
      if (kind === 'pglite') assert.ok(inserts < 36, `${inserts} insert statements for 40 creates`);
      else assert.equal(inserts, 40);
    } finally {
      await t.close();
      await base.close();
    }
  });
});
