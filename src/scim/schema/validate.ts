/**
 * Turns a client-supplied resource into the canonical stored form: schema
 * spelling, extension data nested under its URN, IdP quirks coerced, types
 * checked, read-only data dropped, empty values removed.
 */
import { InvalidSyntaxError, InvalidValueError, MutabilityError } from '../errors.js';
import { findAttr } from './common.js';
import { parseDateTimeLiteral } from '../filter/semantics.js';
import { CORE_GROUP_SCHEMA } from './core-group.js';
import { openAttributeDef, parseAttributeText, resolveAttribute, resolveSchemaUrn, ATTR_NAME_RE } from './registry.js';
import type { AttributeDef, ResourceSchemas, SchemaDef } from './types.js';

export type NormalizeMode = 'create' | 'replace' | 'patch-result';

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** RFC 7643 §2.5: null, "" (our choice), [] and {} all mean "unassigned". */
export function isEmptyValue(v: unknown): boolean {
  if (v === null || v === undefined || v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  if (isPlainObject(v)) return Object.keys(v).length === 0;
  return false;
}

// Complex attributes whose elements are meaningless without a `value`.
const VALUE_REQUIRED = new WeakSet<AttributeDef>(
  CORE_GROUP_SCHEMA.attributes.filter((a) => a.name === 'members'),
);

const INTEGER_RE = /^\s*[+-]?\d+\s*$/;
const DECIMAL_RE = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;
// xsd:dateTime as used by RFC 7643 §2.3.5; offset optional as in xsd.
const DATETIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/i;
const BASE64_RE = /^[A-Za-z0-9+/_-]*={0,2}$/;

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

function typeError(path: string, expected: string, v: unknown): InvalidValueError {
  return new InvalidValueError(`Attribute "${path}" must be ${expected}, got ${describe(v)}`);
}

/**
 * Coerces and validates one attribute's value (single or multi-valued, whole).
 * Returns undefined when the value is empty (unassigned). Used by the PATCH
 * engine for individual operation values too.
 */
export function coerceValue(attr: AttributeDef, value: unknown, pathForErrors: string): unknown {
  if (isEmptyValue(value)) return undefined;
  if (attr.multiValued) {
    // IdPs send a bare value where an array is expected; a single comma-separated
    // string stays one element (the access layer splits grants).
    const items = Array.isArray(value) ? value : [value];
    const out: unknown[] = [];
    items.forEach((item, i) => {
      // Entra sends the values of a multi-valued simple attribute as [{"value": x}, …].
      if (attr.type !== 'complex' && isPlainObject(item)) {
        const keys = Object.keys(item);
        if (keys.length === 1 && keys[0]!.toLowerCase() === 'value') item = item[keys[0]!];
      }
      const c = coerceSingle(attr, item, `${pathForErrors}[${i}]`);
      if (c !== undefined) out.push(c);
    });
    if (out.length === 0) return undefined;
    if (attr.type === 'complex') dedupePrimary(out);
    return out;
  }
  if (Array.isArray(value)) {
    if (value.length === 1) return coerceSingle(attr, value[0], pathForErrors);
    throw new InvalidValueError(`Attribute "${pathForErrors}" is single-valued but ${value.length} values were given`);
  }
  return coerceSingle(attr, value, pathForErrors);
}

/** RFC 7643 §2.4: at most one primary=true; keep the first, drop the flag on the rest. */
function dedupePrimary(items: unknown[]): void {
  let seen = false;
  for (const item of items) {
    if (!isPlainObject(item) || item.primary !== true) continue;
    if (seen) delete item.primary;
    seen = true;
  }
}

function coerceSingle(attr: AttributeDef, v: unknown, path: string): unknown {
  if (isEmptyValue(v)) return undefined;
  switch (attr.type) {
    case 'complex':
      return coerceComplex(attr, v, path);
    case 'string': {
      let s: string;
      if (typeof v === 'string') s = v;
      else if (typeof v === 'number' && Number.isFinite(v)) s = String(v); // e.g. employeeNumber sent as a JSON number
      else throw typeError(path, 'a string', v);
      return checkCanonical(attr, s, path);
    }
    case 'reference':
      if (typeof v !== 'string') throw typeError(path, 'a reference (URI string)', v);
      return v;
    case 'boolean':
      if (typeof v === 'boolean') return v;
      if (typeof v === 'string') {
        // Entra sends "True"/"False".
        const t = v.trim().toLowerCase();
        if (t === 'true') return true;
        if (t === 'false') return false;
      }
      throw typeError(path, 'a boolean', v);
    case 'integer':
      if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
      if (typeof v === 'string' && INTEGER_RE.test(v)) {
        const n = Number(v);
        if (Number.isSafeInteger(n)) return n;
      }
      throw typeError(path, 'an integer', v);
    case 'decimal':
      if (typeof v === 'number' && Number.isFinite(v)) return v;
      if (typeof v === 'string' && DECIMAL_RE.test(v)) {
        const n = Number(v);
        if (Number.isFinite(n)) return n;
      }
      throw typeError(path, 'a decimal number', v);
    case 'dateTime':
      // The strict calendar check (no 2024-02-30, 2023-02-29, 2024-04-31 or year 0000, which
      // Date.parse rolls over or accepts but PostgreSQL cannot cast when a filter or sort reads them).
      if (typeof v === 'string' && DATETIME_RE.test(v) && parseDateTimeLiteral(v) !== undefined) return v;
      throw typeError(path, 'a dateTime (e.g. 2024-01-31T12:00:00Z)', v);
    case 'binary':
      if (typeof v === 'string') {
        const compact = v.replace(/\s+/g, '');
        if (BASE64_RE.test(compact) && compact.length % 4 !== 1) return v;
      }
      throw typeError(path, 'base64-encoded binary', v);
  }
}

function checkCanonical(attr: AttributeDef, s: string, path: string): string {
  if (!attr.strictCanonicalValues || !attr.canonicalValues?.length) return s;
  if (attr.caseExact) {
    if (attr.canonicalValues.includes(s)) return s;
  } else {
    const lower = s.toLowerCase();
    const hit = attr.canonicalValues.find((c) => c.toLowerCase() === lower);
    if (hit !== undefined) return hit; // store the declared spelling
  }
  throw new InvalidValueError(
    `Attribute "${path}" value ${JSON.stringify(s)} is not allowed; allowed values: ${attr.canonicalValues.join(', ')}`,
  );
}

function coerceComplex(attr: AttributeDef, v: unknown, path: string): unknown {
  const subs = attr.subAttributes ?? [];
  if (!isPlainObject(v)) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
      // Entra sends enterprise `manager` as the bare manager id.
      const valueSub = findAttr(subs, 'value');
      if (valueSub && valueSub.mutability !== 'readOnly') {
        const c = coerceValue(valueSub, v, `${path}.value`);
        return c === undefined ? undefined : { value: c };
      }
    }
    throw typeError(path, 'an object', v);
  }
  // Last spelling wins among case-variants; output follows the schema's order.
  const byName = new Map<string, unknown>();
  for (const [k, sv] of Object.entries(v)) byName.set(k.toLowerCase(), sv);
  const out: Record<string, unknown> = {};
  for (const sub of subs) {
    if (!byName.has(sub.name.toLowerCase())) continue;
    if (sub.mutability === 'readOnly') continue; // RFC 7644 §3.3: ignored
    const c = coerceValue(sub, byName.get(sub.name.toLowerCase()), `${path}.${sub.name}`);
    if (c !== undefined) out[sub.name] = c;
  }
  if (VALUE_REQUIRED.has(attr) && typeof out.value !== 'string') {
    throw new InvalidValueError(`Attribute "${path}.value" is required: each ${attr.name} entry must carry the member id`);
  }
  return Object.keys(out).length ? out : undefined;
}

