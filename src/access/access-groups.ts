/**
 * Access groups, their datasets and their members (linked IdP group members ∪ manual members).
 * Each write that changes who has which dataset records its access change (access-changes.ts) in
 * the same statement (a data-modifying CTE), so it is atomic without an explicit transaction.
 * Creating an access group records none: a new access group has no datasets.
 */
import { randomUUID } from 'node:crypto';
import type { Queryable } from '../db/types.js';
import { isUuid } from '../lib/ids.js';
import { toIdentitySummary, type IdentitySummary } from './effective.js';

export interface AccessGroupView {
  id: string;
  name: string;
  description: string | null;
  /** The SCIM group whose displayName equals this name exactly, if one exists now. */
  linkedGroup: { id: string; displayName: string; externalId: string | null } | null;
  createdAt: Date;
  updatedAt: Date;
}

/** An access group's changeable fields (what a PATCH sets). */
export type AccessGroupFields = Pick<AccessGroupView, 'name' | 'description'>;

interface AgRow {
  id: string;
  name: string;
  description: string | null;
  created_at: Date;
  updated_at: Date;
  g_id: string | null;
  g_display_name: string | null;
  g_external_id: string | null;
}

const AG_SELECT = `SELECT a.id, a.name, a.description, a.created_at, a.updated_at,
       g.id AS g_id, g.display_name AS g_display_name, g.external_id AS g_external_id
  FROM access_groups a
  LEFT JOIN scim_groups g ON g.tenant_id = a.tenant_id AND g.display_name = a.name`;

