import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app-deps.js';
import { healthWindow, operatorHealth, tenantHealth } from '../events/provisioning-health.js';
import { requireTenant } from './access-schemas.js';
import { tenantIdParams } from './tenants-routes.js';

const tags = ['provisioning-log'];
const dateTime = { type: 'string', format: 'date-time' } as const;
const counts = { requests: { type: 'integer' }, failures: { type: 'integer', description: 'Refused (4xx)' }, errors: { type: 'integer', description: 'Server errors (5xx)' } } as const;

const query = {
  type: 'object',
  additionalProperties: false,
  properties: { hours: { type: 'integer', minimum: 1, maximum: 720, default: 24, description: 'The window: the last this many hours' } },
} as const;

const windowProps = {
  from: { ...dateTime, description: 'Start of the window (inclusive), aligned to bucketSeconds' },
  to: { ...dateTime, description: 'End of the window (exclusive); the last bucket is the current one' },
  bucketSeconds: { type: 'integer', description: 'Width of each bucket: at most 48 buckets per window' },
  totals: { type: 'object', properties: counts },
  buckets: { type: 'array', items: { type: 'object', properties: { at: dateTime, ...counts } } },
} as const;

const causeProps = {
  status: { type: 'integer' },
  code: { type: ['string', 'null'], description: 'The catalogued error code (docs/errors.md)' },
  scimType: { type: ['string', 'null'] },
  count: { type: 'integer' },
  lastAt: dateTime,
  fix: { type: 'string', description: 'What to change, in the words of the IdP guides' },
} as const;

const tenantHealthSchema = {
  type: 'object',
  properties: {
    ...windowProps,
    causes: {
      type: 'array',
      description: 'Failures in the window grouped by cause, most frequent first (at most 20)',
      items: { type: 'object', properties: { ...causeProps, example: { type: ['string', 'null'], description: 'The latest failure\'s error detail' } } },
    },
    idps: {
      type: 'array',
      description: 'The last request of each IdP (from its User-Agent) ever logged, newest first, with its requests in the window',
      items: {
        type: 'object',
        properties: {
          idp: { type: 'string' }, lastAt: dateTime, lastUserAgent: { type: ['string', 'null'] }, lastMethod: { type: 'string' },
          lastOperation: { type: 'string', description: 'list, read, create, replace, patch, delete, search, bulk or discovery' },
          lastResourceType: { type: ['string', 'null'], enum: ['User', 'Group', 'Bulk', 'Discovery', null] }, lastStatus: { type: 'integer' }, lastOutcome: { type: 'string', enum: ['success', 'failure', 'error'] },
          requests: { type: 'integer' }, failures: { type: 'integer', description: 'Refused or failed requests in the window' },
        },
      },
    },
  },
} as const;

const operatorHealthSchema = {
  type: 'object',
  properties: {
    ...windowProps,
    causes: { type: 'array', items: { type: 'object', properties: { ...causeProps, tenants: { type: 'integer', description: 'Tenants that saw this cause' } } } },
    tenants: {
      type: 'array',
      description: 'Tenants, most failures first (at most 200)',
      items: {
        type: 'object',
        properties: {
          tenantId: { type: 'string', format: 'uuid' }, name: { type: 'string' }, ...counts,
          lastAt: { type: ['string', 'null'], format: 'date-time' }, lastIdp: { type: ['string', 'null'] },
          lastStatus: { type: ['integer', 'null'] }, lastOutcome: { type: ['string', 'null'] },
        },
      },
    },
    tenantCount: { type: 'integer' },
  },
} as const;

/** Provisioning health at a glance: the provisioning log aggregated by time, IdP and cause of failure. */
export async function provisioningHealthRoutes(app: FastifyInstance, { deps }: { deps: AppDeps }): Promise<void> {
  app.get<{ Params: { tenantId: string }; Querystring: { hours: number } }>('/tenants/:tenantId/provisioning-health', {
    schema: {
      tags,
      summary: 'Provisioning health of a tenant: requests and failures over time, failures by cause with the fix, the last request of each IdP',
      params: tenantIdParams,
      querystring: query,
      response: { 200: tenantHealthSchema },
    },
  }, async (req) => {
    await requireTenant(deps.db, req.params.tenantId);
    return tenantHealth(deps.db, req.params.tenantId, healthWindow(req.query.hours));
  });

  app.get<{ Querystring: { hours: number } }>('/provisioning-health', {
    schema: {
      tags,
      summary: 'Provisioning health across tenants (operator only): requests and failures over time, causes, and each tenant\'s counts and last request',
      querystring: query,
      response: { 200: operatorHealthSchema },
    },
  }, async (req) => operatorHealth(deps.db, healthWindow(req.query.hours)));
}
