import { randomUUID } from 'node:crypto';
import type { Queryable } from '../db/types.js';
import type { EventEnvelope, EventType } from './types.js';

export interface PendingEvent {
  type: EventType;
  data: Record<string, unknown>;
}

/**
 * Records one event in the outbox through `tx`, the transaction of the change it describes: it
 * commits or rolls back with that change. One INSERT; fan-out to webhooks happens later, in the
 * worker. Returns the event id (the de-duplication key receivers see).
 */
export async function emitEvent(tx: Queryable, tenantId: string, type: EventType, data: Record<string, unknown>): Promise<string> {
  const id = randomUUID();
  await tx.query('INSERT INTO events (tenant_id, id, type, data) VALUES ($1, $2, $3, $4)', [tenantId, id, type, JSON.stringify(data)]);
  return id;
}

/** Several events in one INSERT, in order (their sequence follows the list). */
export async function emitEvents(tx: Queryable, tenantId: string, events: readonly PendingEvent[]): Promise<string[]> {
  if (events.length === 0) return [];
  if (events.length === 1) return [await emitEvent(tx, tenantId, events[0]!.type, events[0]!.data)];
  const params: unknown[] = [tenantId];
  const ids: string[] = [];
  const values = events.map((e) => {
    const id = randomUUID();
    ids.push(id);
    params.push(id, e.type, JSON.stringify(e.data));
    const n = params.length;
    return `($1, $${n - 2}, $${n - 1}, $${n})`;
  });
  // A multi-row VALUES inserts in list order, so identity values (seq) follow it.
  await tx.query(`INSERT INTO events (tenant_id, id, type, data) VALUES ${values.join(', ')}`, params);
  return ids;
}

export interface EventRow {
  tenant_id: string;
  id: string;
  seq: number | string;
  type: string;
  data: Record<string, unknown>;
  occurred_at: Date;
}

export function toEnvelope(r: EventRow): EventEnvelope {
  return { id: r.id, type: r.type, tenantId: r.tenant_id, sequence: Number(r.seq), occurredAt: new Date(r.occurred_at).toISOString(), data: r.data };
}

/** The tenant's events in sequence order (admin API; pull-based consumers and tests). */
export async function listEvents(
  db: Queryable,
  tenantId: string,
  opts: { afterSequence?: number; limit: number; type?: string },
): Promise<EventEnvelope[]> {
  const params: unknown[] = [tenantId, opts.afterSequence ?? 0, opts.limit];
  let where = 'tenant_id = $1 AND seq > $2';
  if (opts.type) {
    params.push(opts.type);
    where += ` AND type = $${params.length}`;
  }
  const { rows } = await db.query<EventRow>(
    `SELECT tenant_id, id, seq, type, data, occurred_at FROM events WHERE ${where} ORDER BY seq LIMIT $3`,
    params,
  );
  return rows.map(toEnvelope);
}
