/**
 * An IdP's probe before each create (`userName eq "…"`, Entra sends one per user) that matches
 * nobody answers totalResults 0 from the page read alone: no count and no snapshot transaction.
 * Past the end of a non-empty list the total is still counted.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { eachDatabase, startTestApp } from '../helpers/app.js';
import { scimClient } from './helpers.js';
import { listPage } from '../../src/scim/resources/list-page.js';
import { parseListQuery } from '../../src/scim/resources/list-query.js';
import { USER_COLUMNS } from '../../src/directory/users-store.js';
import { tenantSchemas, withDefaults } from '../../src/tenants/settings.js';
import type { Database } from '../../src/db/types.js';

eachDatabase((kind) => {
  it('a userName eq probe that matches nobody is one statement with totalResults 0; past the end the total is counted', async () => {
    const t = await startTestApp(kind, { worker: false });
    try {
      const x = await t.newTenant('probe');
      await scimClient(t, x.scimBase, x.scimToken).createUser('someone@example.com');
      const statements: string[] = [];
      const db: Database = Object.assign(Object.create(t.db) as Database, {
        query: (sql: string, params?: readonly unknown[]) => { statements.push(sql); return t.db.query(sql, params); },
        exec: (sql: string) => { statements.push(sql); return t.db.exec(sql); },
        transaction: <T>(fn: Parameters<Database['transaction']>[0]) => { statements.push('BEGIN'); return t.db.transaction(fn) as Promise<T>; },
      });
      const { users } = tenantSchemas(withDefaults({}));
      const page = (q: Record<string, unknown>) => listPage(db, { table: 'scim_users', columns: USER_COLUMNS, rs: users, tenantId: x.tenantId, q: parseListQuery(q, 200) });

      const none = await page({ filter: 'userName eq "nobody@example.com"' });
      assert.deepEqual({ total: none.total, rows: none.rows.length }, { total: 0, rows: 0 });
      assert.equal(statements.length, 1, `statements:\n${statements.join('\n')}`);

      const one = await page({ filter: 'userName eq "SOMEONE@example.com"' });
      assert.deepEqual({ total: one.total, rows: one.rows.length }, { total: 1, rows: 1 });

      const past = await page({ filter: 'userName eq "someone@example.com"', startIndex: '2' });
      assert.deepEqual({ total: past.total, rows: past.rows.length }, { total: 1, rows: 0 });
      const pastAll = await page({ startIndex: '5' });
      assert.deepEqual({ total: pastAll.total, rows: pastAll.rows.length }, { total: 1, rows: 0 });
    } finally {
      await t.close();
    }
  });
});
