import type { Queryable } from '../db/types.js';
import type { SecretBox } from '../lib/secret-box.js';
import { ApiError } from '../http/errors.js';

/** Which IdP a tenant uses: picks the defaults for claims and algorithms. */
export type IdpProvider = 'entra' | 'okta' | 'generic';
/** The identity attribute a token claim is matched to. */
export type IdentityAttribute = 'externalId' | 'userName' | 'id';

export interface IdentityClaimRule {
  claim: string;
  attribute: IdentityAttribute;
}

/** What a tenant admin enters (admin API PUT …/oidc). Fields left out take the provider's defaults. */
export interface OidcConfigInput {
  provider?: IdpProvider;
  discoveryUrl?: string | null;
  issuer: string;
  additionalIssuers?: string[];
  audience?: string | string[];
  audiences?: string[];
  jwksUri?: string | null;
  algorithms?: string[];
  identityClaims?: IdentityClaimRule[];
  groupsClaim?: string;
  groupsMatch?: 'externalId' | 'displayName';
  clockToleranceSeconds?: number;
  /** Sign-in broker (src/sso): the OIDC client idpbridge signs users in with. */
  clientId?: string | null;
  /** Write-only: left out keeps the stored secret, null removes it. */
  clientSecret?: string | null;
}

/** A tenant's stored OIDC configuration, with everything derived from it. */
export interface OidcConfig {
  tenantId: string;
  provider: IdpProvider;
  issuer: string;
  additionalIssuers: string[];
  /** Exact `iss` values accepted: the issuer, its Entra v1/v2 companion, and additionalIssuers. */
  acceptedIssuers: string[];
  /** The discovery document URL (entered, or derived from the issuer). */
  discoveryUrl: string | null;
  /** JWKS URL override; when null the discovery document's jwks_uri is used. */
  jwksUri: string | null;
  audiences: string[];
  algorithms: string[];
  identityClaims: IdentityClaimRule[];
  groupsClaim: string;
  groupsMatch: 'externalId' | 'displayName';
  clockToleranceSeconds: number;
  /** Entra directory (tenant) id when the issuer names one. */
  entraTenantId: string | null;
  /** Sign-in broker: the OIDC client id at the IdP (null: sign-in through the IdP is not set up). */
  clientId: string | null;
  /** Whether a client secret is stored (the secret itself never leaves the database through the API). */
  clientSecretSet: boolean;
  version: number;
  updatedAt: Date;
}

/** Asymmetric JWS algorithms only: `none` and HMAC (HS*) are never accepted, whatever is configured. */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;

export const PROVIDER_DEFAULTS: Record<IdpProvider, {
  algorithms: string[];
  identityClaims: IdentityClaimRule[];
  groupsClaim: string;
  groupsMatch: 'externalId' | 'displayName';
}> = {
  // Entra: `oid` is the user's object id (externalId once the SCIM mapping sends objectId, see the
  // Entra guide); the group claim carries group object ids.
  entra: {
    algorithms: ['RS256'],
    identityClaims: [
      { claim: 'oid', attribute: 'externalId' },
      { claim: 'preferred_username', attribute: 'userName' },
      { claim: 'upn', attribute: 'userName' },
    ],
    groupsClaim: 'groups',
    groupsMatch: 'externalId',
  },
  // Okta: `uid` is the Okta user id (SCIM externalId); the groups claim carries group names.
  okta: {
    algorithms: ['RS256'],
    identityClaims: [
      { claim: 'uid', attribute: 'externalId' },
      { claim: 'sub', attribute: 'externalId' },
      { claim: 'email', attribute: 'userName' },
      { claim: 'preferred_username', attribute: 'userName' },
    ],
    groupsClaim: 'groups',
    groupsMatch: 'displayName',
  },
  generic: {
    algorithms: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'],
    identityClaims: [
      { claim: 'sub', attribute: 'externalId' },
      { claim: 'preferred_username', attribute: 'userName' },
      { claim: 'email', attribute: 'userName' },
    ],
    groupsClaim: 'groups',
    groupsMatch: 'displayName',
  },
};

export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 60;

const GUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
const ENTRA_V1 = new RegExp(`^https://sts\\.windows\\.net/(${GUID})/$`);
const ENTRA_V2 = new RegExp(`^https://login\\.microsoftonline\\.com/(${GUID})/v2\\.0$`);
// What some guides call the "authority": login.microsoftonline.com/{tid}, with or without a slash.
const ENTRA_AUTHORITY = new RegExp(`^https://login\\.microsoftonline\\.com/(${GUID})/?$`);

export const entraV1Issuer = (tid: string) => `https://sts.windows.net/${tid}/`;
export const entraV2Issuer = (tid: string) => `https://login.microsoftonline.com/${tid}/v2.0`;

/** The Entra directory id named by an issuer or authority URL, if any. */
export function entraTenantIdOf(issuer: string): string | null {
  const m = ENTRA_V1.exec(issuer) ?? ENTRA_V2.exec(issuer) ?? ENTRA_AUTHORITY.exec(issuer);
  return m?.[1]?.toLowerCase() ?? null;
}

/** An admin's OIDC configuration input is not valid (400, the message says which field and why). */
export class OidcConfigError extends ApiError {
  constructor(message: string) {
    super('ERR_BAD_REQUEST', message);
  }
}

function absoluteUrl(value: string, field: string): string {
  try {
    const u = new URL(value);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('scheme');
  } catch {
    throw new OidcConfigError(`${field} must be an absolute https URL, got "${value}"`);
  }
  return value;
}

export interface NormalizedOidcConfig extends Omit<OidcConfig, 'tenantId' | 'version' | 'updatedAt' | 'clientSecretSet'> {}

/** Validates an admin's input and fills provider defaults; throws OidcConfigError with a precise message. */
export function normalizeOidcConfig(input: OidcConfigInput): NormalizedOidcConfig {
  let issuer = input.issuer.trim();
  absoluteUrl(issuer, 'issuer');
  const entraTid = entraTenantIdOf(issuer);
  const provider: IdpProvider = input.provider ?? (entraTid ? 'entra' : /\.okta(preview)?\.com\b|\.oktapreview\.com\b/.test(issuer) ? 'okta' : 'generic');
  const defaults = PROVIDER_DEFAULTS[provider];

  // The Entra "authority" (login.microsoftonline.com/{tid}) is not a token issuer; use the v2 issuer
  // (the v1 one is accepted as well, below).
  if (provider === 'entra' && entraTid && ENTRA_AUTHORITY.test(issuer)) issuer = entraV2Issuer(entraTid);

  const additionalIssuers = [...new Set((input.additionalIssuers ?? []).map((s) => absoluteUrl(s.trim(), 'additionalIssuers[]')))];
  const accepted = new Set([issuer]);
  if (provider === 'entra' && entraTid) {
    // Entra signs v1 tokens (accessTokenAcceptedVersion null/1) as sts.windows.net/{tid}/ and v2 tokens
    // as login.microsoftonline.com/{tid}/v2.0 with the same keys: both are this tenant.
    accepted.add(entraV1Issuer(entraTid));
    accepted.add(entraV2Issuer(entraTid));
  }
  for (const i of additionalIssuers) accepted.add(i);

  const audiences = [...new Set([
    ...(typeof input.audience === 'string' ? [input.audience] : input.audience ?? []),
    ...(input.audiences ?? []),
  ].map((a) => a.trim()).filter(Boolean))];
  if (audiences.length === 0) throw new OidcConfigError('audience is required: the Application ID URI (Entra) or the authorization server audience (Okta, e.g. api://default)');

  let discoveryUrl = input.discoveryUrl?.trim() || null;
  if (discoveryUrl) absoluteUrl(discoveryUrl, 'discoveryUrl');
  const jwksUri = input.jwksUri?.trim() || null;
  if (jwksUri) absoluteUrl(jwksUri, 'jwksUri');
  if (!discoveryUrl) {
    discoveryUrl = provider === 'entra' && entraTid
      ? `https://login.microsoftonline.com/${entraTid}/v2.0/.well-known/openid-configuration`
      : `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  }

  const algorithms = [...new Set(input.algorithms ?? defaults.algorithms)];
  if (algorithms.length === 0) throw new OidcConfigError('algorithms must list at least one algorithm');
  for (const alg of algorithms) {
    if (alg.toLowerCase() === 'none') throw new OidcConfigError('algorithm "none" is never accepted');
    if (/^HS/i.test(alg)) throw new OidcConfigError(`HMAC algorithm ${alg} is never accepted: an IdP's tokens are verified with its public keys`);
    if (!(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg)) throw new OidcConfigError(`unsupported algorithm ${alg}; allowed: ${ASYMMETRIC_ALGORITHMS.join(', ')}`);
  }

  const identityClaims = input.identityClaims ?? defaults.identityClaims;
  if (identityClaims.length === 0) throw new OidcConfigError('identityClaims must list at least one claim');
  const clock = input.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS;
  if (!Number.isInteger(clock) || clock < 0 || clock > 300) throw new OidcConfigError('clockToleranceSeconds must be an integer from 0 to 300');

  return {
    provider,
    issuer,
    additionalIssuers,
    acceptedIssuers: [...accepted],
    discoveryUrl,
    jwksUri,
    audiences,
    algorithms,
    identityClaims: identityClaims.map((r) => ({ claim: r.claim, attribute: r.attribute })),
    groupsClaim: input.groupsClaim ?? defaults.groupsClaim,
    groupsMatch: input.groupsMatch ?? defaults.groupsMatch,
    clockToleranceSeconds: clock,
    entraTenantId: entraTid,
    clientId: input.clientId?.trim() || null,
  };
}

