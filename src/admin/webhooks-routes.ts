import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app-deps.js';
import { ApiError, badRequest, notFound } from '../http/errors.js';
import { tenantIdParams } from './tenants-routes.js';
import { EVENT_TYPES, isValidEventFilter } from '../events/types.js';
import { checkWebhookTarget, createWebhook, deleteWebhook, listWebhooks, updateWebhook } from '../events/webhooks.js';
import { auditBefore } from '../audit/http.js';
import { requireTenant, requireWebhook, webhookParams } from './webhooks-shared.js';

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

const eventsFilter = { type: 'array', maxItems: 50, uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: 100 } } as const;
const urlField = { type: 'string', format: 'uri', minLength: 8, maxLength: 2000, pattern: '^https?://' } as const;
const secretField = { type: 'string', minLength: 16, maxLength: 512 } as const;

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

/** A secret can be stored only encrypted: without IDPBRIDGE_SECRET_KEY (PostgreSQL) the operator must set it first. */
function requireSecretKey(deps: AppDeps): void {
  if (!deps.secrets.enabled) throw new ApiError('ERR_SECRET_KEY_REQUIRED', 'IDPBRIDGE_SECRET_KEY is not set on this server, so a webhook secret cannot be stored; the operator must set it (docs/operator.md)');
}

function checkEvents(events: string[] | undefined): void {
  for (const e of events ?? []) {
    if (!isValidEventFilter(e)) throw badRequest(`unknown event type "${e}" (known: ${EVENT_TYPES.join(', ')}; or "prefix.*", "*")`);
  }
}

/** Webhooks of a tenant: create, list, get, change, delete. Deliveries and the event stream are in webhook-deliveries-routes.ts. */
export async function webhooksRoutes(app: FastifyInstance, { deps }: { deps: AppDeps }): Promise<void> {
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
      await requireTenant(deps, req.params.tenantId);
      checkUrl(req.body.url);
      checkWebhookTarget(req.body.url, deps.targets);
      checkEvents(req.body.events);
      requireSecretKey(deps);
      const w = await createWebhook(deps.db, req.params.tenantId, req.body, { secrets: deps.secrets, maxPerTenant: deps.config.webhooksPerTenantMax });
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
    await requireTenant(deps, req.params.tenantId);
    return { webhooks: await listWebhooks(deps.db, req.params.tenantId) };
  });

  app.get<{ Params: { tenantId: string; webhookId: string } }>('/tenants/:tenantId/webhooks/:webhookId', {
    schema: { tags: ['webhooks'], summary: 'Get a webhook', params: webhookParams, response: { 200: webhookSchema } },
  }, async (req) => requireWebhook(deps, req.params.tenantId, req.params.webhookId));

  app.patch<{
    Params: { tenantId: string; webhookId: string };
    Body: { url?: string; secret?: string; secretOverlapSeconds?: number; events?: string[]; description?: string | null; enabled?: boolean };
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
          secretOverlapSeconds: {
            type: 'integer', minimum: 0, maximum: 604800,
            description: 'with `secret`: how long deliveries stay signed with the previous secret too (two v1 values); default 86400, 0 = switch at once',
          },
          events: eventsFilter,
          description: { type: ['string', 'null'], maxLength: 500 },
          enabled: { type: 'boolean' },
        },
      },
      response: { 200: webhookSchema },
    },
  }, async (req) => {
    if (req.body.url !== undefined) {
      checkUrl(req.body.url);
      checkWebhookTarget(req.body.url, deps.targets);
    }
    checkEvents(req.body.events);
    if (req.body.secret !== undefined) requireSecretKey(deps);
    const w = await updateWebhook(deps.db, req.params.tenantId, req.params.webhookId, req.body, { secrets: deps.secrets });
    if (!w) throw notFound('webhook');
    const { replaced, ...view } = w;
    auditBefore(req, replaced);
    return view;
  });

  app.delete<{ Params: { tenantId: string; webhookId: string } }>('/tenants/:tenantId/webhooks/:webhookId', {
    schema: { tags: ['webhooks'], summary: 'Delete a webhook and its delivery history', params: webhookParams },
  }, async (req, reply) => {
    if (!(await deleteWebhook(deps.db, req.params.tenantId, req.params.webhookId))) throw notFound('webhook');
    req.log.info({ tenantId: req.params.tenantId, webhookId: req.params.webhookId }, 'webhook deleted');
    return reply.code(204).send();
  });
}
