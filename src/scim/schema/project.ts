/**
 * Response projection: RFC 7644 §3.4.2.5 (attributes / excludedAttributes) and
 * §3.9, driven by each attribute's `returned` characteristic (RFC 7643 §7).
 */
import { findAttr, findCommonAttr } from './common.js';
import { openAttributeDef, parseAttributeText, resolveAttribute, resolveSchemaUrn } from './registry.js';
import type { AttributeDef, ResourceSchemas, SchemaDef } from './types.js';

export interface ProjectionOptions {
  attributes?: string[];
  excludedAttributes?: string[];
}

/**
 * Splits the comma-separated query parameter (repeated parameters are joined).
 * Leniently, a value filter in a name (`emails[type eq "work"]`, which Microsoft's
 * Postman collection sends) is dropped: the name selects the whole attribute
 * (`emails`; `emails[…].value` → `emails.value`), and commas inside the brackets
 * or their quoted strings do not split the list.
 */
export function parseAttributeList(param: string | string[] | undefined): string[] {
  if (param === undefined) return [];
  const parts = Array.isArray(param) ? param : [param];
  return parts.flatMap((p) => splitNames(String(p))).map((s) => s.trim()).filter((s) => s !== '');
}

/** Splits on top-level commas, removing `[…]` value filters (quoted strings may hold "]" or ","). */
function splitNames(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (depth > 0) {
      if (c === '"') inString = true;
      else if (c === '[') depth++;
      else if (c === ']') depth--;
      continue;
    }
    if (c === '[') depth = 1;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/** `emails[type eq "work"].value` → `emails.value` (for names not split by parseAttributeList). */
function withoutValueFilter(name: string): string {
  return name.includes('[') ? splitNames(name).join(',').trim() : name;
}

interface Selection {
  /** lower-cased schema ids selected as a whole (`attributes=urn:…:enterprise:2.0:User`) */
  schemas: Set<string>;
  /** `${schemaId}|${attr}` lower-cased -> whole attribute or a set of lower-cased sub-attributes */
  attrs: Map<string, { whole: boolean; subs: Set<string> }>;
}

const keyOf = (schema: SchemaDef, attr: string) => `${schema.id.toLowerCase()}|${attr.toLowerCase()}`;

/** Unknown names are ignored: asking for an attribute the tenant lacks is not an error. */
function buildSelection(rs: ResourceSchemas, names: string[]): Selection {
  const sel: Selection = { schemas: new Set(), attrs: new Map() };
  for (const name of names) {
    const p = parseAttributeText(rs, withoutValueFilter(name));
    if (p.attr === undefined) {
      if (p.urn && resolveSchemaUrn(rs, p.urn)) sel.schemas.add(p.urn.toLowerCase());
      continue;
    }
    const r = resolveAttribute(rs, p.sub === undefined ? { urn: p.urn, attr: p.attr } : { urn: p.urn, attr: p.attr, sub: p.sub });
    if (!r) continue;
    const k = keyOf(r.schema, r.attr.name);
    let entry = sel.attrs.get(k);
    if (!entry) {
      entry = { whole: false, subs: new Set() };
      sel.attrs.set(k, entry);
    }
    if (r.sub) entry.subs.add(r.sub.name.toLowerCase());
    else entry.whole = true;
  }
  return sel;
}

interface Ctx {
  include?: Selection;
  exclude?: Selection;
}

/**
 * Returns a new object holding the attributes of `resource` a client should see.
 * `returned: always` attributes (id, schemas) survive everything; `never`
 * (password) never appears; `request` only when named in `attributes`.
 */
export function projectResource(rs: ResourceSchemas, resource: Record<string, unknown>, opts: ProjectionOptions = {}): Record<string, unknown> {
  if (!opts.attributes?.length && !opts.excludedAttributes?.length && defaultKeepsAll(rs, resource)) return resource;
  return projectSlow(rs, resource, opts);
}

/** The projection rules applied attribute by attribute (exported for the fast path's test). */
export function projectSlow(rs: ResourceSchemas, resource: Record<string, unknown>, opts: ProjectionOptions = {}): Record<string, unknown> {
  const ctx: Ctx = {};
  if (opts.attributes?.length) ctx.include = buildSelection(rs, opts.attributes);
  if (opts.excludedAttributes?.length) ctx.exclude = buildSelection(rs, opts.excludedAttributes);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(resource)) {
    if (key === 'schemas') {
      out[key] = value;
      continue;
    }
    const ext = key.toLowerCase().startsWith('urn:') ? resolveSchemaUrn(rs, key) : undefined;
    if (ext && ext !== rs.core) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) continue;
      const inner = projectSchemaObject(ext, value as Record<string, unknown>, ctx);
      if (Object.keys(inner).length) out[key] = inner;
      continue;
    }
    const def = findAttr(rs.core.attributes, key) ?? findCommonAttr(key);
    if (!def) {
      if (!ctx.include) out[key] = value; // not ours to hide unless the client narrowed the set
      continue;
    }
    const v = projectAttr(rs.core, def, value, ctx);
    if (v !== undefined) out[key] = v;
  }
  return out;
}

