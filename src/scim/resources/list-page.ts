import type { Database, Queryable } from '../../db/types.js';
import type { ResourceSchemas } from '../schema/types.js';
import { compileFilter, compileSort, compileUserNameRange } from '../filter/compile-sql.js';
import type { ListQuery } from './list-query.js';
import { rememberPosition, rememberTotal, rememberedAnyTotal, rememberedPosition, rememberedTotal, seekStats } from './list-positions.js';
import { decodeCursor, encodeCursor, type CursorPosition } from './cursor.js';
import { InvalidCursorError } from '../errors.js';

export interface Page<Row> {
  total: number;
  rows: Row[];
  /** RFC 9865, on a cursor request: the next page's cursor, absent on the last page. */
  nextCursor?: string;
  /** RFC 9865, on a cursor request: the previous page's cursor, absent on the first page. */
  previousCursor?: string;
}

/** A page as the services return it: the rows turned into views. */
export type ListedPage<V> = Omit<Page<unknown>, 'rows'> & { views: V[] };

export interface ListSource {
  table: 'scim_users' | 'scim_groups'; columns: string; rs: ResourceSchemas; tenantId: string; q: ListQuery;
  /** Extra select-list expressions over alias r (e.g. a user's groups), to save a round trip. */
  extra?: string;
}

/**
 * One page of a tenant's resources, filtered and sorted entirely in SQL.
 *
 * Order: by `sortBy` when given, else by creation (created_at, then id), ascending unless
 * sortOrder=descending — stable, so a walk sees every resource once. In creation order a page is
 * an index seek however deep it is: a `startIndex` page seeks past the last row of the page served
 * before it (list-positions.ts), a cursor page (RFC 9865) past the row its cursor names.
 *
 * `totalResults` is exact: an unfiltered list reads the tenant's count (scim_resource_counts, kept
 * by triggers) in the same statement as the page; a filtered list counts once per list version,
 * in the same snapshot as the page (or in one whose list version is the page's), and reuses that
 * total while nothing changes, whatever the paging (startIndex, cursor, sortBy). A write between
 * the page read and its count makes the page be read again in the count's snapshot, and so does an
 * empty page past the end. A userName range (sw, gt, ge, lt, le) counts the smaller side of the
 * tenant (countByRange).
 */
export async function listPage<Row>(db: Database, opts: ListSource): Promise<Page<Row>> {
  const { q } = opts;
  if (q.cursor !== undefined) return cursorPage<Row>(db, opts);
  if (q.sortBy) return sortedPage<Row>(db, opts);
  return indexPage<Row>(db, opts);
}

const KIND = { scim_users: 'User', scim_groups: 'Group' } as const;

interface Versions { n: number; moves: number; changes: number }

/** The tenant's count and list versions, as one text column (the same in every driver). */
const countsExpr = (table: ListSource['table']) =>
  `(SELECT coalesce(sum(n), 0) || ',' || coalesce(sum(moves), 0) || ',' || coalesce(sum(changes), 0)
      FROM scim_resource_counts WHERE tenant_id = $1 AND kind = '${KIND[table]}')`;

function parseCounts(s: string): Versions {
  const [n, moves, changes] = s.split(',').map(Number);
  return { n: n!, moves: moves!, changes: changes! };
}

async function readCounts(db: Queryable, opts: ListSource): Promise<Versions> {
  const { rows } = await db.query<{ c: string }>(`SELECT ${countsExpr(opts.table)} AS c`, [opts.tenantId]);
  return parseCounts(rows[0]!.c);
}

/** WHERE for the tenant and filter; its parameters start with the tenant id ($1). */
function whereOf(opts: ListSource): { where: string; params: unknown[] } {
  const params: unknown[] = [opts.tenantId];
  let where = 'r.tenant_id = $1';
  if (opts.q.filter) where += ` AND (${compileFilter(opts.q.filter, { rs: opts.rs, alias: 'r', params })})`;
  return { where, params };
}

const selectList = (opts: ListSource) =>
  opts.columns.split(', ').map((c) => `r.${c}`).join(', ') + (opts.extra ? `, ${opts.extra}` : '');

