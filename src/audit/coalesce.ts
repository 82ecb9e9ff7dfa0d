/**
 * Coalescing of refusal entries: at most one entry per key (client address, action, tenant …)
 * per window. The first refusal of a window is written at once and stands for itself plus the
 * refusals of its key counted since that key's previous entry; later ones in the window are only
 * counted. Counts still pending are handed back for a flush entry when the key is evicted (the map
 * is bounded) or the process closes. Pure: it says what to write, the caller writes it.
 */
export interface Pending<T> {
  /** The last refusal counted, standing for all of them. */
  item: T;
  count: number;
}

export interface Admission<T> {
  /** Write this refusal now, standing for `count` refusals (itself included); undefined: only counted. */
  count?: number;
  /** Keys evicted to keep the map bounded, whose counted refusals still need an entry. */
  flush: Pending<T>[];
}

interface Slot<T> {
  windowStart: number;
  pending: number;
  last?: T;
}

export class RefusalCoalescer<T> {
  private readonly slots = new Map<string, Slot<T>>();

  constructor(private readonly windowMs = 60_000, private readonly maxKeys = 10_000) {}

  admit(key: string, item: T, now = Date.now()): Admission<T> {
    const slot = this.slots.get(key);
    if (slot && now - slot.windowStart < this.windowMs) {
      slot.pending += 1;
      slot.last = item;
      return { flush: [] };
    }
    const count = 1 + (slot?.pending ?? 0);
    // Re-inserted, so the map's order is by window start: the oldest are evicted first.
    this.slots.delete(key);
    const flush: Pending<T>[] = [];
    while (this.slots.size >= this.maxKeys) {
      const [oldest, s] = this.slots.entries().next().value as [string, Slot<T>];
      this.slots.delete(oldest);
      if (s.pending > 0 && s.last !== undefined) flush.push({ item: s.last, count: s.pending });
    }
    this.slots.set(key, { windowStart: now, pending: 0 });
    return { count, flush };
  }

  /** Every count not yet written (at close); the map is emptied. */
  drain(): Pending<T>[] {
    const out: Pending<T>[] = [];
    for (const s of this.slots.values()) if (s.pending > 0 && s.last !== undefined) out.push({ item: s.last, count: s.pending });
    this.slots.clear();
    return out;
  }

  get size(): number {
    return this.slots.size;
  }
}
