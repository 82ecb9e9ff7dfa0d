/** RFC 7643 §6 ResourceType resources (shape of the §8.6 example). */
import type { ResourceSchemas, ResourceTypeName } from '../schema/types.js';
import { listResponse, trimBase, type ListResponse } from './list-response.js';

export const RESOURCE_TYPE_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType';

const INFO: Record<ResourceTypeName, { endpoint: string; description: string }> = {
  User: { endpoint: '/Users', description: 'User Account' },
  Group: { endpoint: '/Groups', description: 'Group' },
};

export function resourceTypeResource(baseUrl: string, rs: ResourceSchemas): Record<string, unknown> {
  const info = INFO[rs.resourceType];
  const out: Record<string, unknown> = {
    schemas: [RESOURCE_TYPE_SCHEMA],
    id: rs.resourceType,
    name: rs.resourceType,
    endpoint: info.endpoint,
    description: info.description,
    schema: rs.core.id,
  };
  if (rs.extensions.length) {
    // An extension is required when it declares a required attribute (tenant attrs can).
    out.schemaExtensions = rs.extensions.map((e) => ({ schema: e.id, required: e.attributes.some((a) => a.required) }));
  }
  out.meta = { location: `${trimBase(baseUrl)}/ResourceTypes/${rs.resourceType}`, resourceType: 'ResourceType' };
  return out;
}

/** GET /ResourceTypes */
export function resourceTypes(baseUrl: string, usersRs: ResourceSchemas, groupsRs: ResourceSchemas): ListResponse<Record<string, unknown>> {
  return listResponse([resourceTypeResource(baseUrl, usersRs), resourceTypeResource(baseUrl, groupsRs)]);
}

/** GET /ResourceTypes/{id}; undefined means 404. Ids compare case-sensitively like any resource id. */
export function resourceType(baseUrl: string, usersRs: ResourceSchemas, groupsRs: ResourceSchemas, id: string): Record<string, unknown> | undefined {
  if (id === 'User') return resourceTypeResource(baseUrl, usersRs);
  if (id === 'Group') return resourceTypeResource(baseUrl, groupsRs);
  return undefined;
}
