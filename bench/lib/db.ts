/**
 * Database set-up for the benchmark: a fresh database per run, tenants through the real admin API,
 * bulk seeding straight into the tables of 001_foundation.sql with generate_series (one statement
 * per table), in the JSON shape that users-service.ts / users-store.ts write.
 */
import pg from 'pg';
import { ADMIN_TOKEN, type Server } from './proc.js';

export const PG_BASE = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432';

export async function recreateDatabase(name: string): Promise<string> {
  if (!/^idpb_bench_[a-z0-9_]+$/.test(name)) throw new Error(`refusing to recreate database "${name}" (must be idpb_bench_*)`);
  const c = new pg.Client({ connectionString: `${PG_BASE}/postgres` });
  await c.connect();
  await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await c.query(`CREATE DATABASE ${name}`);
  await c.end();
  return `${PG_BASE}/${name}`;
}

export function pool(url: string): pg.Pool {
  return new pg.Pool({ connectionString: url, max: 2 });
}

export async function postgresVersion(url: string): Promise<string> {
  const p = new pg.Client({ connectionString: url });
  await p.connect();
  const { rows } = await p.query<{ server_version: string }>('SHOW server_version');
  await p.end();
  return rows[0]!.server_version;
}

/** Admin/SCIM calls for set-up (not measured). */
export async function api(server: Server, method: string, path: string, body?: unknown, token = ADMIN_TOKEN): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const r = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': path.startsWith('/admin') ? 'application/json' : 'application/scim+json' },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await r.text();
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${text.slice(0, 500)}`);
  return text ? JSON.parse(text) : undefined;
}

export interface Tenant { id: string; token: string; scimBase: string }

export async function createTenant(server: Server, name: string): Promise<Tenant> {
  const t = await api(server, 'POST', '/admin/v1/tenants', { name });
  const tok = await api(server, 'POST', `/admin/v1/tenants/${t.id}/scim-tokens`, { name: 'bench' });
  return { id: t.id, token: tok.token, scimBase: `/scim/v2/${t.id}` };
}

/** Deterministic ids: md5(tenant || kind || n)::uuid, so seeds can reference each other. */
export const seedId = (tenantId: string, kind: string, nExpr: string) => `md5('${tenantId}' || '${kind}' || (${nExpr})::text)::uuid`;

/**
 * Users user{from..to}@bench.example, shaped like a POSTed Entra user (see lib/bodies.ts).
 * created_at increases with i so the default list order (created_at, id) is i.
 */
export async function seedUsers(db: pg.Pool, tenantId: string, from: number, to: number): Promise<void> {
  await db.query(
    `INSERT INTO scim_users (tenant_id, id, user_name, external_id, display_name, active, data, source, status, created_at, updated_at)
     SELECT $1::uuid, ${seedId(tenantId, 'u', 'i')}, un, 'ext-' || un, 'Bench user' || i, true,
            jsonb_build_object(
              'schemas', jsonb_build_array('urn:ietf:params:scim:schemas:core:2.0:User', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'),
              'externalId', 'ext-' || un, 'userName', un, 'active', true, 'displayName', 'Bench user' || i,
              'name', jsonb_build_object('formatted', 'Bench user' || i, 'givenName', 'Bench', 'familyName', 'user' || i),
              'emails', jsonb_build_array(jsonb_build_object('type', 'work', 'value', un, 'primary', true)),
              'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User', jsonb_build_object('department', 'Benchmarks', 'employeeNumber', i::text)),
            'scim', 'active', ts, ts
       FROM generate_series($2::int, $3::int) AS i,
            LATERAL (SELECT 'user' || i || '@bench.example' AS un, timestamptz '2025-01-01' + i * interval '1 millisecond' AS ts) x`,
    [tenantId, from, to],
  );
}

/** Groups "group-{from..to}" with ids seedId(tenant, 'g', i). */
export async function seedGroups(db: pg.Pool, tenantId: string, from: number, to: number, prefix = 'group-'): Promise<void> {
  await db.query(
    `INSERT INTO scim_groups (tenant_id, id, display_name, external_id, data)
     SELECT $1::uuid, ${seedId(tenantId, 'g', 'i')}, $4 || i, 'ext-g' || i,
            jsonb_build_object('schemas', jsonb_build_array('urn:ietf:params:scim:schemas:core:2.0:Group'), 'externalId', 'ext-g' || i, 'displayName', $4 || i)
       FROM generate_series($2::int, $3::int) AS i`,
    [tenantId, from, to, prefix],
  );
}

/** Members user1..userN of group i. */
export async function seedGroupMembers(db: pg.Pool, tenantId: string, group: number, members: number): Promise<void> {
  await db.query(
    `INSERT INTO scim_group_members (tenant_id, group_id, member_id)
     SELECT $1::uuid, ${seedId(tenantId, 'g', '$2::int')}, ${seedId(tenantId, 'u', 'i')} FROM generate_series(1, $3::int) AS i`,
    [tenantId, group, members],
  );
}

/** perUser memberships for each of users 1..users, spread over groups 1..groups (background memberships). */
export async function seedSpreadMemberships(db: pg.Pool, tenantId: string, users: number, groups: number, perUser: number): Promise<void> {
  await db.query(
    `INSERT INTO scim_group_members (tenant_id, group_id, member_id)
     SELECT $1::uuid, ${seedId(tenantId, 'g', '1 + (i * 7 + k * 1013) % $3::int')}, ${seedId(tenantId, 'u', 'i')}
       FROM generate_series(1, $2::int) AS i, generate_series(0, $4::int - 1) AS k
     ON CONFLICT DO NOTHING`,
    [tenantId, users, groups, perUser],
  );
}

export const userIdSql = (tenantId: string, i: number) => `SELECT ${seedId(tenantId, 'u', String(i))} AS id`;
export const groupIdSql = (tenantId: string, i: number) => `SELECT ${seedId(tenantId, 'g', String(i))} AS id`;

export async function oneId(db: pg.Pool, sql: string): Promise<string> {
  const { rows } = await db.query<{ id: string }>(sql);
  return rows[0]!.id;
}

/** Group "size-N" (id seedId(tenant, 'sg', N)) whose members are user1…userN. */
export async function seedSizedGroup(db: pg.Pool, tenantId: string, size: number): Promise<void> {
  await db.query(
    `INSERT INTO scim_groups (tenant_id, id, display_name, external_id, data)
     SELECT $1::uuid, ${seedId(tenantId, 'sg', '$2::int')}, 'size-' || $2::int, 'ext-size-' || $2::int,
            jsonb_build_object('schemas', jsonb_build_array('urn:ietf:params:scim:schemas:core:2.0:Group'), 'externalId', 'ext-size-' || $2::int, 'displayName', 'size-' || $2::int)`,
    [tenantId, size],
  );
  await db.query(
    `INSERT INTO scim_group_members (tenant_id, group_id, member_id)
     SELECT $1::uuid, ${seedId(tenantId, 'sg', '$2::int')}, ${seedId(tenantId, 'u', 'i')} FROM generate_series(1, $2::int) AS i`,
    [tenantId, size],
  );
}
