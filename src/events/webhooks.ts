import { randomUUID } from 'node:crypto';
import type { Database, Queryable } from '../db/types.js';
import type { SecretBox } from '../lib/secret-box.js';
import type { TargetPolicy } from '../lib/outbound.js';
import { generateWebhookSecret } from './signature.js';

/** Purpose (authenticated data) of an encrypted webhook secret. */
export const WEBHOOK_SECRET_PURPOSE = 'webhook.secret';

/** The codes of the non-SCIM error family (src/http/errors.ts) a webhook refusal carries, with their statuses. */
export const WEBHOOK_ERROR_STATUS = { ERR_TARGET_NOT_ALLOWED: 400, ERR_WEBHOOK_LIMIT: 409 } as const;

/**
 * A refusal of a webhook change, answered by the one error handler (src/http/error-handler.ts)
 * with its catalogued code: this floor sits below src/http, so the error carries its code and
 * status itself (like access's IdentityError).
 */
export class WebhookError extends Error {
  readonly statusCode: number;

  constructor(readonly code: keyof typeof WEBHOOK_ERROR_STATUS, message: string) {
    super(message);
    this.name = 'WebhookError';
    this.statusCode = WEBHOOK_ERROR_STATUS[code];
  }
}

/**
 * Refuses, at registration, a URL whose host is an IP literal (or localhost) in a range the
 * outbound guard refuses. Host names are checked where it matters, on the address they resolve to
 * at delivery time (src/lib/outbound.ts); this check only makes the obvious case a clear 400.
 */
export function checkWebhookTarget(url: string, targets: TargetPolicy): void {
  if (targets.refusesUrl(url)) {
    throw new WebhookError(
      'ERR_TARGET_NOT_ALLOWED',
      'url points to a loopback, private, link-local or otherwise internal address, which webhooks may not reach (the operator can allow it with IDPBRIDGE_ALLOW_PRIVATE_TARGETS)',
    );
  }
}

/** What storing a webhook needs besides the database: the secret encryption and the per-tenant cap. */
export interface WebhookStoreOptions {
  secrets: SecretBox;
  /** Most webhooks one tenant may have. */
  maxPerTenant: number;
}

export interface Webhook {
  id: string;
  url: string;
  description: string | null;
  events: string[];
  enabled: boolean;
  secretHint: string;
  createdAt: Date;
  updatedAt: Date;
  /** Head-of-queue retry: nothing is attempted before this time. */
  blockedUntil: Date | null;
  pending: number;
  dead: number;
}

interface WebhookRow {
  id: string;
  url: string;
  description: string | null;
  event_types: string[];
  enabled: boolean;
  secret_hint: string;
  created_at: Date;
  updated_at: Date;
  blocked_until: Date | null;
  pending?: number;
  dead?: number;
}

const COLS = 'w.id, w.url, w.description, w.event_types, w.enabled, w.secret_hint, w.created_at, w.updated_at, w.blocked_until';
const COUNTS = `(SELECT count(*)::int FROM webhook_deliveries d WHERE d.tenant_id = w.tenant_id AND d.webhook_id = w.id AND d.state = 'pending') AS pending,
  (SELECT count(*)::int FROM webhook_deliveries d WHERE d.tenant_id = w.tenant_id AND d.webhook_id = w.id AND d.state = 'dead') AS dead`;

const toWebhook = (r: WebhookRow): Webhook => ({
  id: r.id,
  url: r.url,
  description: r.description,
  events: r.event_types,
  enabled: r.enabled,
  secretHint: r.secret_hint,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  blockedUntil: r.blocked_until,
  pending: r.pending ?? 0,
  dead: r.dead ?? 0,
});

/** A webhook's changeable fields that its view shows (what a PATCH sets, the secret aside). */
export type WebhookFields = Pick<Webhook, 'url' | 'description' | 'events' | 'enabled'>;

const hintOf = (secret: string) => `…${secret.slice(-4)}`;

/**
 * Creates a webhook; its secret is stored encrypted. At most `maxPerTenant` per tenant: the tenant
 * row is locked (NO KEY UPDATE, which does not block the dispatcher's KEY SHARE) so two concurrent
 * creations cannot both pass the count.
 */
