/**
 * Per-tenant schema registry: which schemas apply to a resource type, and how
 * attribute paths resolve against them (case-insensitively, RFC 7643 §2.1).
 */
import { InvalidValueError } from '../errors.js';
import { attr, deepFreeze, findAttr, findCommonAttr } from './common.js';
import { CORE_GROUP_SCHEMA } from './core-group.js';
import { CORE_USER_SCHEMA } from './core-user.js';
import { ENTERPRISE_USER_SCHEMA_DEF } from './enterprise-user.js';
import type { AttributeDef, AttributeType, ResourceSchemas, ResourceTypeName, SchemaDef } from './types.js';

export const EXTENSION_URN_PREFIX = 'urn:ietf:params:scim:schemas:extension:2.0:';
export const CUSTOM_EXTENSION_SCHEMA = `${EXTENSION_URN_PREFIX}CustomExtensionName`;
export const METADATA_SCHEMA = `${EXTENSION_URN_PREFIX}Metadata`;
export const DEFAULT_GRANTS_ATTRIBUTE = `${CUSTOM_EXTENSION_SCHEMA}:folders`;

/** A tenant-registered extension attribute (stored in tenant settings, edited in the admin API). */
export interface TenantExtensionAttribute {
  /** `urn:ietf:params:scim:schemas:extension:2.0:<Name>` */
  schema: string;
  name: string;
  type: AttributeType;
  multiValued: boolean;
  canonicalValues?: string[];
  caseExact?: boolean;
  required?: boolean;
  description?: string;
  /** Resource type the attribute extends; default 'User'. */
  resourceType?: ResourceTypeName;
}

export interface ResolvedAttribute {
  schema: SchemaDef;
  attr: AttributeDef;
  sub?: AttributeDef;
  /** false for core and common (id, externalId, meta) attributes. */
  isExtension: boolean;
}

export interface AttributePathInput {
  urn?: string;
  attr: string;
  sub?: string;
}

const EXTENSION_URN_RE = /^urn:ietf:params:scim:schemas:extension:2\.0:([A-Za-z][A-Za-z0-9_-]*)$/i;
/** RFC 7643 §2.1 ATTRNAME. */
export const ATTR_NAME_RE = /^[A-Za-z][A-Za-z0-9_-]*$/;
const TYPES: readonly AttributeType[] = ['string', 'boolean', 'decimal', 'integer', 'dateTime', 'reference', 'binary'];

/** Throws InvalidValueError if a tenant attribute definition is unusable. */
export function validateExtensionAttribute(a: TenantExtensionAttribute): void {
  if (!a || typeof a !== 'object') throw new InvalidValueError('extension attribute must be an object');
  const label = `extension attribute "${String(a.schema)}:${String(a.name)}"`;
  if (typeof a.schema !== 'string' || !EXTENSION_URN_RE.test(a.schema)) {
    throw new InvalidValueError(`${label}: schema must have the form ${EXTENSION_URN_PREFIX}<Name> (letters, digits, '_' or '-')`);
  }
  if (a.schema.toLowerCase() === METADATA_SCHEMA.toLowerCase()) {
    throw new InvalidValueError(`${label}: ${METADATA_SCHEMA} is an open schema and cannot declare attributes`);
  }
  if (typeof a.name !== 'string' || !ATTR_NAME_RE.test(a.name)) {
    throw new InvalidValueError(`${label}: name must start with a letter and contain only letters, digits, '_' or '-'`);
  }
  if (!TYPES.includes(a.type)) {
    throw new InvalidValueError(`${label}: type must be one of ${TYPES.join(', ')} (complex is not supported for tenant attributes)`);
  }
  if (typeof a.multiValued !== 'boolean') throw new InvalidValueError(`${label}: multiValued must be a boolean`);
  for (const k of ['caseExact', 'required'] as const) {
    if (a[k] !== undefined && typeof a[k] !== 'boolean') throw new InvalidValueError(`${label}: ${k} must be a boolean`);
  }
  if (a.description !== undefined && typeof a.description !== 'string') throw new InvalidValueError(`${label}: description must be a string`);
  if (a.resourceType !== undefined && a.resourceType !== 'User' && a.resourceType !== 'Group') {
    throw new InvalidValueError(`${label}: resourceType must be "User" or "Group"`);
  }
  if (a.canonicalValues !== undefined) {
    if (a.type !== 'string') throw new InvalidValueError(`${label}: canonicalValues are only supported for string attributes`);
    if (!Array.isArray(a.canonicalValues) || a.canonicalValues.length === 0 || !a.canonicalValues.every((v) => typeof v === 'string' && v !== '')) {
      throw new InvalidValueError(`${label}: canonicalValues must be a non-empty array of non-empty strings`);
    }
  }
}

