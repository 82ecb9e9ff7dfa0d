import { parseArgs } from 'node:util';
import { loadConfig } from './config.js';
import { openDatabase } from './db/open.js';
import { migrate } from './db/migrate.js';
import { DataDirLockedError } from './db/data-dir-lock.js';
import { backupPglite, restorePglite } from './db/backup.js';
import { createTenant, getTenant } from './tenants/tenants.js';
import { createScimToken } from './tenants/scim-tokens.js';
import { serve } from './main.js';
import { scimBaseUrl } from './http/base-url.js';
import { verifyChains } from './audit/verify.js';
import type { Queryable } from './db/types.js';

const USAGE = `Usage: idpbridge <command>

Commands:
  serve                                   start the server (same as npm start)
  migrate                                 apply database migrations and exit
  tenant create --name NAME [--json]      create a tenant
  token create --tenant ID [--name N] [--expires-at ISO] [--json]
                                          create a SCIM bearer token (shown once)
  audit verify [--tenant ID] [--json]     recompute the audit trail's hash chains (every chain, or one
                                          tenant's); exit 1 and name the first broken link if one is
  backup FILE                             write the embedded PGlite database to FILE (gzipped tarball)
  restore FILE                            restore FILE into an empty IDPBRIDGE_DATA_DIR
                                          (PostgreSQL: pg_dump / pg_restore, see docs/operator.md)

Environment: DATABASE_URL (PostgreSQL) or IDPBRIDGE_DATA_DIR (embedded PGlite, default ./data).
`;

class UsageError extends Error {}

/** Runs the CLI; returns the exit code. Writes results to stdout, problems to stderr. */
export async function main(argv: string[]): Promise<number> {
  const [cmd, sub, ...rest] = argv;
  try {
    if (!cmd || cmd === 'help' || cmd === '--help' || cmd === '-h') {
      process.stdout.write(USAGE);
      return cmd ? 0 : 2;
    }
    if (cmd === 'serve') {
      await serve();
      return 0;
    }
    if (cmd === 'migrate') return await withDb(async (db) => {
      const applied = await migrate(db);
      process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'database is up to date\n');
      return 0;
    });
    if (cmd === 'backup' || cmd === 'restore') {
      if (!sub || rest.length > 0) throw new UsageError(`${cmd} needs exactly one FILE`);
      const config = loadConfig();
      if (config.databaseUrl) {
        process.stderr.write(`idpbridge: ${cmd} is for the embedded PGlite database; with DATABASE_URL use pg_dump / pg_restore (docs/operator.md)\n`);
        return 2;
      }
      if (cmd === 'backup') {
        const { bytes } = await backupPglite(config.dataDir, sub);
        process.stdout.write(`backup of ${config.dataDir} written to ${sub} (${bytes} bytes)\n`);
      } else {
        await restorePglite(config.dataDir, sub);
        process.stdout.write(`restored ${sub} into ${config.dataDir}\n`);
      }
      return 0;
    }
    if (cmd === 'tenant' && sub === 'create') {
      const { values } = parseArgs({ args: rest, options: { name: { type: 'string' }, json: { type: 'boolean' } } });
      if (!values.name?.trim()) throw new UsageError('tenant create needs --name NAME');
      return await withDb(async (db) => {
        await migrate(db);
        const t = await createTenant(db, values.name!.trim());
        const base = loadConfig().publicUrl ?? `http://${loadConfig().host}:${loadConfig().port}`;
        const out = { id: t.id, name: t.name, scimBaseUrl: scimBaseUrl(base, t.id), createdAt: t.createdAt.toISOString() };
        process.stdout.write(values.json ? `${JSON.stringify(out)}\n` : `tenant ${out.id} "${out.name}"\nSCIM base URL: ${out.scimBaseUrl}\n`);
        return 0;
      });
    }
    if (cmd === 'audit' && sub === 'verify') {
      const { values } = parseArgs({ args: rest, options: { tenant: { type: 'string' }, json: { type: 'boolean' } } });
      if (values.tenant !== undefined && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(values.tenant)) {
        throw new UsageError('audit verify --tenant needs a tenant id (a UUID)');
      }
      return await withDb(async (db) => {
        await migrate(db);
        return auditVerify(db, { tenant: values.tenant, json: values.json }, (s) => process.stdout.write(s));
      });
    }
    if (cmd === 'token' && sub === 'create') {
      const { values } = parseArgs({
        args: rest,
        options: { tenant: { type: 'string' }, name: { type: 'string' }, 'expires-at': { type: 'string' }, json: { type: 'boolean' } },
      });
      if (!values.tenant) throw new UsageError('token create needs --tenant ID');
      const expiresAt = values['expires-at'] ? new Date(values['expires-at']) : undefined;
      if (expiresAt && (Number.isNaN(expiresAt.getTime()) || expiresAt.getTime() <= Date.now())) {
        throw new UsageError('--expires-at must be a future ISO 8601 date-time');
      }
      return await withDb(async (db) => {
        await migrate(db);
        if (!(await getTenant(db, values.tenant!))) {
          process.stderr.write(`idpbridge: tenant ${values.tenant} not found\n`);
          return 1;
        }
        const tok = await createScimToken(db, values.tenant!, { name: values.name, expiresAt });
        const out = { id: tok.id, name: tok.name, token: tok.token, createdAt: tok.createdAt.toISOString(), expiresAt: tok.expiresAt?.toISOString() ?? null };
        process.stdout.write(values.json ? `${JSON.stringify(out)}\n` : `token ${out.id} (${out.name}); secret, shown once:\n${out.token}\n`);
        return 0;
      });
    }
    throw new UsageError(`unknown command: ${argv.join(' ')}`);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`idpbridge: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    if (err instanceof DataDirLockedError) {
      process.stderr.write(`idpbridge: ${err.message}\n`);
      return 3;
    }
    process.stderr.write(`idpbridge: ${(err as Error).message}\n`);
    return 1;
  }
}

/**
 * `idpbridge audit verify`: recomputes each chain and reports it; 0 when every chain verifies,
 * 1 naming the first broken link of each broken chain (src/audit/verify.ts).
 */
export async function auditVerify(db: Queryable, opts: { tenant?: string; json?: boolean }, write: (s: string) => void): Promise<number> {
  const reports = await verifyChains(db, opts.tenant);
  if (opts.json) write(`${JSON.stringify({ ok: reports.every((r) => !r.broken), chains: reports })}\n`);
  else {
    if (reports.length === 0) write('no audit entries\n');
    for (const r of reports) {
      write(r.broken
        ? `BROKEN ${r.chain}: entry ${r.broken.seq} (id ${r.broken.id}): ${r.broken.reason}\n`
        : `ok ${r.chain}: ${r.entries} entries\n`);
    }
  }
  return reports.some((r) => r.broken) ? 1 : 0;
}

async function withDb<T>(fn: (db: Awaited<ReturnType<typeof openDatabase>>) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolMax: 2 });
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

// `node --import tsx src/cli.ts …` (tests, development); the published bin goes through dist/.
const isEntry = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isEntry) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
