import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app-deps.js';
import { addManualMember, idpMembershipOf, membersOfAccessGroup, removeManualMember } from '../access/access-groups.js';
import { identityExists } from '../access/identities.js';
import { conflict, notFound } from '../http/errors.js';
import { memberSchema, nullableString, params, uuid } from './access-schemas.js';
import { requireAccessGroup, tags, type PA } from './access-groups-routes.js';

/** Members of an access group: the effective list (linked IdP group ∪ manual), adding and removing manual members. */
export async function accessGroupMembersRoutes(app: FastifyInstance, { deps }: { deps: AppDeps }): Promise<void> {
  const db = deps.db;
  const requireAg = (tenantId: string, agId: string) => requireAccessGroup(db, tenantId, agId);

  app.get<{ Params: PA; Querystring: { limit: number; after?: string } }>('/tenants/:tenantId/access-groups/:agId/members', {
    schema: {
      tags,
      summary: 'Effective members: members of the linked IdP group ∪ manual members, derived now; keyset-paged by id',
      params: params('tenantId', 'agId'),
      querystring: {
        type: 'object',
        properties: { limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 }, after: { ...uuid, description: 'Last id of the previous page' } },
      },
      response: { 200: { type: 'object', properties: { members: { type: 'array', items: memberSchema }, next: nullableString } } },
    },
  }, async (req) => {
    await requireAg(req.params.tenantId, req.params.agId);
    const members = await membersOfAccessGroup(db, req.params.tenantId, req.params.agId, req.query);
    return { members, next: members.length === req.query.limit ? members[members.length - 1]!.id : null };
  });

  app.post<{ Params: PA; Body: { identityId: string } }>('/tenants/:tenantId/access-groups/:agId/members', {
    schema: {
      tags,
      summary: 'Add an identity to an access group by hand (in addition to the linked IdP group members)',
      params: params('tenantId', 'agId'),
      body: { type: 'object', required: ['identityId'], additionalProperties: false, properties: { identityId: uuid } },
      response: { 201: { type: 'object', properties: { identityId: uuid, manual: { type: 'boolean' } } } },
    },
  }, async (req, reply) => {
    await requireAg(req.params.tenantId, req.params.agId);
    if (!(await identityExists(db, req.params.tenantId, req.body.identityId))) throw notFound('identity');
    const created = await addManualMember(db, req.params.tenantId, req.params.agId, req.body.identityId);
    return reply.code(created ? 201 : 200).send({ identityId: req.body.identityId, manual: true });
  });

  app.delete<{ Params: PA & { identityId: string } }>('/tenants/:tenantId/access-groups/:agId/members/:identityId', {
    schema: {
      tags,
      summary: 'Remove a manual member (membership through the linked IdP group is changed in the IdP)',
      params: params('tenantId', 'agId', 'identityId'),
    },
  }, async (req, reply) => {
    const { tenantId, agId, identityId } = req.params;
    await requireAg(tenantId, agId);
    if (await removeManualMember(db, tenantId, agId, identityId)) return reply.code(204).send();
    const viaGroup = await idpMembershipOf(db, tenantId, agId, identityId);
    if (viaGroup) {
      throw conflict(`Identity ${identityId} is a member through the IdP group "${viaGroup}" linked to this access group; remove it from that group in the IdP`);
    }
    throw notFound('member');
  });
}