function isValidExtensionAttribute(a: TenantExtensionAttribute): boolean {
  try {
    validateExtensionAttribute(a);
    return true;
  } catch {
    return false;
  }
}

/**
 * Validates a tenant's whole attribute list: each entry, no duplicates, and no
 * clash with built-in attributes (which would otherwise be silently shadowed).
 */
export function validateExtensionAttributes(list: TenantExtensionAttribute[], opts: { grantsAttribute?: string } = {}): void {
  const seen = new Set<string>();
  for (const a of list) {
    validateExtensionAttribute(a);
    const key = `${a.resourceType ?? 'User'}|${a.schema.toLowerCase()}|${a.name.toLowerCase()}`;
    if (seen.has(key)) throw new InvalidValueError(`extension attribute "${a.schema}:${a.name}" is declared twice`);
    seen.add(key);
    const builtIn = buildResourceSchemas(a.resourceType ?? 'User', [], opts);
    const ext = builtIn.extensions.find((s) => s.id.toLowerCase() === a.schema.toLowerCase());
    if (ext && findAttr(ext.attributes, a.name)) {
      throw new InvalidValueError(`extension attribute "${a.schema}:${a.name}" clashes with a built-in attribute`);
    }
  }
}

/** Splits a full attribute URN (`urn:…:Schema:attr`) at its last colon. */
export function splitAttributeUrn(fullPath: string): { urn: string; attr: string } {
  const i = fullPath.lastIndexOf(':');
  const urn = fullPath.slice(0, i);
  const name = fullPath.slice(i + 1);
  if (i <= 0 || !urn.toLowerCase().startsWith('urn:') || !ATTR_NAME_RE.test(name)) {
    throw new InvalidValueError(`grants attribute "${fullPath}" must be a URN-qualified attribute name like ${DEFAULT_GRANTS_ATTRIBUTE}`);
  }
  return { urn, attr: name };
}

function grantsAttr(name: string): AttributeDef {
  return attr(name, 'string', {
    multiValued: true,
    description: 'Dataset ids or externalIds this user is granted directly (comma-separated strings are accepted).',
  });
}

const OPEN_METADATA_SCHEMA: SchemaDef = deepFreeze({
  id: METADATA_SCHEMA,
  name: 'Metadata',
  description: 'Open key/value metadata: any attribute name is accepted as a single-valued string.',
  attributes: [],
  open: true,
});

function tenantAttrDef(a: TenantExtensionAttribute): AttributeDef {
  return attr(a.name, a.type, {
    multiValued: a.multiValued,
    required: a.required ?? false,
    caseExact: a.caseExact ?? false,
    description: a.description ?? '',
    ...(a.canonicalValues?.length ? { canonicalValues: [...a.canonicalValues], strictCanonicalValues: true } : {}),
  });
}

// Tenants without custom attributes share one frozen instance per (type, grants) pair.
const builtInCache = new Map<string, ResourceSchemas>();

/**
 * The schemas for one resource type of one tenant. Tenant attributes that clash
 * with a built-in one are skipped (the built-in wins); validateExtensionAttributes
 * rejects them at registration time.
 */
