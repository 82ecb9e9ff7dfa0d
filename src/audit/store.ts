import type { Queryable } from '../db/types.js';
import type { ActorKind, AuditEntry, AuditOutcome, FieldChange } from './entry.js';

export interface AuditRow {
  id: string | number;
  chain: string;
  seq: string | number;
  tenant_id: string | null;
  at: Date | string;
  actor_kind: string;
  actor_id: string | null;
  actor_login: string | null;
  action: string;
  outcome: string;
  target_type: string | null;
  target_id: string | null;
  changes: Record<string, FieldChange> | string;
  client_ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  prev_hash: string;
  hash: string;
}

export const AUDIT_COLUMNS = `id, chain, seq, tenant_id, at, actor_kind, actor_id, actor_login, action, outcome, target_type,
  target_id, changes, client_ip, user_agent, request_id, prev_hash, hash`;

export function rowToEntry(r: AuditRow): AuditEntry {
  return {
    id: String(r.id),
    chain: r.chain,
    seq: Number(r.seq),
    tenantId: r.tenant_id,
    at: new Date(r.at),
    actor: { kind: r.actor_kind as ActorKind, id: r.actor_id, login: r.actor_login },
    action: r.action,
    outcome: r.outcome as AuditOutcome,
    target: r.target_type === null ? null : { type: r.target_type, id: r.target_id },
    changes: typeof r.changes === 'string' ? JSON.parse(r.changes) : r.changes,
    clientIp: r.client_ip,
    userAgent: r.user_agent,
    requestId: r.request_id,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

/** The wire form of an entry (admin API, JSON Lines export, the console). */
export function entryView(e: AuditEntry) {
  return {
    id: e.id, tenantId: e.tenantId, sequence: e.seq, at: e.at.toISOString(), actor: e.actor, action: e.action, outcome: e.outcome,
    target: e.target, changes: e.changes, clientIp: e.clientIp, userAgent: e.userAgent, requestId: e.requestId,
    prevHash: e.prevHash, hash: e.hash,
  };
}
export type AuditEntryView = ReturnType<typeof entryView>;

export interface AuditFilter {
  /** A tenant's entries; undefined = every chain (operator-wide); null = operator-wide entries only. */
  tenantId?: string | null;
  actorKind?: string;
  /** Matches the actor's id or login. */
  actor?: string;
  /** Exact action, or a prefix ending in `.*` (e.g. `scim_token.*`). */
  action?: string;
  targetType?: string;
  targetId?: string;
  from?: Date;
  to?: Date;
  outcome?: string;
  /** Entries with a smaller id than this (the cursor of the previous page). */
  before?: string;
}

/** Newest first, `limit` at most; the next page starts before the last id returned. */
export async function listAudit(db: Queryable, f: AuditFilter, limit: number): Promise<AuditEntry[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: (n: string) => string, v: unknown) => {
    params.push(v);
    where.push(sql(`$${params.length}`));
  };
  if (f.tenantId === null) where.push('tenant_id IS NULL');
  else if (f.tenantId !== undefined) add((n) => `tenant_id = ${n}::uuid`, f.tenantId);
  if (f.actorKind) add((n) => `actor_kind = ${n}`, f.actorKind);
  if (f.actor) add((n) => `(actor_id = ${n} OR lower(actor_login) = lower(${n}))`, f.actor);
  if (f.action) {
    if (f.action.endsWith('.*')) add((n) => `starts_with(action, ${n})`, f.action.slice(0, -1));
    else add((n) => `action = ${n}`, f.action);
  }
  if (f.targetType) add((n) => `target_type = ${n}`, f.targetType);
  if (f.targetId) add((n) => `target_id = ${n}`, f.targetId);
  if (f.outcome) add((n) => `outcome = ${n}`, f.outcome);
  if (f.from) add((n) => `at >= ${n}`, f.from);
  if (f.to) add((n) => `at < ${n}`, f.to);
  if (f.before) add((n) => `id < ${n}::bigint`, f.before);
  params.push(limit);
  const { rows } = await db.query<AuditRow>(
    `SELECT ${AUDIT_COLUMNS} FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT $${params.length}`,
    params,
  );
  return rows.map(rowToEntry);
}

/** CSV columns of the export (one line per entry; nested values as JSON). */
export const CSV_COLUMNS = ['id', 'tenantId', 'sequence', 'at', 'actorKind', 'actorId', 'actorLogin', 'action', 'outcome', 'targetType', 'targetId', 'changes', 'clientIp', 'userAgent', 'requestId', 'prevHash', 'hash'] as const;

const csvCell = (v: unknown): string => {
  const s = v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  // A leading = + - @ would be a formula in a spreadsheet: prefixed with a quote (OWASP CSV injection).
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
};

export function csvLine(e: AuditEntry): string {
  return [e.id, e.tenantId, e.seq, e.at.toISOString(), e.actor.kind, e.actor.id, e.actor.login, e.action, e.outcome,
    e.target?.type ?? null, e.target?.id ?? null, e.changes, e.clientIp, e.userAgent, e.requestId, e.prevHash, e.hash]
    .map(csvCell).join(',') + '\r\n';
}
