import type { Dispatcher } from 'undici';
import { request } from '../lib/lazy-undici.js';
import type { Database } from '../db/types.js';
import { isTargetNotAllowed, TARGET_NOT_ALLOWED } from '../lib/outbound.js';
import type { SecretBox } from '../lib/secret-box.js';
import { WEBHOOK_SECRET_PURPOSE } from './webhooks.js';
import { toEnvelope, type EventRow } from './outbox.js';
import { SIGNATURE_HEADER, signPayload } from './signature.js';

export interface RetryPolicy {
  /** First retry delay; doubles each attempt up to maxMs, with jitter. */
  baseMs: number;
  maxMs: number;
  /** Failures keep being retried for at least this long, then the delivery is dead-lettered. */
  windowMs: number;
}

/** Exponential backoff with "equal jitter": a delay in [d/2, d], d = min(max, base·2^(attempt-1)). */
export function backoffDelay(attempt: number, policy: Pick<RetryPolicy, 'baseMs' | 'maxMs'>, rand: () => number = Math.random): number {
  const d = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(Math.max(attempt - 1, 0), 40));
  return Math.round(d / 2 + (rand() * d) / 2);
}

export interface DeliverOptions {
  owner: string;
  leaseMs: number;
  timeoutMs: number;
  retry: RetryPolicy;
  /** Deliveries per claimed webhook before the lease is given back (fairness). */
  batch: number;
  /** Webhooks claimed (and served in parallel) per round. */
  concurrency: number;
  /** At most this many webhooks of one tenant are being served at once (across processes). */
  perTenant: number;
  /** Decrypts the webhook secrets. */
  secrets: SecretBox;
  isStopping: () => boolean;
  log: { warn(obj: object, msg: string): void; debug(obj: object, msg: string): void };
}

const ROUND_BUDGET_MS = 2_000;

export interface Claimed {
  tenant_id: string;
  id: string;
}

interface HeadRow extends EventRow {
  attempts: number;
  event_seq: string;
  /** The delivery row's physical address, for the updates that follow (see markDelivered). */
  row: string;
}

const DUE = `c.enabled AND (c.lease_until IS NULL OR c.lease_until < now())
  AND (c.blocked_until IS NULL OR c.blocked_until <= now())
  AND EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.tenant_id = c.tenant_id AND d.webhook_id = c.id AND d.state = 'pending')`;

/**
 * Claims up to `limit` webhooks that have due deliveries: a lease taken with FOR UPDATE SKIP
 * LOCKED, so one worker serves a webhook queue at a time, across processes. Per tenant, no more
 * than `perTenant` queues are leased at once (counting leases of every process), so a tenant with
 * many slow receivers occupies a few slots and every other tenant's queues are claimed next to
 * them. Least recently served first.
 */
export async function claimWebhooks(db: Database, opts: { owner: string; leaseMs: number; limit: number; perTenant: number }): Promise<Claimed[]> {
  if (opts.limit <= 0) return [];
  const { rows } = await db.query<Claimed>(
    `UPDATE webhooks w SET lease_owner = $1, lease_until = now() + $2 * interval '1 millisecond'
       FROM (SELECT c.tenant_id, c.id FROM webhooks c
              WHERE (c.tenant_id, c.id) IN (
                      SELECT r.tenant_id, r.id FROM (
                        SELECT c.tenant_id, c.id,
                               row_number() OVER (PARTITION BY c.tenant_id ORDER BY c.lease_until NULLS FIRST, c.id) AS rank,
                               (SELECT count(*) FROM webhooks l WHERE l.tenant_id = c.tenant_id AND l.lease_until > now()) AS busy
                          FROM webhooks c WHERE ${DUE}) r
                       WHERE r.rank + r.busy <= $4)
                AND ${DUE}
              ORDER BY c.lease_until NULLS FIRST
              LIMIT $3 FOR UPDATE OF c SKIP LOCKED) claimed
      WHERE w.tenant_id = claimed.tenant_id AND w.id = claimed.id
      RETURNING w.tenant_id, w.id`,
    [opts.owner, opts.leaseMs, opts.limit, opts.perTenant],
  );
  return rows;
}

