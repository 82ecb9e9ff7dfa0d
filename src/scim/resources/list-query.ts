import type { FilterNode } from '../filter/ast.js';
import { parseFilter } from '../filter/parse.js';
import { parseAttributeList } from '../schema/project.js';
import { InvalidCursorError, InvalidValueError, InvalidSyntaxError } from '../errors.js';

/** A list/search request (RFC 7644 §3.4.2 query parameters or §3.4.3 SearchRequest body). */
export interface ListQuery {
  filter: FilterNode | undefined;
  startIndex: number;
  /** RFC 9865: present (possibly empty, the first page) when the client pages by cursor. */
  cursor?: string | undefined;
  count: number;
  sortBy: string | undefined;
  sortOrder: 'ascending' | 'descending';
  attributes: string[];
  excludedAttributes: string[];
}

function toInt(name: string, v: unknown, fallback: number): number {
  if (v === undefined || v === null || v === '') return fallback;
  // A query parameter is a string; a SearchRequest member may be any JSON value (an object's
  // String() can throw, e.g. {"toString": 1}): only a number or a numeric string is an integer.
  if (typeof v !== 'number' && typeof v !== 'string') throw new InvalidValueError(`${name} must be an integer, got a JSON ${Array.isArray(v) ? 'array' : typeof v}`);
  const n = typeof v === 'number' ? v : Number(v.trim());
  if (!Number.isFinite(n) || !Number.isInteger(n)) throw new InvalidValueError(`${name} must be an integer, got "${String(v).slice(0, 40)}"`);
  return n;
}

export function parseListQuery(src: Record<string, unknown>, maxResults: number): ListQuery {
  const filterText = src.filter;
  if (filterText !== undefined && typeof filterText !== 'string') throw new InvalidValueError('filter must be a string');
  // RFC 7644 §3.4.2.4: startIndex < 1 is read as 1; count < 0 as 0; count above the maximum is capped.
  // Past the end is an empty page; capped so that OFFSET stays within bigint.
  const startIndex = Math.min(Number.MAX_SAFE_INTEGER, Math.max(1, toInt('startIndex', src.startIndex, 1)));
  const count = Math.min(maxResults, Math.max(0, toInt('count', src.count, maxResults)));
  const cursor = src.cursor;
  if (cursor !== undefined && typeof cursor !== 'string') throw new InvalidCursorError('cursor must be a string');
  if (cursor !== undefined && src.startIndex !== undefined) throw new InvalidCursorError('startIndex and cursor cannot be combined: page by index or by cursor');
  const sortBy = src.sortBy;
  if (sortBy !== undefined && typeof sortBy !== 'string') throw new InvalidValueError('sortBy must be a string');
  const order = src.sortOrder === undefined ? 'ascending' : typeof src.sortOrder === 'string' ? src.sortOrder.toLowerCase() : undefined;
  if (order !== 'ascending' && order !== 'descending') {
    const got = typeof src.sortOrder === 'string' ? `"${src.sortOrder.slice(0, 40)}"` : `a JSON ${typeof src.sortOrder}`;
    throw new InvalidValueError(`sortOrder must be "ascending" or "descending", got ${got}`);
  }
  const list = (name: string, v: unknown): string[] => {
    if (v === undefined) return [];
    if (typeof v === 'string') return parseAttributeList(v);
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return parseAttributeList(v as string[]);
    throw new InvalidValueError(`${name} must be a string or an array of strings`);
  };
  return {
    filter: filterText && filterText.trim() ? parseFilter(filterText) : undefined,
    startIndex,
    ...(cursor !== undefined ? { cursor: cursor.trim() } : {}),
    count,
    sortBy: sortBy?.trim() || undefined,
    sortOrder: order,
    attributes: list('attributes', src.attributes),
    excludedAttributes: list('excludedAttributes', src.excludedAttributes),
  };
}

/** POST /.search body (RFC 7644 §3.4.3). */
export function parseSearchRequest(body: unknown, maxResults: number): ListQuery {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new InvalidSyntaxError('A SearchRequest body must be a JSON object');
  }
  return parseListQuery(body as Record<string, unknown>, maxResults);
}

/** The fields of a single-resource GET/write that shape the response. */
export function parseProjection(src: Record<string, unknown>): { attributes: string[]; excludedAttributes: string[] } {
  const q = parseListQuery({ attributes: src.attributes, excludedAttributes: src.excludedAttributes }, 1);
  return { attributes: q.attributes, excludedAttributes: q.excludedAttributes };
}
