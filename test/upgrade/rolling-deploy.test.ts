// The rolling-deploy rule of docs/operator.md ("Migrations and upgrades"): while a rollout runs,
// processes of the previous release serve the database the new release has just migrated, so a
// migration only expands (adds tables, nullable or defaulted columns, indexes); removing or
// changing what the previous release reads or writes waits for a later release (contract) and is
// marked in the file with a `-- contract:` comment saying why it is safe by then.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { loadMigrations, migrate } from '../../src/db/migrate.js';
import { eachDatabase } from '../helpers/app.js';
import { freshDatabase } from './fresh-db.js';
import { seedTenant, uid, userName } from './seed.js';

const migrations = loadMigrations();
const latest = migrations.at(-1)!;
const previous = migrations.at(-2);

/** Statements that break the previous release on the new schema. */
const CONTRACT = [
  /\bDROP\s+TABLE\b/i,
  /\bDROP\s+COLUMN\b/i,
  /\bRENAME\b/i,
  /\bALTER\s+COLUMN\s+\w+\s+(SET\s+DATA\s+)?TYPE\b/i,
  /\bSET\s+NOT\s+NULL\b/i,
  /\bADD\s+COLUMN\s+(IF\s+NOT\s+EXISTS\s+)?\w+\s+[^,;]*\bNOT\s+NULL\b(?![^,;]*\bDEFAULT\b)/i,
];

test('migrations only expand, unless a statement is marked `-- contract:`', () => {
  for (const m of migrations) {
    const code = m.sql.replace(/--[^\n]*/g, '');
    const hits = CONTRACT.filter((re) => re.test(code)).map((re) => re.source);
    if (hits.length) assert.match(m.sql, /--\s*contract:/, `${m.name} contracts the schema (${hits.join(', ')}) without a "-- contract:" note`);
  }
});

test('the rule check catches contract statements', () => {
  const flagged = (sql: string) => CONTRACT.some((re) => re.test(sql));
  assert.ok(flagged('ALTER TABLE t DROP COLUMN a;'));
  assert.ok(flagged('ALTER TABLE t RENAME COLUMN a TO b;'));
  assert.ok(flagged('ALTER TABLE t ADD COLUMN a text NOT NULL;'));
  assert.ok(flagged('ALTER TABLE t ALTER COLUMN a TYPE bigint;'));
  assert.ok(!flagged('ALTER TABLE t ADD COLUMN a text NOT NULL DEFAULT \'x\';'));
  assert.ok(!flagged('ALTER TABLE t ADD COLUMN a text; CREATE INDEX i ON t (a); DROP INDEX j;'));
});

const sha256Hex = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

eachDatabase((kind) => {
  test(`the previous release's key statements work on the schema of ${latest.name}`, { skip: !previous && 'only one migration' }, async () => {
    const fresh = await freshDatabase(kind, 'rolling');
    try {
      const db = fresh.db;
      await migrate(db, { upTo: previous!.version });
      // A tenant the previous release wrote, then the new release migrates under it.
      const before = await seedTenant(db, uid('tenant', 1), 'http://127.0.0.1:9');
      await migrate(db);
      // The previous release keeps writing: the same statements against the new schema.
      const during = await seedTenant(db, uid('tenant', 2), 'http://127.0.0.1:9');
      for (const s of [before, during]) {
        const t = s.tenantId;
        // SCIM authentication and the Entra probe.
        const tok = await db.query('SELECT id FROM scim_tokens WHERE tenant_id = $1 AND token_hash = $2 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())', [t, sha256Hex(s.scimToken)]);
        assert.equal(tok.rowCount, 1);
        const u = await db.query<{ id: string }>('SELECT id, user_name, external_id, display_name, active, data, version, created_at, updated_at FROM scim_users WHERE tenant_id = $1 AND lower(user_name) = lower($2)', [t, userName(42)]);
        assert.equal(u.rows[0]?.id, uid('user', 42));
        // A user's groups and a group PATCH add/remove.
        const groups = await db.query('SELECT group_id FROM scim_group_members WHERE tenant_id = $1 AND member_id = $2', [t, uid('user', 42)]);
        assert.equal(groups.rowCount, 5);
        const newUser = uid(`new-${t}`, 1);
        await db.query(`INSERT INTO scim_users (tenant_id, id, user_name, external_id, display_name, active, data, source, status)
                        VALUES ($1, $2, $3, NULL, NULL, true, '{"userName":"x"}'::jsonb, 'scim', 'active')`, [t, newUser, `new-${randomBytes(4).toString('hex')}@contoso.example`]);
        await db.query('INSERT INTO scim_group_members (tenant_id, group_id, member_id, member_type) VALUES ($1, $2, $3, \'User\') ON CONFLICT DO NOTHING', [t, uid('group', 1), newUser]);
        const del = await db.query('DELETE FROM scim_group_members WHERE tenant_id = $1 AND group_id = $2 AND member_id = ANY($3::uuid[])', [t, uid('group', 1), [newUser]]);
        assert.equal(del.rowCount, 1);
        await db.query('UPDATE scim_groups SET display_name = display_name, version = version + 1, updated_at = now() WHERE tenant_id = $1 AND id = $2', [t, uid('group', 1)]);
        if (s.apiKey) {
          const key = await db.query(
            `SELECT k.id FROM identity_api_keys k JOIN scim_users u ON u.tenant_id = k.tenant_id AND u.id = k.identity_id
              WHERE k.tenant_id = $1 AND k.key_hash = $2 AND k.disabled_at IS NULL AND u.status <> 'suspended' AND u.active`,
            [t, sha256Hex(s.apiKey.key)],
          );
          assert.equal(key.rowCount, 1);
          const access = await db.query(
            `SELECT d.id FROM access_groups ag JOIN scim_groups g ON g.tenant_id = ag.tenant_id AND g.display_name = ag.name
               JOIN scim_group_members m ON m.tenant_id = g.tenant_id AND m.group_id = g.id AND m.member_id = $2
               JOIN access_group_datasets agd ON agd.tenant_id = ag.tenant_id AND agd.access_group_id = ag.id
               JOIN datasets d ON d.tenant_id = agd.tenant_id AND d.id = agd.dataset_id WHERE ag.tenant_id = $1`,
            [t, uid('user', 1)],
          );
          assert.equal(access.rowCount, 1);
        }
        if (s.webhooks) {
          // The outbox insert and the delivery queue read, as the previous release wrote and read them.
          await db.query(`INSERT INTO events (tenant_id, id, type, data) VALUES ($1, $2, 'user.created', '{}'::jsonb)`, [t, uid(`ev-${t}`, 99)]);
          const queue = await db.query(
            `SELECT d.event_id, e.type, e.data, e.seq FROM webhook_deliveries d JOIN events e ON e.tenant_id = d.tenant_id AND e.id = d.event_id
              WHERE d.tenant_id = $1 AND d.webhook_id = $2 AND d.state = 'pending' ORDER BY d.event_seq LIMIT 10`,
            [t, s.webhooks.hook1!.id],
          );
          assert.equal(queue.rowCount, 3);
          await db.query(`INSERT INTO provisioning_log (tenant_id, at, method, path, idp, operation, outcome, status) VALUES ($1, now(), 'GET', '/Users', 'entra', 'user.list', 'success', 200)`, [t]);
        }
      }
    } finally {
      await fresh.drop();
    }
  });
});
