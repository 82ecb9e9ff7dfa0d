/**
 * Filter semantics shared by the in-memory evaluator and the SQL compiler, so
 * both resolve paths, type literals and reject operator/type combinations in
 * exactly the same way (the property test holds them to identical results).
 */
import { InvalidFilterError } from '../errors.js';
import { findAttr } from '../schema/common.js';
import { resolveAttribute, type ResolvedAttribute } from '../schema/registry.js';
import type { AttributeDef, ResourceSchemas } from '../schema/types.js';
import type { AttrPath, CompareOp, Literal } from './ast.js';
import { printPath } from './print.js';

export type { ResolvedAttribute };

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Stored dateTime strings must look like one before they are compared (SQL casts only these). */
export const DATETIME_PREFIX_RE = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T/;
const DATETIME_RE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})?$/i;
const NUMBER_TEXT_RE = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;

/** Resolves a filter path against the tenant's schemas; unknown or unfilterable attributes are invalidFilter. */
export function resolveFilterPath(rs: ResourceSchemas, path: AttrPath): ResolvedAttribute {
  const r = resolveAttribute(rs, path);
  if (!r) throw new InvalidFilterError(`unknown attribute "${printPath(path)}" in filter`);
  if (r.attr.returned === 'never' || r.sub?.returned === 'never') {
    throw new InvalidFilterError(`attribute "${printPath(path)}" cannot be used in a filter`);
  }
  return r;
}

/**
 * Resolves a path inside a value filter (`emails[type eq "work"]`): it names a
 * sub-attribute of the multi-valued attribute, or `value` for an element of a
 * multi-valued simple attribute. Returns the definition to compare against.
 */
export function resolveElementPath(parent: AttributeDef, path: AttrPath): AttributeDef {
  const label = `${parent.name}[${printPath(path)}]`;
  if (path.urn !== undefined || path.sub !== undefined) {
    throw new InvalidFilterError(`"${printPath(path)}" inside ${parent.name}[…] must be a plain sub-attribute name`);
  }
  if (parent.type === 'complex') {
    const sub = findAttr(parent.subAttributes, path.attr);
    if (!sub) throw new InvalidFilterError(`unknown attribute "${label}" in filter`);
    if (sub.returned === 'never') throw new InvalidFilterError(`attribute "${label}" cannot be used in a filter`);
    return sub;
  }
  if (path.attr.toLowerCase() === 'value') return { ...parent, multiValued: false };
  throw new InvalidFilterError(`unknown attribute "${label}" in filter; elements of ${parent.name} are addressed as "value"`);
}

/**
 * The definition a comparison applies to: the sub-attribute if named, else the
 * `value` sub-attribute of a multi-valued complex attribute (RFC 7644 §3.4.2.2),
 * else the attribute itself.
 */
export function comparedDef(r: ResolvedAttribute, label: string): AttributeDef {
  if (r.sub) return r.sub;
  if (r.attr.type === 'complex' && r.attr.multiValued) {
    const v = findAttr(r.attr.subAttributes, 'value');
    if (!v) throw new InvalidFilterError(`"${label}" has no "value" sub-attribute to compare; name a sub-attribute`);
    return v;
  }
  return r.attr;
}

export function isIdAttribute(r: ResolvedAttribute, rs: ResourceSchemas): boolean {
  return !r.sub && r.schema === rs.core && r.attr.name === 'id';
}

export type Typed =
  | { t: 'string'; v: string }
  | { t: 'number'; v: number }
  | { t: 'boolean'; v: boolean }
  | { t: 'dateTime'; ms: number; iso: string };

const ORDERING: ReadonlySet<CompareOp> = new Set(['gt', 'ge', 'lt', 'le']);
const SUBSTRING: ReadonlySet<CompareOp> = new Set(['co', 'sw', 'ew']);

/**
 * Checks the operator against the attribute type and types the literal (a
 * non-null one; `eq null` / `ne null` are presence tests handled by callers).
 * Lenient where IdPs are: "True"/"False" for booleans, numeric strings for numbers.
 */
