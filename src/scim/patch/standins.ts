/**
 * TEMPORARY stand-ins for src/scim/filter/{parse,evaluate}.ts and
 * src/scim/schema/{registry,validate}.ts while those are being written.
 * deps.ts switches to the real modules once they exist; then delete this file.
 */
import type { AttrPath, FilterNode, Literal, CompareOp } from '../filter/ast.js';
import type { AttributeDef, ResourceSchemas, SchemaDef, AttributeType, Mutability } from '../schema/types.js';
import { InvalidFilterError, InvalidPathError, InvalidValueError } from '../errors.js';

// ---------- schemas ----------
function a(name: string, type: AttributeType = 'string', o: Partial<AttributeDef> = {}): AttributeDef {
  return { name, type, multiValued: false, description: '', required: false, caseExact: false,
    mutability: 'readWrite' as Mutability, returned: 'default', uniqueness: 'none', ...o };
}
const mv = (name: string, subs: AttributeDef[], o: Partial<AttributeDef> = {}) =>
  a(name, 'complex', { multiValued: true, subAttributes: subs, ...o });
const typed = () => [a('value'), a('display'), a('type'), a('primary', 'boolean')];
const ro = { mutability: 'readOnly' as Mutability };
const common = [
  a('id', 'string', { ...ro, caseExact: true, returned: 'always', uniqueness: 'server' }),
  a('externalId', 'string', { caseExact: true }),
  a('meta', 'complex', { ...ro, subAttributes: [a('resourceType', 'string', ro), a('created', 'dateTime', ro),
    a('lastModified', 'dateTime', ro), a('location', 'reference', ro), a('version', 'string', ro)] }),
];
const USER: SchemaDef = { id: 'urn:ietf:params:scim:schemas:core:2.0:User', name: 'User', description: '', attributes: [
  ...common,
  a('userName', 'string', { required: true, uniqueness: 'server' }),
  a('name', 'complex', { subAttributes: ['formatted', 'familyName', 'givenName', 'middleName', 'honorificPrefix', 'honorificSuffix'].map((n) => a(n)) }),
  ...['displayName', 'nickName', 'title', 'userType', 'preferredLanguage', 'locale', 'timezone'].map((n) => a(n)),
  a('profileUrl', 'reference'), a('active', 'boolean'), a('password', 'string', { mutability: 'writeOnly', returned: 'never' }),
  mv('emails', typed()), mv('phoneNumbers', typed()), mv('ims', typed()), mv('photos', typed()),
  mv('addresses', ['formatted', 'streetAddress', 'locality', 'region', 'postalCode', 'country', 'type'].map((n) => a(n)).concat([a('primary', 'boolean')])),
  mv('groups', [a('value', 'string', ro), a('$ref', 'reference', ro), a('display', 'string', ro), a('type', 'string', ro)], ro),
  mv('entitlements', typed()), mv('roles', typed()), mv('x509Certificates', typed()),
] };
const ENTERPRISE: SchemaDef = { id: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User', name: 'EnterpriseUser', description: '', attributes: [
  ...['employeeNumber', 'costCenter', 'organization', 'division', 'department'].map((n) => a(n)),
  a('manager', 'complex', { subAttributes: [a('value'), a('$ref', 'reference'), a('displayName', 'string', ro)] }),
] };
const GROUP: SchemaDef = { id: 'urn:ietf:params:scim:schemas:core:2.0:Group', name: 'Group', description: '', attributes: [
  ...common,
  a('displayName', 'string', { required: true }),
  mv('members', [a('value', 'string', { mutability: 'immutable' }), a('$ref', 'reference', { mutability: 'immutable' }),
    a('type', 'string', { mutability: 'immutable' }), a('display', 'string', { mutability: 'immutable' })]),
] };

