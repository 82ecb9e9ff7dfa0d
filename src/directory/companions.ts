import type { CompanionInsert } from './observer.js';

/**
 * Observers' rows as data-modifying CTEs (`c0 AS (INSERT …)`, …) that insert only when the main
 * write (CTE `main`) produced a row; their values are appended to `params`.
 */
export function companionCtes(companions: readonly CompanionInsert[], params: unknown[]): string {
  return companions.map((c, i) => {
    const exprs = c.values.map((v, j) => {
      params.push(v);
      return `$${params.length}::${c.casts[j]}`;
    });
    return `, c${i} AS (INSERT INTO ${c.table} (${c.columns.join(', ')}) SELECT ${exprs.join(', ')} WHERE EXISTS (SELECT 1 FROM main))`;
  }).join('');
}