export function typeLiteral(def: AttributeDef, op: CompareOp, lit: Exclude<Literal, null>, label: string): Typed {
  const bad = (why: string): never => {
    throw new InvalidFilterError(`"${label} ${op} ${JSON.stringify(lit)}": ${why}`);
  };
  switch (def.type) {
    case 'complex':
      return bad(`${label} is complex; compare one of its sub-attributes`);
    case 'boolean': {
      if (op !== 'eq' && op !== 'ne') bad('boolean attributes support only eq, ne and pr');
      if (typeof lit === 'boolean') return { t: 'boolean', v: lit };
      if (typeof lit === 'string' && /^(true|false)$/i.test(lit)) return { t: 'boolean', v: lit.toLowerCase() === 'true' };
      return bad('expected true or false');
    }
    case 'integer':
    case 'decimal': {
      if (SUBSTRING.has(op)) bad(`${def.type} attributes do not support ${op}`);
      if (typeof lit === 'number') return { t: 'number', v: lit };
      if (typeof lit === 'string' && NUMBER_TEXT_RE.test(lit.trim())) return { t: 'number', v: Number(lit.trim()) };
      return bad('expected a number');
    }
    case 'dateTime': {
      if (SUBSTRING.has(op)) bad(`dateTime attributes do not support ${op}`);
      const ms = typeof lit === 'string' ? parseDateTimeLiteral(lit) : undefined;
      if (ms === undefined) return bad('expected a dateTime such as "2024-05-01T12:00:00Z"');
      return { t: 'dateTime', ms, iso: new Date(ms).toISOString() };
    }
    case 'binary':
      if (op !== 'eq' && op !== 'ne') bad('binary attributes support only eq, ne and pr');
      if (typeof lit !== 'string') bad('expected a base64 string');
      return { t: 'string', v: lit as string };
    case 'string':
    case 'reference':
      if (typeof lit === 'string') return { t: 'string', v: lit };
      // Some clients send externalId eq 12345 unquoted: compare its JSON text.
      return { t: 'string', v: String(lit) };
  }
  return bad(`unsupported attribute type ${String(def.type)}`);
}

export function isOrdering(op: CompareOp): boolean {
  return ORDERING.has(op);
}

/**
 * Strict xsd:dateTime for literals (they go to PostgreSQL as parameters, so an
 * impossible date must be rejected here rather than fail the query). No zone = UTC.
 */
export function parseDateTimeLiteral(text: string): number | undefined {
  const m = DATETIME_RE.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  if (y < 1 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return undefined;
  if (d > new Date(Date.UTC(2000, mo, 0)).getUTCDate() || (mo === 2 && d === 29 && !isLeap(y))) return undefined;
  const tz = m[8] && /^[+-]([0-9]{2}):([0-9]{2})$/.exec(m[8]);
  if (tz && (Number(tz[1]) > 14 || Number(tz[2]) > 59)) return undefined;
  // Milliseconds are the precision we store and render: truncate longer fractions
  // (.NET sends 7 digits: 2015-10-10T14:38:21.8617979-07:00).
  const frac = m[7] ? m[7].slice(0, 4) : '';
  const ms = Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${frac}${m[8]?.toUpperCase() ?? 'Z'}`);
  return Number.isNaN(ms) ? undefined : ms;
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

/** A stored dateTime value (what the SQL side casts): a string that looks like one and parses. */
export function storedDateTime(v: unknown): number | undefined {
  if (typeof v !== 'string' || !DATETIME_PREFIX_RE.test(v)) return undefined;
  const ms = Date.parse(/(Z|[+-][0-9]{2}:?[0-9]{2})$/i.test(v) ? v : `${v}Z`);
  return Number.isNaN(ms) ? undefined : ms;
}

/** RFC 7644 `pr`: present and not empty (null, "", [] and {} are absent). */
export function isPresent(v: unknown): boolean {
  if (v === undefined || v === null || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Values of a multi-valued attribute: a lone value counts as one element, null/absent as none. */
export function toElements(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  return v === undefined || v === null ? [] : [v];
}

/** Own key by its canonical name, falling back to a case-insensitive match (RFC 7643 §2.1). */
export function getKey(obj: unknown, name: string): unknown {
  if (!isPlainObject(obj)) return undefined;
  if (Object.prototype.hasOwnProperty.call(obj, name)) return obj[name];
  const lower = name.toLowerCase();
  for (const k of Object.keys(obj)) if (k.toLowerCase() === lower) return obj[k];
  return undefined;
}
