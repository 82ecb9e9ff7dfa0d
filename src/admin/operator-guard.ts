import type { FastifyReply, FastifyRequest } from 'fastify';
import type { OperatorAuth } from '../tenants/operator-auth.js';
import type { Queryable } from '../db/types.js';
import { ApiError } from '../http/errors.js';
import { csrfValid, isSafeMethod, lookupSession, sessionCookie, type ConsolePrincipal } from '../console/sessions.js';

export function bearerToken(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (!h) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m?.[1];
}

const unauthorized = (reply: FastifyReply, message = 'A valid operator bearer token is required') => {
  reply.header('www-authenticate', 'Bearer realm="idpbridge-admin"');
  return new ApiError('ERR_UNAUTHORIZED', message);
};

const forbidden = (message: string) => new ApiError('ERR_FORBIDDEN', message);

const TENANT_ROUTE = '/admin/v1/tenants/:tenantId';

/**
 * Where a tenant administrator (password account or set-up link session) may go: only routes of their
 * own tenant, and there neither deleting the tenant nor managing console accounts or set-up links
 * (operator only). Decided on the matched route pattern
 * and the router's own tenantId parameter, never on the raw URL text.
 */
export function tenantAdminMayUse(req: FastifyRequest, p: Extract<ConsolePrincipal, { kind: 'tenant_admin' }>): string | undefined {
  const route = req.routeOptions.url ?? '';
  const tenantId = (req.params as { tenantId?: unknown } | undefined)?.tenantId;
  const own = typeof tenantId === 'string' && tenantId.toLowerCase() === p.tenantId.toLowerCase();
  if (!route.toLowerCase().startsWith(TENANT_ROUTE.toLowerCase()) || !own) {
    return 'Your console account administers one tenant only; this route belongs to the operator or another tenant';
  }
  const rest = route.slice(TENANT_ROUTE.length).toLowerCase();
  if ((rest === '' || rest === '/') && req.method === 'DELETE') return 'Only the operator can delete a tenant';
  if (rest.startsWith('/console-accounts')) return 'Only the operator can manage console accounts';
  if (rest.startsWith('/setup-links')) return 'Only the operator can manage set-up links';
  return undefined;
}

/**
 * onRequest hook guarding the whole admin API. Two ways in:
 * - `Authorization: Bearer <operator token>` — unchanged: any Authorization header is judged as a
 *   bearer token and nothing else;
 * - the console's session cookie (when `db` is given): writes also need the `x-csrf-token` header
 *   (double submit, bound to the session); tenant-admin sessions reach their own tenant only (403).
 */
export function operatorGuard(auth: OperatorAuth, db?: Queryable) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (db && req.headers.authorization === undefined) {
      const cookie = sessionCookie(req);
      if (cookie) {
        const session = await lookupSession(db, cookie);
        if (!session) throw unauthorized(reply, 'Your console session has ended; sign in again');
        if (!isSafeMethod(req.method) && !csrfValid(req, session)) {
          throw new ApiError('ERR_CSRF', 'Missing or invalid CSRF token (x-csrf-token header); reload the console and try again');
        }
        if (session.principal.kind === 'tenant_admin') {
          const refusal = tenantAdminMayUse(req, session.principal);
          if (refusal) throw forbidden(refusal);
        }
        return;
      }
    }
    const token = bearerToken(req);
    if (!token || !auth.verify(token)) {
      throw unauthorized(reply);
    }
  };
}
