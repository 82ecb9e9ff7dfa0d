import type { Queryable } from '../db/types.js';
import type { CompanionInsert, StoredUser } from './observer.js';
import { companionCtes } from './companions.js';

/** SQL for scim_users. Every statement is keyed by tenant_id first (index and partition key). */
export interface UserRow {
  id: string;
  user_name: string;
  external_id: string | null;
  display_name: string | null;
  active: boolean;
  data: Record<string, unknown>;
  source: string;
  status: string;
  version: number;
  created_at: Date;
  updated_at: Date;
}

export const USER_COLUMNS = 'id, user_name, external_id, display_name, active, data, source, status, version, created_at, updated_at';

export const toStoredUser = (r: UserRow): StoredUser => ({
  id: r.id,
  userName: r.user_name,
  externalId: r.external_id,
  displayName: r.display_name,
  active: r.active,
  status: r.status,
  source: r.source,
  data: r.data,
});

export interface UserWrite {
  userName: string;
  externalId: string | null;
  displayName: string | null;
  active: boolean;
  data: Record<string, unknown>;
  passwordHash: string | null | undefined;
  status: string;
}

/** Inserts; returns undefined when the userName is taken (case-insensitively). */
export async function insertUser(tx: Queryable, tenantId: string, id: string, w: UserWrite, source: string): Promise<UserRow | undefined> {
  const { rows } = await tx.query<UserRow>(
    `INSERT INTO scim_users (tenant_id, id, user_name, external_id, display_name, active, data, password_hash, source, status)
     VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10)
     ON CONFLICT (tenant_id, lower(user_name)) DO NOTHING
     RETURNING ${USER_COLUMNS}`,
    [tenantId, id, w.userName, w.externalId, w.displayName, w.active, JSON.stringify(w.data), w.passwordHash ?? null, source, w.status],
  );
  return rows[0];
}

/**
 * The same insert plus companion rows in one statement: the companions are written only when the
 * user row was (WHERE EXISTS on the insert's RETURNING), and a single statement is atomic.
 */
export async function insertUserWith(tx: Queryable, tenantId: string, id: string, w: UserWrite, source: string, companions: CompanionInsert[]): Promise<UserRow | undefined> {
  const params: unknown[] = [tenantId, id, w.userName, w.externalId, w.displayName, w.active, JSON.stringify(w.data), w.passwordHash ?? null, source, w.status];
  const { rows } = await tx.query<UserRow>(
    `WITH main AS (
       INSERT INTO scim_users (tenant_id, id, user_name, external_id, display_name, active, data, password_hash, source, status)
       VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10)
       ON CONFLICT (tenant_id, lower(user_name)) DO NOTHING
       RETURNING version, created_at, updated_at
     )${companionCtes(companions, params)}
     SELECT * FROM main`,
    params,
  );
  const r = rows[0] as Pick<UserRow, 'version' | 'created_at' | 'updated_at'> | undefined;
  // Everything else is what was written: no need to read the JSON back.
  return r && {
    id, user_name: w.userName, external_id: w.externalId, display_name: w.displayName, active: w.active, data: w.data,
    source, status: w.status, version: r.version, created_at: r.created_at, updated_at: r.updated_at,
  };
}

/** One user of insertUsersWith: its tenant, id, values and companion rows (as for insertUserWith). */
export interface UserInsert {
  tenantId: string;
  id: string;
  w: UserWrite;
  source: string;
  companions: CompanionInsert[];
}

/**
 * Several users, each with its companion rows, in one statement: per user the rows insertUserWith
 * writes. A user whose userName is taken (also by an earlier user of the same statement) is not
 * written, nor are its companions; its entry in the answer is undefined. Every user's companions
 * must have the same shape (table, columns, casts: one set of observers gives that); their values
 * travel as JSON text and are cast back, as insertUserWith's parameters are.
 */
export async function insertUsersWith(tx: Queryable, users: readonly UserInsert[]): Promise<(UserRow | undefined)[]> {
  const shape = users[0]?.companions ?? [];
  const input = users.map((u, i) => ({
    i, tenant_id: u.tenantId, id: u.id, user_name: u.w.userName, external_id: u.w.externalId, display_name: u.w.displayName,
    active: u.w.active, data: u.w.data, password_hash: u.w.passwordHash ?? null, source: u.source, status: u.w.status,
    c: u.companions.map((c) => c.values),
  }));
  const ctes = shape.map((c, j) =>
    `, c${j} AS (INSERT INTO ${c.table} (${c.columns.join(', ')}) SELECT ${c.casts.map((cast, k) => `(v.c->${j}->>${k})::${cast}`).join(', ')} FROM v JOIN main USING (id) ORDER BY v.i)`).join('');
  const { rows } = await tx.query<Pick<UserRow, 'id' | 'version' | 'created_at' | 'updated_at'>>(
    `WITH v AS (
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS v(i int, tenant_id uuid, id uuid, user_name text, external_id text, display_name text,
         active boolean, data jsonb, password_hash text, source text, status text, c jsonb)
     ), main AS (
       INSERT INTO scim_users (tenant_id, id, user_name, external_id, display_name, active, data, password_hash, source, status)
       SELECT tenant_id, id, user_name, external_id, display_name, active, data, password_hash, source, status FROM v ORDER BY i
       ON CONFLICT (tenant_id, lower(user_name)) DO NOTHING
       RETURNING id, version, created_at, updated_at
     )${ctes}
     SELECT * FROM main`,
    [JSON.stringify(input)],
  );
  const written = new Map(rows.map((r) => [r.id, r]));
  return users.map(({ id, w, source }) => {
    const r = written.get(id);
    return r && {
      id, user_name: w.userName, external_id: w.externalId, display_name: w.displayName, active: w.active, data: w.data,
      source, status: w.status, version: r.version, created_at: r.created_at, updated_at: r.updated_at,
    };
  });
}

