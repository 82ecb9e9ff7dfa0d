/** Configuration from environment variables; the table in README.md documents each one. */
export interface Config {
  host: string;
  port: number;
  databaseUrl: string | undefined;
  dataDir: string;
  adminToken: string | undefined;
  /** Public base URL used in SCIM meta.location and the SCIM base URL shown to admins. */
  publicUrl: string | undefined;
  logLevel: string;
  bodyLimit: number;
  /** Requests per tenant per minute on /scim and /v1; 0 disables the limit. */
  rateLimitPerMinute: number;
  pgPoolMax: number;
  /** PostgreSQL: longest any one statement may run (ms) before it is cancelled; 0 = no limit. */
  statementTimeoutMs: number;
  /** SCIM requests of one tenant served at once (more wait their turn, briefly); 0 = no limit. */
  tenantConcurrency: number;
  smtpUrl: string | undefined;
  /** Events (src/events): run the outbox worker here (IDPBRIDGE_WORKER=off disables it), and its tuning. */
  worker: boolean;
  /**
   * Table upkeep (src/db/upkeep.ts) in a process that runs the worker: vacuuming and statistics
   * where autovacuum does not run, early statistics after fast growth (IDPBRIDGE_TABLE_UPKEEP=off
   * leaves both to the operator).
   */
  tableUpkeep: boolean;
  workerPollMs: number;
  workerLeaseMs: number;
  webhookTimeoutMs: number;
  webhookBackoffBaseMs: number;
  webhookBackoffMaxMs: number;
  /** Failed deliveries are retried at least this long, then dead-lettered. */
  webhookRetryWindowMs: number;
  smtpFrom: string;
  /** Activation link in invitation e-mails: {tenantId}, {userId}, {email} are substituted. */
  invitationUrl: string | undefined;
  bulkMaxOperations: number;
  filterMaxResults: number;
  /** Members rendered inline in a Group; more are paged with /Users?filter=groups.value eq "<id>". */
  groupMembersInlineMax: number;
  /** Members rendered inline over all Groups of one list/search page; beyond it, members are omitted. */
  groupMembersPageMax: number;
  /** /v1: cache verified IdP tokens (keyed by their SHA-256) until exp. */
  tokenCache: boolean;
  /** /v1: reuse identity, access, dataset and API-key lookups this long (ms, at most 5000; 0 = never). */
  accessCacheTtlMs: number;
  /** Minimum interval between JWKS refetches triggered by an unknown kid (ms). */
  oidcJwksCooldownMs: number;
  /**
   * Outbound requests (webhooks, OIDC discovery/JWKS/token): loopback, private, link-local and
   * metadata addresses are refused unless listed here (host names and CIDRs, src/lib/outbound.ts).
   */
  allowPrivateTargets: string[];
  /** Most webhooks one tenant may have. */
  webhooksPerTenantMax: number;
  /** Webhook queues one worker serves at once, and at most this many of one tenant. */
  webhookConcurrency: number;
  webhookTenantConcurrency: number;
  /**
   * Installation key that encrypts reversible secrets at rest (32 bytes, base64 or hex), and older
   * keys still accepted for decryption during a rotation (src/lib/secret-box.ts, docs/operator.md).
   */
  secretKey: string | undefined;
  secretKeysPrevious: string[];
  /** Trust X-Forwarded-Proto/-For/-Host (IDPBRIDGE_TRUST_PROXY=true): only behind a proxy you control. */
  trustProxy: boolean;
  /** The built console's directory (IDPBRIDGE_CONSOLE_DIR); unset: dist/web next to the server. */
  consoleDir: string | undefined;
  /** Audit entries are kept this many days (IDPBRIDGE_AUDIT_RETENTION_DAYS, docs/audit.md), whatever the provisioning log keeps. */
  auditRetentionDays: number;
  /** The sign-in broker (src/sso). */
  sso: SsoConfig;
}

