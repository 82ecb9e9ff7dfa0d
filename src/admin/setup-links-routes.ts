import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app-deps.js';
import { getTenant } from '../tenants/tenants.js';
import {
  createSetupLink, listSetupLinks, revokeSetupLink, SETUP_LINK_DEFAULT_MS, SETUP_LINK_MAX_MS, type SetupLink,
} from '../console/setup-links.js';
import { badRequest, notFound } from '../http/errors.js';
import { publicBaseUrl } from '../http/base-url.js';
import { params } from './access-schemas.js';

const tags = ['setup-links'];

const linkSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uuid' },
    createdAt: { type: 'string', format: 'date-time' },
    expiresAt: { type: 'string', format: 'date-time' },
    revokedAt: { type: ['string', 'null'], format: 'date-time' },
    lastUsedAt: { type: ['string', 'null'], format: 'date-time', description: 'When the link last opened a console session' },
    status: { type: 'string', enum: ['active', 'expired', 'revoked'] },
  },
} as const;

const view = (l: SetupLink) => ({
  id: l.id, createdAt: l.createdAt.toISOString(), expiresAt: l.expiresAt.toISOString(),
  revokedAt: l.revokedAt?.toISOString() ?? null, lastUsedAt: l.lastUsedAt?.toISOString() ?? null, status: l.status,
});

/**
 * Set-up links: a time-limited, revocable link the operator (or the host product) hands a customer's
 * IT admin. Opening it gives a console session scoped to that tenant, without a password account.
 * Operator only (src/admin/operator-guard.ts refuses tenant-admin sessions here).
 */
export async function setupLinksRoutes(app: FastifyInstance, { deps }: { deps: AppDeps }): Promise<void> {
  const requireTenant = async (id: string) => {
    if (!(await getTenant(deps.db, id))) throw notFound('tenant');
  };

  app.post<{ Params: { tenantId: string }; Body: { expiresAt?: string; expiresInDays?: number } | undefined }>('/tenants/:tenantId/setup-links', {
    schema: {
      tags,
      summary: 'Create a set-up link for the tenant\'s IT admin; its secret is in the url of this response only',
      params: params('tenantId'),
      body: {
        type: ['object', 'null'],
        additionalProperties: false,
        properties: {
          expiresAt: { type: 'string', format: 'date-time', description: 'When the link stops working (at most 30 days ahead); default 7 days' },
          expiresInDays: { type: 'integer', minimum: 1, maximum: 30, description: 'Alternative to expiresAt' },
        },
      },
      response: { 201: { type: 'object', properties: { ...linkSchema.properties, url: { type: 'string' } } } },
    },
  }, async (req, reply) => {
    const { tenantId } = req.params;
    const b = req.body ?? {};
    if (b.expiresAt !== undefined && b.expiresInDays !== undefined) throw badRequest('Give either expiresAt or expiresInDays, not both');
    const now = Date.now();
    const expiresAt = new Date(b.expiresAt !== undefined ? Date.parse(b.expiresAt)
      : now + (b.expiresInDays !== undefined ? b.expiresInDays * 24 * 60 * 60 * 1000 : SETUP_LINK_DEFAULT_MS));
    if (expiresAt.getTime() <= now) throw badRequest('expiresAt must be in the future');
    if (expiresAt.getTime() > now + SETUP_LINK_MAX_MS + 60_000) throw badRequest('A set-up link lives at most 30 days: choose an earlier expiresAt');
    await requireTenant(tenantId);
    const { link, secret } = await createSetupLink(deps.db, tenantId, expiresAt);
    // The secret travels in the URL fragment: browsers never send it to a server or in a Referer.
    const url = `${publicBaseUrl(req, deps.config.publicUrl)}/console/#/setup/${tenantId}/${secret}`;
    req.log.info({ tenantId, setupLinkId: link.id, expiresAt: link.expiresAt.toISOString() }, 'setup link created');
    reply.header('cache-control', 'no-store');
    return reply.code(201).send({ ...view(link), url });
  });

  app.get<{ Params: { tenantId: string } }>('/tenants/:tenantId/setup-links', {
    schema: {
      tags,
      summary: 'List the tenant\'s set-up links (without their secrets)',
      params: params('tenantId'),
      response: { 200: { type: 'object', properties: { setupLinks: { type: 'array', items: linkSchema } } } },
    },
  }, async (req) => {
    await requireTenant(req.params.tenantId);
    return { setupLinks: (await listSetupLinks(deps.db, req.params.tenantId)).map(view) };
  });

  app.delete<{ Params: { tenantId: string; linkId: string } }>('/tenants/:tenantId/setup-links/:linkId', {
    schema: {
      tags,
      summary: 'Revoke a set-up link: it no longer opens the console, and the sessions it opened end at once',
      params: params('tenantId', 'linkId'),
    },
  }, async (req, reply) => {
    const { tenantId, linkId } = req.params;
    const found = await deps.db.transaction((tx) => revokeSetupLink(tx, tenantId, linkId));
    if (!found) throw notFound('setup link');
    req.log.info({ tenantId, setupLinkId: linkId }, 'setup link revoked');
    return reply.code(204).send();
  });
}
