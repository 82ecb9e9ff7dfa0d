import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppDeps } from '../../app-deps.js';
import { tenantSchemas, type ScimContext } from './context.js';
import { parseListQuery, parseProjection, parseSearchRequest, type ListQuery } from './list-query.js';
import { listResponse, project, wants } from './render.js';
import { etagOf, notModified } from './etag.js';
import * as users from './users-service.js';
import * as groups from './groups-service.js';
import { publicBaseUrl } from '../../admin/base-url.js';
import { InvalidSyntaxError } from '../errors.js';

type Req = FastifyRequest<{ Params: { tenantId: string; id?: string }; Querystring: Record<string, unknown> }>;

export function scimContext(req: FastifyRequest, deps: AppDeps): ScimContext {
  const p = req.scim!;
  const { users: u, groups: g } = tenantSchemas(p.settings);
  return {
    db: deps.db,
    tenantId: p.tenantId,
    settings: p.settings,
    baseUrl: `${publicBaseUrl(req, deps.config.publicUrl)}/scim/v2/${p.tenantId}`,
    users: u,
    groups: g,
    observer: deps.observer,
    membersInlineMax: deps.config.groupMembersInlineMax,
  };
}

function sendResource(reply: FastifyReply, status: number, body: Record<string, unknown>, version: number, location?: string) {
  reply.header('etag', etagOf(version));
  if (location) reply.header('location', location);
  return reply.code(status).send(body);
}

