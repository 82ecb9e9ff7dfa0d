import { randomUUID } from 'node:crypto';
import type { Queryable } from '../db/types.js';
import { canonicalJson, chainOf, GENESIS_HASH, hashedFields, newEventId, storable, type AuditEntry, type AuditEntryInput } from './entry.js';

/** The outbox event type of every audit entry (docs/webhooks.md): webhooks filter it as `audit.*`. */
export const AUDIT_EVENT_TYPE = 'audit.recorded';

/**
 * The entry's canonical JSON (what its hash covers, src/audit/entry.ts) cut where its chain
 * position goes: `pre` + previous hash + `mid` + seq + `post`. The database fills both in while it
 * advances the chain head, so one statement appends.
 */
function hashTemplate(entry: Omit<AuditEntry, 'id' | 'hash' | 'seq' | 'prevHash'>): { pre: string; mid: string; post: string } {
  const p = randomUUID().replace(/-/g, '');
  const q = randomUUID().replace(/-/g, '');
  const text = canonicalJson(hashedFields({ ...entry, seq: q as unknown as number, prevHash: p }));
  const [pre, rest] = text.split(p) as [string, string];
  const [mid, post] = rest.split(`"${q}"`) as [string, string];
  return { pre, mid, post };
}

interface AppendRow { id: string | number; seq: string | number; hash: string; prev_hash: string }

// The head row is locked (FOR UPDATE, re-read at its newest version after a wait) and advanced by
// the UPDATE, which still sees the old values through `old`: the entry's prev_hash.
const APPEND_SQL = `WITH old AS (
    SELECT seq, hash FROM audit_chains WHERE chain = $1 FOR UPDATE
  ), h AS (
    UPDATE audit_chains c
       SET seq = old.seq + 1,
           hash = encode(sha256(convert_to($2 || old.hash || $3 || (old.seq + 1)::text || $4, 'UTF8')), 'hex')
      FROM old
     WHERE c.chain = $1
    RETURNING c.seq, c.hash, old.hash AS prev_hash
  ), e AS (
    INSERT INTO audit_log (chain, seq, tenant_id, at, actor_kind, actor_id, actor_login, action, outcome, target_type, target_id,
                           changes, client_ip, user_agent, request_id, prev_hash, hash)
    SELECT $1, h.seq, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, h.prev_hash, h.hash FROM h
    RETURNING id, seq, hash, prev_hash
  ), ev AS (
    INSERT INTO events (tenant_id, id, type, data)
    SELECT w.tenant_id, $18, $19, $20::jsonb || jsonb_build_object('chainSeq', h.seq, 'hash', h.hash) FROM h,
           (SELECT tenant_id FROM webhooks
             WHERE $5::uuid IS NOT NULL AND tenant_id = $5::uuid AND enabled
               AND ('audit.*' = ANY (event_types) OR 'audit.recorded' = ANY (event_types))
             LIMIT 1) w
  )
  SELECT id, seq, hash, prev_hash FROM e`;

/**
 * Appends one entry to its chain through `q`, the transaction of the change it records (it commits
 * or rolls back with it), in one statement: advancing the chain head locks its row until the
 * transaction ends, so concurrent writers of one chain serialise and each links to the hash of the
 * one before; the new hash is computed there (sha256 over the template with the head's hash and
 * seq), the entry stored, and, when an enabled webhook of the
 * tenant subscribes to `audit.*` or `audit.recorded` (catch-all filters do not include audit
 * events), the `audit.recorded` outbox event queued (the row `emitEvent` writes).
 */
export async function recordAudit(q: Queryable, input: AuditEntryInput): Promise<AuditEntry> {
  const chain = chainOf(input.tenantId);
  const entry: Omit<AuditEntry, 'id' | 'hash' | 'seq' | 'prevHash'> = {
    ...input,
    tenantId: input.tenantId ? input.tenantId.toLowerCase() : null,
    // Exactly these keys: the verifier rebuilds them from the columns.
    actor: { kind: input.actor.kind, id: input.actor.id ?? null, login: input.actor.login === null ? null : (storable(input.actor.login) as string) },
    target: input.target ? { type: input.target.type, id: input.target.id === null ? null : (storable(input.target.id) as string) } : null,
    changes: storable(input.changes) as AuditEntry['changes'],
    userAgent: input.userAgent === null ? null : (storable(input.userAgent) as string),
    chain,
    at: new Date(),
  };
  const t = hashTemplate(entry);
  const event = {
    action: entry.action, outcome: entry.outcome, actor: entry.actor, target: entry.target, changes: entry.changes,
    at: entry.at.toISOString(), clientIp: entry.clientIp, requestId: entry.requestId,
  };
  const params = [
    chain, t.pre, t.mid, t.post,
    entry.tenantId, entry.at, entry.actor.kind, entry.actor.id, entry.actor.login, entry.action, entry.outcome,
    entry.target?.type ?? null, entry.target?.id ?? null, JSON.stringify(entry.changes), entry.clientIp, entry.userAgent,
    entry.requestId, newEventId(), AUDIT_EVENT_TYPE, JSON.stringify(event),
  ];
  let { rows } = await q.query<AppendRow>(APPEND_SQL, params);
  if (rows.length === 0) {
    // A new chain: its head starts at seq 0 with the genesis hash (once per tenant), then the append runs again.
    await q.query('INSERT INTO audit_chains (chain, seq, hash) VALUES ($1, 0, $2) ON CONFLICT (chain) DO NOTHING', [chain, GENESIS_HASH]);
    ({ rows } = await q.query<AppendRow>(APPEND_SQL, params));
  }
  const r = rows[0]!;
  return { ...entry, id: String(r.id), seq: Number(r.seq), hash: r.hash, prevHash: r.prev_hash };
}
