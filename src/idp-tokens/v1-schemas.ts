/** JSON schemas of the /v1 API (documented in docs/idp-tokens.md; untagged, so not in the admin OpenAPI document). */
export const tenantParams = {
  type: 'object',
  required: ['tenantId'],
  properties: { tenantId: { type: 'string', maxLength: 64 } },
} as const;

const identitySchema = {
  type: 'object',
  properties: {
    id: { type: 'string' }, userName: { type: 'string' }, externalId: { type: ['string', 'null'] },
    displayName: { type: ['string', 'null'] }, status: { type: 'string' }, source: { type: 'string' }, active: { type: 'boolean' },
  },
} as const;
const datasetSchema = { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, externalId: { type: ['string', 'null'] } } } as const;
const groupSchema = { type: 'object', properties: { id: { type: 'string' }, displayName: { type: 'string' }, externalId: { type: ['string', 'null'] } } } as const;

export const authorizeBody = {
  type: 'object',
  required: ['dataset'],
  properties: { dataset: { type: 'string', minLength: 1, maxLength: 500 } },
} as const;

export const authorizeResponse = {
  type: 'object',
  properties: {
    allowed: { type: 'boolean' },
    reason: { type: 'string', enum: ['granted', 'identity_not_found', 'identity_suspended', 'dataset_not_found', 'not_granted'] },
    message: { type: 'string' },
    dataset: datasetSchema,
    identity: { type: 'object', properties: { id: { type: 'string' }, userName: { type: 'string' }, status: { type: 'string' } } },
    /** The identity's roles (roles[].value), whenever the identity was found. */
    roles: { type: 'array', items: { type: 'string' } },
  },
} as const;

export const meResponse = {
  type: 'object',
  properties: {
    tenantId: { type: 'string' },
    identity: identitySchema,
    groups: { type: 'array', items: groupSchema },
    accessGroups: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' } } } },
    datasets: { type: 'array', items: datasetSchema },
    roles: { type: 'array', items: { type: 'string' } },
    metadata: { type: 'object', additionalProperties: { type: 'string' } },
    userType: { type: 'string' },
    credential: {
      type: 'object',
      properties: {
        type: { type: 'string', enum: ['jwt', 'api_key'] },
        keyId: { type: 'string' },
        issuer: { type: 'string' },
        subject: { type: ['string', 'null'] },
        audience: { type: 'array', items: { type: 'string' } },
        expiresAt: { type: 'string', format: 'date-time' },
        matchedBy: { type: 'object', properties: { claim: { type: 'string' }, attribute: { type: 'string' }, value: { type: 'string' } } },
        groups: {
          type: 'object',
          properties: {
            source: { type: 'string', enum: ['claim', 'overage', 'absent'] },
            values: { type: 'array', items: { type: 'string' } },
            matched: { type: 'array', items: groupSchema },
            notProvisioned: { type: 'array', items: { type: 'string' } },
          },
        },
      },
    },
  },
} as const;
