import type { AppDeps } from '../app-deps.js';
import { getTenant } from '../tenants/tenants.js';
import { notFound } from '../http/errors.js';
import { getWebhook, type Webhook } from '../events/webhooks.js';

/** What the webhook routes (webhooks-routes.ts, webhook-deliveries-routes.ts) share: params and lookups. */

export const webhookParams = {
  type: 'object',
  required: ['tenantId', 'webhookId'],
  properties: { tenantId: { type: 'string', format: 'uuid' }, webhookId: { type: 'string', format: 'uuid' } },
} as const;

/** 404 unless the tenant exists. */
export async function requireTenant(deps: AppDeps, id: string): Promise<void> {
  if (!(await getTenant(deps.db, id))) throw notFound('tenant');
}

/** The tenant's webhook, or 404. */
export async function requireWebhook(deps: AppDeps, tenantId: string, id: string): Promise<Webhook> {
  const w = await getWebhook(deps.db, tenantId, id);
  if (!w) throw notFound('webhook');
  return w;
}