/** Per-schema bucket: canonical attribute name -> coerced value. */
type Bucket = Map<string, unknown>;

class Collector {
  readonly buckets = new Map<SchemaDef, Bucket>();
  constructor(private readonly rs: ResourceSchemas) {}

  bucket(schema: SchemaDef): Bucket {
    let b = this.buckets.get(schema);
    if (!b) {
      b = new Map();
      this.buckets.set(schema, b);
    }
    return b;
  }

  /** Assigns `text` (`attr` or `attr.sub`) within `schema`; unknown names are dropped. */
  assign(schema: SchemaDef, text: string, value: unknown): void {
    const dot = text.indexOf('.');
    const name = dot < 0 ? text : text.slice(0, dot);
    const subName = dot < 0 ? undefined : text.slice(dot + 1);
    const prefix = schema === this.rs.core ? '' : `${schema.id}:`;
    if (schema.open && !findAttr(schema.attributes, name)) {
      this.assignOpen(schema, name, subName, value, prefix);
      return;
    }
    const resolved = resolveAttribute(this.rs, { urn: schema.id, attr: name });
    if (!resolved) return; // unknown attribute: IdPs send extras, ignore them
    const def = resolved.attr;
    if (def.mutability === 'readOnly') return; // RFC 7644 §3.3: SHALL be ignored
    const b = this.bucket(schema);
    if (subName === undefined) {
      setOrDelete(b, def.name, coerceValue(def, value, prefix + def.name));
      return;
    }
    if (def.type !== 'complex') return; // `active.x` and the like: no such attribute
    if (def.multiValued) {
      throw new InvalidValueError(
        `Attribute "${prefix}${def.name}.${subName}" addresses a sub-attribute of multi-valued "${def.name}"; send the whole array or use PATCH with a value filter`,
      );
    }
    const sub = findAttr(def.subAttributes, subName);
    if (!sub || sub.mutability === 'readOnly') return;
    const c = coerceValue(sub, value, `${prefix}${def.name}.${sub.name}`);
    const current = b.get(def.name);
    const obj: Record<string, unknown> = isPlainObject(current) ? { ...current } : {};
    if (c === undefined) delete obj[sub.name];
    else obj[sub.name] = c;
    // Re-run coercion so sub-attribute order stays canonical.
    setOrDelete(b, def.name, coerceValue(def, obj, prefix + def.name));
  }

