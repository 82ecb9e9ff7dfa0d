import { call, type ConnectionOptions } from './http.js';

export interface Identity {
  id: string;
  userName: string;
  externalId: string | null;
  displayName: string | null;
  status: 'staged' | 'active' | 'suspended';
  source: 'scim' | 'manual';
  active: boolean;
}
export interface Group { id: string; displayName: string; externalId: string | null }
export interface Dataset { id: string; name: string; externalId: string | null }
export interface AccessGroup { id: string; name: string }

/** GET /v1/{tenantId}/me */
export interface Me {
  tenantId: string;
  identity: Identity;
  groups: Group[];
  accessGroups: AccessGroup[];
  datasets: Dataset[];
  roles: string[];
  metadata: Record<string, string>;
  userType?: string;
  credential: {
    type: 'jwt' | 'api_key';
    keyId?: string;
    issuer?: string;
    subject?: string | null;
    audience?: string[];
    expiresAt?: string;
    matchedBy?: { claim: string; attribute: string; value: string };
    groups?: { source: 'claim' | 'overage' | 'absent'; values: string[]; matched: Group[]; notProvisioned: string[] };
  };
}

export type AuthorizeReason = 'granted' | 'identity_not_found' | 'identity_suspended' | 'dataset_not_found' | 'not_granted';

/** POST /v1/{tenantId}/authorize */
export interface AuthorizeDecision {
  allowed: boolean;
  reason: AuthorizeReason;
  message: string;
  dataset?: Dataset;
  identity?: { id: string; userName: string; status: string };
}

/** Access decisions with the end user's IdP access token or an identity API key (`idpb_key_…`). */
export class AccessClient {
  constructor(private readonly conn: ConnectionOptions, private readonly tenantId: string) {}

  /** The token's identity, groups, access groups, datasets and roles. 401/403/503 throw IdpbridgeError. */
  me(bearer: string): Promise<Me> {
    return call<Me>(this.conn, { method: 'GET', path: `/v1/${encodeURIComponent(this.tenantId)}/me`, bearer });
  }

  /** May the token's user use this dataset (id, name or externalId)? A "no" is an answer, not an error. */
  authorize(bearer: string, dataset: string): Promise<AuthorizeDecision> {
    return call<AuthorizeDecision>(this.conn, { method: 'POST', path: `/v1/${encodeURIComponent(this.tenantId)}/authorize`, bearer, body: { dataset } });
  }
}