export async function selectUser(tx: Queryable, tenantId: string, id: string, forUpdate = false): Promise<UserRow | undefined> {
  const { rows } = await tx.query<UserRow>(
    `SELECT ${USER_COLUMNS} FROM scim_users WHERE tenant_id = $1 AND id = $2${forUpdate ? ' FOR UPDATE' : ''}`,
    [tenantId, id],
  );
  return rows[0];
}

export async function selectUserByUserName(tx: Queryable, tenantId: string, userName: string, forUpdate = false): Promise<UserRow | undefined> {
  const { rows } = await tx.query<UserRow>(
    `SELECT ${USER_COLUMNS} FROM scim_users WHERE tenant_id = $1 AND lower(user_name) = lower($2)${forUpdate ? ' FOR UPDATE' : ''}`,
    [tenantId, userName],
  );
  return rows[0];
}

export async function userNameTakenByOther(tx: Queryable, tenantId: string, userName: string, id: string): Promise<boolean> {
  const { rows } = await tx.query(
    'SELECT 1 FROM scim_users WHERE tenant_id = $1 AND lower(user_name) = lower($2) AND id <> $3',
    [tenantId, userName, id],
  );
  return rows.length > 0;
}

export async function updateUser(tx: Queryable, tenantId: string, id: string, w: UserWrite, source?: string): Promise<UserRow> {
  const { rows } = await tx.query<UserRow>(
    `UPDATE scim_users SET user_name = $3, external_id = $4, display_name = $5, active = $6, data = $7::jsonb,
            password_hash = CASE WHEN $8::boolean THEN $9 ELSE password_hash END,
            status = $10, source = COALESCE($11, source), version = version + 1, updated_at = now()
      WHERE tenant_id = $1 AND id = $2
      RETURNING ${USER_COLUMNS}`,
    [tenantId, id, w.userName, w.externalId, w.displayName, w.active, JSON.stringify(w.data),
      w.passwordHash !== undefined, w.passwordHash ?? null, w.status, source ?? null],
  );
  return rows[0]!;
}

/** Deletes the user and its memberships in the caller's transaction; returns the groups it left. */
export async function deleteUser(tx: Queryable, tenantId: string, id: string): Promise<string[]> {
  const { rows } = await tx.query<{ group_id: string }>(
    'DELETE FROM scim_group_members WHERE tenant_id = $1 AND member_id = $2 RETURNING group_id',
    [tenantId, id],
  );
  await tx.query('DELETE FROM scim_users WHERE tenant_id = $1 AND id = $2', [tenantId, id]);
  return rows.map((r) => r.group_id);
}

/**
 * Select-list expression: the ids of a user's groups (comma-separated), folded into the user query
 * itself (one round trip for a `userName eq` probe). An index-only scan of the member index; the
 * names come from the group-name cache (group-names.ts), not from a join per membership.
 */
export const GROUP_IDS = `(SELECT string_agg(gm.group_id::text, ',')
     FROM scim_group_members gm WHERE gm.tenant_id = r.tenant_id AND gm.member_id = r.id) AS group_ids`;

export type UserRowWithGroupIds = UserRow & { group_ids?: string | null };

export async function selectUserWithGroupIds(tx: Queryable, tenantId: string, id: string): Promise<UserRowWithGroupIds | undefined> {
  const { rows } = await tx.query<UserRowWithGroupIds>(
    `SELECT ${USER_COLUMNS.split(', ').map((c) => `r.${c}`).join(', ')}, ${GROUP_IDS} FROM scim_users r WHERE r.tenant_id = $1 AND r.id = $2`,
    [tenantId, id],
  );
  return rows[0];
}

/** The `groups` attribute of several users: one query, by the member index. */
export async function groupsOfUsers(
  tx: Queryable,
  tenantId: string,
  userIds: string[],
): Promise<Map<string, { id: string; displayName: string }[]>> {
  const out = new Map<string, { id: string; displayName: string }[]>();
  if (userIds.length === 0) return out;
  const { rows } = await tx.query<{ member_id: string; id: string; display_name: string }>(
    `SELECT gm.member_id, g.id, g.display_name
       FROM scim_group_members gm JOIN scim_groups g ON g.tenant_id = gm.tenant_id AND g.id = gm.group_id
      WHERE gm.tenant_id = $1 AND gm.member_id = ANY($2::uuid[])
      ORDER BY g.display_name`,
    [tenantId, userIds],
  );
  for (const r of rows) {
    let list = out.get(r.member_id);
    if (!list) out.set(r.member_id, (list = []));
    list.push({ id: r.id, displayName: r.display_name });
  }
  return out;
}