export async function resourceRoutes(app: FastifyInstance, { deps }: { deps: AppDeps }): Promise<void> {
  const max = deps.config.filterMaxResults;
  const ifMatch = (req: FastifyRequest) => req.headers['if-match'];

  // ---- Users ----
  const listUsers = async (ctx: ScimContext, q: ListQuery) => {
    const { total, views } = await users.listUsers(ctx, q, wants(q, 'groups'));
    return listResponse(views.map((v) => project(ctx.users, users.renderUser(ctx, v), q)), total, q.startIndex);
  };

  app.get('/Users', async (req: Req) => listUsers(scimContext(req, deps), parseListQuery(req.query, max)));
  app.post('/Users/.search', async (req: Req, reply) => reply.code(200).send(await listUsers(scimContext(req, deps), parseSearchRequest(req.body, max))));

  app.get('/Users/:id', async (req: Req, reply) => {
    const ctx = scimContext(req, deps);
    const q = parseProjection(req.query);
    const v = await users.getUser(ctx, req.params.id!, wants(q, 'groups'));
    if (notModified(req.headers['if-none-match'], v.row.version)) return reply.code(304).header('etag', etagOf(v.row.version)).send();
    return sendResource(reply, 200, project(ctx.users, users.renderUser(ctx, v), q), v.row.version);
  });

  app.post('/Users', async (req: Req, reply) => {
    const ctx = scimContext(req, deps);
    const q = parseProjection(req.query);
    const { view } = await users.createUser(ctx, req.body);
    const body = users.renderUser(ctx, view);
    return sendResource(reply, 201, project(ctx.users, body, q), view.row.version, `${ctx.baseUrl}/Users/${view.row.id}`);
  });

  app.put('/Users/:id', async (req: Req, reply) => {
    const ctx = scimContext(req, deps);
    const v = await users.replaceUser(ctx, req.params.id!, req.body, ifMatch(req));
    return sendResource(reply, 200, project(ctx.users, users.renderUser(ctx, v), parseProjection(req.query)), v.row.version);
  });

  // RFC 7644 §3.5.2: 200 with the resource, or 204. 204 unless the client asks for attributes:
  // Microsoft's validation suite expects it, Okta and Entra accept both.
  app.patch('/Users/:id', async (req: Req, reply) => {
    const ctx = scimContext(req, deps);
    const q = parseProjection(req.query);
    const v = await users.patchUser(ctx, req.params.id!, req.body, ifMatch(req));
    if (q.attributes.length === 0 && q.excludedAttributes.length === 0) return reply.code(204).header('etag', etagOf(v.row.version)).send();
    return sendResource(reply, 200, project(ctx.users, users.renderUser(ctx, v), q), v.row.version);
  });

  app.delete('/Users/:id', async (req: Req, reply) => {
    await users.deleteUser(scimContext(req, deps), req.params.id!, ifMatch(req));
    return reply.code(204).send();
  });

  // ---- Groups ----
  const listGroups = async (ctx: ScimContext, q: ListQuery) => {
    const { total, views } = await groups.listGroups(ctx, q, wants(q, 'members'));
    return listResponse(views.map((v) => project(ctx.groups, groups.renderGroup(ctx, v), q)), total, q.startIndex);
  };

  app.get('/Groups', async (req: Req) => listGroups(scimContext(req, deps), parseListQuery(req.query, max)));
  app.post('/Groups/.search', async (req: Req, reply) => reply.code(200).send(await listGroups(scimContext(req, deps), parseSearchRequest(req.body, max))));

  app.get('/Groups/:id', async (req: Req, reply) => {
    const ctx = scimContext(req, deps);
    const q = parseProjection(req.query);
    const v = await groups.getGroup(ctx, req.params.id!, wants(q, 'members'));
    if (notModified(req.headers['if-none-match'], v.row.version)) return reply.code(304).header('etag', etagOf(v.row.version)).send();
    return sendResource(reply, 200, project(ctx.groups, groups.renderGroup(ctx, v), q), v.row.version);
  });

  app.post('/Groups', async (req: Req, reply) => {
    const ctx = scimContext(req, deps);
    const v = await groups.createGroup(ctx, req.body);
    return sendResource(reply, 201, project(ctx.groups, groups.renderGroup(ctx, v), parseProjection(req.query)), v.row.version, `${ctx.baseUrl}/Groups/${v.row.id}`);
  });

  app.put('/Groups/:id', async (req: Req, reply) => {
    const ctx = scimContext(req, deps);
    const q = parseProjection(req.query);
    const v = await groups.replaceGroup(ctx, req.params.id!, req.body, ifMatch(req), wants(q, 'members'));
    return sendResource(reply, 200, project(ctx.groups, groups.renderGroup(ctx, v), q), v.row.version);
  });

  // 204 by default (RFC 7644 §3.5.2 allows it): returning a 100k-member group would make PATCH O(n).
  app.patch('/Groups/:id', async (req: Req, reply) => {
    const ctx = scimContext(req, deps);
    const q = parseProjection(req.query);
    const asked = q.attributes.length > 0 || q.excludedAttributes.length > 0;
    const v = await groups.patchGroup(ctx, req.params.id!, req.body, ifMatch(req), asked && wants(q, 'members'));
    if (!asked) return reply.code(204).header('etag', etagOf(v.row.version)).send();
    return sendResource(reply, 200, project(ctx.groups, groups.renderGroup(ctx, v), q), v.row.version);
  });

  app.delete('/Groups/:id', async (req: Req, reply) => {
    await groups.deleteGroup(scimContext(req, deps), req.params.id!, ifMatch(req));
    return reply.code(204).send();
  });

  // ---- root search: Users then Groups, paged as one list (RFC 7644 §3.4.3) ----
  app.post('/.search', async (req: Req, reply) => {
    const ctx = scimContext(req, deps);
    const q = parseSearchRequest(req.body, max);
    // Attributes differ per type; a filter on an attribute one type lacks simply excludes that type.
    const countOnly = { ...q, startIndex: 1, count: 0 };
    const userTotal = (await users.listUsers(ctx, countOnly, false).catch(noMatch)).total;
    const groupTotal = (await groups.listGroups(ctx, countOnly, false).catch(noMatch)).total;
    const resources: Record<string, unknown>[] = [];
    const start = q.startIndex - 1;
    if (start < userTotal && q.count > 0) {
      const { views } = await users.listUsers(ctx, { ...q, count: Math.min(q.count, userTotal - start) }, wants(q, 'groups'));
      resources.push(...views.map((v) => project(ctx.users, users.renderUser(ctx, v), q)));
    }
    const left = q.count - resources.length;
    if (left > 0 && groupTotal > 0) {
      const gStart = Math.max(0, start - userTotal);
      const { views } = await groups.listGroups(ctx, { ...q, startIndex: gStart + 1, count: left }, wants(q, 'members'));
      resources.push(...views.map((v) => project(ctx.groups, groups.renderGroup(ctx, v), q)));
    }
    return reply.code(200).send(listResponse(resources, userTotal + groupTotal, q.startIndex));
  });

  app.get('/.search', async () => {
    throw new InvalidSyntaxError('/.search takes POST with a SearchRequest body');
  });
}

function noMatch(err: unknown): { total: number; views: never[] } {
  // An attribute unknown to one resource type: that type contributes nothing to a root search.
  if ((err as { scimType?: string }).scimType === 'invalidFilter') return { total: 0, views: [] };
  throw err;
}
