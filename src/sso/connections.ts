import { randomUUID } from 'node:crypto';
import type { Queryable } from '../db/types.js';
import { isUuid } from '../lib/ids.js';
import type { SecretBox } from '../lib/secret-box.js';
import { SP_KEY_PURPOSE } from './saml/sp-keys.js';

/**
 * Sign-in connections: a tenant signs in through any number of them, OIDC or SAML 2.0. One OIDC
 * connection may stand for the tenant's OIDC configuration (PUT …/oidc, also used for IdP tokens);
 * further OIDC connections carry their own client (`oidc`). A SAML connection holds its IdP's
 * entity ID, SSO URL and signing certificates (from its metadata) and its own SP key pairs.
 */
export type ConnectionType = 'oidc' | 'saml';

/** An OIDC connection's own client (the tenant's configuration, idp_oidc_configs, has the rest). */
export interface OidcConnectionSettings {
  issuer: string;
  /** Derived from the issuer when null. */
  discoveryUrl: string | null;
  clientId: string;
  /** Which ID-token claim finds the identity, tried in order (null: the generic provider's defaults). */
  identityClaims: { claim: string; attribute: 'externalId' | 'userName' | 'id' }[] | null;
}

/** Which SAML value identifies the user, and the identity attribute it is looked up by. */
export interface IdentityMappingRule {
  /** "nameID" or the Name of an assertion attribute. */
  from: string;
  to: 'userName' | 'externalId';
}

/**
 * The default SAML mapping: Entra's object id → externalId (what Entra's SCIM provisioning sets),
 * then the NameID and the usual e-mail attributes → userName.
 */
