import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ScimCredentialsVerifier, ScimPrincipal } from './scim-credentials-verifier.js';
import { UnauthorizedError } from '../scim/errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    scim: ScimPrincipal | null;
  }
}

/**
 * onRequest hook for /scim/v2/:tenantId/…: a bearer token (or the tenant's Basic credential).
 * Every failure is the same 401, so a caller cannot learn whether a tenant exists.
 */
export function scimAuth(verifier: ScimCredentialsVerifier) {
  return async (req: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const tenantId = (req.params as { tenantId?: string }).tenantId ?? '';
    const header = req.headers.authorization ?? '';
    let principal: ScimPrincipal | undefined;
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (bearer?.[1]) {
      principal = await verifier.verifyBearer(tenantId, bearer[1]);
    } else {
      const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
      if (basic?.[1]) {
        const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        if (colon > 0) principal = await verifier.verifyBasic(tenantId, decoded.slice(0, colon), decoded.slice(colon + 1));
      }
    }
    if (!principal) throw new UnauthorizedError();
    req.scim = principal;
  };
}
