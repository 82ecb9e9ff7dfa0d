/**
 * The access decision: one pure function, `decideAccess`, that every transport calls —
 * `/v1/{tenant}/me` and `/v1/{tenant}/authorize` (with an IdP JWT or an identity API key) and the
 * sign-in broker (IdP or password sign-in). It reads nothing and writes nothing: it turns the
 * identity's effective access (and, for authorize, the resolved dataset) into what to do, as data,
 * like `scim/patch/apply.ts`. The transport loads the inputs (through its caches), applies the
 * decision (activation through `activateStagedIdentity`) and words its own answer.
 * `authorizeDataset` below is the uncached load-decide for code without a transport (tests, tools).
 *
 * Rules, in order:
 *   1. no identity behind the credential          → refused `identity_not_found`
 *   2. suspended, or `active` false               → refused `identity_suspended` (whatever the grants)
 *   3. a dataset was asked for and does not exist → refused `dataset_not_found`
 *   4. a dataset was asked for and is not granted → refused `not_granted`
 *   5. otherwise                                  → allowed `granted`
 * First-use activation, the same for every credential kind (JWT, API key, IdP or password sign-in):
 * a `staged` identity becomes `active` on its first *allowed* decision. The credential kind is not
 * an input, so no transport can apply another rule. A refused decision never activates.
 */
import type { Queryable } from '../db/types.js';
import { effectiveAccess, resolveDataset, type DatasetRef, type EffectiveAccess, type IdentitySummary } from './effective.js';

/** What the caller asks for: the identity itself (`/me`, sign-in) or the use of one dataset (`/authorize`). */
export type AccessRequest =
  | { kind: 'identity' }
  /** `dataset`: the reference already resolved (undefined: no dataset has that id, externalId or name). */
  | { kind: 'dataset'; dataset: DatasetRef | undefined };

export type AuthorizeReason = 'granted' | 'identity_not_found' | 'identity_suspended' | 'dataset_not_found' | 'not_granted';

export type AccessDecision =
  | { allowed: false; reason: 'identity_not_found' }
  | { allowed: false; reason: 'identity_suspended'; identity: IdentitySummary }
  | { allowed: false; reason: 'dataset_not_found'; identity: IdentitySummary }
  | { allowed: false; reason: 'not_granted'; identity: IdentitySummary; dataset: DatasetRef }
  | {
    allowed: true;
    reason: 'granted';
    /** The identity as it is once the decision is applied (status `active` when `activate`). */
    identity: IdentitySummary;
    /** The effective access with that identity in it. */
    access: EffectiveAccess;
    dataset?: DatasetRef;
    /** The identity is staged: the transport activates it (first use). */
    activate: boolean;
  };

export const isSuspended = (i: IdentitySummary): boolean => i.status === 'suspended' || !i.active;

/** Decides; see the rules at the top of this file. */
export function decideAccess(access: EffectiveAccess | undefined, request: AccessRequest): AccessDecision {
  if (!access) return { allowed: false, reason: 'identity_not_found' };
  const identity = access.identity;
  if (isSuspended(identity)) return { allowed: false, reason: 'identity_suspended', identity };
  let dataset: DatasetRef | undefined;
  if (request.kind === 'dataset') {
    dataset = request.dataset;
    if (!dataset) return { allowed: false, reason: 'dataset_not_found', identity };
    const id = dataset.id;
    if (!access.datasets.some((d) => d.id === id)) return { allowed: false, reason: 'not_granted', identity, dataset };
  }
  const activate = identity.status === 'staged';
  const after = activate ? { ...access, identity: { ...identity, status: 'active' as const } } : access;
  return { allowed: true, reason: 'granted', identity: after.identity, access: after, ...(dataset ? { dataset } : {}), activate };
}

/**
 * May this identity use this dataset (id | name | externalId)? Loads the inputs uncached and
 * decides; it does not apply the decision (the caller activates a staged identity when `activate`).
 */
export async function authorizeDataset(db: Queryable, tenantId: string, identityId: string, datasetRef: string): Promise<AccessDecision> {
  const access = await effectiveAccess(db, tenantId, identityId);
  if (!access || isSuspended(access.identity)) return decideAccess(access, { kind: 'identity' });
  return decideAccess(access, { kind: 'dataset', dataset: await resolveDataset(db, tenantId, datasetRef) });
}
