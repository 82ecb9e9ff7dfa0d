import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppDeps } from '../app-deps.js';
import { badRequest, notFound } from '../http/errors.js';
import { identityExists } from '../access/identities.js';
import { loginMethodRow, setLoginMethod, viewLoginMethod, type LoginMethod } from './store.js';
import { params, requireTenant, tags, type P } from './admin-kit.js';

const loginMethodSchema = {
  type: 'object',
  properties: {
    identityId: { type: 'string', format: 'uuid' },
    method: { type: 'string', enum: ['idp', 'password'] },
    passwordSet: { type: 'boolean' },
    lockedUntil: { type: ['string', 'null'], format: 'date-time', description: 'Password sign-in locked after repeated failures, until then' },
    lastLoginAt: { type: ['string', 'null'], format: 'date-time' },
    updatedAt: { type: ['string', 'null'], format: 'date-time' },
  },
} as const;

/**
 * Hands the values a write replaced to the audit trail (src/audit/http.ts#auditBefore): the admin
 * plugin passes it in, sso does not import audit.
 */
export type AuditBefore = (req: FastifyRequest, before: object | undefined) => void;

/** How each identity signs in: through the tenant's IdP (default) or with a built-in password (guests). */
export function loginMethodRoutes(app: FastifyInstance, deps: AppDeps, auditBefore: AuditBefore): void {
  const db = deps.db;
  const requireIdentity = async (tenantId: string, userId: string) => {
    await requireTenant(db, tenantId);
    if (!(await identityExists(db, tenantId, userId))) throw notFound('identity');
  };

  app.get<{ Params: P & { userId: string } }>('/tenants/:tenantId/users/:userId/login-method', {
    schema: { tags, summary: 'How an identity signs in: idp (default) or password', params: params('tenantId', 'userId'), response: { 200: loginMethodSchema } },
  }, async (req) => {
    const { tenantId, userId } = req.params;
    await requireIdentity(tenantId, userId);
    return viewLoginMethod(userId, await loginMethodRow(db, tenantId, userId));
  });

  app.put<{ Params: P & { userId: string }; Body: { method: LoginMethod; password?: string } }>('/tenants/:tenantId/users/:userId/login-method', {
    schema: {
      tags,
      summary: 'Switch the login method: idp (through the tenant\'s IdP) or password (built-in, for guests not in the IdP; the password is write-only)',
      params: params('tenantId', 'userId'),
      body: {
        type: 'object',
        required: ['method'],
        additionalProperties: false,
        properties: {
          method: { type: 'string', enum: ['idp', 'password'] },
          password: { type: 'string', minLength: 12, maxLength: 1024, writeOnly: true, description: 'Required when no password is set yet; sets a new one (scrypt); idp forgets it' },
        },
      },
      response: { 200: loginMethodSchema },
    },
  }, async (req) => {
    const { tenantId, userId } = req.params;
    await requireIdentity(tenantId, userId);
    if (req.body.method === 'idp' && req.body.password !== undefined) throw badRequest('password is only accepted with method "password"');
    const replaced = await setLoginMethod(db, tenantId, userId, req.body.method, req.body.password);
    if (!replaced) throw notFound('identity');
    // The password is a secret field: the entry records only that it changed (src/audit/changes.ts).
    auditBefore(req, replaced);
    req.log.info({ tenantId, identityId: userId, method: req.body.method }, 'login method set');
    return viewLoginMethod(userId, await loginMethodRow(db, tenantId, userId));
  });
}
