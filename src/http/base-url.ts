import type { FastifyRequest } from 'fastify';

/** The externally visible base URL: IDPBRIDGE_PUBLIC_URL when set, else the request's own origin. */
export function publicBaseUrl(req: FastifyRequest, configured: string | undefined): string {
  if (configured) return configured;
  return `${req.protocol}://${req.host}`;
}

export const scimBaseUrl = (base: string, tenantId: string) => `${base}/scim/v2/${tenantId}`;
