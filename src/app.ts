import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import type { Config } from './config.js';
import type { Database } from './db/types.js';
import { registerSecurityHeaders } from './http/security-headers.js';
import { openDatabase } from './db/open.js';
import { migrate } from './db/migrate.js';
import { loadOperatorAuth } from './tenants/operator-auth.js';
import { ScimCredentialsVerifier } from './tenants/scim-credentials-verifier.js';
import type { AppDeps } from './app-deps.js';
import { handleClientError, handleError, installErrorHandling, trackRequestPaths } from './http/error-handler.js';
import { installInputGuards } from './http/json-body.js';
import { registerHealth } from './ops/health.js';
import { registerMetrics } from './ops/metrics.js';
import { adminApi } from './admin/plugin.js';
import { consolePlugin } from './console/plugin.js';
import { scimApi } from './scim/plugin.js';
import { v1Api } from './idp-tokens/v1-plugin.js';
import { ssoPlugin } from './sso/plugin.js';
import { createSso } from './sso/service.js';
import { IdpTokens } from './idp-tokens/service.js';
import { loggerOptions } from './logger.js';
import { composeObservers, type ProvisioningObserver } from './directory/observer.js';
import { accessObserver } from './access/observer.js';
import { eventsObserver, registerEvents, reencryptWebhookSecrets } from './events/index.js';
import { join } from 'node:path';
import { openSecretBox } from './lib/secret-box.js';
import { reencryptOidcClientSecrets } from './idp-tokens/oidc-config.js';
import { countPlaintextSigningKeys, reencryptSigningKeys } from './sso/keys.js';
import { reencryptConnectionSecrets } from './sso/connections.js';
import { TargetPolicy } from './lib/outbound.js';
import { TenantGate } from './http/tenant-concurrency.js';
import { ProvisioningLogWriter } from './events/provisioning-log.js';
import { GroupNameCache } from './directory/group-names.js';
import { withAmbientTransactions } from './audit/ambient.js';
import { installAudit } from './audit/http.js';
import { scheduleAuditRetention } from './audit/retention.js';
import { auditHttpOptions } from './admin/audit-wiring.js';

export interface BuildAppOptions {
  config: Config;
  /** An already open database (tests); otherwise opened from config and closed with the app. */
  db?: Database;
  /** Logger: false silences it (tests). */
  logger?: boolean;
  /** Where the JSON log lines go (default stdout); tests capture them. */
  loggerStream?: { write(line: string): void };
  /** Skip migrations (the caller ran them). */
  skipMigrations?: boolean;
  /** Extra provisioning observers (tests, embedding). */
  observers?: ProvisioningObserver[];
  /** Benchmarks only (bench/scenarios/audit.ts): build without the audit trail to measure what it costs. */
  withoutAudit?: boolean;
}

export interface BuiltApp {
  app: FastifyInstance;
  deps: AppDeps;
  /** Operator token generated on this first start (print once), if any. */
  generatedAdminToken: string | undefined;
}

