import type { AppDeps } from '../app-deps.js';
import { decideAccess, effectiveAccess, findIdentityByLookups, type IdentityLookup, type IdentitySummary } from '../access/index.js';
import { SsoError } from './errors.js';
import { refusal } from './route-kit.js';
import { issueIdpbridgeToken } from './service.js';
import { loginMethodRow } from './store.js';
import { ssoIssuer } from './urls.js';

/** What an IdP sign-in (OIDC callback or SAML ACS) established about the user, verified. */
export interface VerifiedSignIn {
  tenantId: string;
  /** idpbridge's public base URL (the token issuer). */
  base: string;
  /** The host product's registered redirect URI (the token audience). */
  redirectUri: string;
  /** Which identity attribute to look the user up by, in order. */
  lookups: readonly IdentityLookup[];
  /** The lookups tried, for the refusal message ("oid → externalId …"). */
  tried: string;
  /** The IdP's issuer and subject, carried in the token. */
  idp: { iss: string; sub: string };
  /**
   * Just-in-time provisioning: given the identity the lookups found (or none), the identity to
   * decide on (created or updated from the assertion). Absent: only provisioned identities sign in.
   */
  provision?: (found: IdentitySummary | undefined) => Promise<IdentitySummary | undefined>;
}

/**
 * The end of every IdP sign-in, whatever the protocol: the identity the IdP's answer maps to → the
 * access decision (src/access/decision.ts; no identity or a suspended one is refused) → a
 * password-login identity is refused → a staged identity is activated on this first allowed use →
 * the idpbridge token for the host product. Throws SsoError with the reason.
 */
export async function completeSignIn(deps: AppDeps, s: VerifiedSignIn): Promise<{ token: string; identityId: string }> {
  const { db, idpTokens: idp, sso } = deps;
  let identity = (await findIdentityByLookups(db, s.tenantId, s.lookups))?.identity;
  if (s.provision) identity = await s.provision(identity);
  if (!identity) {
    throw new SsoError('ERR_IDENTITY_NOT_FOUND', `You signed in at the IdP, but no provisioned identity matches you (${s.tried}). Ask your IT admin to assign you to the application (SCIM provisioning).`);
  }
  const d = decideAccess(await effectiveAccess(db, s.tenantId, identity.id), { kind: 'identity' });
  if (!d.allowed) throw refusal(d, 'signed in');
  const method = await loginMethodRow(db, s.tenantId, d.identity.id);
  if (method?.method === 'password') throw new SsoError('ERR_LOGIN_METHOD_PASSWORD', `${d.identity.userName} signs in with a password, not through the IdP`);
  if (d.activate) await idp.activate(s.tenantId, d.identity.id);
  const { token } = await issueIdpbridgeToken(sso, {
    issuer: ssoIssuer(s.base, s.tenantId), audience: s.redirectUri, tenantId: s.tenantId, access: d.access, amr: 'idp', idp: s.idp,
  });
  return { token, identityId: d.identity.id };
}
