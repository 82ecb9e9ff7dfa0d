import type { FastifyReply, FastifyRequest } from 'fastify';
import type { OperatorAuth } from '../tenants/operator-auth.js';
import { AdminError } from './errors.js';

export function bearerToken(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (!h) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m?.[1];
}

/** onRequest hook: the operator bearer token guards the whole admin API. */
export function operatorGuard(auth: OperatorAuth) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const token = bearerToken(req);
    if (!token || !auth.verify(token)) {
      reply.header('www-authenticate', 'Bearer realm="idpbridge-admin"');
      throw new AdminError(401, 'ERR_UNAUTHORIZED', 'A valid operator bearer token is required');
    }
  };
}
