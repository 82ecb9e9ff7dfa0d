import { Agent, request } from 'undici';
import type { Database } from '../db/types.js';
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
  isStopping: () => boolean;
  log: { warn(obj: object, msg: string): void; debug(obj: object, msg: string): void };
}

const ROUND_BUDGET_MS = 2_000;

interface Claimed {
  tenant_id: string;
  id: string;
}

interface HeadRow extends EventRow {
  attempts: number;
}

/**
 * One delivery round: claims up to `concurrency` webhooks that have due deliveries (a lease
 * taken with FOR UPDATE SKIP LOCKED: one worker per webhook queue at a time, across processes),
 * delivers each queue in event order, gives the leases back. A worker that dies keeps its lease
 * until it expires; the next one then resends the in-flight delivery (at-least-once).
 */
export async function deliverRound(db: Database, agent: Agent, opts: DeliverOptions): Promise<number> {
  const { rows } = await db.query<Claimed>(
    `UPDATE webhooks w SET lease_owner = $1, lease_until = now() + $2 * interval '1 millisecond'
       FROM (SELECT c.tenant_id, c.id FROM webhooks c
              WHERE c.enabled AND (c.lease_until IS NULL OR c.lease_until < now())
                AND (c.blocked_until IS NULL OR c.blocked_until <= now())
                AND EXISTS (SELECT 1 FROM webhook_deliveries d
                             WHERE d.tenant_id = c.tenant_id AND d.webhook_id = c.id AND d.state = 'pending')
              ORDER BY c.lease_until NULLS FIRST
              LIMIT $3 FOR UPDATE OF c SKIP LOCKED) claimed
      WHERE w.tenant_id = claimed.tenant_id AND w.id = claimed.id
      RETURNING w.tenant_id, w.id`,
    [opts.owner, opts.leaseMs, opts.concurrency],
  );
  const results = await Promise.allSettled(rows.map((w) => serveQueue(db, agent, w, opts)));
  let n = 0;
  for (const r of results) {
    if (r.status === 'fulfilled') n += r.value;
    else opts.log.warn({ err: r.reason }, 'webhook queue round failed; its lease expires');
  }
  return n;
}

async function serveQueue(db: Database, agent: Agent, w: Claimed, opts: DeliverOptions): Promise<number> {
  let done = 0;
  const started = Date.now();
  try {
    // Bounded by count and time, so one slow receiver never holds up dispatch and the others.
    while (done < opts.batch && Date.now() - started < ROUND_BUDGET_MS && !opts.isStopping()) {
      // Renew the lease (and re-read url/secret: they may have been changed meanwhile).
      const lease = await db.query<{ url: string; secret: string; enabled: boolean }>(
        `UPDATE webhooks SET lease_until = now() + $4 * interval '1 millisecond'
          WHERE tenant_id = $1 AND id = $2 AND lease_owner = $3 RETURNING url, secret, enabled`,
        [w.tenant_id, w.id, opts.owner, opts.leaseMs],
      );
      const hook = lease.rows[0];
      if (!hook || !hook.enabled) break;
      const { rows } = await db.query<HeadRow>(
        `SELECT e.tenant_id, e.id, e.seq, e.type, e.data, e.occurred_at, d.attempts
           FROM webhook_deliveries d JOIN events e ON e.tenant_id = d.tenant_id AND e.id = d.event_id
          WHERE d.tenant_id = $1 AND d.webhook_id = $2 AND d.state = 'pending' AND e.tenant_id = $1
          ORDER BY d.event_seq LIMIT 1`,
        [w.tenant_id, w.id],
      );
      const head = rows[0];
      if (!head) break;
      const attempt = head.attempts + 1;
      const result = await post(agent, hook.url, hook.secret, JSON.stringify(toEnvelope(head)), head, attempt, opts.timeoutMs);
      if (result.ok) {
        await db.query(
          `UPDATE webhook_deliveries SET state = 'delivered', attempts = attempts + 1, last_attempt_at = now(), last_status = $4,
                  last_error = NULL, delivered_at = now()
            WHERE tenant_id = $1 AND webhook_id = $2 AND event_id = $3 AND state = 'pending'`,
          [w.tenant_id, w.id, head.id, result.status],
        );
        done++;
        continue;
      }
      const delay = backoffDelay(attempt, opts.retry);
      const failed = await db.query<{ state: string; next_attempt_at: Date }>(
        `UPDATE webhook_deliveries SET attempts = attempts + 1, last_attempt_at = now(), last_status = $4, last_error = $5,
                state = CASE WHEN now() - created_at >= $6 * interval '1 millisecond' THEN 'dead' ELSE 'pending' END,
                dead_at = CASE WHEN now() - created_at >= $6 * interval '1 millisecond' THEN now() END,
                next_attempt_at = now() + $7 * interval '1 millisecond'
          WHERE tenant_id = $1 AND webhook_id = $2 AND event_id = $3 AND state = 'pending'
          RETURNING state, next_attempt_at`,
        [w.tenant_id, w.id, head.id, result.status, result.error.slice(0, 500), opts.retry.windowMs, delay],
      );
      const f = failed.rows[0];
      if (f?.state === 'dead') {
        opts.log.warn({ tenantId: w.tenant_id, webhookId: w.id, eventId: head.id, attempts: attempt }, 'webhook delivery dead-lettered');
        continue; // the next event is not held back forever
      }
      if (f) {
        await db.query('UPDATE webhooks SET blocked_until = $3 WHERE tenant_id = $1 AND id = $2', [w.tenant_id, w.id, f.next_attempt_at]);
        opts.log.debug({ tenantId: w.tenant_id, webhookId: w.id, eventId: head.id, attempt, delay, error: result.error }, 'webhook delivery failed; retry scheduled');
      }
      break;
    }
  } finally {
    await db
      .query(`UPDATE webhooks SET lease_owner = NULL, lease_until = now() WHERE tenant_id = $1 AND id = $2 AND lease_owner = $3`, [w.tenant_id, w.id, opts.owner])
      .catch(() => {}); // the lease expires by itself
  }
  return done;
}

type PostResult = { ok: true; status: number } | { ok: false; status: number | null; error: string };

async function post(agent: Agent, url: string, secret: string, body: string, ev: EventRow, attempt: number, timeoutMs: number): Promise<PostResult> {
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
    const text = await res.body.text().catch(() => '');
    if (res.statusCode >= 200 && res.statusCode < 300) return { ok: true, status: res.statusCode };
    return { ok: false, status: res.statusCode, error: `HTTP ${res.statusCode}${text ? `: ${text.slice(0, 200)}` : ''}` };
  } catch (err) {
    const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
    const code = e.cause?.code ?? e.code;
    return { ok: false, status: null, error: [code, e.cause?.message ?? e.message].filter(Boolean).join(': ') || 'request failed' };
  }
}