const toView = (r: AgRow): AccessGroupView => ({
  id: r.id,
  name: r.name,
  description: r.description,
  linkedGroup: r.g_id ? { id: r.g_id, displayName: r.g_display_name!, externalId: r.g_external_id } : null,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export async function createAccessGroup(db: Queryable, tenantId: string, input: { name: string; description?: string | null }): Promise<AccessGroupView> {
  const id = randomUUID();
  await db.query(
    'INSERT INTO access_groups (tenant_id, id, name, description) VALUES ($1, $2, $3, $4)',
    [tenantId, id, input.name, input.description ?? null],
  );
  return (await getAccessGroup(db, tenantId, id))!;
}

export async function getAccessGroup(db: Queryable, tenantId: string, id: string): Promise<AccessGroupView | undefined> {
  if (!isUuid(id)) return undefined;
  const { rows } = await db.query<AgRow>(`${AG_SELECT} WHERE a.tenant_id = $1 AND a.id = $2`, [tenantId, id]);
  return rows[0] ? toView(rows[0]) : undefined;
}

export async function listAccessGroups(
  db: Queryable,
  tenantId: string,
  page: { limit: number; offset: number; name?: string },
): Promise<{ total: number; items: AccessGroupView[] }> {
  const params: unknown[] = [tenantId];
  let where = 'a.tenant_id = $1';
  if (page.name !== undefined) {
    params.push(page.name);
    where += ` AND a.name = $${params.length}`;
  }
  const { rows } = await db.query<AgRow>(
    `${AG_SELECT} WHERE ${where} ORDER BY a.name, a.id LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
    [...params, page.limit, page.offset],
  );
  const c = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM access_groups a WHERE ${where}`, params);
  return { total: c.rows[0]!.n, items: rows.map(toView) };
}

export async function updateAccessGroup(
  db: Queryable,
  tenantId: string,
  id: string,
  patch: { name?: string; description?: string | null },
): Promise<(AccessGroupView & { replaced: AccessGroupFields }) | undefined> {
  if (!isUuid(id)) return undefined;
  // A rename moves the link: whoever holds one of its datasets now, or was told so, is looked at again.
  // `old` locks the row before the UPDATE (which joins it, so it runs first; a row lock taken after
  // waiting on a concurrent change reads the newest version; NO KEY, as the UPDATE itself, leaves
  // foreign-key checks of other rows unblocked): its values are the ones replaced.
  const { rows } = await db.query<{ old_name: string; old_description: string | null }>(
    `WITH old AS (SELECT name, description FROM access_groups WHERE tenant_id = $1 AND id = $2 FOR NO KEY UPDATE),
          ds AS (SELECT jsonb_agg(dataset_id) AS ids FROM access_group_datasets WHERE tenant_id = $1 AND access_group_id = $2),
          upd AS (
            UPDATE access_groups a SET name = COALESCE($3, a.name),
                   description = CASE WHEN $4::boolean THEN $5 ELSE a.description END, updated_at = now()
              FROM old
             WHERE a.tenant_id = $1 AND a.id = $2 RETURNING a.name
          ),
          ch AS (
            INSERT INTO access_changes (tenant_id, cause, scope)
            SELECT $1, jsonb_build_object('type', 'accessGroup.renamed', 'accessGroup', jsonb_build_object('id', $2::uuid, 'name', upd.name),
                                          'previousName', old.name),
                   jsonb_build_object('datasets', ds.ids)
              FROM old, upd, ds WHERE old.name <> upd.name AND ds.ids IS NOT NULL
          )
     SELECT old.name AS old_name, old.description AS old_description FROM upd, old`,
    [tenantId, id, patch.name ?? null, patch.description !== undefined, patch.description ?? null],
  );
  const r = rows[0];
  if (!r) return undefined;
  const view = await getAccessGroup(db, tenantId, id);
  return view && { ...view, replaced: { name: r.old_name, description: r.old_description } };
}

export async function deleteAccessGroup(db: Queryable, tenantId: string, id: string): Promise<boolean> {
  if (!isUuid(id)) return false;
  const { rows } = await db.query<{ n: number }>(
    `WITH ds AS (SELECT jsonb_agg(dataset_id) AS ids FROM access_group_datasets WHERE tenant_id = $1 AND access_group_id = $2),
          del AS (DELETE FROM access_groups WHERE tenant_id = $1 AND id = $2 RETURNING id, name),
          ch AS (
            INSERT INTO access_changes (tenant_id, cause, scope)
            SELECT $1, jsonb_build_object('type', 'accessGroup.deleted', 'accessGroup', jsonb_build_object('id', del.id, 'name', del.name)),
                   jsonb_build_object('datasets', ds.ids)
              FROM del, ds WHERE ds.ids IS NOT NULL
          )
     SELECT count(*)::int AS n FROM del`,
    [tenantId, id],
  );
  return rows[0]!.n > 0;
}

// ---- datasets of an access group ----

export interface DatasetView {
  id: string;
  name: string;
  externalId: string | null;
  description: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export async function datasetsOfAccessGroup(db: Queryable, tenantId: string, agId: string): Promise<DatasetView[]> {
  const { rows } = await db.query<{ id: string; name: string; external_id: string | null; description: string | null; created_at: Date; updated_at: Date }>(
    `SELECT d.id, d.name, d.external_id, d.description, d.created_at, d.updated_at
       FROM access_group_datasets x JOIN datasets d ON d.tenant_id = x.tenant_id AND d.id = x.dataset_id
      WHERE x.tenant_id = $1 AND x.access_group_id = $2
      ORDER BY d.name, d.id`,
    [tenantId, agId],
  );
  return rows.map((r) => ({ id: r.id, name: r.name, externalId: r.external_id, description: r.description, createdAt: r.created_at, updatedAt: r.updated_at }));
}

/**
 * The cause recorded with an access change for an (un)assignment: the access group and dataset as
 * they are at the change ($1 tenant, $2 access group, $3 dataset in the calling statement).
 */
const assignmentCause = (type: 'dataset.assigned' | 'dataset.unassigned') => `jsonb_build_object('type', '${type}',
                    'accessGroup', (SELECT jsonb_build_object('id', id, 'name', name) FROM access_groups WHERE tenant_id = $1 AND id = $2),
                    'dataset', (SELECT jsonb_build_object('id', id, 'externalId', external_id, 'name', name) FROM datasets WHERE tenant_id = $1 AND id = $3))`;

/**
 * Runs one write ($1 tenant, $2 access group, $3 dataset or identity) and, in the same statement and
 * only when it changed a row, records the access change the outbox worker expands into
 * access.granted / access.revoked events. True when the write changed a row.
 */
async function writeWithAccessChange(db: Queryable, params: unknown[], write: string, cause: string, scope: string): Promise<boolean> {
  const { rows } = await db.query<{ n: number }>(
    `WITH w AS (
       ${write} RETURNING 1
     ), ch AS (
       INSERT INTO access_changes (tenant_id, cause, scope)
       SELECT $1, ${cause}, ${scope}
        WHERE EXISTS (SELECT 1 FROM w)
     )
     SELECT count(*)::int AS n FROM w`,
    params,
  );
  return rows[0]!.n > 0;
}

/** True when newly assigned, false when it already was. */
export async function assignDataset(db: Queryable, tenantId: string, agId: string, datasetId: string): Promise<boolean> {
  // The access change names only the access group: its members are expanded by the worker.
  return writeWithAccessChange(db, [tenantId, agId, datasetId],
    `INSERT INTO access_group_datasets (tenant_id, access_group_id, dataset_id) VALUES ($1, $2, $3)
       ON CONFLICT DO NOTHING`,
    assignmentCause('dataset.assigned'),
    `jsonb_build_object('accessGroups', jsonb_build_array($2::uuid))`);
}

export async function unassignDataset(db: Queryable, tenantId: string, agId: string, datasetId: string): Promise<boolean> {
  if (!isUuid(datasetId)) return false;
  // Who was told they have the dataset is looked at again (some keep it through another route).
  return writeWithAccessChange(db, [tenantId, agId, datasetId],
    `DELETE FROM access_group_datasets WHERE tenant_id = $1 AND access_group_id = $2 AND dataset_id = $3`,
    assignmentCause('dataset.unassigned'),
    `jsonb_build_object('datasets', jsonb_build_array($3::uuid))`);
}

// ---- members ----

export interface AccessGroupMember extends IdentitySummary {
  /** Member through the linked IdP group (possibly through nested groups when enabled). */
  viaIdpGroup: boolean;
  /** Added by hand. */
  manual: boolean;
}

/**
 * Effective members, derived now: members of the SCIM group named exactly like the access group
 * (and of its nested groups when the tenant enables nestedGroupsGrant) ∪ manual members.
 * Keyset-paged by identity id.
 */
export async function membersOfAccessGroup(
  db: Queryable,
  tenantId: string,
  agId: string,
  page: { limit: number; after?: string },
): Promise<AccessGroupMember[]> {
  const { rows } = await db.query<{
    id: string; user_name: string; external_id: string | null; display_name: string | null;
    status: string; source: string; active: boolean; via_group: boolean; manual: boolean;
  }>(
    `WITH RECURSIVE
       cfg AS (SELECT COALESCE((settings->>'nestedGroupsGrant')::boolean, false) AS nested FROM tenants WHERE tenant_id = $1),
       linked(group_id) AS (
         SELECT g.id FROM access_groups a JOIN scim_groups g ON g.tenant_id = a.tenant_id AND g.display_name = a.name
          WHERE a.tenant_id = $1 AND a.id = $2
         UNION
         SELECT gm.member_id FROM linked JOIN scim_group_members gm ON gm.tenant_id = $1 AND gm.group_id = linked.group_id
          WHERE gm.member_type = 'Group' AND (SELECT nested FROM cfg)
       ),
       m AS (
         SELECT gm.member_id AS id, true AS via_group, false AS manual
           FROM linked JOIN scim_group_members gm ON gm.tenant_id = $1 AND gm.group_id = linked.group_id
          WHERE gm.member_type <> 'Group'
         UNION ALL
         SELECT identity_id, false, true FROM access_group_members WHERE tenant_id = $1 AND access_group_id = $2
       )
     SELECT u.id, u.user_name, u.external_id, u.display_name, u.status, u.source, u.active,
            bool_or(m.via_group) AS via_group, bool_or(m.manual) AS manual
       FROM m JOIN scim_users u ON u.tenant_id = $1 AND u.id = m.id
      WHERE ($3::uuid IS NULL OR u.id > $3::uuid)
      GROUP BY u.id, u.user_name, u.external_id, u.display_name, u.status, u.source, u.active
      ORDER BY u.id LIMIT $4`,
    [tenantId, agId, page.after ?? null, page.limit],
  );
  return rows.map((r) => ({ ...toIdentitySummary(r), viaIdpGroup: r.via_group, manual: r.manual }));
}

/** The cause recorded with a manual member change ($1 tenant, $2 access group, $3 identity in the calling statement). */
const memberCause = (type: 'accessGroup.member_added' | 'accessGroup.member_removed') => `jsonb_build_object('type', '${type}',
                    'accessGroup', (SELECT jsonb_build_object('id', id, 'name', name) FROM access_groups WHERE tenant_id = $1 AND id = $2),
                    'identity', jsonb_build_object('id', $3::uuid))`;

export async function addManualMember(db: Queryable, tenantId: string, agId: string, identityId: string): Promise<boolean> {
  return writeWithAccessChange(db, [tenantId, agId, identityId],
    `INSERT INTO access_group_members (tenant_id, access_group_id, identity_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
    memberCause('accessGroup.member_added'),
    `jsonb_build_object('identities', jsonb_build_array($3::uuid))`);
}

export async function removeManualMember(db: Queryable, tenantId: string, agId: string, identityId: string): Promise<boolean> {
  if (!isUuid(identityId)) return false;
  return writeWithAccessChange(db, [tenantId, agId, identityId],
    `DELETE FROM access_group_members WHERE tenant_id = $1 AND access_group_id = $2 AND identity_id = $3`,
    memberCause('accessGroup.member_removed'),
    `jsonb_build_object('identities', jsonb_build_array($3::uuid))`);
}

/** The linked IdP group, if the identity is a (direct) member of it. */
export async function idpMembershipOf(db: Queryable, tenantId: string, agId: string, identityId: string): Promise<string | undefined> {
  if (!isUuid(identityId)) return undefined;
  const { rows } = await db.query<{ display_name: string }>(
    `SELECT g.display_name FROM access_groups a
       JOIN scim_groups g ON g.tenant_id = a.tenant_id AND g.display_name = a.name
       JOIN scim_group_members gm ON gm.tenant_id = g.tenant_id AND gm.group_id = g.id AND gm.member_id = $3
      WHERE a.tenant_id = $1 AND a.id = $2`,
    [tenantId, agId, identityId],
  );
  return rows[0]?.display_name;
}