  private assignOpen(schema: SchemaDef, name: string, subName: string | undefined, value: unknown, prefix: string): void {
    if (!ATTR_NAME_RE.test(name) || subName !== undefined) {
      throw new InvalidValueError(
        `Attribute "${prefix}${name}${subName !== undefined ? `.${subName}` : ''}" is not a valid ${schema.name} key (letters, digits, '_' or '-'; single-valued strings only)`,
      );
    }
    const b = this.bucket(schema);
    // Keys compare case-insensitively; the first spelling seen is kept.
    let key = name;
    for (const k of b.keys()) if (k.toLowerCase() === name.toLowerCase()) key = k;
    setOrDelete(b, key, coerceValue(openAttributeDef(key), value, prefix + key));
  }
}

function setOrDelete(b: Bucket, key: string, v: unknown): void {
  if (v === undefined) b.delete(key);
  else b.set(key, v);
}

function orderedObject(schema: SchemaDef, b: Bucket, leading: string[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of leading) if (b.has(k)) out[k] = b.get(k);
  for (const a of schema.attributes) if (b.has(a.name)) out[a.name] = b.get(a.name);
  for (const [k, v] of b) if (!Object.hasOwn(out, k)) out[k] = v; // open-schema keys (even `constructor`, `toString`), insertion order
  return out;
}

/**
 * Canonical stored form of a resource (schemas, externalId, core attributes,
 * then one object per extension URN with data). id, meta and other read-only
 * attributes are dropped; `password` is kept for the caller to hash and remove.
 *
 * mode: 'create' / 'replace' require the schema's required attributes;
 * 'patch-result' (the resource after PATCH operations) only refuses losing a
 * core required attribute, as RFC 7644 §3.5.2.2 asks (scimType mutability).
 */
export function normalizeResource(rs: ResourceSchemas, input: unknown, mode: NormalizeMode): Record<string, unknown> {
  if (!isPlainObject(input)) {
    throw new InvalidSyntaxError(`The request body must be a JSON object representing a ${rs.resourceType}, got ${describe(input)}`);
  }
  const c = new Collector(rs);
  for (const [key, value] of Object.entries(input)) {
    const lower = key.toLowerCase();
    if (lower === 'schemas') {
      // Recomputed below; only the shape is checked, unknown URNs are tolerated.
      if (value !== undefined && value !== null && !(Array.isArray(value) && value.every((s) => typeof s === 'string'))) {
        throw new InvalidValueError('Attribute "schemas" must be an array of schema URI strings');
      }
      continue;
    }
    if (!lower.startsWith('urn:')) {
      c.assign(rs.core, key, value);
      continue;
    }
    const schema = resolveSchemaUrn(rs, key);
    if (schema) {
      if (isEmptyValue(value)) continue;
      if (!isPlainObject(value)) {
        throw new InvalidValueError(`Attribute "${schema.id}" must be an object holding that schema's attributes, got ${describe(value)}`);
      }
      for (const [k, v] of Object.entries(value)) c.assign(schema, k, v);
      continue;
    }
    // Flat form: `urn:…:Schema:attr` or `urn:…:Schema:attr.sub`.
    const parsed = parseAttributeText(rs, key);
    const target = parsed.urn ? resolveSchemaUrn(rs, parsed.urn) : undefined;
    if (!target || parsed.attr === undefined) {
      throw new InvalidValueError(`Attribute "${key}" belongs to an unknown schema extension "${parsed.urn ?? key}"`);
    }
    c.assign(target, parsed.sub === undefined ? parsed.attr : `${parsed.attr}.${parsed.sub}`, value);
  }

  const coreBucket = c.bucket(rs.core);
  for (const a of rs.core.attributes) {
    if (!a.required || coreBucket.has(a.name)) continue;
    if (mode === 'patch-result') throw new MutabilityError(`Attribute "${a.name}" is required and cannot be removed`);
    throw new InvalidValueError(`Attribute "${a.name}" is required`);
  }
  if (mode !== 'patch-result') {
    // Tenant-required attributes are not enforced after PATCH: users created before
    // the attribute became required would otherwise be un-patchable.
    for (const ext of rs.extensions) {
      for (const a of ext.attributes) {
        if (a.required && !c.buckets.get(ext)?.has(a.name)) throw new InvalidValueError(`Attribute "${ext.id}:${a.name}" is required`);
      }
    }
  }

  const out: Record<string, unknown> = { schemas: [rs.core.id] };
  Object.assign(out, orderedObject(rs.core, coreBucket, ['externalId']));
  for (const ext of rs.extensions) {
    const b = c.buckets.get(ext);
    if (!b || b.size === 0) continue;
    (out.schemas as string[]).push(ext.id);
    out[ext.id] = orderedObject(ext, b);
  }
  return out;
}