/**
 * One delivery round: claims webhooks (claimWebhooks), delivers each queue in event order, gives
 * the leases back. A worker that dies keeps its lease until it expires; the next one then resends
 * the in-flight delivery (at-least-once). The worker itself does not wait for a round: it serves
 * claimed queues in the background (EventsWorker); this awaiting form is for tests and tools.
 */
export async function deliverRound(db: Database, agent: Dispatcher, opts: DeliverOptions): Promise<number> {
  const rows = await claimWebhooks(db, { owner: opts.owner, leaseMs: opts.leaseMs, limit: opts.concurrency, perTenant: opts.perTenant });
  const results = await Promise.allSettled(rows.map((w) => serveQueue(db, agent, w, opts)));
  let n = 0;
  for (const r of results) {
    if (r.status === 'fulfilled') n += r.value;
    else opts.log.warn({ err: r.reason }, 'webhook queue round failed; its lease expires');
  }
  return n;
}

/** Pending deliveries read per query: a backlog goes out back-to-back, without a query per event. */
const HEADS_PER_READ = 100;
/**
 * Acknowledgements are also recorded once this long has passed since the last record, so a crash
 * resends at most what a receiver took in that time (a slow receiver: one or two events), not a
 * whole read.
 */
const ACK_RECORD_MS = 50;

interface Hook {
  url: string;
  secrets: string[];
}

/**
 * Renews the lease of a claimed webhook and reads its url and secrets again (they may have been
 * changed meanwhile); undefined when the lease was lost or the webhook was disabled.
 */
async function renewLease(db: Database, w: Claimed, opts: DeliverOptions): Promise<Hook | undefined> {
  // previous_secret: still signed with during a rotation's overlap window (webhooks.ts#updateWebhook).
  const lease = await db.query<{ url: string; secret: string; enabled: boolean; previous_secret: string | null }>(
    `UPDATE webhooks SET lease_until = now() + $4 * interval '1 millisecond'
      WHERE tenant_id = $1 AND id = $2 AND lease_owner = $3
      RETURNING url, secret, enabled, CASE WHEN previous_secret_until > now() THEN previous_secret END AS previous_secret`,
    [w.tenant_id, w.id, opts.owner, opts.leaseMs],
  );
  const row = lease.rows[0];
  if (!row || !row.enabled) return undefined;
  const secrets = [opts.secrets.decrypt(row.secret, WEBHOOK_SECRET_PURPOSE)];
  if (row.previous_secret) {
    // A previous secret encrypted under a key that is no longer configured just stops signing.
    try { secrets.push(opts.secrets.decrypt(row.previous_secret, WEBHOOK_SECRET_PURPOSE)); } catch { /* current secret only */ }
  }
  return { url: row.url, secrets };
}

/**
 * Marks the given deliveries delivered, in one statement. The rows are addressed by the ctid the
 * head read returned, and checked by webhook and event: a row that moved meanwhile is simply not
 * marked, stays pending and is sent again (at-least-once). Nothing here may be an index condition:
 * a queue that grew by 100k rows in a minute has statistics that call it tiny, and the planner
 * then prefers the (tenant, webhook) indexes and walks the whole backlog for every batch. So the
 * tenant is not named (webhook and event ids identify the row), and the state test does not imply
 * 'pending' (which would make the partial queue index usable).
 */
async function markDelivered(db: Database, w: Claimed, done: Done[]): Promise<void> {
  if (done.length === 0) return;
  await db.query(
    `UPDATE webhook_deliveries d SET state = 'delivered', attempts = d.attempts + 1, last_attempt_at = now(), last_status = t.status,
            last_error = NULL, delivered_at = now()
       FROM unnest($2::tid[], $3::uuid[], $4::int[]) AS t(row, event_id, status)
      WHERE d.ctid = t.row AND d.webhook_id = $1 AND d.event_id = t.event_id AND d.state NOT IN ('delivered', 'dead')`,
    [w.id, done.map((d) => d.row), done.map((d) => d.eventId), done.map((d) => d.status)],
  );
  done.length = 0;
}

