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
import { handleError, installErrorHandling } from './http/error-handler.js';
import { installInputGuards } from './http/json-body.js';
import { registerHealth } from './ops/health.js';
import { registerMetrics } from './ops/metrics.js';
import { adminApi } from './admin/plugin.js';
import { consolePlugin } from './console/plugin.js';
import { scimApi } from './scim/plugin.js';
import { v1Api } from './idp-tokens/v1-plugin.js';
import { ssoPlugin } from './sso/plugin.js';
import { loggerOptions } from './logger.js';
import { composeObservers, type ProvisioningObserver } from './directory/observer.js';
import { accessObserver } from './access/observer.js';
import { eventsObserver, registerEvents } from './events/index.js';

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
  const db = opts.db ?? (await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolMax: config.pgPoolMax }));
  try {
    if (!opts.skipMigrations) await migrate(db);
  } catch (err) {
    if (ownsDb) await db.close();
    throw err;
  }
  const operatorAuth = await loadOperatorAuth(db, config.adminToken);
  const scimVerifier = new ScimCredentialsVerifier(db);
  const deps: AppDeps = { config, db, operatorAuth, scimVerifier, observer: composeObservers([accessObserver(), eventsObserver(), ...(opts.observers ?? [])]) };

  const app = Fastify({
    logger: opts.logger === false ? false : opts.loggerStream ? { ...(loggerOptions(config.logLevel) as object), stream: opts.loggerStream } : loggerOptions(config.logLevel),
    bodyLimit: config.bodyLimit,
    trustProxy: process.env.IDPBRIDGE_TRUST_PROXY === 'true',
    return503OnClosing: true,
    // Malformed URLs and overlong ids answer in the SCIM / admin error formats too.
    frameworkErrors: handleError,
    // Unknown body properties are errors, not silently dropped.
    ajv: { customOptions: { removeAdditional: false } },
    forceCloseConnections: 'idle',
    // caseSensitive false: Microsoft's suite calls /users; path parameters keep their case.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200, caseSensitive: false },
  });

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
  registerMetrics(app);
  registerHealth(app, db);
  await app.register(adminApi, { prefix: '/admin/v1', deps });
  await app.register(consolePlugin, { deps });
  await app.register(scimApi, { prefix: '/scim/v2', deps });
  await app.register(v1Api, { prefix: '/v1', deps });
  await app.register(ssoPlugin, { deps });

  app.addHook('onClose', async () => {
    await scimVerifier.close();
    if (ownsDb) await db.close();
  });

  // After the database's onClose hook: onClose runs last-registered first, so the worker stops before the db closes.
  registerEvents(app, db, config);

  return { app, deps, generatedAdminToken: operatorAuth.generatedToken };
}
