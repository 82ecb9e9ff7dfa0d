import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app-deps.js';
import { getTenant } from '../tenants/tenants.js';
import { badRequest, notFound } from '../http/errors.js';
import { tenantIdParams } from './tenants-routes.js';
import { EVENT_TYPES, isValidEventFilter } from '../events/types.js';
import {
  createWebhook, deleteWebhook, getWebhook, listDeadLetters, listDeliveries, listWebhooks, redeliver, redeliverDead, updateWebhook,
  type Delivery, type DeliveryState, type Webhook,
} from '../events/webhooks.js';
import { listEvents } from '../events/outbox.js';

const webhookSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uuid' },
    url: { type: 'string' },
    description: { type: ['string', 'null'] },
    events: { type: 'array', items: { type: 'string' } },
    enabled: { type: 'boolean' },
    secretHint: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
    updatedAt: { type: 'string', format: 'date-time' },
    blockedUntil: { type: ['string', 'null'], format: 'date-time' },
    pending: { type: 'integer' },
    dead: { type: 'integer' },
  },
} as const;

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

const webhookParams = {
  type: 'object',
  required: ['tenantId', 'webhookId'],
  properties: { tenantId: { type: 'string', format: 'uuid' }, webhookId: { type: 'string', format: 'uuid' } },
} as const;

const eventsFilter = { type: 'array', maxItems: 50, uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: 100 } } as const;
const urlField = { type: 'string', minLength: 8, maxLength: 2000, pattern: '^https?://' } as const;
const secretField = { type: 'string', minLength: 16, maxLength: 512 } as const;

const pageQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
    cursor: { type: 'string', pattern: '^[0-9]{1,15}$', description: 'nextCursor of the previous page' },
  },
} as const;

function checkUrl(url: string): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw badRequest('url is not a valid URL');
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw badRequest('url must be http(s)');
  if (u.username || u.password) throw badRequest('url must not embed credentials; the signature authenticates deliveries');
}

function checkEvents(events: string[] | undefined): void {
  for (const e of events ?? []) {
    if (!isValidEventFilter(e)) throw badRequest(`unknown event type "${e}" (known: ${EVENT_TYPES.join(', ')}; or "prefix.*", "*")`);
  }
}

const page = (list: Delivery[], limit: number) => ({
  deliveries: list,
  nextCursor: list.length === limit ? String(list[list.length - 1]!.sequence) : null,
});

export async function webhooksRoutes(app: FastifyInstance, { deps }: { deps: AppDeps }): Promise<void> {
  const requireTenant = async (id: string) => {
    if (!(await getTenant(deps.db, id))) throw notFound('tenant');
  };
  const requireWebhook = async (tenantId: string, id: string): Promise<Webhook> => {
    const w = await getWebhook(deps.db, tenantId, id);
    if (!w) throw notFound('webhook');
    return w;
  };

  app.post<{ Params: { tenantId: string }; Body: { url: string; secret?: string; events?: string[]; description?: string; enabled?: boolean } }>(
    '/tenants/:tenantId/webhooks',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Create a webhook; the signing secret (generated unless given) is in this response only',
        params: tenantIdParams,
        body: {
          type: 'object',
          required: ['url'],
          additionalProperties: false,
          properties: {
            url: urlField,
            secret: secretField,
            events: { ...eventsFilter, description: 'event types, "prefix.*" or "*"; empty or absent = every event' },
            description: { type: 'string', maxLength: 500 },
            enabled: { type: 'boolean' },
          },
        },
        response: { 201: { ...webhookSchema, properties: { ...webhookSchema.properties, secret: { type: 'string' } } } },
      },
    },
    async (req, reply) => {
      await requireTenant(req.params.tenantId);
      checkUrl(req.body.url);
      checkEvents(req.body.events);
      const w = await createWebhook(deps.db, req.params.tenantId, req.body);
      req.log.info({ tenantId: req.params.tenantId, webhookId: w.id }, 'webhook created');
      reply.header('cache-control', 'no-store');
      return reply.code(201).send(w);
    },
  );

  app.get<{ Params: { tenantId: string } }>('/tenants/:tenantId/webhooks', {
    schema: {
      tags: ['webhooks'],
      summary: 'List webhooks (never the secrets) with their pending and dead-lettered counts',
      params: tenantIdParams,
      response: { 200: { type: 'object', properties: { webhooks: { type: 'array', items: webhookSchema } } } },
    },
  }, async (req) => {
    await requireTenant(req.params.tenantId);
    return { webhooks: await listWebhooks(deps.db, req.params.tenantId) };
  });

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
      await requireTenant(req.params.tenantId);
      const list = await listDeadLetters(deps.db, req.params.tenantId, {
        limit: req.query.limit,
        beforeSequence: req.query.cursor ? Number(req.query.cursor) : undefined,
      });
      return page(list, req.query.limit);
    },
  );

  app.get<{ Params: { tenantId: string; webhookId: string } }>('/tenants/:tenantId/webhooks/:webhookId', {
    schema: { tags: ['webhooks'], summary: 'Get a webhook', params: webhookParams, response: { 200: webhookSchema } },
  }, async (req) => requireWebhook(req.params.tenantId, req.params.webhookId));

  app.patch<{
    Params: { tenantId: string; webhookId: string };
    Body: { url?: string; secret?: string; events?: string[]; description?: string | null; enabled?: boolean };
  }>('/tenants/:tenantId/webhooks/:webhookId', {
    schema: {
      tags: ['webhooks'],
      summary: 'Change a webhook (url, events, enabled, description, or a new secret)',
      params: webhookParams,
      body: {
        type: 'object',
        additionalProperties: false,
        properties: {
          url: urlField,
          secret: secretField,
          events: eventsFilter,
          description: { type: ['string', 'null'], maxLength: 500 },
          enabled: { type: 'boolean' },
        },
      },
      response: { 200: webhookSchema },
    },
  }, async (req) => {
    if (req.body.url !== undefined) checkUrl(req.body.url);
    checkEvents(req.body.events);
    const w = await updateWebhook(deps.db, req.params.tenantId, req.params.webhookId, req.body);
    if (!w) throw notFound('webhook');
    return w;
  });

  app.delete<{ Params: { tenantId: string; webhookId: string } }>('/tenants/:tenantId/webhooks/:webhookId', {
    schema: { tags: ['webhooks'], summary: 'Delete a webhook and its delivery history', params: webhookParams },
  }, async (req, reply) => {
    if (!(await deleteWebhook(deps.db, req.params.tenantId, req.params.webhookId))) throw notFound('webhook');
    req.log.info({ tenantId: req.params.tenantId, webhookId: req.params.webhookId }, 'webhook deleted');
    return reply.code(204).send();
  });

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
      await requireWebhook(req.params.tenantId, req.params.webhookId);
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
    await requireWebhook(req.params.tenantId, req.params.webhookId);
    return reply.code(202).send({ requeued: await redeliverDead(deps.db, req.params.tenantId, req.params.webhookId) });
  });

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
    await requireTenant(req.params.tenantId);
    const events = await listEvents(deps.db, req.params.tenantId, { afterSequence: req.query.after, limit: req.query.limit, type: req.query.type });
    return { events, nextAfter: events.length === req.query.limit ? events[events.length - 1]!.sequence : null };
  });
}