interface Done {
  row: string;
  eventId: string;
  status: number;
}

/**
 * Serves one claimed webhook queue for a bounded time and count, then gives its lease back.
 *
 * The queue's pending deliveries are read HEADS_PER_READ at a time and posted one after the other,
 * in event order, with no wait in between; the successes are recorded in one statement per read or
 * per ACK_RECORD_MS, whichever comes first (and before any failure is recorded), so a backlog costs
 * a few queries per hundred events.
 * At-least-once holds: a worker that dies between a POST and that statement leaves the delivery
 * pending, and it is sent again. The lease is renewed (and url and secrets re-read) before each
 * read and whenever a third of it has passed, so the queue never outlives its lease mid-read.
 */
export async function serveQueue(db: Database, agent: Dispatcher, w: Claimed, opts: DeliverOptions): Promise<number> {
  let done = 0;
  const started = Date.now();
  const delivered: Done[] = [];
  // Keyset: each read starts after the last delivery served, so it does not walk again over the
  // index entries of deliveries it just marked (dead in the partial index until vacuumed).
  let afterSeq = '-1';
  let recordedAt = Date.now();
  // Bounded by count and time, so one slow receiver never holds up dispatch and the others.
  const inBudget = () => done < opts.batch && Date.now() - started < ROUND_BUDGET_MS && !opts.isStopping();
  try {
    read: while (inBudget()) {
      let hook = await renewLease(db, w, opts);
      let renewedAt = Date.now();
      if (!hook) break;
      const { rows } = await db.query<HeadRow>(
        `SELECT e.tenant_id, e.id, e.seq, e.type, e.data, e.occurred_at, d.attempts, d.event_seq, d.ctid::text AS row
           FROM webhook_deliveries d JOIN events e ON e.tenant_id = d.tenant_id AND e.id = d.event_id
          WHERE d.tenant_id = $1 AND d.webhook_id = $2 AND d.state = 'pending' AND d.event_seq > $4 AND e.tenant_id = $1
          ORDER BY d.event_seq LIMIT $3`,
        [w.tenant_id, w.id, Math.min(HEADS_PER_READ, opts.batch - done), afterSeq],
      );
      if (rows.length === 0) break;
      for (const head of rows) {
        if (!inBudget()) break read;
        afterSeq = String(head.event_seq);
        if (Date.now() - renewedAt > opts.leaseMs / 3) {
          await markDelivered(db, w, delivered);
          hook = await renewLease(db, w, opts);
          renewedAt = Date.now();
          if (!hook) break read;
        }
        const attempt = head.attempts + 1;
        const result = await post(agent, hook.url, hook.secrets, JSON.stringify(toEnvelope(head)), head, attempt, opts.timeoutMs);
        if (result.ok) {
          delivered.push({ row: head.row, eventId: head.id, status: result.status });
          done++;
          if (Date.now() - recordedAt >= ACK_RECORD_MS) {
            await markDelivered(db, w, delivered);
            recordedAt = Date.now();
          }
          continue;
        }
        await markDelivered(db, w, delivered);
        if (await recordFailure(db, w, head, attempt, result, opts)) continue; // dead-lettered: the next event is not held back forever
        break read;
      }
      await markDelivered(db, w, delivered);
      if (rows.length < HEADS_PER_READ) break;
    }
  } finally {
    await markDelivered(db, w, delivered).catch(() => {}); // left pending otherwise: sent again (at-least-once)
    await db
      .query(`UPDATE webhooks SET lease_owner = NULL, lease_until = now() WHERE tenant_id = $1 AND id = $2 AND lease_owner = $3`, [w.tenant_id, w.id, opts.owner])
      .catch(() => {}); // the lease expires by itself
  }
  return done;
}