/**
 * A page's statement: the rows of `from` (`table r WHERE …`) in `order`, with the select list and
 * the keyed columns (`… AS _at`, `… AS _counts`). PostgreSQL computes the select list of every row
 * an OFFSET skips, so the list's extra expression (a user's group ids, an index scan per row) ran
 * for each of them: 1.16 s for the page at startIndex 50,001 of a 100k-user tenant. With an offset
 * and an extra expression the page is therefore read by an inner query (its plan unchanged: the
 * order's index, no SubPlan) and the expression computed over the page's rows only (50 ms there);
 * the outer ORDER BY restates the order (no sort where the inner order is the creation index's).
 * Without an offset the statement stays one level.
 */
function pageStatement(opts: ListSource, from: string, keyed: string, order: string, limit: string, offset: string, skips: boolean): string {
  if (!opts.extra || !skips) return `SELECT ${selectList(opts)}, ${keyed} FROM ${from} ORDER BY ${order} LIMIT ${limit} OFFSET ${offset}`;
  return `SELECT ${selectList(opts)}, r._at, r._counts
    FROM (SELECT r.*, ${keyed} FROM ${from} ORDER BY ${order} LIMIT ${limit} OFFSET ${offset}) r ORDER BY ${order}`;
}

/** The tenant, resource type, filter and order of a list in creation order: what its positions belong to. */
function shapeOf(opts: ListSource): string {
  return `${opts.tenantId}\0${opts.table}\0${opts.q.sortOrder}\0${opts.q.filter ? JSON.stringify(opts.q.filter) : ''}`;
}

type KeyedRow = { id: string; _at: string; _counts: string };

/** Rows in creation order, after (or before) a position when given; with the counts of the same snapshot. */
async function creationOrderRows<Row>(
  db: Queryable, opts: ListSource, page: { limit: number; offset: number; seek?: { at: string; id: string; backwards: boolean } },
): Promise<{ rows: (Row & KeyedRow)[] }> {
  const { where, params } = whereOf(opts);
  const desc = opts.q.sortOrder === 'descending' !== (page.seek?.backwards ?? false);
  const dir = desc ? 'DESC' : 'ASC';
  let seek = '';
  if (page.seek) {
    params.push(page.seek.at, page.seek.id);
    seek = ` AND (r.created_at, r.id) ${desc ? '<' : '>'} ($${params.length - 1}::timestamptz, $${params.length}::uuid)`;
  }
  params.push(page.limit, page.offset);
  return db.query<Row & KeyedRow>(
    pageStatement(opts, `${opts.table} r WHERE ${where}${seek}`, `r.created_at::text AS _at, ${countsExpr(opts.table)} AS _counts`,
      `r.created_at ${dir}, r.id ${dir}`, `$${params.length - 1}`, `$${params.length}`, page.offset > 0),
    params,
  );
}

function strip<Row>(rows: (Row & Partial<KeyedRow>)[]): Row[] {
  return rows.map(({ _at, _counts, ...row }) => row as Row);
}

/**
 * Runs fn in one read-only snapshot, its statements planned for their parameters. The pool plans
 * generically (src/db/postgres.ts), and a generic plan cannot turn `LIKE $n` into an index range:
 * a filtered count would scan the tenant. Counts are rare (once per list version), so planning
 * each one costs less than the scan it saves.
 */
function inSnapshot<T>(db: Database, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.exec('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await tx.exec('SET LOCAL plan_cache_mode = force_custom_plan');
    return fn(tx);
  });
}

/** The filtered list's count and versions, read in one statement (one snapshot). */
async function countFiltered(db: Database, opts: ListSource): Promise<{ total: number; v: Versions }> {
  return (await countByRange(db, opts)) ?? inSnapshot(db, (tx) => countIn(tx, opts));
}

