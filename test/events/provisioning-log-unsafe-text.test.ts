/** Provisioning log rows carrying text jsonb refuses (U+0000, lone surrogates) are stored, not lost with their batch. */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { eachDatabase, startTestApp } from '../helpers/app.js';
import { batchJson, insertLogEntries, queryProvisioningLog, type LogEntry } from '../../src/events/provisioning-log.js';

const entry = (tenantId: string, path: string, userName: string): LogEntry => ({
  tenant_id: tenantId, at: new Date().toISOString(), method: 'POST', path, idp: 'other', user_agent: null, credential_id: null,
  operation: 'create', outcome: 'success', status: 201, resource_type: 'User', resource_id: null,
  summary: { userName, attributes: ['userName'] }, error: null, duration_ms: 1,
});

eachDatabase((kind) => {
  it('a batch with U+0000, lone surrogates, paired surrogates and a literal "\\u0000" is written whole', async () => {
    const t = await startTestApp(kind, { worker: false });
    try {
      const batch = [
        entry(t.tenantId, '/plain', 'plain@example.com'),
        entry(t.tenantId, '/nul\u0000', 'a\u0000b'),
        entry(t.tenantId, '/lone\ud800', 'x\udc00y'),
        entry(t.tenantId, '/pair\ud83d\ude00', 'literal \\u0000 text'),
      ];
      await insertLogEntries(t.deps.db, batch);
      const { entries } = await queryProvisioningLog(t.deps.db, t.tenantId, { limit: 10 });
      const byPath = new Map(entries.map((e) => [e.path, (e.summary as { userName: string }).userName]));
      assert.deepEqual(Object.fromEntries(byPath), {
        '/plain': 'plain@example.com',
        '/nul\ufffd': 'a\ufffdb',
        '/lone\ufffd': 'x\ufffdy',
        '/pair\ud83d\ude00': 'literal \\u0000 text',
      });
    } finally {
      await t.close();
    }
  });
});

it('a batch without such text is stringified as is', () => {
  const e = entry('00000000-0000-4000-8000-000000000001', '/Users?filter=userName%20eq%20%22%5C%22', 'emoji \ud83d\ude00 "quoted" \\ back');
  assert.equal(batchJson([e]), JSON.stringify([e]));
});
