/** Event types recorded in the outbox (and delivered to webhooks). */
export const EVENT_TYPES = [
  'user.created',
  'user.updated',
  'user.suspended',
  'user.reactivated',
  'user.deleted',
  'identity.adopted',
  'group.created',
  'group.renamed',
  'group.deleted',
  'group.members_added',
  'group.members_removed',
  'access.granted',
  'access.revoked',
  // An audit entry of the tenant (src/audit/record.ts writes it with the entry; docs/audit.md).
  'audit.recorded',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

const KNOWN = new Set<string>(EVENT_TYPES);
const PREFIXES = new Set(EVENT_TYPES.map((t) => t.split('.')[0]!));

/** A webhook event filter item: an exact type, `prefix.*` (e.g. `user.*`) or `*`. */
export function isValidEventFilter(s: string): boolean {
  if (s === '*' || KNOWN.has(s)) return true;
  const m = /^([a-z]+)\.\*$/.exec(s);
  return !!m && PREFIXES.has(m[1]!);
}

/** Whether an event type passes a webhook filter (empty = every event). Same rule as the SQL in dispatch.ts. */
export function matchesFilter(type: string, filter: readonly string[]): boolean {
  // Audit entries go only to webhooks that name them (`audit.*`, `audit.recorded`), not to catch-alls.
  const catchAll = filter.length === 0 || filter.includes('*');
  if (catchAll && !type.startsWith('audit.')) return true;
  return filter.includes(type) || filter.includes(`${type.split('.')[0]}.*`);
}

/** What a webhook receives (the JSON body), and what `GET …/events` lists. */
export interface EventEnvelope {
  /** Event id: stable across retries and redeliveries; de-duplicate on it. */
  id: string;
  type: string;
  tenantId: string;
  /** Per-tenant increasing position (gaps possible). */
  sequence: number;
  occurredAt: string;
  data: Record<string, unknown>;
}
