import type { JWTPayload } from 'jose';
import { randomUUID } from 'node:crypto';
import type { SsoConfig } from '../config.js';
import type { Queryable } from '../db/types.js';
import type { EffectiveAccess } from '../access/index.js';
import type { SecretBox } from '../lib/secret-box.js';
import { SigningKeys } from './keys.js';
import { consoleBroker, type ConsoleBroker } from './console-broker.js';

/** The sign-in broker's shared state: its settings and idpbridge's signing keys. One per app (buildApp, on AppDeps). */
export interface Sso {
  options: SsoConfig;
  keys: SigningKeys;
  /** Console sign-in through the tenant's IdP (src/sso/console-broker.ts). */
  console: ConsoleBroker;
}

export function createSso(db: Queryable, options: SsoConfig, secrets: SecretBox): Sso {
  const keys = new SigningKeys(db, { alg: options.keyAlg, rotationMs: options.keyRotationMs, secrets });
  return { options, keys, console: consoleBroker(keys) };
}

/** What the host product receives: who signed in, to which tenant, and what they may use. */
export interface IdpbridgeTokenClaims extends JWTPayload {
  tenant: string;
  identity: { id: string; userName: string; externalId: string | null; displayName: string | null; status: string; source: string };
  groups: { id: string; displayName: string; externalId: string | null }[];
  accessGroups: { id: string; name: string }[];
  datasets: { id: string; name: string; externalId: string | null }[];
  roles: string[];
  /** How the user signed in: ["idp"] or ["pwd"]. */
  amr: string[];
  /** The IdP's issuer and subject, for IdP sign-ins. */
  idp?: { iss: string; sub: string };
}

export async function issueIdpbridgeToken(
  sso: Sso,
  p: { issuer: string; audience: string; tenantId: string; access: EffectiveAccess; amr: 'idp' | 'pwd'; idp?: { iss: string; sub: string } },
): Promise<{ token: string; expiresAt: number; expiresIn: number }> {
  const a = p.access;
  const i = a.identity;
  const claims: IdpbridgeTokenClaims = {
    tenant: p.tenantId.toLowerCase(),
    identity: { id: i.id, userName: i.userName, externalId: i.externalId, displayName: i.displayName, status: i.status, source: i.source },
    groups: a.groups,
    accessGroups: a.accessGroups,
    datasets: a.datasets,
    roles: a.roles,
    amr: [p.amr],
    ...(p.idp ? { idp: p.idp } : {}),
  };
  const ttl = sso.options.tokenTtlSeconds;
  const { token, expiresAt } = await sso.keys.sign(claims, { issuer: p.issuer, audience: p.audience, subject: i.id, ttlSeconds: ttl, jti: randomUUID() });
  return { token, expiresAt, expiresIn: ttl };
}
