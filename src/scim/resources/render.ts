import type { ResourceSchemas } from '../schema/types.js';
import { projectResource } from '../schema/project.js';
import { etagOf } from './etag.js';

export interface Meta {
  resourceType: 'User' | 'Group';
  created: Date;
  lastModified: Date;
  version: number;
  location: string;
}

/** id, externalId and the naming attribute first, as IdPs and humans read them; meta last. */
export function renderResource(
  id: string,
  data: Record<string, unknown>,
  extra: Record<string, unknown>,
  meta: Meta,
): Record<string, unknown> {
  const { schemas, externalId, userName, displayName, ...rest } = data;
  const out: Record<string, unknown> = { schemas, id };
  if (externalId !== undefined) out.externalId = externalId;
  if (userName !== undefined) out.userName = userName;
  if (displayName !== undefined) out.displayName = displayName;
  Object.assign(out, rest, extra);
  out.meta = {
    resourceType: meta.resourceType,
    created: meta.created.toISOString(),
    lastModified: meta.lastModified.toISOString(),
    location: meta.location,
    version: etagOf(meta.version),
  };
  return out;
}

export function project(rs: ResourceSchemas, resource: Record<string, unknown>, q: { attributes: string[]; excludedAttributes: string[] }) {
  return projectResource(rs, resource, q);
}

/** Whether a response projection includes a top-level attribute (to skip loading it). */
export function wants(q: { attributes: string[]; excludedAttributes: string[] }, attr: string, returnedByDefault = true): boolean {
  const a = attr.toLowerCase();
  const mentions = (list: string[]) => list.some((x) => {
    const l = x.toLowerCase();
    return l === a || l.startsWith(`${a}.`) || l.endsWith(`:${a}`) || l.includes(`:${a}.`);
  });
  if (q.attributes.length > 0) return mentions(q.attributes);
  if (mentions(q.excludedAttributes)) return false;
  return returnedByDefault;
}

export const LIST_RESPONSE_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';

/** `startIndex` for index paging; the cursors instead for cursor paging (RFC 9865 §2.2). */
export function listResponse(resources: Record<string, unknown>[], total: number, page: number | { nextCursor?: string | undefined; previousCursor?: string | undefined }) {
  return {
    schemas: [LIST_RESPONSE_SCHEMA],
    totalResults: total,
    ...(typeof page === 'number' ? { startIndex: page } : {}),
    itemsPerPage: resources.length,
    ...(typeof page === 'object' && page.previousCursor ? { previousCursor: page.previousCursor } : {}),
    ...(typeof page === 'object' && page.nextCursor ? { nextCursor: page.nextCursor } : {}),
    Resources: resources,
  };
}