export async function createWebhook(
  db: Database,
  tenantId: string,
  input: { url: string; secret?: string; events?: string[]; description?: string; enabled?: boolean },
  opts: WebhookStoreOptions,
): Promise<Webhook & { secret: string }> {
  const secret = input.secret ?? generateWebhookSecret();
  const stored = opts.secrets.encrypt(secret, WEBHOOK_SECRET_PURPOSE);
  const max = opts.maxPerTenant;
  const rows = await db.transaction(async (tx) => {
    await tx.query('SELECT 1 FROM tenants WHERE tenant_id = $1 FOR NO KEY UPDATE', [tenantId]);
    const res = await tx.query<WebhookRow>(
      `INSERT INTO webhooks AS w (tenant_id, id, url, secret, secret_hint, description, event_types, enabled)
       SELECT $1, $2, $3, $4, $5, $6, $7, $8
        WHERE (SELECT count(*) FROM webhooks WHERE tenant_id = $1) < $9
       RETURNING ${COLS}`,
      [tenantId, randomUUID(), input.url, stored, hintOf(secret), input.description ?? null, input.events ?? [], input.enabled ?? true, max],
    );
    return res.rows;
  });
  if (!rows[0]) {
    throw new WebhookError('ERR_WEBHOOK_LIMIT', `a tenant may have at most ${max} webhooks (IDPBRIDGE_WEBHOOKS_PER_TENANT_MAX); delete one first`);
  }
  return { ...toWebhook(rows[0]), secret };
}

/**
 * The start-up pass over webhook secrets: plaintext rows (written before encryption at rest) and
 * rows under a previous key are re-encrypted under the current key. Idempotent, and safe with
 * several processes starting at once (each row is replaced only if it is still the value read).
 * Returns the number of rows rewritten.
 */
export async function reencryptWebhookSecrets(db: Queryable, secrets: SecretBox): Promise<number> {
  let n = 0;
  let after = ['00000000-0000-0000-0000-000000000000', '00000000-0000-0000-0000-000000000000'];
  for (;;) {
    const { rows } = await db.query<{ tenant_id: string; id: string; secret: string }>(
      `SELECT tenant_id, id, secret FROM webhooks
        WHERE (tenant_id, id) > ($1::uuid, $2::uuid) AND NOT starts_with(secret, $3)
        ORDER BY tenant_id, id LIMIT 500`,
      [after[0], after[1], `enc:v1:${secrets.currentKid ?? ''}:`],
    );
    if (rows.length === 0) return n + (await reencryptPreviousWebhookSecrets(db, secrets));
    if (!secrets.enabled) throw new Error('IDPBRIDGE_SECRET_KEY is not set, but the database holds webhook secrets (see docs/operator.md)');
    for (const r of rows) {
      after = [r.tenant_id, r.id];
      const res = await db.query('UPDATE webhooks SET secret = $4 WHERE tenant_id = $1 AND id = $2 AND secret = $3', [
        r.tenant_id, r.id, r.secret, secrets.reencrypt(r.secret, WEBHOOK_SECRET_PURPOSE),
      ]);
      n += res.rowCount;
    }
  }
}

/** The same pass over the previous secret kept during a rotation's overlap window (few rows). */
async function reencryptPreviousWebhookSecrets(db: Queryable, secrets: SecretBox): Promise<number> {
  const { rows } = await db.query<{ tenant_id: string; id: string; previous_secret: string }>(
    `SELECT tenant_id, id, previous_secret FROM webhooks WHERE previous_secret IS NOT NULL AND NOT starts_with(previous_secret, $1)`,
    [`enc:v1:${secrets.currentKid ?? ''}:`],
  );
  if (rows.length > 0 && !secrets.enabled) throw new Error('IDPBRIDGE_SECRET_KEY is not set, but the database holds webhook secrets (see docs/operator.md)');
  let n = 0;
  for (const r of rows) {
    const res = await db.query('UPDATE webhooks SET previous_secret = $4 WHERE tenant_id = $1 AND id = $2 AND previous_secret = $3', [
      r.tenant_id, r.id, r.previous_secret, secrets.reencrypt(r.previous_secret, WEBHOOK_SECRET_PURPOSE),
    ]);
    n += res.rowCount;
  }
  return n;
}

export async function listWebhooks(db: Queryable, tenantId: string): Promise<Webhook[]> {
  const { rows } = await db.query<WebhookRow>(`SELECT ${COLS}, ${COUNTS} FROM webhooks w WHERE w.tenant_id = $1 ORDER BY w.created_at, w.id`, [tenantId]);
  return rows.map(toWebhook);
}

