import type { Config } from './config.js';
import type { Database } from './db/types.js';
import type { OperatorAuth } from './tenants/operator-auth.js';
import type { ScimCredentialsVerifier } from './tenants/scim-credentials-verifier.js';
import type { ProvisioningObserver } from './directory/observer.js';
import type { SecretBox } from './lib/secret-box.js';
import type { TargetPolicy } from './lib/outbound.js';
import type { GroupNameCache } from './directory/group-names.js';
import type { ProvisioningLogWriter } from './events/provisioning-log.js';
import type { IdpTokens } from './idp-tokens/service.js';
import type { Sso } from './sso/service.js';
import type { TenantGate } from './http/tenant-concurrency.js';

/** What route plugins need, passed explicitly (no globals). */
export interface AppDeps {
  config: Config;
  db: Database;
  operatorAuth: OperatorAuth;
  scimVerifier: ScimCredentialsVerifier;
  /** Hooks run inside every SCIM write transaction (access model, events, log). */
  observer: ProvisioningObserver;
  /** Group displayNames for users' `groups`, invalidated by NOTIFY (one per app). */
  groupNames: GroupNameCache;
  /** Buffers provisioning-log rows and writes them in batches off the response path (flushed on close). */
  provisioningLog: ProvisioningLogWriter;
  /** IdP-token verification, OIDC configuration and the /v1 caches (admin OIDC routes, /v1, sign-in); LISTENs until close. */
  idpTokens: IdpTokens;
  /** The sign-in broker's settings and signing keys. */
  sso: Sso;
  /** Encrypts and decrypts the secrets stored at rest (webhook secrets, IdP client secrets, signing keys). */
  secrets: SecretBox;
  /** Where outbound requests may connect (IDPBRIDGE_ALLOW_PRIVATE_TARGETS). */
  targets: TargetPolicy;
  /** Per-tenant concurrency shared by SCIM, /v1 and tenant-scoped admin reads (undefined: IDPBRIDGE_TENANT_CONCURRENCY ≤ 0). */
  tenantGate: TenantGate | undefined;
}