/** JSON schema of the PUT body (schema-first admin API). */
export const oidcConfigBodySchema = {
  type: 'object',
  required: ['issuer'],
  additionalProperties: false,
  properties: {
    provider: { type: 'string', enum: ['entra', 'okta', 'generic'], description: 'Picks the claim and algorithm defaults; detected from the issuer when left out' },
    discoveryUrl: { type: ['string', 'null'], maxLength: 2000, description: 'OpenID Connect discovery (metadata) document URL; derived from the issuer when left out' },
    issuer: { type: 'string', minLength: 1, maxLength: 2000, description: 'Token issuer (`iss`), matched exactly' },
    additionalIssuers: { type: 'array', maxItems: 10, items: { type: 'string', minLength: 1, maxLength: 2000 } },
    audience: {
      anyOf: [
        { type: 'string', minLength: 1, maxLength: 2000 },
        { type: 'array', minItems: 1, maxItems: 20, items: { type: 'string', minLength: 1, maxLength: 2000 } },
      ],
      description: 'Accepted `aud` value(s), matched exactly: the Application ID URI and/or client id (Entra), the authorization server audience (Okta)',
    },
    audiences: { type: 'array', maxItems: 20, items: { type: 'string', minLength: 1, maxLength: 2000 } },
    jwksUri: { type: ['string', 'null'], maxLength: 2000, description: 'JWKS URL; from the discovery document when left out' },
    algorithms: { type: 'array', minItems: 1, maxItems: 12, items: { type: 'string', minLength: 2, maxLength: 10 } },
    identityClaims: {
      type: 'array',
      minItems: 1,
      maxItems: 10,
      items: {
        type: 'object',
        required: ['claim', 'attribute'],
        additionalProperties: false,
        properties: {
          claim: { type: 'string', minLength: 1, maxLength: 200 },
          attribute: { type: 'string', enum: ['externalId', 'userName', 'id'] },
        },
      },
    },
    groupsClaim: { type: 'string', minLength: 1, maxLength: 200 },
    groupsMatch: { type: 'string', enum: ['externalId', 'displayName'] },
    clockToleranceSeconds: { type: 'integer', minimum: 0, maximum: 300 },
    clientId: { type: ['string', 'null'], maxLength: 500, description: 'Sign-in broker: client (application) id of the web application registered at the IdP' },
    clientSecret: {
      type: ['string', 'null'], minLength: 1, maxLength: 2000, writeOnly: true,
      description: 'Sign-in broker: client secret (write-only, never returned; left out keeps the stored one, null removes it)',
    },
  },
} as const;