/**
 * Lower-cased names of a schema's attributes the default projection may change: `never`/`request`
 * ones, and complex ones with such sub-attributes. Computed once per schema.
 */
const touchedBySchema = new WeakMap<SchemaDef, Set<string>>();
function touchedByDefault(schema: SchemaDef): Set<string> {
  let set = touchedBySchema.get(schema);
  if (!set) {
    set = new Set();
    const hides = (a: AttributeDef) => a.returned === 'never' || a.returned === 'request';
    for (const a of schema.attributes) if (hides(a) || a.subAttributes?.some(hides)) set.add(a.name.toLowerCase());
    touchedBySchema.set(schema, set);
  }
  return set;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** An empty complex value or array would be dropped by the projection. */
function isEmptyish(v: unknown): boolean {
  if (Array.isArray(v)) return v.length === 0 || v.some((item) => Array.isArray(item) || (isPlainObject(item) && isEmptyObject(item)));
  return isPlainObject(v) && isEmptyObject(v);
}
function isEmptyObject(o: Record<string, unknown>): boolean {
  for (const _ in o) return false;
  return true;
}

/**
 * Why: the projection walks every attribute through case-insensitive schema lookups; on a read with
 * no `attributes`/`excludedAttributes` it almost never changes anything. This proves it would not
 * (nothing hidden by default, nothing empty to drop), so the resource is returned as it is.
 */
function defaultKeepsAll(rs: ResourceSchemas, resource: Record<string, unknown>): boolean {
  const core = touchedByDefault(rs.core);
  for (const key in resource) {
    if (key === 'schemas') continue;
    const value = resource[key];
    if (key.length > 4 && (key.charCodeAt(0) | 32) === 117 /* u */ && key.toLowerCase().startsWith('urn:')) {
      const ext = resolveSchemaUrn(rs, key);
      if (ext === rs.core) return false;
      if (ext) {
        if (!isPlainObject(value) || isEmptyObject(value)) return false;
        const touched = touchedByDefault(ext);
        for (const k in value) if (touched.has(k.toLowerCase()) || isEmptyish(value[k])) return false;
        continue;
      }
    }
    if (core.has(key.toLowerCase()) || isEmptyish(value)) return false;
  }
  return true;
}

function projectSchemaObject(schema: SchemaDef, obj: Record<string, unknown>, ctx: Ctx): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    const def = findAttr(schema.attributes, k) ?? (schema.open ? openAttributeDef(k) : undefined);
    if (!def) {
      if (!ctx.include) out[k] = v;
      continue;
    }
    const pv = projectAttr(schema, def, v, ctx);
    if (pv !== undefined) out[k] = pv;
  }
  return out;
}

function projectAttr(schema: SchemaDef, def: AttributeDef, value: unknown, ctx: Ctx): unknown {
  if (def.returned === 'never') return undefined;
  if (def.returned === 'always') return filterSubs(def, value, () => true);
  const k = keyOf(schema, def.name);
  const schemaKey = schema.id.toLowerCase();
  let onlySubs: Set<string> | undefined; // when the client named specific sub-attributes only
  if (ctx.include) {
    const entry = ctx.include.attrs.get(k);
    const whole = ctx.include.schemas.has(schemaKey) || entry?.whole === true;
    if (!whole && !entry?.subs.size) return undefined;
    if (!whole) onlySubs = entry!.subs;
    // `request` attributes need their own name (or a sub-attribute's) in `attributes`.
    if (def.returned === 'request' && !entry) return undefined;
  } else if (def.returned === 'request') {
    return undefined;
  }
  const excl = ctx.exclude?.attrs.get(k);
  if (ctx.exclude?.schemas.has(schemaKey) || excl?.whole) return undefined;
  const requested = ctx.include?.attrs.get(k)?.subs;
  return filterSubs(def, value, (sub) => {
    const lower = sub.name.toLowerCase();
    if (sub.returned === 'always') return true;
    if (excl?.subs.has(lower)) return false;
    if (onlySubs) return onlySubs.has(lower);
    if (sub.returned === 'request') return requested?.has(lower) === true;
    return true;
  });
}

/** Applies `keep` to the sub-attributes of a complex value; drops `never` subs always. */
function filterSubs(def: AttributeDef, value: unknown, keep: (sub: AttributeDef) => boolean): unknown {
  if (def.type !== 'complex') return value;
  const one = (item: unknown): unknown => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return item;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(item)) {
      const sub = findAttr(def.subAttributes, k);
      if (!sub) {
        if (keep({ ...SYNTHETIC_SUB, name: k })) out[k] = v;
        continue;
      }
      if (sub.returned !== 'never' && keep(sub)) out[k] = v;
    }
    return Object.keys(out).length ? out : undefined;
  };
  if (Array.isArray(value)) {
    const items = value.map(one).filter((x) => x !== undefined);
    return items.length ? items : undefined;
  }
  return one(value);
}

// Unknown sub-keys (e.g. server-added ones) are treated like `default` sub-attributes.
const SYNTHETIC_SUB: AttributeDef = {
  name: '', type: 'string', multiValued: false, description: '', required: false, caseExact: false,
  mutability: 'readOnly', returned: 'default', uniqueness: 'none',
};