async function countIn(db: Queryable, opts: ListSource): Promise<{ total: number; v: Versions }> {
  const byRange = await countByRange(db, opts);
  if (byRange) return byRange;
  const { where, params } = whereOf(opts);
  const { rows } = await db.query<{ n: number; c: string }>(
    `SELECT count(*)::int AS n, ${countsExpr(opts.table)} AS c FROM ${opts.table} r WHERE ${where}`,
    params,
  );
  return { total: rows[0]!.n, v: parseCounts(rows[0]!.c) };
}

/** How many rows a range count reads on either side before it counts the matches in full. */
const PROBE = 1000;

/**
 * The count of a userName range filter (compileUserNameRange) and the versions, in one statement:
 * its own snapshot, planned generically (the bounds are index ranges in any plan). A range that
 * holds most of the tenant is its count (scim_resource_counts, exact in the same snapshot) minus
 * the rows outside it: `userName sw "user"` over a tenant of 100k such users reads no index entry
 * instead of 100k. Each side is probed first, at most PROBE entries; only when both sides hold
 * more are the matches counted in full. Undefined when the filter is not such a range.
 */
async function countByRange(db: Queryable, opts: ListSource): Promise<{ total: number; v: Versions } | undefined> {
  const params: unknown[] = [opts.tenantId];
  const range = rangeOf(opts, params);
  if (!range) return undefined;
  const probe = (cond: string) => `(SELECT count(*) FROM (SELECT FROM scim_users r WHERE r.tenant_id = $1 AND ${cond} LIMIT ${PROBE}) x)`;
  // CTEs run only when a branch taken reads them: a range with few matches never probes the rest.
  const { rows } = await db.query<{ n: number; c: string }>(
    `WITH counts AS MATERIALIZED (
            SELECT coalesce(sum(n), 0) AS n, coalesce(sum(moves), 0) AS moves, coalesce(sum(changes), 0) AS changes
              FROM scim_resource_counts WHERE tenant_id = $1 AND kind = 'User'),
          inside AS MATERIALIZED (SELECT ${probe(range.inside)} AS n),
          outside AS MATERIALIZED (SELECT ${range.outside.map(probe).join(' + ')} AS n)
     SELECT (CASE WHEN (SELECT n FROM inside) < ${PROBE} THEN (SELECT n FROM inside)
                  WHEN (SELECT n FROM outside) < ${PROBE} THEN (SELECT n FROM counts) - (SELECT n FROM outside)
                  ELSE (SELECT count(*) FROM scim_users r WHERE r.tenant_id = $1 AND ${range.inside}) END)::int AS n,
            (SELECT n || ',' || moves || ',' || changes FROM counts) AS c`,
    params,
  );
  return { total: rows[0]!.n, v: parseCounts(rows[0]!.c) };
}

function rangeOf(opts: ListSource, params: unknown[]) {
  if (opts.table !== 'scim_users' || !opts.q.filter) return undefined;
  return compileUserNameRange(opts.q.filter, { rs: opts.rs, alias: 'r', params });
}

