/**
 * F-write floor: bare node:http + pg Pool, one INSERT per request (the same row idpbridge writes,
 * into the same scim_users table and indexes). No auth, no validation, no transaction, no outbox.
 *   env PORT, DATABASE_URL, FLOOR_TENANT, PG_POOL_MAX (default 10, as idpbridge)
 */
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import pg from 'pg';

const db = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.PG_POOL_MAX ?? 10) });
const tenant = process.env.FLOOR_TENANT!;

http.createServer((req, res) => {
  if (req.method !== 'POST') { res.writeHead(200).end('ok'); return; }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString();
    const u = JSON.parse(body) as { userName: string; externalId?: string; displayName?: string };
    const id = randomUUID();
    db.query(
      'INSERT INTO scim_users (tenant_id, id, user_name, external_id, display_name, data) VALUES ($1, $2, $3, $4, $5, $6::jsonb)',
      [tenant, id, u.userName, u.externalId ?? null, u.displayName ?? null, body],
    ).then(
      () => res.writeHead(201, { 'content-type': 'application/scim+json' }).end(JSON.stringify({ id, ...u })),
      (err: Error) => res.writeHead(500).end(err.message),
    );
  });
}).listen(Number(process.env.PORT), '127.0.0.1');
