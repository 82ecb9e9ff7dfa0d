import { randomUUID } from 'node:crypto';
import type { Queryable } from '../db/types.js';
import { isUuid } from '../lib/ids.js';

/**
 * Sign-in connections: a tenant signs in through any number of them, OIDC or SAML 2.0. The OIDC
 * connection stands for the tenant's OIDC configuration (PUT …/oidc; one per tenant); a SAML
 * connection holds its IdP's entity ID, SSO URL and signing certificates (from its metadata).
 */
export type ConnectionType = 'oidc' | 'saml';

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
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = `tenant_id, id, type, name, domains, idp_entity_id, idp_sso_url, idp_certs, idp_metadata_xml, idp_metadata_url,
  allow_idp_initiated, jit_provisioning, identity_mapping, clock_skew_seconds, created_at, updated_at`;

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
      WHERE c.tenant_id = $1 AND NOT EXISTS (SELECT 1 FROM sso_connections s WHERE s.tenant_id = $1 AND s.type = 'oidc')
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

/** undefined when the tenant already has an OIDC connection (type 'oidc' only). */
export async function insertConnection(db: Queryable, tenantId: string, type: ConnectionType, f: ConnectionFields): Promise<Connection | undefined> {
  const { rows } = await db.query<Row>(
    `INSERT INTO sso_connections (tenant_id, id, type, name, domains, idp_entity_id, idp_sso_url, idp_certs, idp_metadata_xml,
       idp_metadata_url, allow_idp_initiated, jit_provisioning, identity_mapping, clock_skew_seconds)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
     ON CONFLICT DO NOTHING RETURNING ${COLUMNS}`,
    [tenantId, randomUUID(), type, f.name, f.domains, f.idpEntityId, f.idpSsoUrl, f.idpCerts, f.idpMetadataXml, f.idpMetadataUrl,
      f.allowIdpInitiated, f.jitProvisioning, f.identityMapping ? JSON.stringify(f.identityMapping) : null, f.clockSkewSeconds]);
  return rows[0] ? toConnection(rows[0]) : undefined;
}

export async function updateConnection(db: Queryable, tenantId: string, id: string, f: ConnectionFields): Promise<Connection | undefined> {
  if (!isUuid(id)) return undefined;
  const { rows } = await db.query<Row>(
    `UPDATE sso_connections SET name = $3, domains = $4, idp_entity_id = $5, idp_sso_url = $6, idp_certs = $7, idp_metadata_xml = $8,
       idp_metadata_url = $9, allow_idp_initiated = $10, jit_provisioning = $11, identity_mapping = $12, clock_skew_seconds = $13,
       updated_at = now()
     WHERE tenant_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
    [tenantId, id, f.name, f.domains, f.idpEntityId, f.idpSsoUrl, f.idpCerts, f.idpMetadataXml, f.idpMetadataUrl,
      f.allowIdpInitiated, f.jitProvisioning, f.identityMapping ? JSON.stringify(f.identityMapping) : null, f.clockSkewSeconds]);
  return rows[0] ? toConnection(rows[0]) : undefined;
}

/** Deletes a connection; deleting the OIDC connection removes the tenant's OIDC configuration too. */
export async function deleteConnection(db: Queryable, tenantId: string, id: string): Promise<ConnectionType | undefined> {
  if (!isUuid(id)) return undefined;
  const { rows } = await db.query<{ type: ConnectionType }>('DELETE FROM sso_connections WHERE tenant_id = $1 AND id = $2 RETURNING type', [tenantId, id]);
  const type = rows[0]?.type;
  if (type === 'oidc') await db.query('DELETE FROM idp_oidc_configs WHERE tenant_id = $1', [tenantId]);
  if (type === 'saml') await db.query('DELETE FROM sso_saml_requests WHERE tenant_id = $1 AND connection_id = $2', [tenantId, id]);
  return type;
}

/** A lower-case DNS name with at least one dot; the reason otherwise. */
export function domainProblem(d: string): string | undefined {
  if (d.length > 253 || !/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(d)) return `"${d}" is not a domain name (lower-case, e.g. example.com)`;
  return undefined;
}
