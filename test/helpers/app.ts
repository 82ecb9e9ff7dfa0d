import { after, describe } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { openDatabase } from '../../src/db/open.js';
import { migrate } from '../../src/db/migrate.js';
import type { Database } from '../../src/db/types.js';
import type { AppDeps } from '../../src/app-deps.js';
import { openMigratedPglite } from './pglite-template.js';

export type TestDatabaseKind = 'pglite' | 'postgres';

export const ADMIN_TOKEN = 'idpb_admin_test-operator-token-0123456789';

/** IDPBRIDGE_ALLOW_PRIVATE_TARGETS of every test server: loopback only. */
export const LOOPBACK_TARGETS = ['127.0.0.0/8', '::1', 'localhost'];
/** IDPBRIDGE_SECRET_KEY of every test server (32 bytes, base64). */
export const TEST_SECRET_KEY = Buffer.alloc(32, 7).toString('base64');

/** The databases this run covers: PGlite always, PostgreSQL when TEST_DATABASE_URL is set. */
export function testDatabases(): TestDatabaseKind[] {
  const kinds: TestDatabaseKind[] = ['pglite'];
  if (process.env.TEST_DATABASE_URL) kinds.push('postgres');
  else if (process.env.CI) throw new Error('TEST_DATABASE_URL must be set under CI: PostgreSQL tests may not be skipped');
  return kinds;
}

/** Registers one describe block per database. */
export function eachDatabase(fn: (kind: TestDatabaseKind) => void): void {
  for (const kind of testDatabases()) describe(`[${kind}]`, () => fn(kind));
}

export function testConfig(overrides: Partial<Config> = {}): Config {
  return {
    ...loadConfig({}),
    adminToken: ADMIN_TOKEN,
    rateLimitPerMinute: 0,
    // Event tests opt in; other suites must not run a worker against the shared database.
    worker: false,
    // Vacuuming and ANALYZE of the shared database would change other files' plans mid-test
    // (test/db/upkeep.test.ts turns it on over a database of its own).
    tableUpkeep: false,
    logLevel: 'silent',
    // Test receivers and IdPs listen on loopback (test/security/ssrf.test.ts covers the refusal).
    allowPrivateTargets: LOOPBACK_TARGETS,
    secretKey: TEST_SECRET_KEY,
    ...overrides,
  };
}

// One in-memory PGlite per test file (it takes seconds to boot); tenants isolate the tests.
let sharedPglite: Promise<Database> | undefined;
let closeSharedPglite: (() => Promise<void>) | undefined;
// Apps on the shared PGlite that are still open; the file's end waits for the last to close,
// because a file's own root-level `after` hooks may close their apps after this module's hook.
let appsOnSharedPglite = 0;
let fileEnded = false;

// The shared PGlite starts from a dump of a running database (the template), so it runs crash
// recovery, which arms postgres's startup-progress timer (log_startup_progress_interval, every
// 10 s). PGlite runs that timer as a referenced setTimeout that re-arms itself: until the database
// is closed, the test process never exits on its own.
after(async () => {
  fileEnded = true;
  if (appsOnSharedPglite === 0) await closeSharedPglite?.();
});

export async function openTestDatabase(kind: TestDatabaseKind): Promise<Database> {
  if (kind === 'postgres') {
    const db = await openDatabase({ databaseUrl: process.env.TEST_DATABASE_URL, poolMax: 10 });
    await migrate(db);
    return db;
  }
  sharedPglite ??= (async () => {
    const db = await openMigratedPglite();
    closeSharedPglite = () => db.close();
    // Closed when the file ends (above); a shared instance must survive each app's close().
    return { ...db, close: async () => {} };
  })();
  return sharedPglite;
}

export interface TestApp {
  app: FastifyInstance;
  deps: AppDeps;
  db: Database;
  adminToken: string;
  tenantId: string;
  scimToken: string;
  scimBase: string;
  /** Creates another tenant with its own token. */
  newTenant(name?: string): Promise<{ tenantId: string; scimToken: string; scimBase: string }>;
  close(): Promise<void>;
}

export async function startTestApp(
  kind: TestDatabaseKind = 'pglite',
  overrides: Partial<Config> = {},
  /** Capture the JSON log lines (set overrides.logLevel too, the default is silent). */
  opts: {
    loggerStream?: { write(line: string): void };
    /** A database of this test's own (default: the file's shared one); closed by the caller. */
    db?: Database;
  } = {},
): Promise<TestApp> {
  const db = opts.db ?? await openTestDatabase(kind);
  const onShared = kind === 'pglite' && !opts.db;
  const { app, deps } = await buildApp({
    config: testConfig(overrides), db, logger: !!opts.loggerStream, loggerStream: opts.loggerStream, skipMigrations: true,
  });
  await app.ready();
  if (onShared) appsOnSharedPglite++;
  let closed = false;
  const newTenant = async (name = 'Test tenant') => {
    const t = await app.inject({ method: 'POST', url: '/admin/v1/tenants', headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, payload: { name } });
    if (t.statusCode !== 201) throw new Error(`tenant create failed: ${t.statusCode} ${t.body}`);
    const tenantId = t.json().id as string;
    const k = await app.inject({
      method: 'POST', url: `/admin/v1/tenants/${tenantId}/scim-tokens`,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, payload: { name: 'test' },
    });
    if (k.statusCode !== 201) throw new Error(`token create failed: ${k.statusCode} ${k.body}`);
    return { tenantId, scimToken: k.json().token as string, scimBase: `/scim/v2/${tenantId}` };
  };
  const first = await newTenant();
  return {
    app, deps, db, adminToken: ADMIN_TOKEN, ...first, newTenant,
    async close() {
      await app.close();
      if (kind === 'postgres' && !opts.db) await db.close();
      if (onShared && !closed && --appsOnSharedPglite === 0 && fileEnded) await closeSharedPglite?.();
      closed = true;
    },
  };
}
