/** RFC 7643 §5 ServiceProviderConfig (shape of the §8.5 example). */
import { trimBase } from './list-response.js';

export const SERVICE_PROVIDER_CONFIG_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig';

export interface ServiceProviderConfigOptions {
  /** The tenant's SCIM base URL, e.g. https://idp.example.com/scim/v2/{tenantId} */
  baseUrl: string;
  bulk: { maxOperations: number; maxPayloadSize: number };
  filterMaxResults: number;
  documentationUri?: string;
  /** Server limits RFC 7643 has no attribute for, published under LIMITS_EXTENSION. */
  limits?: Record<string, number>;
}

/** idpbridge's extension of the ServiceProviderConfig: limits a client should know (docs/scim.md). */
export const LIMITS_EXTENSION = 'urn:idpbridge:params:scim:schemas:extension:2.0:ServiceProviderConfig:limits';

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
