/** Bearer-token verification: concurrent misses share one lookup; a revocation starts a fresh one. */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { eachDatabase, startTestApp } from '../helpers/app.js';
import { ScimCredentialsVerifier } from '../../src/tenants/scim-credentials-verifier.js';
import type { Database } from '../../src/db/types.js';

eachDatabase((kind) => {
  it('20 concurrent requests with an uncached token make one token query; after invalidateTenant a new request does not join the old lookup', async () => {
    const t = await startTestApp(kind, { worker: false });
    try {
      let lookups = 0;
      const db: Database = Object.assign(Object.create(t.db) as Database, {
        query: (sql: string, params?: readonly unknown[]) => {
          if (sql.includes('FROM scim_tokens')) lookups++;
          return t.db.query(sql, params);
        },
      });
      const v = new ScimCredentialsVerifier(db, 60_000, 0);
      const all = await Promise.all(Array.from({ length: 20 }, () => v.verifyBearer(t.tenantId, t.scimToken)));
      assert.equal(lookups, 1);
      assert.ok(all.every((p) => p?.tenantId === t.tenantId));

      v.invalidateTenant(t.tenantId);
      const first = v.verifyBearer(t.tenantId, t.scimToken);
      v.invalidateTenant(t.tenantId); // e.g. the token is revoked while that lookup runs
      const second = v.verifyBearer(t.tenantId, t.scimToken);
      assert.ok((await first)?.tenantId === t.tenantId && (await second)?.tenantId === t.tenantId);
      assert.equal(lookups, 3, 'the request after the revocation ran its own lookup');
      assert.equal(await v.verifyBearer(t.tenantId, 'wrong-token-0123456789'), undefined);
      await v.close();
    } finally {
      await t.close();
    }
  });
});