export async function buildApp(opts: BuildAppOptions): Promise<BuiltApp> {
  const { config } = opts;
  const ownsDb = !opts.db;
  // Audited admin writes run in one request-wide transaction that every service joins (src/audit/ambient.ts).
  const db = withAmbientTransactions(opts.db ?? (await openDatabase({
    databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolMax: config.pgPoolMax, statementTimeoutMs: config.statementTimeoutMs,
    migrateNew: !opts.skipMigrations,
  })));
  try {
    if (!opts.skipMigrations) await migrate(db);
  } catch (err) {
    if (ownsDb) await db.close();
    throw err;
  }
  // Secrets at rest (src/lib/secret-box.ts): the installation key, then the start-up pass that
  // encrypts plaintext rows and moves rows under a previous key to the current one (rotation).
  // Where outbound requests may go (src/lib/outbound.ts).
  let secrets: ReturnType<typeof openSecretBox>;
  let targets: TargetPolicy;
  try {
    targets = new TargetPolicy(config.allowPrivateTargets);
    secrets = openSecretBox({
      key: config.secretKey,
      previous: config.secretKeysPrevious,
      fallback: db.kind === 'postgres' ? { kind: 'none' } : ownsDb && config.dataDir ? { kind: 'file', path: join(config.dataDir, 'secret.key') } : { kind: 'ephemeral' },
    });
    await reencryptWebhookSecrets(db, secrets.box);
    await reencryptOidcClientSecrets(db, secrets.box);
    await reencryptSigningKeys(db, secrets.box);
    await reencryptConnectionSecrets(db, secrets.box);
  } catch (err) {
    if (ownsDb) await db.close();
    throw err;
  }
  const operatorAuth = await loadOperatorAuth(db, config.adminToken);
  const scimVerifier = new ScimCredentialsVerifier(db);

  const app = Fastify({
    logger: opts.logger === false ? false : opts.loggerStream ? { ...(loggerOptions(config.logLevel) as object), stream: opts.loggerStream } : loggerOptions(config.logLevel),
    bodyLimit: config.bodyLimit,
    trustProxy: config.trustProxy,
    return503OnClosing: true,
    // Malformed URLs and overlong ids answer in the SCIM / admin error formats too.
    frameworkErrors: handleError,
    // HTTP parser errors before routing (400, 431, 408) too (src/http/error-handler.ts).
    clientErrorHandler: handleClientError,
    // Unknown body properties are errors, not silently dropped.
    ajv: { customOptions: { removeAdditional: false } },
    forceCloseConnections: 'idle',
    // caseSensitive false: Microsoft's suite calls /users; path parameters keep their case.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200, caseSensitive: false },
  });

  trackRequestPaths(app.server);

  // Services built once per app and handed to the route plugins; closed in onClose below.
  const deps: AppDeps = {
    config, db, operatorAuth, scimVerifier,
    observer: composeObservers([accessObserver(), eventsObserver(), ...(opts.observers ?? [])]),
    groupNames: new GroupNameCache(db),
    provisioningLog: new ProvisioningLogWriter(db, app.log),
    idpTokens: IdpTokens.fromConfig(db, config, app.log),
    sso: createSso(db, config.sso, secrets.box),
    secrets: secrets.box,
    targets,
    tenantGate: TenantGate.create({ limit: config.tenantConcurrency }),
  };
  await deps.idpTokens.start();

  registerSecurityHeaders(app);
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'idpbridge admin API', version: '1' },
      components: { securitySchemes: { operatorToken: { type: 'http', scheme: 'bearer' } } },
      security: [{ operatorToken: [] }],
    },
    hideUntagged: true,
  });

  installErrorHandling(app);
  installInputGuards(app);
  // Before the route plugins: it wraps every state-changing admin and console route (src/audit/catalogue.ts).
  if (!opts.withoutAudit) installAudit(app, auditHttpOptions(db));
  registerMetrics(app);
  registerHealth(app, db);
  await app.register(adminApi, { prefix: '/admin/v1', deps });
  await app.register(consolePlugin, { deps });
  await app.register(scimApi, { prefix: '/scim/v2', deps });
  await app.register(v1Api, { prefix: '/v1', deps });
  await app.register(ssoPlugin, { deps });

  app.addHook('onClose', async () => {
    await deps.provisioningLog.close();
    await deps.groupNames.close();
    await deps.idpTokens.close();
    await scimVerifier.close();
    if (ownsDb) await db.close();
  });

  // After the database's onClose hook: onClose runs last-registered first, so the worker stops before the db closes.
  registerEvents(app, db, config, secrets.box);
  if (config.worker) {
    const stopAuditRetention = scheduleAuditRetention(db, config.auditRetentionDays, 60 * 60 * 1000, app.log);
    app.addHook('onClose', async () => stopAuditRetention());
  }
  if (secrets.source === 'generated-file') app.log.warn({ file: join(config.dataDir, 'secret.key') }, 'generated the secret key that encrypts secrets at rest; back it up with the data directory (or set IDPBRIDGE_SECRET_KEY)');
  if (secrets.source === 'none') app.log.warn('IDPBRIDGE_SECRET_KEY is not set: webhooks and IdP client secrets cannot be stored until it is (docs/operator.md)');
  if (secrets.source === 'none' && (await countPlaintextSigningKeys(db)) > 0) app.log.warn('IDPBRIDGE_SECRET_KEY is not set: the sign-in signing keys are stored unencrypted until it is (docs/operator.md)');

  return { app, deps, generatedAdminToken: operatorAuth.generatedToken };
}
