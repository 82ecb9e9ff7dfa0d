/** @idpbridge/client: everything a host product's Node.js code needs to talk to idpbridge. */
import type { ConnectionOptions } from './http.js';
import { AccessClient } from './v1.js';
import { AdminClient } from './admin.js';
import { IdpbridgeTokenVerifier } from './sso.js';

export { IdpbridgeError, type ConnectionOptions } from './http.js';
export { AccessClient, type Me, type AuthorizeDecision, type AuthorizeReason, type Identity, type Group, type Dataset, type AccessGroup } from './v1.js';
export { AdminClient, type AdminPaths, type AdminPath, type AdminMethod, type AdminRequest, type AdminResponse, type AdminBody } from './admin.js';
export { verifyWebhookSignature, SIGNATURE_HEADER } from './webhooks.js';
export { IdpTokenClient, IdpTokenError, IdpConfigError, parseIdpConfig, type IdpConfig, type IdpType, type TokenResponse } from './idp.js';
export { IdpbridgeTokenVerifier, IdpbridgeTokenError, signInUrl, type IdpbridgeTokenClaims } from './sso.js';

/** One object for one idpbridge: access decisions per tenant, the admin API, sign-in token verification. */
export class IdpbridgeClient {
  readonly admin: AdminClient | undefined;
  readonly tokens: IdpbridgeTokenVerifier;

  constructor(private readonly opts: ConnectionOptions & { adminToken?: string }) {
    this.admin = opts.adminToken ? new AdminClient({ ...opts, adminToken: opts.adminToken }) : undefined;
    this.tokens = new IdpbridgeTokenVerifier(opts);
  }

  /** /v1/{tenantId}/me and /authorize for one tenant. */
  tenant(tenantId: string): AccessClient {
    return new AccessClient(this.opts, tenantId);
  }
}