/** Sign-in broker settings (IDPBRIDGE_SSO_*, documented in README.md). */
export interface SsoConfig {
  /** Lifetime of the idpbridge token handed to the host product. */
  tokenTtlSeconds: number;
  /** How long a started sign-in (state, nonce, PKCE verifier) may take to come back. */
  stateTtlSeconds: number;
  /** A new signing key every period; the next one is published a period ahead. */
  keyRotationMs: number;
  keyAlg: 'ES256' | 'RS256';
  /** Scopes requested from the IdP. */
  scope: string;
  /** DNS servers ("host" or "host:port") that domain verification asks for TXT records; empty: the system's. */
  dnsResolvers: string[];
}

function intIn(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be an integer from ${min} to ${max}, got "${value}"`);
  return n;
}

function ssoConfig(env: NodeJS.ProcessEnv): SsoConfig {
  const alg = env.IDPBRIDGE_SSO_KEY_ALG || 'ES256';
  if (alg !== 'ES256' && alg !== 'RS256') throw new Error(`IDPBRIDGE_SSO_KEY_ALG must be ES256 or RS256, got "${alg}"`);
  return {
    tokenTtlSeconds: intIn('IDPBRIDGE_SSO_TOKEN_TTL_SECONDS', env.IDPBRIDGE_SSO_TOKEN_TTL_SECONDS, 300, 30, 3600),
    stateTtlSeconds: intIn('IDPBRIDGE_SSO_STATE_TTL_SECONDS', env.IDPBRIDGE_SSO_STATE_TTL_SECONDS, 600, 60, 3600),
    keyRotationMs: intIn('IDPBRIDGE_SSO_KEY_ROTATION_DAYS', env.IDPBRIDGE_SSO_KEY_ROTATION_DAYS, 30, 1, 365) * 86_400_000,
    keyAlg: alg,
    scope: env.IDPBRIDGE_SSO_SCOPE || 'openid profile email',
    dnsResolvers: list(env.IDPBRIDGE_SSO_DNS_RESOLVERS),
  };
}

function int(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${value}"`);
  return n;
}

