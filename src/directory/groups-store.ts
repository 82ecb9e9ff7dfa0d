import type { Queryable } from '../db/types.js';
import type { CompanionInsert, StoredGroup } from './observer.js';
import { companionCtes } from './companions.js';
import type { MemberRef } from '../scim/patch/index.js';
import { InvalidValueError } from '../scim/errors.js';
import { isUuid } from '../lib/ids.js';

export interface GroupRow {
  id: string;
  display_name: string;
  external_id: string | null;
  data: Record<string, unknown>;
  version: number;
  created_at: Date;
  updated_at: Date;
}

export const GROUP_COLUMNS = 'id, display_name, external_id, data, version, created_at, updated_at';

export const toStoredGroup = (r: GroupRow): StoredGroup => ({
  id: r.id,
  displayName: r.display_name,
  externalId: r.external_id,
  data: r.data,
});

export interface GroupWrite {
  displayName: string;
  externalId: string | null;
  data: Record<string, unknown>;
}

export async function insertGroup(tx: Queryable, tenantId: string, id: string, w: GroupWrite): Promise<GroupRow | undefined> {
  const { rows } = await tx.query<GroupRow>(
    `INSERT INTO scim_groups (tenant_id, id, display_name, external_id, data) VALUES ($1, $2, $3, $4, $5::jsonb)
     ON CONFLICT (tenant_id, lower(display_name)) DO NOTHING RETURNING ${GROUP_COLUMNS}`,
    [tenantId, id, w.displayName, w.externalId, JSON.stringify(w.data)],
  );
  return rows[0];
}

export async function selectGroup(tx: Queryable, tenantId: string, id: string, forUpdate = false): Promise<GroupRow | undefined> {
  const { rows } = await tx.query<GroupRow>(
    `SELECT ${GROUP_COLUMNS} FROM scim_groups WHERE tenant_id = $1 AND id = $2${forUpdate ? ' FOR UPDATE' : ''}`,
    [tenantId, id],
  );
  return rows[0];
}

export async function displayNameTakenByOther(tx: Queryable, tenantId: string, displayName: string, id: string): Promise<boolean> {
  const { rows } = await tx.query(
    'SELECT 1 FROM scim_groups WHERE tenant_id = $1 AND lower(display_name) = lower($2) AND id <> $3',
    [tenantId, displayName, id],
  );
  return rows.length > 0;
}

export async function updateGroup(tx: Queryable, tenantId: string, id: string, w: GroupWrite): Promise<GroupRow> {
  const { rows } = await tx.query<GroupRow>(
    `UPDATE scim_groups SET display_name = $3, external_id = $4, data = $5::jsonb, version = version + 1, updated_at = now()
      WHERE tenant_id = $1 AND id = $2 RETURNING ${GROUP_COLUMNS}`,
    [tenantId, id, w.displayName, w.externalId, JSON.stringify(w.data)],
  );
  return rows[0]!;
}

/**
 * Membership changed without a resource change: the version still moves (members are part of the
 * Group). Observers' rows (the members event) go in the same statement: one round trip fewer.
 */
export async function touchGroup(tx: Queryable, tenantId: string, id: string, companions: readonly CompanionInsert[] = []): Promise<GroupRow> {
  const params: unknown[] = [tenantId, id];
  const { rows } = await tx.query<GroupRow>(
    `WITH main AS (UPDATE scim_groups SET version = version + 1, updated_at = now() WHERE tenant_id = $1 AND id = $2 RETURNING ${GROUP_COLUMNS})${companionCtes(companions, params)}
     SELECT * FROM main`,
    params,
  );
  return rows[0]!;
}

export async function deleteGroupRow(tx: Queryable, tenantId: string, id: string): Promise<string[]> {
  const { rows } = await tx.query<{ member_id: string }>(
    'DELETE FROM scim_group_members WHERE tenant_id = $1 AND group_id = $2 RETURNING member_id',
    [tenantId, id],
  );
  // Also leave the groups this group is a (nested) member of.
  await tx.query('DELETE FROM scim_group_members WHERE tenant_id = $1 AND member_id = $2', [tenantId, id]);
  await tx.query('DELETE FROM scim_groups WHERE tenant_id = $1 AND id = $2', [tenantId, id]);
  return rows.map((r) => r.member_id);
}

/** Distinct, well-formed member ids (a malformed id can name no member, so it is skipped). */
function memberRefs(members: MemberRef[], groupId: string): { ids: string[]; displays: (string | null)[]; malformed: string[] } {
  const byId = new Map<string, string | null>();
  const malformed: string[] = [];
  for (const m of members) {
    if (!isUuid(m.value)) { malformed.push(m.value); continue; }
    const id = m.value.toLowerCase();
    if (id === groupId.toLowerCase()) throw new InvalidValueError('members: a group cannot be a member of itself');
    if (!byId.has(id) || m.display) byId.set(id, m.display ?? null);
  }
  return { ids: [...byId.keys()], displays: [...byId.values()], malformed };
}

export interface AddMembersResult {
  added: string[];
  /** Ids that name no User or Group of this tenant: not stored, so a group never references a missing member. */
  skipped: string[];
}

/**
 * Adds members: one INSERT … ON CONFLICT DO NOTHING, O(batch) whatever the group size.
 * Only ids of this tenant's Users and Groups are stored; the others are skipped and reported
 * (Microsoft's validation suite adds bogus ids and expects success).
 */
