import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app-deps.js';
import {
  createManualIdentity, deleteManualIdentity, getIdentityDetail, listIdentities, updateIdentity, type IdentityInput,
} from '../access/identities.js';
import { identityExists } from '../access/identities.js';
import { identityOverrides, setIdentityOverrides } from '../access/provisioning-overrides.js';
import { notFound } from '../http/errors.js';
import { auditBefore } from '../audit/http.js';
import { registerOverridesRoutes } from './provisioning-overrides-routes.js';
import { identityDetailSchema, identitySchema, pageQuery, params, requireTenant } from './access-schemas.js';

const tags = ['users'];
type P = { tenantId: string };
type PU = P & { userId: string };

const inputProps = {
  userName: { type: 'string', minLength: 1, maxLength: 256 },
  displayName: { type: ['string', 'null'], maxLength: 256 },
  externalId: { type: ['string', 'null'], maxLength: 500 },
  name: {
    type: ['object', 'null'], additionalProperties: false,
    properties: { givenName: { type: 'string' }, familyName: { type: 'string' }, formatted: { type: 'string' } },
  },
  emails: {
    type: ['array', 'null'], maxItems: 20,
    items: {
      type: 'object', required: ['value'], additionalProperties: false,
      properties: { value: { type: 'string', minLength: 3, maxLength: 320 }, type: { type: 'string' }, primary: { type: 'boolean' } },
    },
  },
  status: { type: 'string', enum: ['staged', 'active', 'suspended'], description: 'Product-owned; for provisioned identities only staged → active' },
  userType: { type: ['string', 'null'], maxLength: 200, description: 'Checked against the tenant\'s userTypeAllowList' },
  roles: { type: ['array', 'null'], maxItems: 100, items: { type: 'string', minLength: 1, maxLength: 200 } },
  metadata: { type: ['object', 'null'], additionalProperties: { type: 'string', maxLength: 2000 } },
  grants: { type: ['array', 'null'], maxItems: 1000, items: { type: 'string', minLength: 1, maxLength: 500 }, description: 'Direct grants: dataset ids or externalIds' },
} as const;

export async function usersRoutes(app: FastifyInstance, { deps }: { deps: AppDeps }): Promise<void> {
  const db = deps.db;

  app.post<{ Params: P; Body: IdentityInput & { userName: string } }>('/tenants/:tenantId/users', {
    schema: {
      tags,
      summary: 'Create a manual identity (a later SCIM create with the same userName adopts it)',
      params: params('tenantId'),
      body: { type: 'object', required: ['userName'], additionalProperties: false, properties: inputProps },
      response: { 201: identityDetailSchema },
    },
  }, async (req, reply) => {
    await requireTenant(db, req.params.tenantId);
    return reply.code(201).send(await createManualIdentity(db, req.params.tenantId, req.body));
  });

  app.get<{ Params: P; Querystring: { limit: number; offset: number; source?: string; status?: string; userName?: string } }>('/tenants/:tenantId/users', {
    schema: {
      tags,
      summary: 'List identities (provisioned and manual) with source and status',
      params: params('tenantId'),
      querystring: {
        ...pageQuery,
        properties: {
          ...pageQuery.properties,
          source: { type: 'string', enum: ['scim', 'manual'] },
          status: { type: 'string', enum: ['staged', 'active', 'suspended'] },
          userName: { type: 'string' },
        },
      },
      response: { 200: { type: 'object', properties: { total: { type: 'integer' }, users: { type: 'array', items: identitySchema } } } },
    },
  }, async (req) => {
    await requireTenant(db, req.params.tenantId);
    const r = await listIdentities(db, req.params.tenantId, req.query);
    return { total: r.total, users: r.items };
  });

  app.get<{ Params: PU }>('/tenants/:tenantId/users/:userId', {
    schema: {
      tags,
      summary: 'An identity with its groups, access groups, datasets and direct grants (derived now)',
      params: params('tenantId', 'userId'),
      response: { 200: identityDetailSchema },
    },
  }, async (req) => {
    await requireTenant(db, req.params.tenantId);
    const d = await getIdentityDetail(db, req.params.tenantId, req.params.userId);
    if (!d) throw notFound('identity');
    return d;
  });

  app.patch<{ Params: PU; Body: IdentityInput }>('/tenants/:tenantId/users/:userId', {
    schema: {
      tags,
      summary: 'Update an identity: any field of a manual identity; only product-owned fields (status staged → active) of a provisioned one (else 409)',
      params: params('tenantId', 'userId'),
      body: { type: 'object', additionalProperties: false, properties: inputProps },
      response: { 200: identityDetailSchema },
    },
  }, async (req) => {
    await requireTenant(db, req.params.tenantId);
    const { replaced, ...view } = await updateIdentity(db, req.params.tenantId, req.params.userId, req.body);
    auditBefore(req, replaced);
    return view;
  });

  const requireIdentity = async (tenantId: string, userId: string) => {
    await requireTenant(db, tenantId);
    if (!(await identityExists(db, tenantId, userId))) throw notFound('identity');
  };

  registerOverridesRoutes(app, {
    path: '/tenants/:tenantId/users/:userId',
    idParam: 'userId',
    tags,
    getSummary: 'The identity\'s overrides of the tenant\'s provisioning defaults (null = inherit)',
    putSummary: 'Set the overrides a SCIM create that adopts this (pre-created) identity applies; they win over access groups and the tenant',
    require: requireIdentity,
    read: (tenantId, userId) => identityOverrides(db, tenantId, userId),
    write: (tenantId, userId, value) => setIdentityOverrides(db, tenantId, userId, value),
    missing: () => notFound('identity'),
  });

  app.delete<{ Params: PU }>('/tenants/:tenantId/users/:userId', {
    schema: {
      tags,
      summary: 'Delete a manual identity with its memberships, grants and API keys (provisioned identities: 409, delete them in the IdP)',
      params: params('tenantId', 'userId'),
    },
  }, async (req, reply) => {
    await requireTenant(db, req.params.tenantId);
    await deleteManualIdentity(db, req.params.tenantId, req.params.userId);
    return reply.code(204).send();
  });
}
