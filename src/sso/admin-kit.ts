import type { Queryable } from '../db/types.js';
import { notFound } from '../http/errors.js';
import { getTenant } from '../tenants/tenants.js';

/** What the broker's admin route modules share (OpenAPI tag, path parameters, the tenant check). */
export const tags = ['sso'];
export type P = { tenantId: string };

/** Path parameters that are all UUIDs. */
export const params = (...names: string[]) => ({
  type: 'object',
  required: names,
  properties: Object.fromEntries(names.map((n) => [n, { type: 'string', format: 'uuid' }])),
}) as const;

export async function requireTenant(db: Queryable, tenantId: string): Promise<void> {
  if (!(await getTenant(db, tenantId))) throw notFound('tenant');
}
