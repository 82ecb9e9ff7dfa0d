import type { FastifyInstance } from 'fastify';
import { decideAccess, type AccessDecision } from '../access/index.js';
import type { IdpTokens } from './service.js';
import { notProvisionedMessage } from './v1-principal.js';
import { authorizeBody, authorizeResponse, tenantParams } from './v1-schemas.js';

/** The answer's wording for each outcome of the access decision. */
function messageOf(d: AccessDecision, ref: string, notProvisioned: string, accessGroups: { name: string }[]): string {
  switch (d.reason) {
    case 'identity_not_found': return notProvisioned;
    case 'identity_suspended': return `${d.identity.userName} is suspended (deactivated in the IdP); access is refused`;
    case 'dataset_not_found': return `No dataset has the id, externalId or name ${JSON.stringify(ref)}`;
    case 'not_granted': {
      const via = accessGroups.length ? `access groups: ${accessGroups.map((g) => g.name).join(', ')}` : 'no access groups';
      return `${d.identity.userName} has no grant for dataset ${d.dataset.name} (${via})`;
    }
    case 'granted': return `${d.identity.userName} may use dataset ${d.dataset!.name}`;
  }
}

/** `POST /v1/{tenantId}/authorize`: may the credential's identity use this dataset (id, name or externalId)? */
export function authorizeRoute(app: FastifyInstance, svc: IdpTokens): void {
  app.post<{ Params: { tenantId: string }; Body: { dataset: string } }>('/:tenantId/authorize', {
    schema: {
      summary: 'May the token\'s user use this dataset (id, name or externalId)?',
      params: tenantParams,
      body: authorizeBody,
      response: { 200: authorizeResponse },
    },
  }, async (req) => {
    const p = req.idpPrincipal!;
    const ref = req.body.dataset;
    // Independent lookups: one round trip of latency, not two.
    const [access, dataset] = p.identityId ? await Promise.all([svc.accessOf(p.tenantId, p.identityId), svc.dataset(p.tenantId, ref)]) : [undefined, undefined];
    const d = decideAccess(access, { kind: 'dataset', dataset });
    if (d.allowed && d.activate) await svc.activate(p.tenantId, d.identity.id);
    const message = messageOf(d, ref, notProvisionedMessage(p), access?.accessGroups ?? []);
    const identity = d.reason === 'identity_not_found' ? undefined : { id: d.identity.id, userName: d.identity.userName, status: d.identity.status };
    const ds = d.reason === 'granted' || d.reason === 'not_granted' ? d.dataset : undefined;
    return { allowed: d.allowed, reason: d.reason, message, ...(identity ? { identity, roles: access?.roles ?? [] } : {}), ...(ds ? { dataset: ds } : {}) };
  });
}
