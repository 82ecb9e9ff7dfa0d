import type { FastifyInstance } from 'fastify';
import { ApiError } from '../http/errors.js';
import { decideAccess, type EffectiveAccess } from '../access/index.js';
import type { IdpTokens, Principal } from './service.js';
import { notProvisionedMessage } from './v1-principal.js';
import { meResponse, tenantParams } from './v1-schemas.js';

/** What /me says about the credential itself: the verified token (claims, matched groups) or the API key. */
async function credentialOf(svc: IdpTokens, p: Principal, access: EffectiveAccess): Promise<Record<string, unknown>> {
  if (p.kind !== 'jwt' || !p.jwt || !p.tokenGroups) return { type: 'api_key', keyId: p.keyId };
  const g = p.tokenGroups;
  // Overage (Entra left the groups out): the provisioned memberships answer instead.
  const cfg = await svc.config(p.tenantId);
  const matched = g.source === 'overage' ? access.groups : await svc.groupsNamedBy(p.tenantId, cfg, g.values);
  const key = cfg?.groupsMatch === 'externalId' ? 'externalId' : 'displayName';
  const known = new Set(matched.map((x) => x[key]));
  return {
    type: 'jwt',
    issuer: p.jwt.issuer,
    subject: p.jwt.subject,
    audience: p.jwt.audience,
    expiresAt: new Date(p.jwt.expiresAt).toISOString(),
    ...(p.matchedBy ? { matchedBy: p.matchedBy } : {}),
    groups: { source: g.source, values: g.values, matched, notProvisioned: g.values.filter((v) => !known.has(v)) },
  };
}

/** `GET /v1/{tenantId}/me`: the credential's identity, groups, access groups, datasets and roles (403 when refused). */
export function meRoute(app: FastifyInstance, svc: IdpTokens): void {
  app.get<{ Params: { tenantId: string } }>('/:tenantId/me', {
    schema: { summary: 'The token\'s identity, groups, access groups, datasets and roles', params: tenantParams, response: { 200: meResponse } },
  }, async (req) => {
    const p = req.idpPrincipal!;
    const d = decideAccess(p.identityId ? await svc.accessOf(p.tenantId, p.identityId) : undefined, { kind: 'identity' });
    if (d.reason === 'identity_suspended') throw new ApiError('ERR_IDENTITY_SUSPENDED', `${d.identity.userName} is suspended (deactivated in the IdP)`);
    if (!d.allowed) throw new ApiError('ERR_IDENTITY_NOT_FOUND', notProvisionedMessage(p));
    if (d.activate) await svc.activate(p.tenantId, d.identity.id);
    return { tenantId: p.tenantId, ...d.access, credential: await credentialOf(svc, p, d.access) };
  });
}
