import type { Queryable } from '../db/types.js';
import { isUuid } from '../lib/ids.js';

/**
 * Read-only views of SCIM groups for the admin API and console: member counts, the access group
 * each links to, and a group's direct members by page.
 *
 * Contract: every statement is keyed by tenant_id first (index and partition key) and reads only
 * that tenant's rows; nothing here writes. A group links to the access group whose name equals
 * its displayName exactly (case-sensitive), the product rule for links; links and counts are
 * derived at query time, never stored. An id that is not a UUID finds nothing (no SQL error).
 */

/** The columns of a group a listing shows (a subset of GroupRow, without `data`). */
export interface GroupListingRow {
  id: string;
  display_name: string;
  external_id: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface LinkedAccessGroup {
  id: string;
  name: string;
}

/** A group with its direct-member count and its linked access group (null when none exists). */
export interface GroupListing extends GroupListingRow {
  memberCount: number;
  linkedAccessGroup: LinkedAccessGroup | null;
}

export interface GroupMemberSummary {
  id: string;
  user_name: string;
  display_name: string | null;
  active: boolean;
  status: string;
}

/** Adds member counts and linked access groups to rows of one tenant's groups: two queries for any number of rows. */
export async function withGroupExtras<R extends GroupListingRow>(
  db: Queryable,
  tenantId: string,
  rows: readonly R[],
): Promise<(R & Pick<GroupListing, 'memberCount' | 'linkedAccessGroup'>)[]> {
  if (rows.length === 0) return [];
  const c = await db.query<{ group_id: string; n: number }>(
    `SELECT group_id, count(*)::int AS n FROM scim_group_members WHERE tenant_id = $1 AND group_id = ANY($2::uuid[]) GROUP BY group_id`,
    [tenantId, rows.map((r) => r.id)],
  );
  const l = await db.query<LinkedAccessGroup>(
    `SELECT id, name FROM access_groups WHERE tenant_id = $1 AND name = ANY($2::text[])`,
    [tenantId, rows.map((r) => r.display_name)],
  );
  const counts = new Map(c.rows.map((r) => [r.group_id, r.n]));
  const links = new Map(l.rows.map((r) => [r.name, { id: r.id, name: r.name }]));
  return rows.map((r) => ({ ...r, memberCount: counts.get(r.id) ?? 0, linkedAccessGroup: links.get(r.display_name) ?? null }));
}

/** One group of the tenant with its extras; undefined when the tenant has no group with this id. */
export async function groupListing(db: Queryable, tenantId: string, groupId: string): Promise<GroupListing | undefined> {
  if (!isUuid(groupId)) return undefined;
  const { rows } = await db.query<GroupListingRow>(
    'SELECT id, display_name, external_id, created_at, updated_at FROM scim_groups WHERE tenant_id = $1 AND id = $2',
    [tenantId, groupId],
  );
  return rows[0] ? (await withGroupExtras(db, tenantId, [rows[0]]))[0] : undefined;
}

/** Direct user members of a group, ordered by lower(userName) then id; offset-paged. */
export async function groupMembersPage(
  db: Queryable,
  tenantId: string,
  groupId: string,
  page: { limit: number; offset: number },
): Promise<GroupMemberSummary[]> {
  const { rows } = await db.query<GroupMemberSummary>(
    `SELECT u.id, u.user_name, u.display_name, u.active, u.status
       FROM scim_group_members m JOIN scim_users u ON u.tenant_id = m.tenant_id AND u.id = m.member_id
      WHERE m.tenant_id = $1 AND m.group_id = $2
      ORDER BY lower(u.user_name), u.id LIMIT $3 OFFSET $4`,
    [tenantId, groupId, page.limit, page.offset],
  );
  return rows;
}
