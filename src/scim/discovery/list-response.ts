/** RFC 7644 §3.4.2 ListResponse envelope for the discovery endpoints (never paged: they are small). */
export const LIST_RESPONSE_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';

export interface ListResponse<T> {
  schemas: [typeof LIST_RESPONSE_SCHEMA];
  totalResults: number;
  itemsPerPage: number;
  startIndex: number;
  Resources: T[];
}

export function listResponse<T>(resources: T[]): ListResponse<T> {
  return {
    schemas: [LIST_RESPONSE_SCHEMA],
    totalResults: resources.length,
    itemsPerPage: resources.length,
    startIndex: 1,
    Resources: resources,
  };
}

/** `https://h/scim/v2/t/` and `https://h/scim/v2/t` both yield resource URLs without `//`. */
export function trimBase(baseUrl: string): string {
  return baseUrl.replace(/\/+$/, '');
}
