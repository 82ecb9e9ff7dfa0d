/**
 * What a list remembers between pages, in this process: where each served page ended (so the
 * next `startIndex` page seeks past that row instead of an OFFSET over everything before it) and
 * the total of a filtered list (so each page of a filtered walk does not count the tenant again).
 *
 * Every entry carries the tenant's list version it was taken at (scim_resource_counts: `moves` for
 * an unfiltered list, whose positions change only when resources are created or deleted; `changes`
 * for a filtered one, whose membership any update may change). An entry is used only when the
 * version read in the same statement as the page is still the same, so a remembered position is
 * exactly the OFFSET it replaces. Bounded: the oldest entries go first.
 */
const MAX_ENTRIES = 10_000;

export interface Position {
  version: number;
  /** created_at (PostgreSQL text form) and id of the last row before the page. */
  at: string;
  id: string;
}

class Lru<V> {
  private readonly map = new Map<string, V>();
  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }
  set(key: string, v: V): void {
    this.map.delete(key);
    this.map.set(key, v);
    if (this.map.size > MAX_ENTRIES) this.map.delete(this.map.keys().next().value!);
  }
}

const positions = new Lru<Position>();
/** Pages served by a seek from a remembered position (tests and diagnostics). */
export const seekStats = { seeks: 0 };
const totals = new Lru<{ version: number; total: number }>();

/** `shape` names the tenant, resource type, filter and order; `startIndex` the page's first item. */
export function rememberedPosition(shape: string, startIndex: number): Position | undefined {
  return positions.get(`${shape}\0${startIndex}`);
}

export function rememberPosition(shape: string, startIndex: number, p: Position): void {
  positions.set(`${shape}\0${startIndex}`, p);
}

export function rememberedTotal(shape: string, version: number): number | undefined {
  const t = totals.get(shape);
  return t && t.version === version ? t.total : undefined;
}

/** Whether a total of this list is remembered at all (at any version). */
export function rememberedAnyTotal(shape: string): boolean {
  return totals.get(shape) !== undefined;
}

export function rememberTotal(shape: string, version: number, total: number): void {
  totals.set(shape, { version, total });
}
