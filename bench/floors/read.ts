/**
 * F-read floor: bare node:http + pg Pool, one indexed SELECT per request (userName lookup through
 * scim_users_user_name (tenant_id, lower(user_name)), the index idpbridge's filter uses).
 *   env PORT, DATABASE_URL, FLOOR_TENANT, PG_POOL_MAX (default 10)
 * GET /…?filter=userName eq "x" → {"totalResults": n, "Resources": [row.data…]}
 */
import http from 'node:http';
import pg from 'pg';

const db = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.PG_POOL_MAX ?? 10) });
const tenant = process.env.FLOOR_TENANT!;

http.createServer((req, res) => {
  const filter = new URL(req.url ?? '/', 'http://x').searchParams.get('filter') ?? '';
  const m = /"([^"]*)"/.exec(filter);
  if (!m) { res.writeHead(200).end('ok'); return; }
  db.query<{ id: string; data: Record<string, unknown> }>(
    'SELECT id, data FROM scim_users WHERE tenant_id = $1 AND lower(user_name) = lower($2)',
    [tenant, m[1]],
  ).then(
    ({ rows }) => res.writeHead(200, { 'content-type': 'application/scim+json' })
      .end(JSON.stringify({ totalResults: rows.length, Resources: rows.map((r) => ({ id: r.id, ...r.data })) })),
    (err: Error) => res.writeHead(500).end(err.message),
  );
}).listen(Number(process.env.PORT), '127.0.0.1');
