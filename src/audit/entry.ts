import { createHash, randomUUID } from 'node:crypto';

/** Who did it (docs/audit.md, "Actors"). */
export type ActorKind = 'operator' | 'console-account' | 'setup-link' | 'api-caller' | 'anonymous';
export interface AuditActor {
  kind: ActorKind;
  /** Console account id or set-up link id; null for the operator token and anonymous callers. */
  id: string | null;
  /** Console account login, or the login a refused sign-in gave. */
  login: string | null;
}

export type AuditOutcome = 'success' | 'refused';

/** One change of one field: before/after values, or only that it changed (secrets). */
export type FieldChange = { before?: unknown; after?: unknown } | { changed: true };

export interface AuditEntryInput {
  tenantId: string | null;
  action: string;
  outcome: AuditOutcome;
  actor: AuditActor;
  target: { type: string; id: string | null } | null;
  changes: Record<string, FieldChange>;
  clientIp: string | null;
  userAgent: string | null;
  requestId: string | null;
}

/** A stored entry: the input plus its place in its chain. */
export interface AuditEntry extends AuditEntryInput {
  id: string;
  chain: string;
  seq: number;
  at: Date;
  prevHash: string;
  hash: string;
}

export const GENESIS_HASH = '0'.repeat(64);
export const OPERATOR_CHAIN = 'operator';

/** Each tenant's entries form one chain (kept after the tenant is deleted); operator-wide ones another. */
export const chainOf = (tenantId: string | null): string => (tenantId ? `tenant:${tenantId.toLowerCase()}` : OPERATOR_CHAIN);

/** JSON with object keys sorted at every level: the same entry always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const o = value as Record<string, unknown>;
  return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
}

/** What the hash covers: every stored field except the database's own row id and the hash itself. */
export function hashedFields(e: Omit<AuditEntry, 'id' | 'hash'>): Record<string, unknown> {
  return {
    chain: e.chain, seq: e.seq, tenantId: e.tenantId ? e.tenantId.toLowerCase() : null, at: e.at.toISOString(),
    actor: e.actor, action: e.action, outcome: e.outcome, target: e.target, changes: e.changes,
    clientIp: e.clientIp, userAgent: e.userAgent, requestId: e.requestId, prevHash: e.prevHash,
  };
}

export const entryHash = (e: Omit<AuditEntry, 'id' | 'hash'>): string =>
  createHash('sha256').update(canonicalJson(hashedFields(e))).digest('hex');

const MAX_TEXT = 2000;
const MAYBE_UNSTORABLE = /[\u0000\uD800-\uDFFF]/;

/**
 * Values as they are stored: strings without NUL or unpaired surrogates (jsonb refuses them) and at most 2000 characters,
 * so a huge request body cannot swell the log; the hash covers this stored form.
 */
export function storable(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') {
    // jsonb refuses NUL and unpaired surrogates (both arrive in JSON bodies as \u escapes); the
    // replacement's lookarounds run only on the rare string that has a NUL or a surrogate at all.
    const clean = !MAYBE_UNSTORABLE.test(value) ? value : value.replace(/\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
    return clean.length > MAX_TEXT ? `${clean.slice(0, MAX_TEXT)}…` : clean;
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (value === null || typeof value !== 'object') return typeof value === 'number' && !Number.isFinite(value) ? null : value ?? null;
  if (depth > 6) return '[nested too deep]';
  if (Array.isArray(value)) return value.slice(0, 200).map((v) => storable(v, depth + 1));
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).slice(0, 200).map(([k, v]) => [storable(k) as string, storable(v, depth + 1)]));
}

export const newEventId = (): string => randomUUID();
