/**
 * Peer: better-auth with @better-auth/scim on its SQLite adapter (better-sqlite3 v12), served by
 * node:http through better-auth's node handler. Started as its own process by scenarios/sync.ts.
 *   env PORT, BENCH_SQLITE (file), BENCH_SCIM_TOKEN
 * SCIM base: http://127.0.0.1:$PORT/api/auth/scim/v2
 * defaultFindManyLimit is raised (default 100) so groups over 100 members work.
 * The peer packages live in bench/package.json (`npm --prefix bench install`), not in the server's.
 */
import http from 'node:http';

// Loaded by name at run time: bench/node_modules may be absent when the project is type-checked.
type AnyModule = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const load = (name: string) => import(name) as Promise<AnyModule>;
const { betterAuth } = await load('better-auth');
const { toNodeHandler } = await load('better-auth/node');
const { getMigrations } = await load('better-auth/db/migration');
const { scim } = await load('@better-auth/scim');
const Database = (await load('better-sqlite3')).default;

const sqlite = new Database(process.env.BENCH_SQLITE ?? ':memory:');
sqlite.pragma('journal_mode = WAL');
const port = Number(process.env.PORT ?? 0);
const options = {
  database: sqlite,
  secret: 'bench-secret-bench-secret-bench-secret-0123456789',
  baseURL: `http://127.0.0.1:${port}`,
  basePath: '/api/auth',
  logger: { disabled: true },
  rateLimit: { enabled: false },
  advanced: { database: { defaultFindManyLimit: 1_000_000 } },
  plugins: [scim({
    connections: [{ id: 'bench', credentials: [{ type: 'bearer', id: 'bench', token: process.env.BENCH_SCIM_TOKEN ?? 'bench-scim-token' }] }],
    compatibility: { microsoftEntra: { acceptLegacyGroupSchema: true } },
  })],
};
const { runMigrations } = await getMigrations(options);
await runMigrations();
const auth = betterAuth(options);
const handler = toNodeHandler(auth);
const server = http.createServer((req, res) => {
  if (req.url === '/healthz') { res.writeHead(200).end('ok'); return; }
  handler(req, res);
});
server.listen(port, process.env.HOST ?? '127.0.0.1');
process.on('SIGTERM', () => { server.close(); sqlite.close(); process.exit(0); });
