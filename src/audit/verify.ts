import type { Queryable } from '../db/types.js';
import { chainOf, entryHash } from './entry.js';
import { AUDIT_COLUMNS, rowToEntry, type AuditRow } from './store.js';

export interface ChainReport {
  chain: string;
  entries: number;
  /** The first broken link, if any: the entry (chain position and row id) and what is wrong with it. */
  broken?: { seq: number; id: string; reason: string };
}

const PAGE = 1000;

/**
 * Recomputes one chain from its oldest kept entry (retention removes the oldest ones, so that
 * entry's prev_hash is taken as given) and names the first entry whose hash, link or position is
 * wrong. The chain head must match the newest entry, so a removed newest entry is noticed too.
 */
export async function verifyChain(db: Queryable, chain: string): Promise<ChainReport> {
  // The head first: entries appended after it (by writers running now) are not looked at, and every
  // entry up to it has committed (an entry and its head move commit together).
  const head = await db.query<{ seq: string | number; hash: string }>('SELECT seq, hash FROM audit_chains WHERE chain = $1', [chain]);
  const h = head.rows[0];
  const upTo = h ? Number(h.seq) : 0;
  let prev: { seq: number; hash: string } | undefined;
  let entries = 0;
  let after = 0;
  for (;;) {
    const { rows } = await db.query<AuditRow>(
      `SELECT ${AUDIT_COLUMNS} FROM audit_log WHERE chain = $1 AND seq > $2 AND seq <= $3 ORDER BY seq LIMIT ${PAGE}`, [chain, after, upTo],
    );
    for (const r of rows) {
      const e = rowToEntry(r);
      entries++;
      const broken = (reason: string): ChainReport => ({ chain, entries, broken: { seq: e.seq, id: e.id, reason } });
      if (e.chain !== chainOf(e.tenantId)) return broken(`its tenant (${e.tenantId ?? 'none'}) does not belong to this chain`);
      if (prev && e.seq !== prev.seq + 1) return broken(`entries ${prev.seq + 1}…${e.seq - 1} are missing`);
      if (prev && e.prevHash !== prev.hash) return broken('its prev_hash is not the hash of the entry before it');
      if (entryHash(e) !== e.hash) return broken('its content does not match its hash (the entry was changed)');
      prev = { seq: e.seq, hash: e.hash };
    }
    if (rows.length < PAGE) break;
    after = prev!.seq;
  }
  if (h && prev && (Number(h.seq) !== prev.seq || h.hash !== prev.hash)) {
    return { chain, entries, broken: { seq: prev.seq + 1, id: '-', reason: `the chain head is at entry ${Number(h.seq)} but the newest stored entry is ${prev.seq} (newer entries were removed)` } };
  }
  return { chain, entries };
}

/** Every chain (or one tenant's), each verified. */
export async function verifyChains(db: Queryable, tenantId?: string): Promise<ChainReport[]> {
  const chains = tenantId
    ? [chainOf(tenantId)]
    : (await db.query<{ chain: string }>('SELECT chain FROM audit_chains ORDER BY chain')).rows.map((r) => r.chain);
  const out: ChainReport[] = [];
  for (const c of chains) out.push(await verifyChain(db, c));
  return out;
}