/** startIndex paging in creation order. */
async function indexPage<Row>(db: Database, opts: ListSource): Promise<Page<Row>> {
  const { q } = opts;
  const filtered = q.filter !== undefined;
  const shape = shapeOf(opts);
  const versionOf = (v: Versions) => (filtered ? v.changes : v.moves);
  if (q.count === 0) return { total: await totalAlone(db, opts, shape), rows: [] };

  // A walk over a userName range that has no total yet (its first page): the count (one statement,
  // cheap, its own snapshot) runs beside the page read rather than after it. Other filters count
  // only when the page says a count is needed (a `userName eq` probe never needs one).
  const counting = filtered && !rememberedAnyTotal(shape) && rangeOf(opts, []) ? countByRange(db, opts) : undefined;
  counting?.catch(() => {}); // awaited below, unless the page read fails first
  let rows: (Row & KeyedRow)[] | undefined;
  const known = q.startIndex > 1 ? rememberedPosition(shape, q.startIndex) : undefined;
  if (known) {
    const seeked = (await creationOrderRows<Row>(db, opts, { limit: q.count, offset: 0, seek: { ...known, backwards: false } })).rows;
    // The remembered position holds only if nothing moved since: else the OFFSET below decides.
    if (seeked.length > 0 && versionOf(parseCounts(seeked[0]!._counts)) === known.version) {
      rows = seeked;
      seekStats.seeks++;
    }
  }
  if (!rows) rows = (await creationOrderRows<Row>(db, opts, { limit: q.count, offset: q.startIndex - 1 })).rows;
  if (rows.length === 0) {
    // Nothing from the first row on: none match in the page's snapshot, so the total is 0 without
    // a count (an IdP's `userName eq` probe before each create lands here).
    if (q.startIndex === 1) return { total: 0, rows: [] };
    // Past the end: the total, with the page read again in its snapshot.
    const page = await emptyPageTotal(db, opts, shape, async (tx) => (await creationOrderRows<Row>(tx, opts, { limit: q.count, offset: q.startIndex - 1 })).rows);
    return { total: page.total, rows: strip(page.rows) };
  }
  let v = parseCounts(rows[0]!._counts);
  let total: number;
  if (!filtered) total = v.n;
  else if (q.startIndex === 1 && rows.length < q.count) total = rows.length;
  else {
    const reread = async (tx: Queryable) => (await creationOrderRows<Row>(tx, opts, { limit: q.count, offset: q.startIndex - 1 })).rows;
    ({ rows, total, v } = await filteredPageTotal(db, opts, shape, { rows, v }, reread, counting));
  }
  const last = rows[rows.length - 1];
  if (last && rows.length === q.count) rememberPosition(shape, q.startIndex + rows.length, { version: versionOf(v), at: last._at, id: last.id });
  return { total, rows: strip(rows) };
}

/** The total of a list without its rows (count=0): any one snapshot agrees with an empty page. */
async function totalAlone(db: Database, opts: ListSource, shape: string): Promise<number> {
  if (!opts.q.filter) return (await readCounts(db, opts)).n;
  const c = await countFiltered(db, opts);
  rememberTotal(shape, c.v.changes, c.total);
  return c.total;
}

type CountedRow = { _counts: string };

/**
 * The total of a filtered page whose rows (`seen`) came with the list versions `v`, and the rows
 * that total belongs to. A total remembered at v is the page's; a count in a snapshot of its own
 * holds for the page when its list version is v (nothing written since the page read); otherwise
 * the count and the page are read again in one snapshot (`reread` reads the same page). Every
 * count is remembered at its own version, so the next page of the same list reuses it.
 */
async function filteredPageTotal<R extends CountedRow>(
  db: Database, opts: ListSource, shape: string, seen: { rows: R[]; v: Versions },
  reread: (tx: Queryable) => Promise<R[]>, counting?: Promise<{ total: number; v: Versions } | undefined>,
): Promise<{ rows: R[]; total: number; v: Versions }> {
  const known = rememberedTotal(shape, seen.v.changes);
  if (known !== undefined) return { ...seen, total: known };
  const byRange = await (counting ?? countByRange(db, opts));
  if (byRange) rememberTotal(shape, byRange.v.changes, byRange.total);
  if (byRange && byRange.v.changes === seen.v.changes) return { ...seen, total: byRange.total };
  const out = await inSnapshot(db, async (tx) => {
    const c = await countIn(tx, opts);
    const rows = c.v.changes === seen.v.changes ? seen.rows : await reread(tx);
    return { rows, total: c.total, v: c.v };
  });
  rememberTotal(shape, out.v.changes, out.total);
  return out;
}

/**
 * The total of a page that came back empty (past the end), with the page read again in the same
 * snapshot: a resource created after the first read would otherwise be counted by a total whose
 * page does not show it. Such pages are rare (a walk stops at the total), so the snapshot is cheap.
 */
async function emptyPageTotal<R extends CountedRow>(
  db: Database, opts: ListSource, shape: string, reread: (tx: Queryable) => Promise<R[]>,
): Promise<{ rows: R[]; total: number }> {
  return inSnapshot(db, async (tx) => {
    const rows = await reread(tx);
    const v = rows[0] ? parseCounts(rows[0]._counts) : await readCounts(tx, opts);
    if (!opts.q.filter) return { rows, total: v.n };
    const known = rememberedTotal(shape, v.changes);
    if (known !== undefined) return { rows, total: known };
    const c = await countIn(tx, opts);
    rememberTotal(shape, c.v.changes, c.total);
    return { rows, total: c.total };
  });
}

