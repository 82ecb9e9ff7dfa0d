/**
 * Attribute-definition builders and the common attributes every resource carries
 * (RFC 7643 §3.1: id, externalId, meta). Common attributes belong to no schema,
 * so /Schemas does not list them, but resolution, validation and projection do.
 */
import type { AttributeDef, AttributeType } from './types.js';

type AttrOpts = Partial<Omit<AttributeDef, 'name' | 'type'>>;

/** An AttributeDef with the RFC 7643 §2.2 defaults filled in. */
export function attr(name: string, type: AttributeType, opts: AttrOpts = {}): AttributeDef {
  const def: AttributeDef = {
    name,
    type,
    multiValued: opts.multiValued ?? false,
    description: opts.description ?? '',
    required: opts.required ?? false,
    caseExact: opts.caseExact ?? false,
    mutability: opts.mutability ?? 'readWrite',
    returned: opts.returned ?? 'default',
    uniqueness: opts.uniqueness ?? 'none',
  };
  if (opts.canonicalValues) def.canonicalValues = opts.canonicalValues;
  if (opts.referenceTypes) def.referenceTypes = opts.referenceTypes;
  if (opts.subAttributes) def.subAttributes = opts.subAttributes;
  if (opts.strictCanonicalValues) def.strictCanonicalValues = true;
  return def;
}

/** The `primary` sub-attribute shared by the RFC's multi-valued complex attributes. */
export function primarySub(what: string): AttributeDef {
  return attr('primary', 'boolean', {
    description: `A Boolean value indicating the 'primary' or preferred attribute value for this attribute, e.g., the preferred ${what}. The primary attribute value 'true' MUST appear no more than once.`,
  });
}

/** The usual value/display/type/primary quartet (RFC 7643 §2.4). */
export function multiValuedComplex(
  name: string,
  description: string,
  value: AttributeDef,
  typeCanonical: string[] | undefined,
  what: string,
): AttributeDef {
  return attr(name, 'complex', {
    multiValued: true,
    description,
    subAttributes: [
      value,
      attr('display', 'string', { description: 'A human-readable name, primarily used for display purposes. READ-ONLY.' }),
      attr('type', 'string', {
        description: "A label indicating the attribute's function.",
        ...(typeCanonical ? { canonicalValues: typeCanonical } : {}),
      }),
      primarySub(what),
    ],
  });
}

export const ID_ATTRIBUTE: AttributeDef = attr('id', 'string', {
  description: 'A unique identifier for a SCIM resource as defined by the service provider.',
  caseExact: true,
  mutability: 'readOnly',
  returned: 'always',
  uniqueness: 'server',
});

export const EXTERNAL_ID_ATTRIBUTE: AttributeDef = attr('externalId', 'string', {
  description: 'A String that is an identifier for the resource as defined by the provisioning client.',
  caseExact: true,
});

export const META_ATTRIBUTE: AttributeDef = attr('meta', 'complex', {
  description: 'A complex attribute containing resource metadata.',
  mutability: 'readOnly',
  subAttributes: [
    attr('resourceType', 'string', { description: 'The name of the resource type of the resource.', caseExact: true, mutability: 'readOnly' }),
    attr('created', 'dateTime', { description: 'The "DateTime" that the resource was added to the service provider.', mutability: 'readOnly' }),
    attr('lastModified', 'dateTime', { description: 'The most recent DateTime that the details of this resource were updated at the service provider.', mutability: 'readOnly' }),
    attr('location', 'reference', { description: 'The URI of the resource being returned.', referenceTypes: ['uri'], caseExact: true, mutability: 'readOnly' }),
    attr('version', 'string', { description: 'The version of the resource being returned.', caseExact: true, mutability: 'readOnly' }),
  ],
});

export const COMMON_ATTRIBUTES: readonly AttributeDef[] = [ID_ATTRIBUTE, EXTERNAL_ID_ATTRIBUTE, META_ATTRIBUTE];

/** Deep-freeze so a caller mutating a shared definition fails loudly instead of leaking across tenants. */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}

deepFreeze(COMMON_ATTRIBUTES);

/** Case-insensitive lookup of an attribute by name (RFC 7643 §2.1). */
export function findAttr(list: readonly AttributeDef[] | undefined, name: string): AttributeDef | undefined {
  if (!list) return undefined;
  const lower = name.toLowerCase();
  for (const a of list) if (a.name.toLowerCase() === lower) return a;
  return undefined;
}

export function findCommonAttr(name: string): AttributeDef | undefined {
  return findAttr(COMMON_ATTRIBUTES, name);
}