export async function addMembers(tx: Queryable, tenantId: string, groupId: string, members: MemberRef[]): Promise<AddMembersResult> {
  const { ids, displays, malformed } = memberRefs(members, groupId);
  if (ids.length === 0) return { added: [], skipped: malformed };
  const { rows } = await tx.query<{ found: string[] | null; added: string[] | null }>(
    `WITH req AS (SELECT * FROM unnest($3::uuid[], $4::text[]) AS r(id, display)),
     found AS (
       SELECT r.id, r.display, 'User' AS t FROM req r JOIN scim_users u ON u.tenant_id = $1 AND u.id = r.id
       UNION ALL
       SELECT r.id, r.display, 'Group' AS t FROM req r JOIN scim_groups g ON g.tenant_id = $1 AND g.id = r.id
     ), ins AS (
       INSERT INTO scim_group_members (tenant_id, group_id, member_id, member_type, display)
       SELECT $1, $2, id, t, display FROM found
       ON CONFLICT DO NOTHING RETURNING member_id
     )
     SELECT (SELECT array_agg(id::text) FROM found) AS found, (SELECT array_agg(member_id::text) FROM ins) AS added`,
    [tenantId, groupId, ids, displays],
  );
  const found = new Set(rows[0]?.found ?? []);
  return { added: rows[0]?.added ?? [], skipped: [...malformed, ...ids.filter((id) => !found.has(id))] };
}

/** Removes exactly the named members: one DELETE by id list. Unknown ids are ignored (idempotent). */
export async function removeMembers(tx: Queryable, tenantId: string, groupId: string, ids: string[]): Promise<string[]> {
  const valid = [...new Set(ids.filter(isUuid).map((s) => s.toLowerCase()))];
  if (valid.length === 0) return [];
  const { rows } = await tx.query<{ member_id: string }>(
    'DELETE FROM scim_group_members WHERE tenant_id = $1 AND group_id = $2 AND member_id = ANY($3::uuid[]) RETURNING member_id',
    [tenantId, groupId, valid],
  );
  return rows.map((r) => r.member_id);
}

export async function removeAllMembers(tx: Queryable, tenantId: string, groupId: string): Promise<string[]> {
  const { rows } = await tx.query<{ member_id: string }>(
    'DELETE FROM scim_group_members WHERE tenant_id = $1 AND group_id = $2 RETURNING member_id',
    [tenantId, groupId],
  );
  return rows.map((r) => r.member_id);
}

/** Replace = remove those not listed + add the listed; unchanged members are not touched. */
export async function replaceMembers(tx: Queryable, tenantId: string, groupId: string, members: MemberRef[]): Promise<{ added: string[]; removed: string[]; skipped: string[] }> {
  const { ids } = memberRefs(members, groupId);
  const { rows } = await tx.query<{ member_id: string }>(
    'DELETE FROM scim_group_members WHERE tenant_id = $1 AND group_id = $2 AND NOT (member_id = ANY($3::uuid[])) RETURNING member_id',
    [tenantId, groupId, ids],
  );
  const { added, skipped } = await addMembers(tx, tenantId, groupId, members);
  return { added, removed: rows.map((r) => r.member_id), skipped };
}

export interface MemberView {
  value: string;
  type: string;
  display: string | null;
}

/** Inline members of several groups, at most `cap` each, by the primary key. */
export async function membersOfGroups(
  tx: Queryable, tenantId: string, groupIds: string[], cap: number,
  /** Most members over all the groups, given in `groupIds` order (earlier groups first); undefined: no total. */
  totalCap?: number,
): Promise<Map<string, MemberView[]>> {
  const out = new Map<string, MemberView[]>();
  if (groupIds.length === 0) return out;
  type Row = { group_id: string; member_id: string; member_type: string; display: string | null };
  const { rows } = totalCap === undefined
    ? await tx.query<Row>(
      `SELECT m.group_id, m.member_id, m.member_type, COALESCE(m.display, u.display_name, u.user_name, g.display_name) AS display
         FROM (SELECT gm.group_id, gm.member_id, gm.member_type, gm.display,
                      row_number() OVER (PARTITION BY gm.group_id ORDER BY gm.member_id) AS n
                 FROM scim_group_members gm WHERE gm.tenant_id = $1 AND gm.group_id = ANY($2::uuid[])) m
         LEFT JOIN scim_users u ON u.tenant_id = $1 AND u.id = m.member_id
         LEFT JOIN scim_groups g ON g.tenant_id = $1 AND g.id = m.member_id
        WHERE m.n <= $3
        ORDER BY m.group_id, m.member_id`,
      [tenantId, groupIds, cap],
    )
    : await tx.query<Row>(
      `SELECT m.group_id, m.member_id, m.member_type, COALESCE(m.display, u.display_name, u.user_name, g.display_name) AS display
         FROM (SELECT c.*, row_number() OVER (ORDER BY c.ord, c.member_id) AS total_n
                 FROM (SELECT gm.group_id, gm.member_id, gm.member_type, gm.display, p.ord,
                              row_number() OVER (PARTITION BY gm.group_id ORDER BY gm.member_id) AS n
                         FROM scim_group_members gm
                         JOIN unnest($2::uuid[]) WITH ORDINALITY AS p(id, ord) ON p.id = gm.group_id
                        WHERE gm.tenant_id = $1) c
                WHERE c.n <= $3) m
         LEFT JOIN scim_users u ON u.tenant_id = $1 AND u.id = m.member_id
         LEFT JOIN scim_groups g ON g.tenant_id = $1 AND g.id = m.member_id
        WHERE m.total_n <= $4
        ORDER BY m.group_id, m.member_id`,
      [tenantId, groupIds, cap, totalCap],
    );
  for (const r of rows) {
    let list = out.get(r.group_id);
    if (!list) out.set(r.group_id, (list = []));
    list.push({ value: r.member_id, type: r.member_type, display: r.display });
  }
  return out;
}
