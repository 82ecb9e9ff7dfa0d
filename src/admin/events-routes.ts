import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app-deps.js';
import { tenantIdParams } from './tenants-routes.js';
import { listEvents } from '../events/outbox.js';
import { requireTenant } from './webhooks-shared.js';

/** The event stream of a tenant (what webhooks receive), read by sequence. */
export async function eventsRoutes(app: FastifyInstance, { deps }: { deps: AppDeps }): Promise<void> {
  app.get<{ Params: { tenantId: string }; Querystring: { limit: number; after?: number; type?: string } }>('/tenants/:tenantId/events', {
    schema: {
      tags: ['webhooks'],
      summary: 'The event stream of a tenant in sequence order (what webhooks receive); page with after=<last sequence>',
      params: tenantIdParams,
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
          after: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
          type: { type: 'string', maxLength: 100 },
        },
      },
    },
  }, async (req) => {
    await requireTenant(deps, req.params.tenantId);
    const events = await listEvents(deps.db, req.params.tenantId, { afterSequence: req.query.after, limit: req.query.limit, type: req.query.type });
    return { events, nextAfter: events.length === req.query.limit ? events[events.length - 1]!.sequence : null };
  });
}
