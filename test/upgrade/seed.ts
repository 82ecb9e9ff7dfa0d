// A realistic tenant written with plain SQL against whatever schema level the database is at, the
// way a release of that level wrote it: only the columns every level has had since the table was
// created (later columns take their defaults, as they must under the rolling-deploy rule of
// docs/operator.md). Features are detected from the catalog, not from migration numbers, so new
// migrations are picked up without changing this file.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Database, Queryable } from '../../src/db/types.js';

export const USERS = 2_000;
export const GROUPS = 20;
export const GROUPS_PER_USER = 5; // 2,000 × 5 = 10,000 memberships, 500 per group

const sha256Hex = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const secret = (prefix: string) => `${prefix}${randomBytes(32).toString('base64url')}`;
export const uid = (kind: string, i: number) => {
  const h = createHash('md5').update(`${kind}-${i}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
};
export const userName = (i: number) => `user${String(i).padStart(4, '0')}@contoso.example`;

export interface Features {
  access: boolean; // 002: identities' API keys, access groups, datasets
  events: boolean; // 003: outbox, webhooks, deliveries, provisioning log
  eventCursor: boolean; // 009: (txid, seq) cursor instead of dispatched_at
}

export async function features(db: Queryable): Promise<Features> {
  const { rows } = await db.query<{ table_name: string; column_name: string }>(
    `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()`,
  );
  const has = (t: string, c?: string) => rows.some((r) => r.table_name === t && (!c || r.column_name === c));
  return { access: has('identity_api_keys'), events: has('webhooks') && has('events'), eventCursor: has('events', 'txid') && has('event_cursors') };
}

export interface Seeded {
  tenantId: string;
  features: Features;
  scimToken: string;
  revokedScimToken: string;
  expiredScimToken: string;
  apiKey?: { key: string; userId: string; userName: string };
  disabledApiKey?: string;
  /** Per webhook path: its plaintext secret and the event ids it must receive, in order, once each. */
  webhooks?: Record<string, { id: string; secret: string; expect: string[]; delivered: string[] }>;
  logEntries?: number;
}

/** Writes the tenant. `hookBase` is the receiver's base URL (webhooks point at `${hookBase}/hook1` and `/hook2`). */
export async function seedTenant(db: Database, tenantId: string, hookBase: string): Promise<Seeded> {
  const f = await features(db);
  const scimToken = secret('idpb_scim_');
  const revokedScimToken = secret('idpb_scim_');
  const expiredScimToken = secret('idpb_scim_');
  const out: Seeded = { tenantId, features: f, scimToken, revokedScimToken, expiredScimToken };
  const t0 = "'2026-01-01T00:00:00Z'::timestamptz";

  await db.transaction(async (tx) => {
    await tx.query(`INSERT INTO tenants (tenant_id, name, created_at, updated_at) VALUES ($1, 'Contoso (upgrade)', ${t0}, ${t0})`, [tenantId]);
    await tx.query(
      `INSERT INTO scim_tokens (tenant_id, id, name, token_hash, token_hint, created_at, expires_at, revoked_at) VALUES
         ($1, $2, 'Entra provisioning', $3, $4, ${t0}, NULL, NULL),
         ($1, $5, 'old (revoked)', $6, $7, ${t0}, NULL, ${t0} + interval '1 day'),
         ($1, $8, 'expired', $9, $10, ${t0}, now() - interval '1 hour', NULL)`,
      [tenantId, uid('tok', 1), sha256Hex(scimToken), `…${scimToken.slice(-4)}`, uid('tok', 2), sha256Hex(revokedScimToken), `…${revokedScimToken.slice(-4)}`,
        uid('tok', 3), sha256Hex(expiredScimToken), `…${expiredScimToken.slice(-4)}`],
    );
    await tx.query(
      `INSERT INTO scim_users (tenant_id, id, user_name, external_id, display_name, active, data, source, status, version, created_at, updated_at)
       SELECT $1, md5('user-' || i)::uuid, u.name, 'ext-' || i, 'User ' || i, i % 97 <> 0,
              jsonb_build_object(
                'schemas', jsonb_build_array('urn:ietf:params:scim:schemas:core:2.0:User'),
                'userName', u.name, 'externalId', 'ext-' || i, 'displayName', 'User ' || i, 'active', i % 97 <> 0,
                'name', jsonb_build_object('givenName', 'User', 'familyName', 'N' || i),
                'emails', jsonb_build_array(jsonb_build_object('value', u.name, 'type', 'work', 'primary', true))),
              'scim', CASE WHEN i % 97 = 0 THEN 'suspended' ELSE 'active' END, 1 + i % 3,
              ${t0} + i * interval '1 second', ${t0} + i * interval '1 second' + interval '1 hour'
         FROM generate_series(1, $2::int) i, LATERAL (SELECT 'user' || lpad(i::text, 4, '0') || '@contoso.example' AS name) u`,
      [tenantId, USERS],
    );
    await tx.query(
      `INSERT INTO scim_groups (tenant_id, id, display_name, external_id, data, created_at, updated_at)
       SELECT $1, md5('group-' || g)::uuid, 'Team ' || lpad(g::text, 2, '0'), 'gext-' || g,
              jsonb_build_object('schemas', jsonb_build_array('urn:ietf:params:scim:schemas:core:2.0:Group'),
                                 'displayName', 'Team ' || lpad(g::text, 2, '0'), 'externalId', 'gext-' || g),
              ${t0} + g * interval '1 minute', ${t0} + g * interval '1 minute'
         FROM generate_series(1, $2::int) g`,
      [tenantId, GROUPS],
    );
    await tx.query(
      `INSERT INTO scim_group_members (tenant_id, group_id, member_id, member_type, created_at)
       SELECT $1, md5('group-' || (1 + (i + k) % $3::int))::uuid, md5('user-' || i)::uuid, 'User', ${t0}
         FROM generate_series(1, $2::int) i, generate_series(0, $4::int - 1) k`,
      [tenantId, USERS, GROUPS, GROUPS_PER_USER],
    );

    if (f.access) {
      await tx.query(`INSERT INTO datasets (tenant_id, id, name, external_id, created_at, updated_at) VALUES ($1, $2, 'Ledger', 'acct-ledger', ${t0}, ${t0})`, [tenantId, uid('ds', 1)]);
      await tx.query(`INSERT INTO access_groups (tenant_id, id, name, created_at, updated_at) VALUES ($1, $2, 'Team 03', ${t0}, ${t0})`, [tenantId, uid('ag', 1)]);
      await tx.query(`INSERT INTO access_group_datasets (tenant_id, access_group_id, dataset_id) VALUES ($1, $2, $3)`, [tenantId, uid('ag', 1), uid('ds', 1)]);
      const key = secret('idpb_key_');
      const disabled = secret('idpb_key_');
      // user 1 is in Teams 02..06: Team 03 grants Ledger.
      await tx.query(
        `INSERT INTO identity_api_keys (tenant_id, id, identity_id, name, key_hash, key_hint, auto, disabled_at, created_at) VALUES
           ($1, $2, $3, 'reporting job', $4, $5, false, NULL, ${t0}),
           ($1, $6, $7, 'old job', $8, $9, false, ${t0} + interval '2 days', ${t0})`,
        [tenantId, uid('key', 1), uid('user', 1), sha256Hex(key), `…${key.slice(-4)}`, uid('key', 2), uid('user', 2), sha256Hex(disabled), `…${disabled.slice(-4)}`],
      );
      out.apiKey = { key, userId: uid('user', 1), userName: userName(1) };
      out.disabledApiKey = disabled;
    }
  });
  // md5('user-' || i)::uuid in SQL and uid('user', i) here must agree.
  const check = await db.query<{ id: string }>('SELECT id::text FROM scim_users WHERE tenant_id = $1 AND user_name = $2', [tenantId, userName(1)]);
  if (check.rows[0]?.id !== uid('user', 1)) throw new Error(`seed ids disagree: ${check.rows[0]?.id} vs ${uid('user', 1)}`);

  if (f.events) {
    const hooks = { hook1: { id: uid('wh', 1), secret: secret('whsec_'), types: [] as string[] }, hook2: { id: uid('wh', 2), secret: secret('whsec_'), types: ['group.*'] } };
    // Webhook secrets as the level stored them: in clear before encryption at rest (the start-up pass encrypts them).
    for (const [path, h] of Object.entries(hooks)) {
      await db.query(
        `INSERT INTO webhooks (tenant_id, id, url, secret, secret_hint, description, event_types, enabled, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, true, ${t0}, ${t0})`,
        [tenantId, h.id, `${hookBase}/${path}`, h.secret, `…${h.secret.slice(-4)}`, path, h.types],
      );
    }
    // Six events already fanned out: 1-3 delivered to hook1, 4-6 still pending there (hook2 takes group.* only).
    const ev = (n: number) => uid('event', n);
    const evData = (n: number, type: string) => (type.startsWith('group')
      ? { group: { id: uid('group', n), displayName: `Team ${n}` } }
      : { user: { id: uid('user', n), userName: userName(n) } });
    const insertEvents = async (q: Queryable, ns: number[], type: string, dispatched: boolean) => {
      for (const n of ns) {
        await q.query(
          `INSERT INTO events (tenant_id, id, type, data, occurred_at${f.eventCursor ? '' : ', dispatched_at'})
           VALUES ($1, $2, $3, $4::jsonb, now() - interval '10 minutes'${f.eventCursor ? '' : ', $5'})`,
          f.eventCursor ? [tenantId, ev(n), type, JSON.stringify(evData(n, type))] : [tenantId, ev(n), type, JSON.stringify(evData(n, type)), dispatched ? new Date() : null],
        );
      }
    };
    await db.transaction(async (tx) => {
      await insertEvents(tx, [1, 2, 3, 4, 5, 6], 'user.updated', true);
      if (f.eventCursor) {
        // The dispatcher's cursor stands after event 6 (what fanning them out wrote).
        await tx.query(
          `INSERT INTO event_cursors (tenant_id, txid, seq) SELECT $1, pg_current_xact_id(), max(seq) FROM events WHERE tenant_id = $1`,
          [tenantId],
        );
      }
      for (const n of [1, 2, 3, 4, 5, 6]) {
        const delivered = n <= 3;
        await tx.query(
          `INSERT INTO webhook_deliveries (tenant_id, webhook_id, event_id, event_seq, state, attempts, last_status, delivered_at, created_at)
           SELECT $1, $2, id, seq, $3, $4, $5, $6, now() - interval '10 minutes' FROM events WHERE tenant_id = $1 AND id = $7`,
          [tenantId, hooks.hook1.id, delivered ? 'delivered' : 'pending', delivered ? 1 : 2, delivered ? 200 : 503, delivered ? new Date() : null, ev(n)],
        );
      }
    });
    // Four events not fanned out yet (written by a later transaction).
    await db.transaction(async (tx) => {
      await insertEvents(tx, [7, 8], 'user.created', false);
      await insertEvents(tx, [9, 10], 'group.created', false);
    });
    out.webhooks = {
      hook1: { id: hooks.hook1.id, secret: hooks.hook1.secret, expect: [4, 5, 6, 7, 8, 9, 10].map(ev), delivered: [1, 2, 3].map(ev) },
      hook2: { id: hooks.hook2.id, secret: hooks.hook2.secret, expect: [9, 10].map(ev), delivered: [] },
    };
    await db.query(
      `INSERT INTO provisioning_log (tenant_id, at, method, path, idp, user_agent, credential_id, operation, outcome, status, resource_type, resource_id, duration_ms)
       SELECT $1, now() - interval '30 minutes' + i * interval '1 second', 'POST', '/Users', 'upgrade-seed', 'Azure AD SCIM', $2,
              'user.create', CASE WHEN i % 10 = 0 THEN 'failure' ELSE 'success' END, CASE WHEN i % 10 = 0 THEN 409 ELSE 201 END,
              'User', md5('user-' || i)::uuid::text, 3.5
         FROM generate_series(1, 30) i`,
      [tenantId, uid('tok', 1)],
    );
    out.logEntries = 30;
  }
  return out;
}

export interface Delivery { path: string; id: string; sequence: number; body: string; signature: string }

/** A webhook receiver on 127.0.0.1 that records every delivery (any path) and answers 204. */
export async function startReceiver(): Promise<{ url: string; deliveries: Delivery[]; close(): Promise<void> }> {
  const deliveries: Delivery[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      try {
        const j = JSON.parse(body) as { id: string; sequence: number };
        deliveries.push({ path: (req.url ?? '').replace(/^\//, ''), id: j.id, sequence: j.sequence, body, signature: String(req.headers['idpbridge-signature'] ?? '') });
      } catch {
        /* not an event */
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    deliveries,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

/** The documented check (docs/webhooks.md): HMAC-SHA256 of "<t>.<raw body>". */
export function signatureValid(secretValue: string, body: string, header: string): boolean {
  const t = /(?:^|,)t=(\d+)/.exec(header)?.[1];
  if (!t) return false;
  const mac = createHmac('sha256', secretValue).update(`${t}.${body}`).digest('hex');
  return header.split(',').some((p) => p === `v1=${mac}`);
}