export function buildResourceSchemas(
  resourceType: ResourceTypeName,
  tenantAttrs: TenantExtensionAttribute[],
  opts: { grantsAttribute?: string } = {},
): ResourceSchemas {
  // Invalid stored definitions are skipped rather than failing every request of the tenant.
  const own = tenantAttrs.filter((a) => (a.resourceType ?? 'User') === resourceType && isValidExtensionAttribute(a));
  const cacheKey = `${resourceType}|${opts.grantsAttribute ?? ''}`;
  if (own.length === 0) {
    const cached = builtInCache.get(cacheKey);
    if (cached) return cached;
  }

  // Extension schemas under construction, by lower-cased id, in order.
  const exts = new Map<string, { id: string; name: string; description: string; attributes: AttributeDef[]; open?: boolean; frozen?: SchemaDef }>();
  let core: SchemaDef;
  if (resourceType === 'User') {
    core = CORE_USER_SCHEMA;
    exts.set(ENTERPRISE_USER_SCHEMA_DEF.id.toLowerCase(), { ...ENTERPRISE_USER_SCHEMA_DEF, attributes: [], frozen: ENTERPRISE_USER_SCHEMA_DEF });
    exts.set(CUSTOM_EXTENSION_SCHEMA.toLowerCase(), {
      id: CUSTOM_EXTENSION_SCHEMA,
      name: 'CustomExtensionName',
      description: 'Built-in extension carrying direct dataset grants.',
      attributes: [grantsAttr('folders')],
    });
    exts.set(METADATA_SCHEMA.toLowerCase(), { ...OPEN_METADATA_SCHEMA, attributes: [], frozen: OPEN_METADATA_SCHEMA });
    if (opts.grantsAttribute && opts.grantsAttribute.toLowerCase() !== DEFAULT_GRANTS_ATTRIBUTE.toLowerCase()) {
      const { urn, attr: name } = splitAttributeUrn(opts.grantsAttribute);
      const lower = urn.toLowerCase();
      const known = lower === core.id.toLowerCase() ? core : undefined;
      const target = exts.get(lower);
      if (known) {
        if (!findAttr(known.attributes, name)) {
          throw new InvalidValueError(`grants attribute "${opts.grantsAttribute}" names an attribute the core User schema does not have`);
        }
      } else if (target?.frozen || target?.open) {
        if (!findAttr(target.frozen?.attributes, name)) {
          throw new InvalidValueError(`grants attribute "${opts.grantsAttribute}" cannot extend the built-in schema ${target.id}`);
        }
      } else if (target) {
        if (!findAttr(target.attributes, name)) target.attributes.push(grantsAttr(name));
      } else {
        if (!EXTENSION_URN_RE.test(urn)) {
          throw new InvalidValueError(`grants attribute "${opts.grantsAttribute}": schema must have the form ${EXTENSION_URN_PREFIX}<Name>`);
        }
        exts.set(lower, { id: urn, name: urn.slice(urn.lastIndexOf(':') + 1), description: 'Direct dataset grants.', attributes: [grantsAttr(name)] });
      }
    }
  } else {
    core = CORE_GROUP_SCHEMA;
  }

  for (const a of own) {
    const lower = a.schema.toLowerCase();
    let target = exts.get(lower);
    if (!target) {
      target = { id: a.schema, name: a.schema.slice(a.schema.lastIndexOf(':') + 1), description: 'Tenant-defined extension', attributes: [] };
      exts.set(lower, target);
    }
    if (target.frozen || target.open) continue; // enterprise / Metadata cannot be extended
    if (findAttr(target.attributes, a.name)) continue; // built-in or earlier declaration wins
    target.attributes.push(tenantAttrDef(a));
  }

  const extensions: SchemaDef[] = [...exts.values()].map((e) => {
    if (e.frozen) return e.frozen;
    const def: SchemaDef = { id: e.id, name: e.name, description: e.description, attributes: e.attributes };
    if (e.open) def.open = true;
    return deepFreeze(def);
  });
  const rs: ResourceSchemas = deepFreeze({ resourceType, core, extensions });
  if (own.length === 0) builtInCache.set(cacheKey, rs);
  return rs;
}

