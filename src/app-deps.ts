import type { Config } from './config.js';
import type { Database } from './db/types.js';
import type { OperatorAuth } from './tenants/operator-auth.js';
import type { ScimCredentialsVerifier } from './tenants/scim-credentials-verifier.js';
import type { ProvisioningObserver } from './directory/observer.js';

/** What route plugins need, passed explicitly (no globals). */
export interface AppDeps {
  config: Config;
  db: Database;
  operatorAuth: OperatorAuth;
  scimVerifier: ScimCredentialsVerifier;
  /** Hooks run inside every SCIM write transaction (access model, events, log). */
  observer: ProvisioningObserver;
}