export function buildResourceSchemas(type: 'User' | 'Group', extra: SchemaDef[] = []): ResourceSchemas {
  return type === 'User' ? { resourceType: 'User', core: USER, extensions: [ENTERPRISE, ...extra] }
    : { resourceType: 'Group', core: GROUP, extensions: [...extra] };
}
const eqi = (x: string, y: string) => x.toLowerCase() === y.toLowerCase();
export function resolveSchemaUrn(rs: ResourceSchemas, text: string): SchemaDef | undefined {
  return [rs.core, ...rs.extensions].find((s) => eqi(s.id, text));
}
export function resolveAttribute(rs: ResourceSchemas, path: { urn?: string; attr: string; sub?: string }):
  { schema: SchemaDef; attr: AttributeDef; sub?: AttributeDef; isExtension: boolean } | undefined {
  const schema = path.urn ? resolveSchemaUrn(rs, path.urn) : rs.core;
  if (!schema) return undefined;
  let attr = schema.attributes.find((x) => eqi(x.name, path.attr));
  if (!attr && schema.open) attr = a(path.attr);
  if (!attr) return undefined;
  const isExtension = schema !== rs.core;
  if (path.sub === undefined) return { schema, attr, isExtension };
  const sub = attr.subAttributes?.find((x) => eqi(x.name, path.sub!));
  return sub ? { schema, attr, sub, isExtension } : undefined;
}

// ---------- parser ----------
export function parsePatchPath(text: string): { path: AttrPath; filter?: FilterNode; sub?: string } {
  const m = /^(?:(urn:[^[\]]*):)?([A-Za-z$][\w$-]*)(?:\.([A-Za-z$][\w$-]*))?(?:\[(.*)\](?:\.([A-Za-z$][\w$-]*))?)?$/s.exec(text.trim());
  if (!m) throw new InvalidPathError(`Invalid path "${text}"`);
  const [, urn, attr, dotted, filterText, sub] = m;
  if (dotted && filterText !== undefined) throw new InvalidPathError(`Invalid path "${text}"`);
  const path: AttrPath = { attr: attr! };
  if (urn) path.urn = urn;
  if (dotted) path.sub = dotted;
  const out: { path: AttrPath; filter?: FilterNode; sub?: string } = { path };
  if (filterText !== undefined) out.filter = parseFilter(filterText);
  if (sub) out.sub = sub;
  return out;
}
function parseFilter(src: string): FilterNode {
  const toks = src.match(/"(?:[^"\\]|\\.)*"|\(|\)|[^\s()]+/g) ?? [];
  let i = 0;
  const peek = () => toks[i]?.toLowerCase();
  const or = (): FilterNode => { let l = and(); while (peek() === 'or') { i++; l = { kind: 'or', left: l, right: and() }; } return l; };
  const and = (): FilterNode => { let l = unary(); while (peek() === 'and') { i++; l = { kind: 'and', left: l, right: unary() }; } return l; };
  const unary = (): FilterNode => {
    if (peek() === 'not') { i++; return { kind: 'not', filter: unary() }; }
    if (peek() === '(') { i++; const f = or(); if (toks[i++] !== ')') throw new InvalidFilterError('missing )'); return f; }
    const p = toks[i++]; const op = toks[i++]?.toLowerCase();
    if (!p || !op) throw new InvalidFilterError(`bad filter ${src}`);
    const [attr, sub] = p.split('.');
    const path: AttrPath = sub ? { attr: attr!, sub } : { attr: attr! };
    if (op === 'pr') return { kind: 'present', path };
    const raw = toks[i++]; if (raw === undefined) throw new InvalidFilterError(`bad filter ${src}`);
    let value: Literal;
    if (raw.startsWith('"')) value = JSON.parse(raw) as string;
    else if (raw === 'true' || raw === 'false') value = raw === 'true';
    else if (raw === 'null') value = null; else value = Number(raw);
    return { kind: 'compare', path, op: op as CompareOp, value };
  };
  const f = or(); if (i !== toks.length) throw new InvalidFilterError(`bad filter ${src}`);
  return f;
}