export async function getWebhook(db: Queryable, tenantId: string, id: string): Promise<Webhook | undefined> {
  const { rows } = await db.query<WebhookRow>(`SELECT ${COLS}, ${COUNTS} FROM webhooks w WHERE w.tenant_id = $1 AND w.id = $2`, [tenantId, id]);
  return rows[0] ? toWebhook(rows[0]) : undefined;
}

/** How long the previous secret keeps signing after PATCH {secret}, unless the request says otherwise. */
export const DEFAULT_SECRET_OVERLAP_SECONDS = 24 * 3600;

export async function updateWebhook(
  db: Queryable,
  tenantId: string,
  id: string,
  patch: { url?: string; secret?: string; secretOverlapSeconds?: number; events?: string[]; description?: string | null; enabled?: boolean },
  opts: Pick<WebhookStoreOptions, 'secrets'>,
): Promise<(Webhook & { replaced: WebhookFields }) | undefined> {
  const sets: string[] = [];
  const params: unknown[] = [tenantId, id];
  const set = (col: string, v: unknown) => {
    params.push(v);
    sets.push(`${col} = $${params.length}`);
  };
  if (patch.url !== undefined) set('url', patch.url);
  if (patch.secret !== undefined) {
    set('secret', opts.secrets.encrypt(patch.secret, WEBHOOK_SECRET_PURPOSE));
    set('secret_hint', hintOf(patch.secret));
    // Rotation with overlap: the secret being replaced (the old value: SET reads the row as it
    // was) keeps signing deliveries, next to the new one, for secretOverlapSeconds (default 24 h; 0 = none).
    const overlap = patch.secretOverlapSeconds ?? DEFAULT_SECRET_OVERLAP_SECONDS;
    params.push(overlap);
    sets.push(`previous_secret = CASE WHEN $${params.length}::int > 0 THEN w.secret END`);
    sets.push(`previous_secret_until = CASE WHEN $${params.length}::int > 0 THEN now() + $${params.length}::int * interval '1 second' END`);
  }
  if (patch.events !== undefined) set('event_types', patch.events);
  if (patch.description !== undefined) set('description', patch.description);
  if (patch.enabled !== undefined) set('enabled', patch.enabled);
  // Re-enabling or pointing elsewhere retries the head at once.
  if (patch.enabled === true || patch.url !== undefined) sets.push('blocked_until = NULL');
  sets.push('updated_at = now()');
  // `old` locks the row before the UPDATE (which joins it, so it runs first; a row lock taken after
  // waiting on a concurrent change reads the newest version; NO KEY, as the UPDATE itself, leaves
  // foreign-key checks of other rows unblocked): its values are the ones replaced.
  const { rows } = await db.query<Pick<WebhookRow, 'url' | 'description' | 'event_types' | 'enabled'>>(
    `WITH old AS (SELECT url, description, event_types, enabled FROM webhooks WHERE tenant_id = $1 AND id = $2 FOR NO KEY UPDATE)
     UPDATE webhooks w SET ${sets.join(', ')} FROM old WHERE w.tenant_id = $1 AND w.id = $2
     RETURNING old.url, old.description, old.event_types, old.enabled`,
    params,
  );
  const r = rows[0];
  if (!r) return undefined;
  const view = await getWebhook(db, tenantId, id);
  return view && { ...view, replaced: { url: r.url, description: r.description, events: r.event_types, enabled: r.enabled } };
}

export async function deleteWebhook(db: Queryable, tenantId: string, id: string): Promise<boolean> {
  const res = await db.query('DELETE FROM webhooks WHERE tenant_id = $1 AND id = $2', [tenantId, id]);
  return res.rowCount > 0;
}

export type DeliveryState = 'pending' | 'delivered' | 'dead';

export interface Delivery {
  webhookId: string;
  eventId: string;
  eventType: string;
  sequence: number;
  state: DeliveryState;
  attempts: number;
  nextAttemptAt: Date | null;
  lastAttemptAt: Date | null;
  lastStatus: number | null;
  lastError: string | null;
  deliveredAt: Date | null;
  deadAt: Date | null;
  createdAt: Date;
}

