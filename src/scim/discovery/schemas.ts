/** RFC 7643 §7 Schema resources (shape of the §8.7.1 representation). */
import type { AttributeDef, ResourceSchemas, SchemaDef } from '../schema/types.js';
import { listResponse, trimBase, type ListResponse } from './list-response.js';

export const SCHEMA_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Schema';

/** Only the RFC 7643 §7 characteristics; internal flags (strictCanonicalValues) stay private. */
export function renderAttribute(a: AttributeDef): Record<string, unknown> {
  const out: Record<string, unknown> = {
    name: a.name,
    type: a.type,
    multiValued: a.multiValued,
    description: a.description,
    required: a.required,
    caseExact: a.caseExact,
    mutability: a.mutability,
    returned: a.returned,
    uniqueness: a.uniqueness,
  };
  if (a.canonicalValues) out.canonicalValues = [...a.canonicalValues];
  if (a.referenceTypes) out.referenceTypes = [...a.referenceTypes];
  if (a.subAttributes) out.subAttributes = a.subAttributes.map(renderAttribute);
  return out;
}

export function schemaResource(baseUrl: string, schema: SchemaDef): Record<string, unknown> {
  return {
    schemas: [SCHEMA_SCHEMA],
    id: schema.id,
    name: schema.name,
    description: schema.description,
    attributes: schema.attributes.map(renderAttribute),
    meta: { resourceType: 'Schema', location: `${trimBase(baseUrl)}/Schemas/${schema.id}` },
  };
}

function uniqueSchemas(rsList: ResourceSchemas[], others: SchemaDef[]): SchemaDef[] {
  const seen = new Map<string, SchemaDef>();
  for (const s of [...rsList.flatMap((rs) => [rs.core, ...rs.extensions]), ...others]) if (!seen.has(s.id.toLowerCase())) seen.set(s.id.toLowerCase(), s);
  return [...seen.values()];
}

/**
 * GET /Schemas: core, enterprise, built-in and tenant extensions of every resource type, and
 * `others` (schemas of the discovery resources, such as the ServiceProviderConfig extension).
 */
export function schemaResources(baseUrl: string, rsList: ResourceSchemas[], others: SchemaDef[] = []): ListResponse<Record<string, unknown>> {
  return listResponse(uniqueSchemas(rsList, others).map((s) => schemaResource(baseUrl, s)));
}

/** GET /Schemas/{id}; schema URNs compare case-insensitively. undefined means 404. */
export function findSchemaResource(baseUrl: string, rsList: ResourceSchemas[], id: string, others: SchemaDef[] = []): Record<string, unknown> | undefined {
  const s = uniqueSchemas(rsList, others).find((x) => x.id.toLowerCase() === id.toLowerCase());
  return s ? schemaResource(baseUrl, s) : undefined;
}
