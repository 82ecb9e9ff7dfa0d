import type { Principal } from './service.js';
import { describeLookups } from './claims.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified credential of a /v1 request (set by the plugin's authentication hook). */
    idpPrincipal: Principal | null;
  }
}

/** Why a valid credential has no identity, for the developer reading the answer. */
export const notProvisionedMessage = (p: Principal): string =>
  p.kind === 'jwt'
    ? `The token is valid but no provisioned identity matches it (${describeLookups(p.tried ?? [])}). Provision the user through SCIM (assign it to the enterprise application) first.`
    : 'The API key no longer belongs to an identity';