interface DeliveryRow {
  webhook_id: string;
  event_id: string;
  event_seq: number | string;
  type: string;
  state: DeliveryState;
  attempts: number;
  next_attempt_at: Date;
  last_attempt_at: Date | null;
  last_status: number | null;
  last_error: string | null;
  delivered_at: Date | null;
  dead_at: Date | null;
  created_at: Date;
}

const DCOLS = `d.webhook_id, d.event_id, d.event_seq, e.type, d.state, d.attempts, d.next_attempt_at, d.last_attempt_at,
  d.last_status, d.last_error, d.delivered_at, d.dead_at, d.created_at`;

const toDelivery = (r: DeliveryRow): Delivery => ({
  webhookId: r.webhook_id,
  eventId: r.event_id,
  eventType: r.type,
  sequence: Number(r.event_seq),
  state: r.state,
  attempts: r.attempts,
  nextAttemptAt: r.state === 'pending' ? r.next_attempt_at : null,
  lastAttemptAt: r.last_attempt_at,
  lastStatus: r.last_status,
  lastError: r.last_error,
  deliveredAt: r.delivered_at,
  deadAt: r.dead_at,
  createdAt: r.created_at,
});

/** Deliveries of the tenant (optionally of one webhook, in one state), newest first, keyset-paged by sequence. */
async function queryDeliveries(
  db: Queryable,
  tenantId: string,
  opts: { webhookId?: string; state?: DeliveryState; beforeSequence?: number; limit: number },
): Promise<Delivery[]> {
  const params: unknown[] = [tenantId, opts.limit];
  let where = 'd.tenant_id = $1';
  const and = (cond: (n: number) => string, value: unknown) => {
    params.push(value);
    where += ` AND ${cond(params.length)}`;
  };
  if (opts.webhookId !== undefined) and((n) => `d.webhook_id = $${n}`, opts.webhookId);
  if (opts.state) and((n) => `d.state = $${n}`, opts.state);
  if (opts.beforeSequence !== undefined) and((n) => `d.event_seq < $${n}`, opts.beforeSequence);
  const { rows } = await db.query<DeliveryRow>(
    `SELECT ${DCOLS} FROM webhook_deliveries d JOIN events e ON e.tenant_id = d.tenant_id AND e.id = d.event_id
      WHERE ${where} ORDER BY d.event_seq DESC LIMIT $2`,
    params,
  );
  return rows.map(toDelivery);
}

/** Deliveries of one webhook, newest first, keyset-paged by sequence. */
export function listDeliveries(
  db: Queryable,
  tenantId: string,
  webhookId: string,
  opts: { state?: DeliveryState; beforeSequence?: number; limit: number },
): Promise<Delivery[]> {
  return queryDeliveries(db, tenantId, { ...opts, webhookId });
}

/** Dead-lettered deliveries of every webhook of the tenant, most recent first. */
export function listDeadLetters(db: Queryable, tenantId: string, opts: { limit: number; beforeSequence?: number }): Promise<Delivery[]> {
  return queryDeliveries(db, tenantId, { ...opts, state: 'dead' });
}

/**
 * Manual redelivery: the delivery (delivered or dead) goes back to the queue with a fresh retry
 * window; it is sent next, with the same event id. Returns false when there is no such delivery.
 */
export async function redeliver(db: Queryable, tenantId: string, webhookId: string, eventId: string): Promise<boolean> {
  const res = await db.query(
    `UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_attempt_at = now(), created_at = now(), dead_at = NULL
      WHERE tenant_id = $1 AND webhook_id = $2 AND event_id = $3`,
    [tenantId, webhookId, eventId],
  );
  if (res.rowCount > 0) await db.query('UPDATE webhooks SET blocked_until = NULL WHERE tenant_id = $1 AND id = $2', [tenantId, webhookId]);
  return res.rowCount > 0;
}

/** Requeues every dead-lettered delivery of a webhook (in their original order). */
export async function redeliverDead(db: Queryable, tenantId: string, webhookId: string): Promise<number> {
  const res = await db.query(
    `UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_attempt_at = now(), created_at = now(), dead_at = NULL
      WHERE tenant_id = $1 AND webhook_id = $2 AND state = 'dead'`,
    [tenantId, webhookId],
  );
  if (res.rowCount > 0) await db.query('UPDATE webhooks SET blocked_until = NULL WHERE tenant_id = $1 AND id = $2', [tenantId, webhookId]);
  return res.rowCount;
}