export const oidcConfigViewSchema = {
  type: 'object',
  properties: {
    tenantId: { type: 'string' },
    provider: { type: 'string' },
    issuer: { type: 'string' },
    additionalIssuers: { type: 'array', items: { type: 'string' } },
    acceptedIssuers: { type: 'array', items: { type: 'string' } },
    discoveryUrl: { type: ['string', 'null'] },
    jwksUri: { type: ['string', 'null'] },
    audiences: { type: 'array', items: { type: 'string' } },
    algorithms: { type: 'array', items: { type: 'string' } },
    identityClaims: { type: 'array', items: { type: 'object', properties: { claim: { type: 'string' }, attribute: { type: 'string' } } } },
    groupsClaim: { type: 'string' },
    groupsMatch: { type: 'string' },
    clockToleranceSeconds: { type: 'integer' },
    entraTenantId: { type: ['string', 'null'] },
    clientId: { type: ['string', 'null'] },
    clientSecretSet: { type: 'boolean', description: 'A client secret is stored (it is never returned)' },
    signInCallbackUrl: { type: 'string', description: 'Redirect URI to register at the IdP for sign-in (authorization code + PKCE)' },
    version: { type: 'integer' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
} as const;

export const viewOidcConfig = (c: OidcConfig) => ({ ...c, updatedAt: c.updatedAt.toISOString() });

// ---- storage -------------------------------------------------------------------------------

/** NOTIFY channel: payload = tenant id whose OIDC configuration changed. */
export const OIDC_CONFIG_CHANNEL = 'idpb_oidc_config';

interface Row {
  tenant_id: string;
  provider: IdpProvider;
  issuer: string;
  additional_issuers: string[];
  discovery_url: string | null;
  jwks_uri: string | null;
  audiences: string[];
  algorithms: string[];
  identity_claims: IdentityClaimRule[];
  groups_claim: string;
  groups_match: 'externalId' | 'displayName';
  clock_tolerance_seconds: number;
  client_id: string | null;
  client_secret_set: boolean;
  version: number;
  updated_at: Date;
}

function fromRow(r: Row): OidcConfig {
  // Derived fields are recomputed from what was stored, so a code change to the rules applies at once.
  const n = normalizeOidcConfig({
    provider: r.provider,
    issuer: r.issuer,
    additionalIssuers: r.additional_issuers,
    discoveryUrl: r.discovery_url,
    jwksUri: r.jwks_uri,
    audiences: r.audiences,
    algorithms: r.algorithms,
    identityClaims: r.identity_claims,
    groupsClaim: r.groups_claim,
    groupsMatch: r.groups_match,
    clockToleranceSeconds: r.clock_tolerance_seconds,
    clientId: r.client_id,
  });
  return { tenantId: r.tenant_id, ...n, clientSecretSet: !!r.client_secret_set, version: r.version, updatedAt: new Date(r.updated_at) };
}

const COLUMNS = `tenant_id, provider, issuer, additional_issuers, discovery_url, jwks_uri, audiences, algorithms,
  identity_claims, groups_claim, groups_match, clock_tolerance_seconds, client_id, client_secret IS NOT NULL AS client_secret_set,
  version, updated_at`;

/** lock: the row stays locked until the transaction ends (a PUT reads what it replaces). */
export async function getOidcConfig(db: Queryable, tenantId: string, opts: { lock?: boolean } = {}): Promise<OidcConfig | undefined> {
  const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM idp_oidc_configs WHERE tenant_id = $1${opts.lock ? ' FOR UPDATE' : ''}`, [tenantId]);
  return rows[0] ? fromRow(rows[0]) : undefined;
}

/** Purpose (authenticated data) of an encrypted OIDC client secret (src/lib/secret-box.ts). */
export const OIDC_CLIENT_SECRET_PURPOSE = 'oidc.client_secret';

/** What a stored client secret is bound to: it is only ever sent where these still point. */
export interface ClientSecretBinding {
  issuer: string;
  discoveryUrl: string | null;
  /** Origin of the token endpoint the secret was first sent to (null: not used yet). */
  tokenEndpointOrigin: string | null;
}

/**
 * Whether a stored client secret stays with a changed configuration (issue 17 item 7). The issuer,
 * the discovery URL and the token endpoint's origin decide where the secret is sent, so a change of
 * any of them forgets it and the admin enters it again: a tenant admin (or a changed discovery
 * document) cannot redirect the stored secret to a token endpoint of their choosing. An origin not
 * known yet on either side is no change (the first use pins it). The only place this is decided.
 */
export function keepsClientSecret(stored: ClientSecretBinding, next: ClientSecretBinding): boolean {
  return stored.issuer === next.issuer
    && stored.discoveryUrl === next.discoveryUrl
    && (stored.tokenEndpointOrigin === null || next.tokenEndpointOrigin === null || stored.tokenEndpointOrigin === next.tokenEndpointOrigin);
}

interface SecretRow {
  issuer: string;
  discovery_url: string | null;
  client_secret: string | null;
  client_secret_token_origin: string | null;
}

const bindingOf = (r: SecretRow): ClientSecretBinding => ({ issuer: r.issuer, discoveryUrl: r.discovery_url, tokenEndpointOrigin: r.client_secret_token_origin });

/**
 * Full replace (PUT). The caller checked that the tenant exists. clientSecret: undefined keeps the
 * stored secret (it is write-only, so a client cannot resend it) while keepsClientSecret allows;
 * null removes it; a config without a client id keeps no secret. The secret is stored encrypted.
 * Run it in a transaction: the stored row is read FOR UPDATE before it is replaced.
 */
export async function putOidcConfig(
  db: Queryable,
  tenantId: string,
  c: NormalizedOidcConfig,
  clientSecret: string | null | undefined,
  secrets: SecretBox,
): Promise<OidcConfig> {
  const { rows: current } = await db.query<SecretRow>(
    'SELECT issuer, discovery_url, client_secret, client_secret_token_origin FROM idp_oidc_configs WHERE tenant_id = $1 FOR UPDATE',
    [tenantId],
  );
  const was = current[0];
  const keep = clientSecret === undefined && c.clientId !== null && !!was?.client_secret
    && keepsClientSecret(bindingOf(was), { issuer: c.issuer, discoveryUrl: c.discoveryUrl, tokenEndpointOrigin: null });
  const stored = keep ? was!.client_secret
    : typeof clientSecret === 'string' && c.clientId !== null ? secrets.encrypt(clientSecret, OIDC_CLIENT_SECRET_PURPOSE) : null;
  const { rows } = await db.query<Row>(
    `INSERT INTO idp_oidc_configs (tenant_id, provider, issuer, additional_issuers, discovery_url, jwks_uri, audiences,
        algorithms, identity_claims, groups_claim, groups_match, clock_tolerance_seconds, client_id, client_secret,
        client_secret_token_origin)
     VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7::jsonb, $8::jsonb, $9::jsonb, $10, $11, $12, $13, $14, $15)
     ON CONFLICT (tenant_id) DO UPDATE SET provider = EXCLUDED.provider, issuer = EXCLUDED.issuer,
        additional_issuers = EXCLUDED.additional_issuers, discovery_url = EXCLUDED.discovery_url,
        jwks_uri = EXCLUDED.jwks_uri, audiences = EXCLUDED.audiences, algorithms = EXCLUDED.algorithms,
        identity_claims = EXCLUDED.identity_claims, groups_claim = EXCLUDED.groups_claim,
        groups_match = EXCLUDED.groups_match, clock_tolerance_seconds = EXCLUDED.clock_tolerance_seconds,
        client_id = EXCLUDED.client_id, client_secret = EXCLUDED.client_secret,
        client_secret_token_origin = EXCLUDED.client_secret_token_origin,
        version = idp_oidc_configs.version + 1, updated_at = now()
     RETURNING ${COLUMNS}`,
    [
      tenantId, c.provider, c.issuer, JSON.stringify(c.additionalIssuers), c.discoveryUrl, c.jwksUri,
      JSON.stringify(c.audiences), JSON.stringify(c.algorithms), JSON.stringify(c.identityClaims),
      c.groupsClaim, c.groupsMatch, c.clockToleranceSeconds, c.clientId, stored, keep ? was!.client_secret_token_origin : null,
    ],
  );
  await notifyOidcChange(db, tenantId);
  return fromRow(rows[0]!);
}

/** The stored client secret (sign-in broker only; never sent through the admin API). */
export async function getOidcClientSecret(db: Queryable, tenantId: string, secrets: SecretBox): Promise<string | null> {
  const { rows } = await db.query<{ client_secret: string | null }>('SELECT client_secret FROM idp_oidc_configs WHERE tenant_id = $1', [tenantId]);
  const stored = rows[0]?.client_secret;
  return stored ? secrets.decrypt(stored, OIDC_CLIENT_SECRET_PURPOSE) : null;
}

/**
 * The stored client secret for a code exchange at `tokenEndpoint` (the IdP's discovery document
 * names it). Its first use pins the endpoint's origin; when a later discovery document names another
 * origin, keepsClientSecret refuses: the secret is forgotten (the admin enters it again) and null
 * is returned, so it is never sent there. Compare-and-set on the stored value: a secret saved
 * meanwhile is not touched.
 */
export async function clientSecretForTokenEndpoint(db: Queryable, tenantId: string, tokenEndpoint: string, secrets: SecretBox): Promise<string | null> {
  const { rows } = await db.query<SecretRow>(
    'SELECT issuer, discovery_url, client_secret, client_secret_token_origin FROM idp_oidc_configs WHERE tenant_id = $1',
    [tenantId],
  );
  const r = rows[0];
  if (!r?.client_secret) return null;
  const origin = new URL(tokenEndpoint).origin;
  if (!keepsClientSecret(bindingOf(r), { ...bindingOf(r), tokenEndpointOrigin: origin })) {
    await db.query(
      'UPDATE idp_oidc_configs SET client_secret = NULL, client_secret_token_origin = NULL WHERE tenant_id = $1 AND client_secret = $2',
      [tenantId, r.client_secret],
    );
    await notifyOidcChange(db, tenantId);
    return null;
  }
  if (r.client_secret_token_origin === null) {
    await db.query(
      'UPDATE idp_oidc_configs SET client_secret_token_origin = $3 WHERE tenant_id = $1 AND client_secret = $2 AND client_secret_token_origin IS NULL',
      [tenantId, r.client_secret, origin],
    );
  }
  return secrets.decrypt(r.client_secret, OIDC_CLIENT_SECRET_PURPOSE);
}

/**
 * The start-up pass over OIDC client secrets (like reencryptWebhookSecrets): plaintext rows and
 * rows under a previous key are re-encrypted under the current key; idempotent, compare-and-set.
 */
export async function reencryptOidcClientSecrets(db: Queryable, secrets: SecretBox): Promise<number> {
  const { rows } = await db.query<{ tenant_id: string; client_secret: string }>(
    'SELECT tenant_id, client_secret FROM idp_oidc_configs WHERE client_secret IS NOT NULL AND NOT starts_with(client_secret, $1)',
    [`enc:v1:${secrets.currentKid ?? ''}:`],
  );
  if (rows.length > 0 && !secrets.enabled) throw new Error('IDPBRIDGE_SECRET_KEY is not set, but the database holds OIDC client secrets (see docs/operator.md)');
  let n = 0;
  for (const r of rows) {
    const res = await db.query('UPDATE idp_oidc_configs SET client_secret = $3 WHERE tenant_id = $1 AND client_secret = $2', [
      r.tenant_id, r.client_secret, secrets.reencrypt(r.client_secret, OIDC_CLIENT_SECRET_PURPOSE),
    ]);
    n += res.rowCount;
  }
  return n;
}

export async function deleteOidcConfig(db: Queryable, tenantId: string): Promise<boolean> {
  const res = await db.query('DELETE FROM idp_oidc_configs WHERE tenant_id = $1', [tenantId]);
  if (res.rowCount > 0) await notifyOidcChange(db, tenantId);
  return res.rowCount > 0;
}

async function notifyOidcChange(db: Queryable, tenantId: string): Promise<void> {
  // Other idpbridge processes drop their cached configuration and verified tokens for this tenant.
  await db.query('SELECT pg_notify($1, $2)', [OIDC_CONFIG_CHANNEL, tenantId]);
}