// ---------- evaluator ----------
export function matchesValueFilter(node: FilterNode, element: unknown, parentAttr: AttributeDef): boolean {
  const get = (p: AttrPath): unknown => {
    const name = p.sub ?? p.attr;
    if (element === null || typeof element !== 'object') return eqi(name, 'value') ? element : undefined;
    const k = Object.keys(element).find((x) => eqi(x, name));
    return k === undefined ? undefined : (element as Record<string, unknown>)[k];
  };
  switch (node.kind) {
    case 'and': return matchesValueFilter(node.left, element, parentAttr) && matchesValueFilter(node.right, element, parentAttr);
    case 'or': return matchesValueFilter(node.left, element, parentAttr) || matchesValueFilter(node.right, element, parentAttr);
    case 'not': return !matchesValueFilter(node.filter, element, parentAttr);
    case 'present': { const v = get(node.path); return v !== undefined && v !== null && v !== ''; }
    case 'valuePath': return false;
    case 'compare': {
      let v = get(node.path); let w = node.value;
      const sd = parentAttr.subAttributes?.find((s) => eqi(s.name, node.path.sub ?? node.path.attr));
      if (typeof v === 'string' && typeof w === 'string' && !(sd?.caseExact)) { v = v.toLowerCase(); w = w.toLowerCase(); }
      switch (node.op) {
        case 'eq': return v === w; case 'ne': return v !== w;
        case 'co': return typeof v === 'string' && typeof w === 'string' && v.includes(w);
        case 'sw': return typeof v === 'string' && typeof w === 'string' && v.startsWith(w);
        case 'ew': return typeof v === 'string' && typeof w === 'string' && v.endsWith(w);
        default: return (v as number) > (w as number) ? node.op.startsWith('g') : v === w ? node.op.endsWith('e') : node.op.startsWith('l');
      }
    }
  }
}

// ---------- validation ----------
export function coerceValue(attr: AttributeDef, value: unknown, p: string): unknown {
  if (value === null) return null;
  if (attr.multiValued) {
    const arr = Array.isArray(value) ? value : [value];
    return arr.map((x, i) => coerceValue({ ...attr, multiValued: false }, x, `${p}[${i}]`));
  }
  switch (attr.type) {
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
      throw new InvalidValueError(`${p}: expected a boolean`);
    case 'integer': if (Number.isInteger(value)) return value; throw new InvalidValueError(`${p}: expected an integer`);
    case 'decimal': if (typeof value === 'number') return value; throw new InvalidValueError(`${p}: expected a number`);
    case 'complex': {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        if (attr.subAttributes?.some((s) => s.name === 'value')) return { value };
        throw new InvalidValueError(`${p}: expected an object`);
      }
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) {
        const sd = attr.subAttributes?.find((s) => eqi(s.name, k));
        if (!sd) throw new InvalidValueError(`${p}: unknown sub-attribute "${k}"`);
        if (v !== null) out[sd.name] = coerceValue(sd, v, `${p}.${sd.name}`);
      }
      return out;
    }
    default: if (typeof value === 'string') return value; throw new InvalidValueError(`${p}: expected a string`);
  }
}
export function normalizeResource(rs: ResourceSchemas, resource: Record<string, unknown>, _mode: 'patch-result'): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(resource)) {
    if (k === 'schemas') { out[k] = v; continue; }
    const ext = rs.extensions.find((s) => eqi(s.id, k));
    if (ext) {
      const inner: Record<string, unknown> = {};
      for (const [ik, iv] of Object.entries(v as Record<string, unknown>)) {
        const ad = ext.attributes.find((x) => eqi(x.name, ik)) ?? (ext.open ? a(ik) : undefined);
        if (!ad) throw new InvalidValueError(`unknown attribute ${k}:${ik}`);
        inner[ad.name] = coerceValue(ad, iv, `${k}:${ik}`);
      }
      out[ext.id] = inner; continue;
    }
    const ad = rs.core.attributes.find((x) => eqi(x.name, k));
    if (!ad) throw new InvalidValueError(`unknown attribute ${k}`);
    out[ad.name] = coerceValue(ad, v, k);
  }
  for (const ad of rs.core.attributes) if (ad.required && out[ad.name] === undefined && ad.name !== 'members') throw new InvalidValueError(`${ad.name} is required`);
  return out;
}