/** RFC 9865 cursor paging, in creation order. */
async function cursorPage<Row>(db: Database, opts: ListSource): Promise<Page<Row>> {
  const { q } = opts;
  if (q.sortBy) throw new InvalidCursorError('Cursor paging lists resources in creation order (ascending or descending): sortBy cannot be combined with cursor');
  const shape = shapeOf(opts);
  const wire = `${KIND[opts.table]}\0${q.sortOrder}\0${q.filter ? JSON.stringify(q.filter) : ''}`;
  const from: CursorPosition | undefined = q.cursor ? await decodeCursor(db, opts.tenantId, wire, q.cursor) : undefined;
  if (q.count === 0) return { total: await totalAlone(db, opts, shape), rows: [] };
  const backwards = from?.dir === 'p';
  // One row more than the page says whether there is a page beyond it.
  const read = async (x: Queryable) =>
    (await creationOrderRows<Row>(x, opts, { limit: q.count + 1, offset: 0, seek: from && { at: from.at, id: from.id, backwards } })).rows;
  let rows = await read(db);
  let total: number;
  if (!from && rows.length <= q.count) total = rows.length; // the whole list, in the page's snapshot
  else if (rows.length === 0) ({ rows, total } = await emptyPageTotal(db, opts, shape, read));
  else if (!q.filter) total = parseCounts(rows[0]!._counts).n;
  else ({ rows, total } = await filteredPageTotal(db, opts, shape, { rows, v: parseCounts(rows[0]!._counts) }, read));
  const more = rows.length > q.count;
  if (more) rows = rows.slice(0, q.count);
  if (backwards) rows.reverse();
  const first = rows[0];
  const last = rows[rows.length - 1];
  const encode = (dir: 'n' | 'p', r: KeyedRow) => encodeCursor(db, opts.tenantId, wire, { dir, at: r._at, id: r.id });
  const out: Page<Row> = { total, rows: strip(rows) };
  // Forwards: a next page when the extra row came; a previous one unless this is the first page.
  // Backwards: a previous page when the extra row came; the next one is where the client came from.
  if (last && (backwards || more)) out.nextCursor = await encode('n', last);
  if (first && (backwards ? more : from !== undefined)) out.previousCursor = await encode('p', first);
  return out;
}

/** A list sorted by sortBy: OFFSET paging (positions are not remembered for these). */
async function sortedPage<Row>(db: Database, opts: ListSource): Promise<Page<Row>> {
  const { q } = opts;
  const shape = shapeOf(opts);
  if (q.count === 0) return { total: await totalAlone(db, opts, shape), rows: [] };
  const dir = q.sortOrder === 'descending' ? 'DESC' : 'ASC';
  const read = async (x: Queryable) => {
    const { where, params } = whereOf(opts);
    // The sort's parameters (an open Metadata attribute's name) come after the WHERE's.
    const order = `${compileSort(q.sortBy!, { rs: opts.rs, alias: 'r', params })} ${dir} NULLS LAST, r.id ${dir}`;
    params.push(q.count, q.startIndex - 1);
    return (await x.query<Row & CountedRow>(
      pageStatement(opts, `${opts.table} r WHERE ${where}`, `NULL::text AS _at, ${countsExpr(opts.table)} AS _counts`,
        order, `$${params.length - 1}`, `$${params.length}`, q.startIndex > 1),
      params,
    )).rows;
  };
  let rows = await read(db);
  let total: number;
  if (q.startIndex === 1 && rows.length < q.count) total = rows.length;
  else if (rows.length === 0) ({ rows, total } = await emptyPageTotal(db, opts, shape, read));
  else if (!q.filter) total = parseCounts(rows[0]!._counts).n;
  else ({ rows, total } = await filteredPageTotal(db, opts, shape, { rows, v: parseCounts(rows[0]!._counts) }, read));
  return { total, rows: strip(rows) };
}
