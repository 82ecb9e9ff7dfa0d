import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app-deps.js';
import {
  MIN_PASSWORD_LENGTH, createAccount, deleteAccount, getAccount, listAccounts, updateAccount,
} from '../console/accounts.js';
import { deleteAccountSessions } from '../console/sessions.js';
import { notFound } from '../http/errors.js';
import { auditBefore } from '../audit/http.js';
import { params, requireTenant } from './access-schemas.js';

const tags = ['console-accounts'];
type P = { tenantId: string };
type PA = P & { accountId: string };

const accountSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uuid' },
    tenantId: { type: 'string', format: 'uuid' },
    login: { type: 'string' },
    displayName: { type: ['string', 'null'] },
    disabled: { type: 'boolean' },
    lastLoginAt: { type: ['string', 'null'], format: 'date-time' },
    createdAt: { type: 'string', format: 'date-time' },
  },
} as const;

const password = { type: 'string', minLength: MIN_PASSWORD_LENGTH, maxLength: 1024 } as const;

/**
 * Tenant-admin console accounts (operator only; the admin guard refuses tenant admins here).
 * A tenant admin signs in to /console with login + password and sees that tenant only.
 */
export async function consoleAccountsRoutes(app: FastifyInstance, { deps }: { deps: AppDeps }): Promise<void> {
  const db = deps.db;

  app.post<{ Params: P; Body: { login: string; password: string; displayName?: string | null } }>('/tenants/:tenantId/console-accounts', {
    schema: {
      tags,
      summary: 'Create a tenant-admin console account (password hashed with scrypt); login names are unique across tenants',
      params: params('tenantId'),
      body: {
        type: 'object', required: ['login', 'password'], additionalProperties: false,
        properties: {
          login: { type: 'string', minLength: 3, maxLength: 320, pattern: '^\\S+$' },
          password,
          displayName: { type: ['string', 'null'], maxLength: 200 },
        },
      },
      response: { 201: accountSchema },
    },
  }, async (req, reply) => {
    await requireTenant(db, req.params.tenantId);
    const a = await createAccount(db, req.params.tenantId, req.body);
    req.log.info({ tenantId: req.params.tenantId, accountId: a.id }, 'console account created');
    return reply.code(201).send(a);
  });

  app.get<{ Params: P }>('/tenants/:tenantId/console-accounts', {
    schema: {
      tags,
      summary: 'List the tenant\'s console accounts (never the passwords)',
      params: params('tenantId'),
      response: { 200: { type: 'object', properties: { accounts: { type: 'array', items: accountSchema } } } },
    },
  }, async (req) => {
    await requireTenant(db, req.params.tenantId);
    return { accounts: await listAccounts(db, req.params.tenantId) };
  });

  app.patch<{ Params: PA; Body: { password?: string; displayName?: string | null; disabled?: boolean } }>('/tenants/:tenantId/console-accounts/:accountId', {
    schema: {
      tags,
      summary: 'Set a new password, rename, disable or enable a console account; a new password or disabling ends its sessions',
      params: params('tenantId', 'accountId'),
      body: {
        type: 'object', additionalProperties: false,
        properties: { password, displayName: { type: ['string', 'null'], maxLength: 200 }, disabled: { type: 'boolean' } },
      },
      response: { 200: accountSchema },
    },
  }, async (req) => {
    const { tenantId, accountId } = req.params;
    await requireTenant(db, tenantId);
    const updated = await updateAccount(db, tenantId, accountId, req.body);
    if (!updated) throw notFound('console account');
    const { replaced, ...a } = updated;
    auditBefore(req, replaced);
    if (req.body.password !== undefined || req.body.disabled === true) await deleteAccountSessions(db, tenantId, accountId);
    return a;
  });

  app.delete<{ Params: PA }>('/tenants/:tenantId/console-accounts/:accountId', {
    schema: { tags, summary: 'Delete a console account; its sessions end at once', params: params('tenantId', 'accountId') },
  }, async (req, reply) => {
    const { tenantId, accountId } = req.params;
    await requireTenant(db, tenantId);
    if (!(await getAccount(db, tenantId, accountId))) throw notFound('console account');
    await deleteAccountSessions(db, tenantId, accountId);
    if (!(await deleteAccount(db, tenantId, accountId))) throw notFound('console account');
    return reply.code(204).send();
  });
}
