import type { Queryable, Transaction } from '../db/types.js';
import { canonicalJson, chainOf, newEventId, storable, type AuditEntry, type AuditEntryInput } from './entry.js';

/** The outbox event type of every audit entry (docs/webhooks.md): webhooks filter it as `audit.*`. */
export const AUDIT_EVENT_TYPE = 'audit.recorded';

const J = JSON.stringify;

/**
 * The entry's canonical JSON (what its hash covers, src/audit/entry.ts) cut where its chain
 * position goes: `pre` + previous hash + `mid` + seq + `post`. The database fills both in while it
 * advances the chain head, so one statement appends. Written field by field in the order
 * `canonicalJson(hashedFields(…))` sorts them (test/audit/append.test.ts holds the two equal), so
 * only `changes`, whose keys are the request's, goes through the generic serializer.
 */
export function hashTemplate(e: Omit<AuditEntry, 'id' | 'hash' | 'seq' | 'prevHash'>): { pre: string; mid: string; post: string } {
  const a = e.actor;
  const t = e.target;
  return {
    pre: `{"action":${J(e.action)},"actor":{"id":${J(a.id ?? null)},"kind":${J(a.kind)},"login":${J(a.login ?? null)}},`
      + `"at":${J(e.at.toISOString())},"chain":${J(e.chain)},"changes":${canonicalJson(e.changes)},"clientIp":${J(e.clientIp ?? null)},`
      + `"outcome":${J(e.outcome)},"prevHash":"`,
    // The previous hash is hex, written as a JSON string; seq a number. "prevHash" sorts before "seq".
    mid: `","requestId":${J(e.requestId ?? null)},"seq":`,
    post: `,"target":${t ? `{"id":${J(t.id ?? null)},"type":${J(t.type)}}` : 'null'},`
      + `"tenantId":${J(e.tenantId ? e.tenantId.toLowerCase() : null)},"userAgent":${J(e.userAgent ?? null)}}`,
  };
}

interface AppendRow { id: string | number; seq: string | number; hash: string; prev_hash: string }

// One call (migration 024, audit_append): the chain head advanced or created, the entry stored,
// the audit.recorded event queued for a subscribed tenant. Its statements' plans are kept for the
// session; the call itself is all that is parsed.
const APPEND_SQL = `SELECT entry_id AS id, entry_seq AS seq, entry_hash AS hash, entry_prev_hash AS prev_hash
  FROM audit_append($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`;

/**
 * Appends one entry to its chain through `q`, the transaction of the change it records (it commits
 * or rolls back with it), in one statement (audit_append, migration 024): advancing the chain head
 * locks its row until the transaction ends, so concurrent writers of one chain serialise and each
 * links to the hash of the one before; the new hash is computed there (sha256 over the template
 * with the head's hash and seq), the entry stored, and, when an enabled webhook of the tenant
 * subscribes to `audit.*` or `audit.recorded` (catch-all filters do not include audit events), the
 * `audit.recorded` outbox event queued (the row `emitEvent` writes): the entry's fields as JSON with
 * its chainSeq and hash.
 *
 * `last`: the append is the transaction's last statement, and where the transaction can
 * (`queryAndCommit`, PostgreSQL) it commits with it in the same round trip; the transaction then
 * takes no further statement. A failed append still rolls the change back.
 */
export async function recordAudit(q: Queryable | Transaction, input: AuditEntryInput, opts: { last?: boolean } = {}): Promise<AuditEntry> {
  const chain = chainOf(input.tenantId);
  const entry: Omit<AuditEntry, 'id' | 'hash' | 'seq' | 'prevHash'> = {
    ...input,
    tenantId: input.tenantId ? input.tenantId.toLowerCase() : null,
    // Exactly these keys: the verifier rebuilds them from the columns.
    actor: { kind: input.actor.kind, id: input.actor.id ?? null, login: input.actor.login === null ? null : (storable(input.actor.login) as string) },
    target: input.target ? { type: input.target.type, id: input.target.id === null ? null : (storable(input.target.id) as string) } : null,
    changes: storable(input.changes) as AuditEntry['changes'],
    userAgent: input.userAgent == null ? null : (storable(input.userAgent) as string),
    clientIp: input.clientIp ?? null,
    requestId: input.requestId ?? null,
    chain,
    at: new Date(),
  };
  const t = hashTemplate(entry);
  const params = [
    chain, t.pre, t.mid, t.post,
    // The time as ISO text: what the hash covers, and cheaper to send than a Date.
    entry.tenantId, entry.at.toISOString(), entry.actor.kind, entry.actor.id, entry.actor.login, entry.action, entry.outcome,
    entry.target?.type ?? null, entry.target?.id ?? null, JSON.stringify(entry.changes), entry.clientIp, entry.userAgent,
    entry.requestId, newEventId(), AUDIT_EVENT_TYPE,
  ];
  const { rows } = opts.last && 'queryAndCommit' in q && q.queryAndCommit
    ? await q.queryAndCommit<AppendRow>(APPEND_SQL, params)
    : await q.query<AppendRow>(APPEND_SQL, params);
  const r = rows[0]!;
  return { ...entry, id: String(r.id), seq: Number(r.seq), hash: r.hash, prevHash: r.prev_hash };
}