export const DEFAULT_IDENTITY_MAPPING: IdentityMappingRule[] = [
  { from: 'http://schemas.microsoft.com/identity/claims/objectidentifier', to: 'externalId' },
  { from: 'nameID', to: 'userName' },
  { from: 'email', to: 'userName' },
  { from: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress', to: 'userName' },
];

export interface Connection {
  tenantId: string;
  id: string;
  type: ConnectionType;
  name: string;
  domains: string[];
  idpEntityId: string | null;
  idpSsoUrl: string | null;
  idpCerts: string[];
  idpMetadataXml: string | null;
  idpMetadataUrl: string | null;
  allowIdpInitiated: boolean;
  jitProvisioning: boolean;
  identityMapping: IdentityMappingRule[];
  clockSkewSeconds: number;
  /** SAML: sign AuthnRequests (Redirect binding) with the SP signing key. */
  signAuthnRequests: boolean;
  /** SAML JIT: the attribute carrying group names (null: Entra's and Okta's usual names). */
  jitGroupsAttribute: string | null;
  /** SAML: the SP's certificates (PEM) and private keys (encrypted, src/sso/saml/sp-keys.ts); null until generated. */
  spSigningCert: string | null;
  spSigningKey: string | null;
  spEncryptionCert: string | null;
  spEncryptionKey: string | null;
  /** OIDC: the connection's own client; null for the connection standing for the tenant's OIDC configuration. */
  oidc: OidcConnectionSettings | null;
  /** OIDC: the own client's secret, encrypted (never leaves through the API). */
  oidcClientSecret: string | null;
  createdAt: string;
  updatedAt: string;
}

interface Row {
  tenant_id: string;
  id: string;
  type: ConnectionType;
  name: string;
  domains: string[];
  idp_entity_id: string | null;
  idp_sso_url: string | null;
  idp_certs: string[];
  idp_metadata_xml: string | null;
  idp_metadata_url: string | null;
  allow_idp_initiated: boolean;
  jit_provisioning: boolean;
  identity_mapping: IdentityMappingRule[] | null;
  clock_skew_seconds: number;
  sign_authn_requests: boolean;
  jit_groups_attribute: string | null;
  sp_signing_cert: string | null;
  sp_signing_key: string | null;
  sp_encryption_cert: string | null;
  sp_encryption_key: string | null;
  oidc_settings: OidcConnectionSettings | null;
  oidc_client_secret: string | null;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = `tenant_id, id, type, name, domains, idp_entity_id, idp_sso_url, idp_certs, idp_metadata_xml, idp_metadata_url,
  allow_idp_initiated, jit_provisioning, identity_mapping, clock_skew_seconds, sign_authn_requests, jit_groups_attribute,
  sp_signing_cert, sp_signing_key, sp_encryption_cert, sp_encryption_key, oidc_settings, oidc_client_secret, created_at, updated_at`;

const toConnection = (r: Row): Connection => ({
  tenantId: r.tenant_id,
  id: r.id,
  type: r.type,
  name: r.name,
  domains: r.domains ?? [],
  idpEntityId: r.idp_entity_id,
  idpSsoUrl: r.idp_sso_url,
  idpCerts: r.idp_certs ?? [],
  idpMetadataXml: r.idp_metadata_xml,
  idpMetadataUrl: r.idp_metadata_url,
  allowIdpInitiated: r.allow_idp_initiated,
  jitProvisioning: r.jit_provisioning,
  identityMapping: r.identity_mapping ?? DEFAULT_IDENTITY_MAPPING,
  clockSkewSeconds: r.clock_skew_seconds,
  signAuthnRequests: r.sign_authn_requests,
  jitGroupsAttribute: r.jit_groups_attribute,
  spSigningCert: r.sp_signing_cert,
  spSigningKey: r.sp_signing_key,
  spEncryptionCert: r.sp_encryption_cert,
  spEncryptionKey: r.sp_encryption_key,
  oidc: r.oidc_settings,
  oidcClientSecret: r.oidc_client_secret,
  createdAt: new Date(r.created_at).toISOString(),
  updatedAt: new Date(r.updated_at).toISOString(),
});

/**
 * An OIDC configuration saved without a connection row (by a process of the previous release
 * during a rolling deploy, or after the connection was deleted and the configuration set again)
 * gets its connection here.
 */
async function adoptOidcConfig(db: Queryable, tenantId: string): Promise<void> {
  await db.query(
    `INSERT INTO sso_connections (tenant_id, id, type, name, created_at, updated_at)
     SELECT c.tenant_id, $2, 'oidc', 'OIDC', c.created_at, c.created_at FROM idp_oidc_configs c
      WHERE c.tenant_id = $1 AND NOT EXISTS (SELECT 1 FROM sso_connections s WHERE s.tenant_id = $1 AND s.type = 'oidc' AND s.oidc_settings IS NULL)
     ON CONFLICT DO NOTHING`, [tenantId, randomUUID()]);
}

export async function listConnections(db: Queryable, tenantId: string): Promise<Connection[]> {
  if (!isUuid(tenantId)) return [];
  await adoptOidcConfig(db, tenantId);
  const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM sso_connections WHERE tenant_id = $1 ORDER BY created_at, id`, [tenantId]);
  return rows.map(toConnection);
}

export async function getConnection(db: Queryable, tenantId: string, id: string): Promise<Connection | undefined> {
  if (!isUuid(tenantId) || !isUuid(id)) return undefined;
  await adoptOidcConfig(db, tenantId);
  const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM sso_connections WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
  return rows[0] ? toConnection(rows[0]) : undefined;
}

/** What an admin sets on a connection; `identityMapping` null means the default mapping. */
export type ConnectionFields = Omit<Connection, 'tenantId' | 'id' | 'type' | 'createdAt' | 'updatedAt' | 'identityMapping'> & {
  identityMapping: IdentityMappingRule[] | null;
};

const fieldValues = (f: ConnectionFields) => [f.name, f.domains, f.idpEntityId, f.idpSsoUrl, f.idpCerts, f.idpMetadataXml, f.idpMetadataUrl,
  f.allowIdpInitiated, f.jitProvisioning, f.identityMapping ? JSON.stringify(f.identityMapping) : null, f.clockSkewSeconds,
  f.signAuthnRequests, f.jitGroupsAttribute, f.spSigningCert, f.spSigningKey, f.spEncryptionCert, f.spEncryptionKey,
  f.oidc ? JSON.stringify(f.oidc) : null, f.oidcClientSecret];

/** undefined when the tenant already has the OIDC connection standing for its OIDC configuration (type 'oidc' without `oidc`). */
export async function insertConnection(db: Queryable, tenantId: string, type: ConnectionType, f: ConnectionFields): Promise<Connection | undefined> {
  const { rows } = await db.query<Row>(
    `INSERT INTO sso_connections (tenant_id, id, type, name, domains, idp_entity_id, idp_sso_url, idp_certs, idp_metadata_xml,
       idp_metadata_url, allow_idp_initiated, jit_provisioning, identity_mapping, clock_skew_seconds, sign_authn_requests,
       jit_groups_attribute, sp_signing_cert, sp_signing_key, sp_encryption_cert, sp_encryption_key, oidc_settings, oidc_client_secret)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)
     ON CONFLICT DO NOTHING RETURNING ${COLUMNS}`,
    [tenantId, randomUUID(), type, ...fieldValues(f)]);
  return rows[0] ? toConnection(rows[0]) : undefined;
}

/**
 * The fields a PATCH sets; any left out keep the value the row has when the write takes its lock.
 * SP key pairs are stored only where the row has none yet, or still holds the certificate
 * `spCertsReplaced` names for that use (one that does not parse): a pair generated by a concurrent
 * write that stored first stays. `oidc` without `oidcClientSecret` keeps the stored secret when the
 * issuer and discovery URL stay the same and forgets it otherwise: the secret goes to the token
 * endpoint they name.
 */
export type ConnectionChanges = Partial<ConnectionFields> & { spCertsReplaced?: { signing?: string; encryption?: string } };

const COLUMN: { [K in keyof ConnectionFields]-?: string } = {
  name: 'name', domains: 'domains', idpEntityId: 'idp_entity_id', idpSsoUrl: 'idp_sso_url', idpCerts: 'idp_certs',
  idpMetadataXml: 'idp_metadata_xml', idpMetadataUrl: 'idp_metadata_url', allowIdpInitiated: 'allow_idp_initiated',
  jitProvisioning: 'jit_provisioning', identityMapping: 'identity_mapping', clockSkewSeconds: 'clock_skew_seconds',
  signAuthnRequests: 'sign_authn_requests', jitGroupsAttribute: 'jit_groups_attribute', spSigningCert: 'sp_signing_cert',
  spSigningKey: 'sp_signing_key', spEncryptionCert: 'sp_encryption_cert', spEncryptionKey: 'sp_encryption_key',
  oidc: 'oidc_settings', oidcClientSecret: 'oidc_client_secret',
};

/** The SET list of an update: each given field merged into the row as the UPDATE finds it (alias c). */
function setList(ch: ConnectionChanges, params: unknown[]): string[] {
  const p = (v: unknown) => `$${params.push(v)}`;
  const sets = ['updated_at = now()'];
  const { spCertsReplaced, ...fields } = ch;
  for (const [key, value] of Object.entries(fields) as [keyof ConnectionFields, unknown][]) {
    if (value === undefined) continue;
    const col = COLUMN[key];
    if (key === 'spSigningKey' || key === 'spEncryptionKey' || key === 'spSigningCert' || key === 'spEncryptionCert') {
      // SET sees the row as the lock found it: key and certificate are judged on the same old pair.
      const use = key === 'spSigningKey' || key === 'spSigningCert' ? 'signing' : 'encryption';
      const replaced = p(spCertsReplaced?.[use] ?? null);
      sets.push(`${col} = CASE WHEN c.sp_${use}_key IS NULL OR c.sp_${use}_cert = ${replaced}::text THEN ${p(value)}::text ELSE c.${col} END`);
    } else if (key === 'identityMapping' || key === 'oidc') sets.push(`${col} = ${p(value === null ? null : JSON.stringify(value))}::jsonb`);
    else sets.push(`${col} = ${p(value)}`);
  }
  if (ch.oidc && ch.oidcClientSecret === undefined) {
    sets.push(`oidc_client_secret = CASE WHEN c.oidc_settings->>'issuer' = ${p(ch.oidc.issuer)}::text
      AND (c.oidc_settings->>'discoveryUrl') IS NOT DISTINCT FROM ${p(ch.oidc.discoveryUrl)}::text THEN c.oidc_client_secret END`);
  }
  return sets;
}

/**
 * Changes the fields given (ConnectionChanges) in one statement. `old` locks the row first (NO KEY,
 * as the UPDATE itself); after waiting on a concurrent change the lock and the UPDATE see the
 * newest version, so the fields this write leaves out keep what the other one stored, and
 * `replaced` (the row as the lock found it) is what this write changed.
 */
export async function updateConnection(
  db: Queryable, tenantId: string, id: string, changes: ConnectionChanges,
): Promise<(Connection & { replaced: Connection }) | undefined> {
  if (!isUuid(id)) return undefined;
  const params: unknown[] = [tenantId, id];
  const sets = setList(changes, params);
  const { rows } = await db.query<Row & { old: Row }>(
    `WITH old AS (SELECT ${COLUMNS} FROM sso_connections WHERE tenant_id = $1 AND id = $2 FOR NO KEY UPDATE)
     UPDATE sso_connections c SET ${sets.join(', ')}
       FROM old
     WHERE c.tenant_id = $1 AND c.id = $2 RETURNING ${COLUMNS.split(',').map((col) => `c.${col.trim()}`).join(', ')}, to_jsonb(old) AS old`,
    params);
  const r = rows[0];
  return r ? { ...toConnection(r), replaced: toConnection(r.old) } : undefined;
}

/** Deletes a connection; deleting the one standing for the tenant's OIDC configuration removes that configuration too. */
export async function deleteConnection(db: Queryable, tenantId: string, id: string): Promise<ConnectionType | undefined> {
  if (!isUuid(id)) return undefined;
  const { rows } = await db.query<{ type: ConnectionType; own: boolean }>(
    'DELETE FROM sso_connections WHERE tenant_id = $1 AND id = $2 RETURNING type, oidc_settings IS NOT NULL AS own', [tenantId, id]);
  const type = rows[0]?.type;
  if (type === 'oidc' && !rows[0]!.own) await db.query('DELETE FROM idp_oidc_configs WHERE tenant_id = $1', [tenantId]);
  if (type === 'saml') await db.query('DELETE FROM sso_saml_requests WHERE tenant_id = $1 AND connection_id = $2', [tenantId, id]);
  return type;
}

/** Purpose (authenticated data) of an OIDC connection's encrypted client secret (src/lib/secret-box.ts). */
export const OIDC_CONNECTION_SECRET_PURPOSE = 'sso.oidc_connection.client_secret';

/** The tenant's OIDC connections, the one standing for its OIDC configuration first. */
export async function oidcConnections(db: Queryable, tenantId: string): Promise<Connection[]> {
  return (await listConnections(db, tenantId)).filter((c) => c.type === 'oidc').sort((a, b) => Number(a.oidc !== null) - Number(b.oidc !== null));
}

/** The encrypted columns of sso_connections and the purpose each is encrypted for. */
const ENCRYPTED_COLUMNS = [
  ['sp_signing_key', SP_KEY_PURPOSE.signing],
  ['sp_encryption_key', SP_KEY_PURPOSE.encryption],
  ['oidc_client_secret', OIDC_CONNECTION_SECRET_PURPOSE],
] as const;

/**
 * The start-up pass over the connections' private keys and client secrets (like
 * reencryptWebhookSecrets): values under a previous installation key move to the current one, so
 * the previous key can be dropped after a rotation. Compare-and-set, idempotent.
 */
export async function reencryptConnectionSecrets(db: Queryable, secrets: SecretBox): Promise<number> {
  let n = 0;
  for (const [column, purpose] of ENCRYPTED_COLUMNS) {
    const { rows } = await db.query<{ tenant_id: string; id: string; v: string }>(
      `SELECT tenant_id, id, ${column} AS v FROM sso_connections WHERE ${column} IS NOT NULL AND NOT starts_with(${column}, $1)`,
      [`enc:v1:${secrets.currentKid ?? ''}:`]);
    if (rows.length > 0 && !secrets.enabled) throw new Error('IDPBRIDGE_SECRET_KEY is not set, but the database holds encrypted sign-in connection keys (see docs/operator.md)');
    for (const r of rows) {
      const res = await db.query(`UPDATE sso_connections SET ${column} = $4 WHERE tenant_id = $1 AND id = $2 AND ${column} = $3`,
        [r.tenant_id, r.id, r.v, secrets.reencrypt(r.v, purpose)]);
      n += res.rowCount;
    }
  }
  return n;
}

/** A lower-case DNS name with at least one dot; the reason otherwise. */
export function domainProblem(d: string): string | undefined {
  if (d.length > 253 || !/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(d)) return `"${d}" is not a domain name (lower-case, e.g. example.com)`;
  return undefined;
}
