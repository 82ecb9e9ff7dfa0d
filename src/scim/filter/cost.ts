/**
 * Bounds what one filter may ask of the database, before any SQL runs (a filter is read by one
 * tenant's credential but its cost lands on the shared database). Each limit is generous for
 * the filters IdPs send (`userName eq "…"`, `externalId eq "…"`, a member probe, an `or` of a
 * few hundred ids) and refuses what only an attacker writes, e.g. 400 `emails co "…"` terms
 * (each a scan of every user's e-mail addresses). The parser counts as it reads (FilterBudget); the compiler separately caps the EXISTS
 * subqueries (multi-valued attributes) it emits: MAX_FILTER_EXISTS.
 */
import { InvalidFilterError } from '../errors.js';

/** Most attribute expressions (`attr op value`, `attr pr`, inside value paths too) in one filter. */
export const MAX_FILTER_COMPARISONS = 500;
/** Most substring comparisons (`co`, `sw`, `ew`): each can read every row of the tenant. */
export const MAX_FILTER_SUBSTRING_TERMS = 10;
/** Most EXISTS subqueries (comparisons on multi-valued attributes, value paths) one filter compiles to. */
export const MAX_FILTER_EXISTS = 20;

/**
 * Counts a filter's attribute expressions as the parser reads them and throws InvalidFilterError,
 * naming the limit, at the first one over: an oversized filter is refused after reading only as
 * much of it as the limit allows.
 */
export class FilterBudget {
  private comparisons = 0;
  private substrings = 0;

  constructor(private readonly Err: new (detail: string) => Error = InvalidFilterError) {}

  /** One attribute expression: `op` is its comparison operator, or `pr`. */
  count(op: string): void {
    if (++this.comparisons > MAX_FILTER_COMPARISONS) {
      throw new this.Err(`filter has more than ${MAX_FILTER_COMPARISONS} attribute comparisons; at most ${MAX_FILTER_COMPARISONS} are allowed`);
    }
    if ((op === 'co' || op === 'sw' || op === 'ew') && ++this.substrings > MAX_FILTER_SUBSTRING_TERMS) {
      throw new this.Err(`filter has more than ${MAX_FILTER_SUBSTRING_TERMS} substring comparisons (co, sw, ew); at most ${MAX_FILTER_SUBSTRING_TERMS} are allowed`);
    }
  }
}