function list(value: string | undefined): string[] {
  return (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return {
    host: env.HOST || '127.0.0.1',
    port: int('PORT', env.PORT, 8080),
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: env.IDPBRIDGE_DATA_DIR || './data',
    adminToken: env.IDPBRIDGE_ADMIN_TOKEN || undefined,
    publicUrl: env.IDPBRIDGE_PUBLIC_URL?.replace(/\/+$/, '') || undefined,
    logLevel: env.LOG_LEVEL || 'info',
    bodyLimit: int('IDPBRIDGE_BODY_LIMIT', env.IDPBRIDGE_BODY_LIMIT, 1_048_576),
    rateLimitPerMinute: int('IDPBRIDGE_RATE_LIMIT_PER_MINUTE', env.IDPBRIDGE_RATE_LIMIT_PER_MINUTE, 60_000),
    pgPoolMax: int('IDPBRIDGE_PG_POOL_MAX', env.IDPBRIDGE_PG_POOL_MAX, 10),
    statementTimeoutMs: int('IDPBRIDGE_STATEMENT_TIMEOUT_MS', env.IDPBRIDGE_STATEMENT_TIMEOUT_MS, 10_000),
    tenantConcurrency: int('IDPBRIDGE_TENANT_CONCURRENCY', env.IDPBRIDGE_TENANT_CONCURRENCY, 4),
    smtpUrl: env.SMTP_URL || undefined,
    worker: !['off', 'false', '0'].includes((env.IDPBRIDGE_WORKER ?? '').toLowerCase()),
    tableUpkeep: !['off', 'false', '0'].includes((env.IDPBRIDGE_TABLE_UPKEEP ?? '').toLowerCase()),
    workerPollMs: int('IDPBRIDGE_WORKER_POLL_MS', env.IDPBRIDGE_WORKER_POLL_MS, 500),
    workerLeaseMs: int('IDPBRIDGE_WORKER_LEASE_MS', env.IDPBRIDGE_WORKER_LEASE_MS, 60_000),
    webhookTimeoutMs: int('IDPBRIDGE_WEBHOOK_TIMEOUT_MS', env.IDPBRIDGE_WEBHOOK_TIMEOUT_MS, 10_000),
    webhookBackoffBaseMs: int('IDPBRIDGE_WEBHOOK_BACKOFF_BASE_MS', env.IDPBRIDGE_WEBHOOK_BACKOFF_BASE_MS, 10_000),
    webhookBackoffMaxMs: int('IDPBRIDGE_WEBHOOK_BACKOFF_MAX_MS', env.IDPBRIDGE_WEBHOOK_BACKOFF_MAX_MS, 3_600_000),
    webhookRetryWindowMs: int('IDPBRIDGE_WEBHOOK_RETRY_WINDOW_MS', env.IDPBRIDGE_WEBHOOK_RETRY_WINDOW_MS, 25 * 3_600_000),
    smtpFrom: env.SMTP_FROM || 'idpbridge <no-reply@localhost>',
    invitationUrl: env.IDPBRIDGE_INVITATION_URL || undefined,
    bulkMaxOperations: int('IDPBRIDGE_BULK_MAX_OPERATIONS', env.IDPBRIDGE_BULK_MAX_OPERATIONS, 1000),
    filterMaxResults: int('IDPBRIDGE_FILTER_MAX_RESULTS', env.IDPBRIDGE_FILTER_MAX_RESULTS, 1000),
    groupMembersInlineMax: int('IDPBRIDGE_GROUP_MEMBERS_INLINE_MAX', env.IDPBRIDGE_GROUP_MEMBERS_INLINE_MAX, 10_000),
    groupMembersPageMax: int('IDPBRIDGE_GROUP_MEMBERS_PAGE_MAX', env.IDPBRIDGE_GROUP_MEMBERS_PAGE_MAX, 50_000),
    tokenCache: env.IDPBRIDGE_TOKEN_CACHE !== 'false',
    accessCacheTtlMs: Math.min(int('IDPBRIDGE_ACCESS_CACHE_TTL_MS', env.IDPBRIDGE_ACCESS_CACHE_TTL_MS, 2_000), 5_000),
    oidcJwksCooldownMs: int('IDPBRIDGE_OIDC_JWKS_COOLDOWN_MS', env.IDPBRIDGE_OIDC_JWKS_COOLDOWN_MS, 30_000),
    allowPrivateTargets: list(env.IDPBRIDGE_ALLOW_PRIVATE_TARGETS),
    webhooksPerTenantMax: int('IDPBRIDGE_WEBHOOKS_PER_TENANT_MAX', env.IDPBRIDGE_WEBHOOKS_PER_TENANT_MAX, 20),
    webhookConcurrency: Math.max(1, int('IDPBRIDGE_WEBHOOK_CONCURRENCY', env.IDPBRIDGE_WEBHOOK_CONCURRENCY, 64)),
    webhookTenantConcurrency: Math.max(1, int('IDPBRIDGE_WEBHOOK_TENANT_CONCURRENCY', env.IDPBRIDGE_WEBHOOK_TENANT_CONCURRENCY, 4)),
    secretKey: env.IDPBRIDGE_SECRET_KEY?.trim() || undefined,
    secretKeysPrevious: list(env.IDPBRIDGE_SECRET_KEY_PREVIOUS),
    trustProxy: env.IDPBRIDGE_TRUST_PROXY === 'true',
    consoleDir: env.IDPBRIDGE_CONSOLE_DIR || undefined,
    auditRetentionDays: intIn('IDPBRIDGE_AUDIT_RETENTION_DAYS', env.IDPBRIDGE_AUDIT_RETENTION_DAYS, 365, 1, 36_500),
    sso: ssoConfig(env),
  };
}
