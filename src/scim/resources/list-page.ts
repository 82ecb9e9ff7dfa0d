import type { Queryable } from '../../db/types.js';
import type { ResourceSchemas } from '../schema/types.js';
import { compileFilter, compileSort } from '../filter/compile-sql.js';
import type { ListQuery } from './list-query.js';

/**
 * One page of a tenant's resources, filtered and sorted entirely in SQL. The count query is
 * skipped when the page itself proves the total (a first page that is not full) — the common
 * `userName eq` / `displayName eq` probe costs one indexed SELECT.
 */
export async function listPage<Row>(
  db: Queryable,
  opts: {
    table: 'scim_users' | 'scim_groups'; columns: string; rs: ResourceSchemas; tenantId: string; q: ListQuery;
    /** Extra select-list expressions over alias r (e.g. a user's groups), to save a round trip. */
    extra?: string;
  },
): Promise<{ total: number; rows: Row[] }> {
  const { q } = opts;
  const params: unknown[] = [opts.tenantId];
  let where = 'r.tenant_id = $1';
  if (q.filter) where += ` AND (${compileFilter(q.filter, { rs: opts.rs, alias: 'r', params })})`;
  // The count query runs the WHERE alone: it takes only the filter's parameters, not the sort's
  // (an open Metadata attribute's name is a parameter of the ORDER BY).
  const whereParams = [...params];
  const dir = q.sortOrder === 'descending' ? 'DESC' : 'ASC';
  const order = q.sortBy
    ? `${compileSort(q.sortBy, { rs: opts.rs, alias: 'r', params })} ${dir} NULLS LAST, r.id ${dir}`
    : `r.created_at ${dir}, r.id ${dir}`;
  let rows: Row[] = [];
  if (q.count > 0) {
    const pageParams = [...params, q.count, q.startIndex - 1];
    const cols = opts.columns.split(', ').map((c) => `r.${c}`).join(', ') + (opts.extra ? `, ${opts.extra}` : '');
    const res = await db.query<Row>(
      `SELECT ${cols} FROM ${opts.table} r WHERE ${where}
        ORDER BY ${order} LIMIT $${pageParams.length - 1} OFFSET $${pageParams.length}`,
      pageParams,
    );
    rows = res.rows;
  }
  if (q.startIndex === 1 && rows.length < q.count) return { total: rows.length, rows };
  const c = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${opts.table} r WHERE ${where}`, whereParams);
  return { total: c.rows[0]!.n, rows };
}