/** Core schema first, then extensions in declaration order. */
export function allSchemas(rs: ResourceSchemas): SchemaDef[] {
  return [rs.core, ...rs.extensions];
}

/** The schema whose id equals `text` case-insensitively (URNs compare case-insensitively). */
export function resolveSchemaUrn(rs: ResourceSchemas, text: string): SchemaDef | undefined {
  const lower = text.toLowerCase();
  if (rs.core.id.toLowerCase() === lower) return rs.core;
  return rs.extensions.find((s) => s.id.toLowerCase() === lower);
}

const openDefs = new Map<string, AttributeDef>();
/** The synthesized definition of an open-schema attribute: single-valued string. */
export function openAttributeDef(name: string): AttributeDef {
  let def = openDefs.get(name);
  if (!def) {
    def = deepFreeze(attr(name, 'string', { description: 'Open metadata value' }));
    if (openDefs.size < 10_000) openDefs.set(name, def); // bounded: names come from clients
  }
  return def;
}

function lookupIn(schema: SchemaDef, name: string, isCore: boolean): AttributeDef | undefined {
  const found = findAttr(schema.attributes, name) ?? (isCore ? findCommonAttr(name) : undefined);
  if (found) return found;
  if (schema.open && ATTR_NAME_RE.test(name)) return openAttributeDef(name);
  return undefined;
}

/**
 * Resolves `{urn?, attr, sub?}` to definitions. Without a URN the core schema
 * (and common attributes) win over extensions; open schemas need their URN,
 * otherwise every unknown name would resolve to them.
 */
export function resolveAttribute(rs: ResourceSchemas, path: AttributePathInput): ResolvedAttribute | undefined {
  let { urn, attr: name } = path;
  if (!urn && name.toLowerCase().startsWith('urn:')) {
    // A caller passed a fully qualified name unsplit.
    const i = name.lastIndexOf(':');
    urn = name.slice(0, i);
    name = name.slice(i + 1);
  }
  let schema: SchemaDef | undefined;
  let def: AttributeDef | undefined;
  if (urn) {
    schema = resolveSchemaUrn(rs, urn);
    if (!schema) return undefined;
    def = lookupIn(schema, name, schema === rs.core);
  } else {
    def = lookupIn(rs.core, name, true);
    if (def) schema = rs.core;
    else {
      for (const ext of rs.extensions) {
        if (ext.open) continue;
        def = findAttr(ext.attributes, name);
        if (def) { schema = ext; break; }
      }
    }
  }
  if (!schema || !def) return undefined;
  const isExtension = schema !== rs.core;
  if (path.sub === undefined) return { schema, attr: def, isExtension };
  const sub = def.type === 'complex' ? findAttr(def.subAttributes, path.sub) : undefined;
  if (!sub) return undefined;
  return { schema, attr: def, sub, isExtension };
}

/**
 * Splits a textual attribute name (`name.givenName`, `urn:…:User:manager.value`,
 * or a bare schema URN) using the known schema ids, so the dots in "2.0" and a
 * URN that is itself a schema id are not mistaken for path separators.
 * `attr` is undefined when the text names a whole schema.
 */
export function parseAttributeText(rs: ResourceSchemas, text: string): { urn?: string; attr?: string; sub?: string } {
  const lower = text.toLowerCase();
  if (!lower.startsWith('urn:')) return splitDot(text);
  let best: SchemaDef | undefined;
  for (const s of allSchemas(rs)) {
    const id = s.id.toLowerCase();
    if ((lower === id || lower.startsWith(`${id}:`)) && (!best || id.length > best.id.length)) best = s;
  }
  if (best) {
    const rest = text.slice(best.id.length + 1);
    return rest ? { urn: best.id, ...splitDot(rest) } : { urn: best.id };
  }
  const i = text.lastIndexOf(':');
  return { urn: text.slice(0, i), ...splitDot(text.slice(i + 1)) };
}

function splitDot(text: string): { attr: string; sub?: string } {
  const dot = text.indexOf('.');
  return dot < 0 ? { attr: text } : { attr: text.slice(0, dot), sub: text.slice(dot + 1) };
}
