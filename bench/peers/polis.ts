/**
 * Peer: Ory Polis (@boxyhq/saml-jackson) Directory Sync on its SQL engine (TypeORM, PostgreSQL),
 * served by node:http the way Polis' own SCIM route does it (`/api/scim/v2.0/[...directory]`:
 * URL + method + query + JSON body → directorySyncController.requests.handle → {status, data} as JSON).
 * Started as its own process by scenarios/sync.ts.
 *   env PORT, HOST, BENCH_POLIS_DB (PostgreSQL URL of a database of its own; tables are created by
 *   Jackson's TypeORM synchronize on start)
 * One directory (type azure-scim-v2, tenant/product "bench") is created at start; Polis generates
 * its SCIM secret, so GET /bench-info answers {"scimBase":"/api/scim/v2.0/<id>","token":"<secret>"}.
 * Embedded mode: events go to a no-op callback (no webhook, so no delivery cost is measured).
 * The peer packages live in bench/package.json (`npm --prefix bench install`), not in the server's.
 */
import http from 'node:http';

// Loaded by name at run time: bench/node_modules may be absent when the project is type-checked.
type AnyModule = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const load = (name: string) => import(name) as Promise<AnyModule>;
const { controllers } = await load('@boxyhq/saml-jackson');

const port = Number(process.env.PORT ?? 0);
const quiet = () => {};
const jackson = await controllers({
  externalUrl: `http://127.0.0.1:${port}`,
  samlPath: '/api/oauth/saml',
  scimPath: '/api/scim/v2.0',
  db: { engine: 'sql', type: 'postgres', url: process.env.BENCH_POLIS_DB ?? 'postgres://postgres@127.0.0.1:5432/idpb_bench_polis' },
  noAnalytics: true, // otherwise it reports to Mixpanel
  logger: { info: quiet, warn: quiet, error: (m: string, e?: unknown) => console.error(m, e ?? '') },
});
const dsync = jackson.directorySyncController;
const { data: directory, error } = await dsync.directories.create({ name: 'bench', tenant: 'bench', product: 'bench', type: 'azure-scim-v2' });
if (error) throw new Error(`directory: ${error.message}`);
// directory.scim.path ends in "/?aadOptscim062020" for azure-scim-v2: a flag Entra reads from the tenant
// URL it is given (SCIM-compliance mode) and does not send back, so the base is the path without it.
const info = JSON.stringify({ scimBase: `/api/scim/v2.0/${directory.id}`, token: directory.scim.secret });
const onEvent = async () => {};

const json = (res: http.ServerResponse, status: number, data: unknown) => {
  const body = data === undefined ? '' : JSON.stringify(data);
  res.writeHead(status, { 'content-type': 'application/scim+json', 'content-length': Buffer.byteLength(body) }).end(body);
};

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.pathname === '/healthz') { res.writeHead(200).end('ok'); return; }
  if (url.pathname === '/bench-info') { res.writeHead(200, { 'content-type': 'application/json' }).end(info); return; }
  // /api/scim/v2.0/{directoryId}/{Users|Groups}[/{resourceId}]
  const m = /^\/api\/scim\/v2\.0\/([^/]+)\/(Users|Groups)(?:\/([^/]+))?\/?$/.exec(url.pathname);
  if (!m) { json(res, 404, { detail: 'not found' }); return; }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', async () => {
    try {
      const text = Buffer.concat(chunks).toString();
      const body = text ? JSON.parse(text) : undefined;
      // Polis matches PATCH ops case-sensitively ('add', 'remove', 'replace') and answers 200 while
      // ignoring anything else, so Entra's default "Add" would add no member at all. Entra sends
      // lowercase ops when its tenant URL carries ?aadOptscim062020, which is the URL Polis hands out
      // for azure-scim-v2 directories; lowercasing here reproduces what Polis receives in production.
      if (Array.isArray(body?.Operations)) for (const o of body.Operations) if (typeof o?.op === 'string') o.op = o.op.toLowerCase();
      const q = url.searchParams;
      const { status, data } = await dsync.requests.handle({
        method: req.method,
        body,
        directoryId: m[1],
        resourceType: m[2] === 'Users' ? 'users' : 'groups',
        resourceId: m[3] ? decodeURIComponent(m[3]) : undefined,
        apiSecret: req.headers.authorization?.split(' ')[1] ?? null,
        query: {
          count: q.get('count') ? parseInt(q.get('count')!, 10) : undefined,
          startIndex: q.get('startIndex') ? parseInt(q.get('startIndex')!, 10) : undefined,
          filter: q.get('filter') ?? undefined,
        },
      }, onEvent);
      json(res, status, data);
    } catch (e) {
      json(res, 500, { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], detail: String(e) });
    }
  });
});
server.listen(port, process.env.HOST ?? '127.0.0.1');
process.on('SIGTERM', () => { server.close(); jackson.close().finally(() => process.exit(0)); });
