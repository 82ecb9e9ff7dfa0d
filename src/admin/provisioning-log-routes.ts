import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app-deps.js';
import { getTenant } from '../tenants/tenants.js';
import { badRequest, notFound } from '../http/errors.js';
import { tenantIdParams } from './tenants-routes.js';
import { decodeCursor, queryProvisioningLog, type LogQuery, type LogRow, type Outcome } from '../events/provisioning-log.js';

const entrySchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    at: { type: 'string', format: 'date-time' },
    method: { type: 'string' },
    path: { type: 'string' },
    idp: { type: 'string', description: 'entra, okta, onelogin, jumpcloud, ping, google or other (from the User-Agent)' },
    userAgent: { type: ['string', 'null'] },
    credentialId: { type: ['string', 'null'] },
    operation: { type: 'string' },
    outcome: { type: 'string', enum: ['success', 'failure', 'error'] },
    status: { type: 'integer' },
    resourceType: { type: ['string', 'null'] },
    resourceId: { type: ['string', 'null'] },
    summary: { type: ['object', 'null'], additionalProperties: true },
    error: { type: ['object', 'null'], additionalProperties: true },
    durationMs: { type: ['number', 'null'] },
  },
} as const;

const view = (r: LogRow) => ({
  id: String(r.id),
  at: r.at,
  method: r.method,
  path: r.path,
  idp: r.idp,
  userAgent: r.user_agent,
  credentialId: r.credential_id,
  operation: r.operation,
  outcome: r.outcome,
  status: r.status,
  resourceType: r.resource_type,
  resourceId: r.resource_id,
  summary: r.summary,
  error: r.error,
  durationMs: r.duration_ms,
});

type Query = {
  from?: string; to?: string; outcome?: Outcome; resourceType?: string; resourceId?: string; method?: string; idp?: string;
  operation?: string; limit: number; cursor?: string;
};

export async function provisioningLogRoutes(app: FastifyInstance, { deps }: { deps: AppDeps }): Promise<void> {
  app.get<{ Params: { tenantId: string }; Querystring: Query }>('/tenants/:tenantId/provisioning-log', {
    schema: {
      tags: ['provisioning-log'],
      summary: 'SCIM requests of a tenant, newest first: time range, outcome, resource filters; page with cursor',
      params: tenantIdParams,
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          from: { type: 'string', format: 'date-time', description: 'inclusive' },
          to: { type: 'string', format: 'date-time', description: 'exclusive' },
          outcome: { type: 'string', enum: ['success', 'failure', 'error'] },
          resourceType: { type: 'string', enum: ['User', 'Group', 'Bulk', 'Discovery'] },
          resourceId: { type: 'string', maxLength: 200 },
          method: { type: 'string', enum: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'get', 'post', 'put', 'patch', 'delete'] },
          idp: { type: 'string', maxLength: 50 },
          operation: { type: 'string', maxLength: 50 },
          limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
          cursor: { type: 'string', maxLength: 200 },
        },
      },
      response: {
        200: { type: 'object', properties: { entries: { type: 'array', items: entrySchema }, nextCursor: { type: ['string', 'null'] } } },
      },
    },
  }, async (req) => {
    if (!(await getTenant(deps.db, req.params.tenantId))) throw notFound('tenant');
    const q = req.query;
    if (q.cursor && !decodeCursor(q.cursor)) throw badRequest('invalid cursor');
    for (const k of ['from', 'to'] as const) {
      const y = q[k] ? new Date(q[k]!).getUTCFullYear() : 2000;
      if (!(y >= 1 && y <= 9999)) throw badRequest(`${k} must be a date between the years 1 and 9999`);
    }
    const lq: LogQuery = {
      from: q.from ? new Date(q.from) : undefined,
      to: q.to ? new Date(q.to) : undefined,
      outcome: q.outcome,
      resourceType: q.resourceType,
      resourceId: q.resourceId,
      method: q.method,
      idp: q.idp,
      operation: q.operation,
      limit: q.limit,
      cursor: q.cursor,
    };
    const { entries, nextCursor } = await queryProvisioningLog(deps.db, req.params.tenantId, lq);
    return { entries: entries.map(view), nextCursor };
  });
}
