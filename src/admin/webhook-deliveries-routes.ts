import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app-deps.js';
import { notFound } from '../http/errors.js';
import { tenantIdParams } from './tenants-routes.js';
import { listDeadLetters, listDeliveries, redeliver, redeliverDead, type Delivery, type DeliveryState } from '../events/webhooks.js';
import { requireTenant, requireWebhook, webhookParams } from './webhooks-shared.js';

const deliverySchema = {
  type: 'object',
  properties: {
    webhookId: { type: 'string' },
    eventId: { type: 'string' },
    eventType: { type: 'string' },
    sequence: { type: 'integer' },
    state: { type: 'string', enum: ['pending', 'delivered', 'dead'] },
    attempts: { type: 'integer' },
    nextAttemptAt: { type: ['string', 'null'], format: 'date-time' },
    lastAttemptAt: { type: ['string', 'null'], format: 'date-time' },
    lastStatus: { type: ['integer', 'null'] },
    lastError: { type: ['string', 'null'] },
    deliveredAt: { type: ['string', 'null'], format: 'date-time' },
    deadAt: { type: ['string', 'null'], format: 'date-time' },
    createdAt: { type: 'string', format: 'date-time' },
  },
} as const;

const deliveryPage = {
  type: 'object',
  properties: { deliveries: { type: 'array', items: deliverySchema }, nextCursor: { type: ['string', 'null'] } },
} as const;

const pageQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
    cursor: { type: 'string', pattern: '^[0-9]{1,15}$', description: 'nextCursor of the previous page' },
  },
} as const;

const page = (list: Delivery[], limit: number) => ({
  deliveries: list,
  nextCursor: list.length === limit ? String(list[list.length - 1]!.sequence) : null,
});

/** Deliveries of a tenant's webhooks: listing with status, dead letters, redelivery. */
export async function webhookDeliveriesRoutes(app: FastifyInstance, { deps }: { deps: AppDeps }): Promise<void> {
  app.get<{ Params: { tenantId: string }; Querystring: { limit: number; cursor?: string } }>(
    '/tenants/:tenantId/webhooks/dead-letters',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Dead-lettered deliveries of every webhook of the tenant, most recent first',
        params: tenantIdParams,
        querystring: pageQuery,
        response: { 200: deliveryPage },
      },
    },
    async (req) => {
      await requireTenant(deps, req.params.tenantId);
      const list = await listDeadLetters(deps.db, req.params.tenantId, {
        limit: req.query.limit,
        beforeSequence: req.query.cursor ? Number(req.query.cursor) : undefined,
      });
      return page(list, req.query.limit);
    },
  );

  app.get<{ Params: { tenantId: string; webhookId: string }; Querystring: { limit: number; cursor?: string; status?: DeliveryState } }>(
    '/tenants/:tenantId/webhooks/:webhookId/deliveries',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Deliveries of a webhook with their status, most recent event first',
        params: webhookParams,
        querystring: {
          ...pageQuery,
          properties: { ...pageQuery.properties, status: { type: 'string', enum: ['pending', 'delivered', 'dead'] } },
        },
        response: { 200: deliveryPage },
      },
    },
    async (req) => {
      await requireWebhook(deps, req.params.tenantId, req.params.webhookId);
      const list = await listDeliveries(deps.db, req.params.tenantId, req.params.webhookId, {
        state: req.query.status,
        limit: req.query.limit,
        beforeSequence: req.query.cursor ? Number(req.query.cursor) : undefined,
      });
      return page(list, req.query.limit);
    },
  );

  app.post<{ Params: { tenantId: string; webhookId: string; eventId: string } }>(
    '/tenants/:tenantId/webhooks/:webhookId/deliveries/:eventId/redeliver',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Send a delivery again (dead-lettered or delivered), next in the queue, with the same event id',
        params: {
          type: 'object',
          required: ['tenantId', 'webhookId', 'eventId'],
          properties: {
            tenantId: { type: 'string', format: 'uuid' },
            webhookId: { type: 'string', format: 'uuid' },
            eventId: { type: 'string', format: 'uuid' },
          },
        },
      },
    },
    async (req, reply) => {
      if (!(await redeliver(deps.db, req.params.tenantId, req.params.webhookId, req.params.eventId))) throw notFound('delivery');
      return reply.code(202).send({ requeued: 1 });
    },
  );

  app.post<{ Params: { tenantId: string; webhookId: string } }>('/tenants/:tenantId/webhooks/:webhookId/dead-letters/redeliver', {
    schema: { tags: ['webhooks'], summary: 'Requeue every dead-lettered delivery of a webhook, in event order', params: webhookParams },
  }, async (req, reply) => {
    await requireWebhook(deps, req.params.tenantId, req.params.webhookId);
    return reply.code(202).send({ requeued: await redeliverDead(deps.db, req.params.tenantId, req.params.webhookId) });
  });
}
