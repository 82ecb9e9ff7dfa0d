import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppDeps } from '../../app-deps.js';
import { type ScimContext } from './context.js';
import { tenantSchemas } from '../../tenants/settings.js';
import { parseListQuery, parseProjection, parseSearchRequest, type ListQuery } from './list-query.js';
import { listResponse, project, wants } from './render.js';
import { etagOf, notModified } from './etag.js';
import * as users from './users-service.js';
import * as groups from './groups-service.js';
import type { ListedPage } from './list-page.js';
import { publicBaseUrl } from '../../http/base-url.js';
import { tenantSlotOf } from '../../http/tenant-concurrency.js';
import { InvalidCursorError, InvalidSyntaxError } from '../errors.js';
import type { ResourceSchemas } from '../schema/types.js';

type Req = FastifyRequest<{ Params: { tenantId: string; id?: string }; Querystring: Record<string, unknown> }>;

/**
 * A tenant's schemas per settings object: the principal (and so its settings object) is cached by
 * the credentials verifier and shared by its requests, which skip tenantSchemas' key building.
 */
const schemasBySettings = new WeakMap<object, ReturnType<typeof tenantSchemas>>();

function schemasOf(settings: ScimContext['settings']): ReturnType<typeof tenantSchemas> {
  let s = schemasBySettings.get(settings);
  if (!s) schemasBySettings.set(settings, (s = tenantSchemas(settings)));
  return s;
}

export function scimContext(req: FastifyRequest, deps: AppDeps): ScimContext {
  const p = req.scim!;
  const { users: u, groups: g } = schemasOf(p.settings);
  return {
    db: deps.db,
    tenantId: p.tenantId,
    settings: p.settings,
    baseUrl: `${publicBaseUrl(req, deps.config.publicUrl)}/scim/v2/${p.tenantId}`,
    users: u,
    groups: g,
    observer: deps.observer,
    membersInlineMax: deps.config.groupMembersInlineMax,
    membersPageMax: deps.config.groupMembersPageMax,
    groupNames: deps.groupNames,
    slot: tenantSlotOf(req),
  };
}

function sendResource(reply: FastifyReply, status: number, body: Record<string, unknown>, version: number, location?: string) {
  reply.header('etag', etagOf(version));
  if (location) reply.header('location', location);
  return reply.code(status).send(body);
}

/** What the generic routes need of a resource type (Users or Groups). */
interface ResourceAdapter<V extends { row: { id: string; version: number } }> {
  endpoint: 'Users' | 'Groups';
  /** The multi-valued attribute that is loaded from other rows (user groups / group members). */
  child: 'groups' | 'members';
  rs(ctx: ScimContext): ResourceSchemas;
  list(ctx: ScimContext, q: ListQuery, withChild: boolean): Promise<ListedPage<V>>;
  get(ctx: ScimContext, id: string, withChild: boolean): Promise<V>;
  create(ctx: ScimContext, body: unknown): Promise<V>;
  replace(ctx: ScimContext, id: string, body: unknown, ifMatch: string | undefined, withChild: boolean): Promise<V>;
  patch(ctx: ScimContext, id: string, body: unknown, ifMatch: string | undefined, withChild: boolean): Promise<V>;
  remove(ctx: ScimContext, id: string, ifMatch: string | undefined): Promise<void>;
  render(ctx: ScimContext, v: V): Record<string, unknown>;
}

const usersAdapter: ResourceAdapter<users.UserView> = {
  endpoint: 'Users',
  child: 'groups',
  rs: (ctx) => ctx.users,
  list: users.listUsers,
  get: users.getUser,
  create: async (ctx, body) => (await users.createUser(ctx, body)).view,
  replace: (ctx, id, body, ifMatch) => users.replaceUser(ctx, id, body, ifMatch),
  patch: (ctx, id, body, ifMatch) => users.patchUser(ctx, id, body, ifMatch),
  remove: users.deleteUser,
  render: users.renderUser,
};

