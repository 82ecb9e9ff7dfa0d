/** RFC 7643 §5 ServiceProviderConfig (shape of the §8.5 example). */
import type { SchemaDef } from '../schema/types.js';
import { trimBase } from './list-response.js';

export const SERVICE_PROVIDER_CONFIG_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig';

export interface ServiceProviderConfigOptions {
  /** The tenant's SCIM base URL, e.g. https://idp.example.com/scim/v2/{tenantId} */
  baseUrl: string;
  bulk: { maxOperations: number; maxPayloadSize: number };
  filterMaxResults: number;
  /** RFC 9865: seconds a list cursor stays usable; cursor pagination is advertised when given. */
  cursorTimeout?: number;
  documentationUri?: string;
  /** Server limits RFC 7643 has no attribute for, published under LIMITS_EXTENSION. */
  limits?: ServiceProviderLimits;
}

/** idpbridge's extension of the ServiceProviderConfig: limits a client should know (docs/scim.md). */
export const LIMITS_EXTENSION = 'urn:idpbridge:params:scim:schemas:extension:2.0:ServiceProviderConfig:limits';

/** The limits a client can read under LIMITS_EXTENSION (every one an integer). */
export const SERVICE_PROVIDER_LIMITS = {
  groupMembersInlineMax: 'Members rendered inline per Group; past it, members are left out (page them with /Users?filter=groups.value eq "<groupId>")',
  groupMembersPageMax: 'Members rendered inline over all Groups of one list or search page; past it, members are left out',
  filterMaxComparisons: 'Comparisons in one filter (400 invalidFilter past it)',
  filterMaxSubstringComparisons: 'co, sw and ew comparisons in one filter (400 invalidFilter past it)',
  filterMaxSubqueries: 'Multi-valued attribute comparisons (subqueries) in one filter (400 invalidFilter past it)',
} as const;
export type ServiceProviderLimits = Record<keyof typeof SERVICE_PROVIDER_LIMITS, number>;

/**
 * The Schema resource of LIMITS_EXTENSION, listed by /Schemas so that a client resolving every URN
 * of /ServiceProviderConfig's `schemas` finds it (RFC 7643 §7).
 */
export const LIMITS_EXTENSION_SCHEMA: SchemaDef = {
  id: LIMITS_EXTENSION,
  name: 'ServiceProviderConfig limits',
  description: 'idpbridge server limits that RFC 7643 has no ServiceProviderConfig attribute for',
  attributes: Object.entries(SERVICE_PROVIDER_LIMITS).map(([name, description]) => ({
    name, type: 'integer', multiValued: false, description, required: false, caseExact: false,
    mutability: 'readOnly', returned: 'default', uniqueness: 'none',
  })),
};

export function serviceProviderConfig(opts: ServiceProviderConfigOptions): Record<string, unknown> {
  const base = trimBase(opts.baseUrl);
  const doc = opts.documentationUri ? { documentationUri: opts.documentationUri } : {};
  return {
    schemas: opts.limits ? [SERVICE_PROVIDER_CONFIG_SCHEMA, LIMITS_EXTENSION] : [SERVICE_PROVIDER_CONFIG_SCHEMA],
    ...doc,
    patch: { supported: true },
    bulk: { supported: true, maxOperations: opts.bulk.maxOperations, maxPayloadSize: opts.bulk.maxPayloadSize },
    filter: { supported: true, maxResults: opts.filterMaxResults },
    changePassword: { supported: true },
    sort: { supported: true },
    // RFC 9865 §4: both methods; a request without startIndex or cursor gets index paging.
    ...(opts.cursorTimeout !== undefined ? {
      pagination: {
        cursor: true, index: true, defaultPaginationMethod: 'index',
        defaultPageSize: opts.filterMaxResults, maxPageSize: opts.filterMaxResults, cursorTimeout: opts.cursorTimeout,
      },
    } : {}),
    etag: { supported: true },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'OAuth Bearer Token',
        description: 'Authentication scheme using the OAuth Bearer Token Standard',
        specUri: 'https://www.rfc-editor.org/info/rfc6750',
        ...doc,
        primary: true,
      },
      {
        type: 'httpbasic',
        name: 'HTTP Basic',
        description: 'Authentication scheme using the HTTP Basic Standard',
        specUri: 'https://www.rfc-editor.org/info/rfc7617',
        ...doc,
      },
    ],
    ...(opts.limits ? { [LIMITS_EXTENSION]: opts.limits } : {}),
    meta: {
      resourceType: 'ServiceProviderConfig',
      location: `${base}/ServiceProviderConfig`,
    },
  };
}