/**
 * Records a failed attempt: the delivery is retried after a backoff (the whole queue waits, to keep
 * its order) or, past the retry window, dead-lettered. True when it was dead-lettered.
 */
async function recordFailure(
  db: Database, w: Claimed, head: HeadRow, attempt: number, result: { status: number | null; error: string }, opts: DeliverOptions,
): Promise<boolean> {
  const delay = backoffDelay(attempt, opts.retry);
  const failed = await db.query<{ state: string; next_attempt_at: Date }>(
    `UPDATE webhook_deliveries SET attempts = attempts + 1, last_attempt_at = now(), last_status = $4, last_error = $5,
            state = CASE WHEN now() - created_at >= $6 * interval '1 millisecond' THEN 'dead' ELSE 'pending' END,
            dead_at = CASE WHEN now() - created_at >= $6 * interval '1 millisecond' THEN now() END,
            next_attempt_at = now() + $7 * interval '1 millisecond'
      WHERE ctid = $8::tid AND tenant_id = $1 AND webhook_id = $2 AND event_id = $3 AND state NOT IN ('delivered', 'dead')
      RETURNING state, next_attempt_at`,
    [w.tenant_id, w.id, head.id, result.status, result.error.slice(0, 500), opts.retry.windowMs, delay, head.row],
  );
  const f = failed.rows[0];
  if (f?.state === 'dead') {
    opts.log.warn({ tenantId: w.tenant_id, webhookId: w.id, eventId: head.id, attempts: attempt }, 'webhook delivery dead-lettered');
    return true;
  }
  if (f) {
    await db.query('UPDATE webhooks SET blocked_until = $3 WHERE tenant_id = $1 AND id = $2', [w.tenant_id, w.id, f.next_attempt_at]);
    opts.log.debug({ tenantId: w.tenant_id, webhookId: w.id, eventId: head.id, attempt, delay, error: result.error }, 'webhook delivery failed; retry scheduled');
  }
  return false;
}

type PostResult = { ok: true; status: number } | { ok: false; status: number | null; error: string };

/**
 * Why a delivery failed, as stored in `last_error` and shown to the tenant: the status code and a
 * fixed reason, never the receiver's answer (which would turn webhooks into a way of reading
 * internal services) nor a network message naming addresses.
 */
export function failureReason(err: unknown): string {
  if (isTargetNotAllowed(err)) return TARGET_NOT_ALLOWED;
  const e = err as { name?: string; code?: string; cause?: { code?: string; name?: string } };
  const code = e.cause?.code ?? e.code ?? '';
  if (e.name === 'TimeoutError' || e.name === 'AbortError' || e.cause?.name === 'TimeoutError' || /TIMEOUT/.test(code)) return 'timed out';
  return /^E[A-Z_]+$/.test(code) ? `connection failed (${code})` : 'connection failed';
}

async function post(agent: Dispatcher, url: string, secret: readonly string[], body: string, ev: EventRow, attempt: number, timeoutMs: number): Promise<PostResult> {
  try {
    const res = await request(url, {
      method: 'POST',
      dispatcher: agent,
      body,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'idpbridge-webhooks/1',
        [SIGNATURE_HEADER]: signPayload(secret, body),
        'idpbridge-event-id': ev.id,
        'idpbridge-event-type': ev.type,
        'idpbridge-delivery-attempt': String(attempt),
      },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
    // The answer is read and dropped (bounded): only its status matters.
    await res.body.dump({ limit: 64 * 1024 }).catch(() => {});
    if (res.statusCode >= 200 && res.statusCode < 300) return { ok: true, status: res.statusCode };
    return { ok: false, status: res.statusCode, error: `HTTP ${res.statusCode}` };
  } catch (err) {
    return { ok: false, status: null, error: failureReason(err) };
  }
}