const groupsAdapter: ResourceAdapter<groups.GroupView> = {
  endpoint: 'Groups',
  child: 'members',
  rs: (ctx) => ctx.groups,
  list: groups.listGroups,
  get: groups.getGroup,
  create: groups.createGroup,
  replace: groups.replaceGroup,
  patch: groups.patchGroup,
  remove: groups.deleteGroup,
  render: groups.renderGroup,
};

function registerResource<V extends { row: { id: string; version: number } }>(app: FastifyInstance, deps: AppDeps, r: ResourceAdapter<V>): void {
  const max = deps.config.filterMaxResults;
  const ifMatch = (req: FastifyRequest) => req.headers['if-match'];
  const base = `/${r.endpoint}`;
  const list = async (ctx: ScimContext, q: ListQuery) => {
    const { total, views, nextCursor, previousCursor } = await r.list(ctx, q, wants(q, r.child));
    return listResponse(views.map((v) => project(r.rs(ctx), r.render(ctx, v), q)), total, q.cursor !== undefined ? { nextCursor, previousCursor } : q.startIndex);
  };

  app.get(base, async (req: Req) => list(scimContext(req, deps), parseListQuery(req.query, max)));
  app.post(`${base}/.search`, async (req: Req, reply) => reply.code(200).send(await list(scimContext(req, deps), parseSearchRequest(req.body, max))));

  app.get(`${base}/:id`, async (req: Req, reply) => {
    const ctx = scimContext(req, deps);
    const q = parseProjection(req.query);
    const v = await r.get(ctx, req.params.id!, wants(q, r.child));
    if (notModified(req.headers['if-none-match'], v.row.version)) return reply.code(304).header('etag', etagOf(v.row.version)).send();
    return sendResource(reply, 200, project(r.rs(ctx), r.render(ctx, v), q), v.row.version);
  });

  app.post(base, async (req: Req, reply) => {
    const ctx = scimContext(req, deps);
    const v = await r.create(ctx, req.body);
    return sendResource(reply, 201, project(r.rs(ctx), r.render(ctx, v), parseProjection(req.query)), v.row.version, `${ctx.baseUrl}${base}/${v.row.id}`);
  });

  app.put(`${base}/:id`, async (req: Req, reply) => {
    const ctx = scimContext(req, deps);
    const q = parseProjection(req.query);
    const v = await r.replace(ctx, req.params.id!, req.body, ifMatch(req), wants(q, r.child));
    return sendResource(reply, 200, project(r.rs(ctx), r.render(ctx, v), q), v.row.version);
  });

  // RFC 7644 §3.5.2: 200 with the resource, or 204. 204 unless the client asks for attributes:
  // Microsoft's validation suite expects it, Okta and Entra accept both, and returning a
  // 100k-member group would make a member PATCH O(n).
  app.patch(`${base}/:id`, async (req: Req, reply) => {
    const ctx = scimContext(req, deps);
    const q = parseProjection(req.query);
    const asked = q.attributes.length > 0 || q.excludedAttributes.length > 0;
    const v = await r.patch(ctx, req.params.id!, req.body, ifMatch(req), asked && wants(q, r.child));
    if (!asked) return reply.code(204).header('etag', etagOf(v.row.version)).send();
    return sendResource(reply, 200, project(r.rs(ctx), r.render(ctx, v), q), v.row.version);
  });

  app.delete(`${base}/:id`, async (req: Req, reply) => {
    await r.remove(scimContext(req, deps), req.params.id!, ifMatch(req));
    return reply.code(204).send();
  });
}

export async function resourceRoutes(app: FastifyInstance, { deps }: { deps: AppDeps }): Promise<void> {
  const max = deps.config.filterMaxResults;
  registerResource(app, deps, usersAdapter);
  registerResource(app, deps, groupsAdapter);

  // ---- root search: Users then Groups, paged as one list (RFC 7644 §3.4.3) ----
  app.post('/.search', async (req: Req, reply) => {
    const ctx = scimContext(req, deps);
    const q = parseSearchRequest(req.body, max);
    if (q.cursor !== undefined) throw new InvalidCursorError('A root search pages by startIndex: cursor paging is per resource type (/Users, /Groups)');
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
