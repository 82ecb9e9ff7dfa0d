/**
 * Effective access of an identity, computed from the tables at query time (one statement,
 * one round trip, every step an index lookup keyed by tenant_id):
 *   groups        = SCIM groups the identity is a direct member of (plus, when the tenant enables
 *                   nestedGroupsGrant, the groups containing those groups, transitively)
 *   access groups = access groups named exactly like one of those groups ∪ manual memberships
 *   datasets      = datasets of those access groups ∪ direct grants resolved by id or externalId
 */
import type { Queryable } from '../db/types.js';
import { isUuid } from '../lib/ids.js';
import { metadataOf, rolesOf, userTypeOf } from './identity-data.js';

export type IdentityStatus = 'staged' | 'active' | 'suspended';
export type IdentitySource = 'scim' | 'manual';

export interface IdentitySummary {
  id: string;
  userName: string;
  externalId: string | null;
  displayName: string | null;
  status: IdentityStatus;
  source: IdentitySource;
  active: boolean;
}

export interface EffectiveAccess {
  identity: IdentitySummary;
  groups: { id: string; displayName: string; externalId: string | null }[];
  accessGroups: { id: string; name: string }[];
  datasets: { id: string; name: string; externalId: string | null }[];
  roles: string[];
  metadata: Record<string, string>;
  userType?: string;
}

interface IdentityRow {
  id: string;
  user_name: string;
  external_id: string | null;
  display_name: string | null;
  status: string;
  source: string;
  active: boolean;
}

const IDENTITY_COLUMNS = 'id, user_name, external_id, display_name, status, source, active';

export const toIdentitySummary = (r: IdentityRow): IdentitySummary => ({
  id: r.id,
  userName: r.user_name,
  externalId: r.external_id,
  displayName: r.display_name,
  status: r.status as IdentityStatus,
  source: r.source as IdentitySource,
  active: r.active,
});

/**
 * SQL fragment (a WITH list) defining `grp(group_id)`: the SCIM groups that count for identity $2
 * of tenant $1. Direct membership only, unless the tenant enabled nestedGroupsGrant.
 */
export const GROUPS_OF_IDENTITY_CTE = `
  cfg AS (
    SELECT COALESCE((settings->>'nestedGroupsGrant')::boolean, false) AS nested FROM tenants WHERE tenant_id = $1
  ),
  grp(group_id) AS (
    SELECT gm.group_id FROM scim_group_members gm WHERE gm.tenant_id = $1 AND gm.member_id = $2
    UNION
    SELECT gm.group_id FROM grp JOIN scim_group_members gm ON gm.tenant_id = $1 AND gm.member_id = grp.group_id
     WHERE gm.member_type = 'Group' AND (SELECT nested FROM cfg)
  )`;

export const EFFECTIVE_SQL = `
WITH RECURSIVE ${GROUPS_OF_IDENTITY_CTE},
  g AS (
    SELECT sg.id, sg.display_name, sg.external_id
      FROM grp JOIN scim_groups sg ON sg.tenant_id = $1 AND sg.id = grp.group_id
  ),
  ag AS (
    -- LATERAL … LIMIT 1 (names are unique): one index probe per group, whatever the estimates of the recursive CTE
    SELECT a.id, a.name FROM g
      CROSS JOIN LATERAL (SELECT a.id, a.name FROM access_groups a WHERE a.tenant_id = $1 AND a.name = g.display_name LIMIT 1) a
    UNION
    SELECT a.id, a.name FROM access_group_members m
      JOIN access_groups a ON a.tenant_id = $1 AND a.id = m.access_group_id
     WHERE m.tenant_id = $1 AND m.identity_id = $2
  ),
  ds AS (
    SELECT d.id, d.name, d.external_id FROM ag
      JOIN access_group_datasets x ON x.tenant_id = $1 AND x.access_group_id = ag.id
      JOIN datasets d ON d.tenant_id = $1 AND d.id = x.dataset_id
    UNION
    -- direct grants: the identity's values (primary-key prefix), each probed by dataset id and by externalId
    SELECT d.id, d.name, d.external_id FROM identity_grants gr
      CROSS JOIN LATERAL (
        SELECT d.id, d.name, d.external_id FROM datasets d WHERE d.tenant_id = $1 AND d.id = gr.value_id
        UNION ALL
        SELECT d.id, d.name, d.external_id FROM datasets d WHERE d.tenant_id = $1 AND d.external_id = gr.value
      ) d
     WHERE gr.tenant_id = $1 AND gr.identity_id = $2
  )
SELECT u.${IDENTITY_COLUMNS.split(', ').join(', u.')}, u.data,
  (SELECT COALESCE(json_agg(json_build_object('id', g.id, 'displayName', g.display_name, 'externalId', g.external_id)
                            ORDER BY g.display_name, g.id), '[]'::json) FROM g) AS groups,
  (SELECT COALESCE(json_agg(json_build_object('id', ag.id, 'name', ag.name) ORDER BY ag.name, ag.id), '[]'::json) FROM ag) AS access_groups,
  (SELECT COALESCE(json_agg(json_build_object('id', ds.id, 'name', ds.name, 'externalId', ds.external_id)
                            ORDER BY ds.name, ds.id), '[]'::json) FROM ds) AS datasets
FROM scim_users u WHERE u.tenant_id = $1 AND u.id = $2`;

type JsonCol<T> = T | string;
const parseJson = <T>(v: JsonCol<T>): T => (typeof v === 'string' ? (JSON.parse(v) as T) : v);

/**
 * Everything an access decision needs about one identity; undefined when the identity does not
 * exist in this tenant. Datasets are listed whatever the identity's status: access is decided by
 * `decideAccess` (decision.ts), which refuses suspended identities.
 */
export async function effectiveAccess(db: Queryable, tenantId: string, identityId: string): Promise<EffectiveAccess | undefined> {
  if (!isUuid(tenantId) || !isUuid(identityId)) return undefined;
  const { rows } = await db.query<IdentityRow & {
    data: Record<string, unknown>;
    groups: JsonCol<EffectiveAccess['groups']>;
    access_groups: JsonCol<EffectiveAccess['accessGroups']>;
    datasets: JsonCol<EffectiveAccess['datasets']>;
  }>(EFFECTIVE_SQL, [tenantId, identityId]);
  const r = rows[0];
  if (!r) return undefined;
  const out: EffectiveAccess = {
    identity: toIdentitySummary(r),
    groups: parseJson(r.groups),
    accessGroups: parseJson(r.access_groups),
    datasets: parseJson(r.datasets),
    roles: rolesOf(r.data),
    metadata: metadataOf(r.data),
  };
  const userType = userTypeOf(r.data);
  if (userType !== undefined) out.userType = userType;
  return out;
}

/**
 * Looks an identity up by id, externalId (exact) or userName (case-insensitive), trying the
 * given keys in that order. Undefined when none matches.
 */
export async function findIdentity(
  db: Queryable,
  tenantId: string,
  by: { externalId?: string; userName?: string; id?: string },
): Promise<IdentitySummary | undefined> {
  if (!isUuid(tenantId)) return undefined;
  if (by.id !== undefined && isUuid(by.id)) {
    const { rows } = await db.query<IdentityRow>(`SELECT ${IDENTITY_COLUMNS} FROM scim_users WHERE tenant_id = $1 AND id = $2`, [tenantId, by.id]);
    if (rows[0]) return toIdentitySummary(rows[0]);
  }
  if (by.externalId !== undefined && by.externalId !== '') {
    const { rows } = await db.query<IdentityRow>(
      `SELECT ${IDENTITY_COLUMNS} FROM scim_users WHERE tenant_id = $1 AND external_id = $2 ORDER BY created_at, id LIMIT 1`,
      [tenantId, by.externalId],
    );
    if (rows[0]) return toIdentitySummary(rows[0]);
  }
  if (by.userName !== undefined && by.userName !== '') {
    const { rows } = await db.query<IdentityRow>(
      `SELECT ${IDENTITY_COLUMNS} FROM scim_users WHERE tenant_id = $1 AND lower(user_name) = lower($2)`,
      [tenantId, by.userName],
    );
    if (rows[0]) return toIdentitySummary(rows[0]);
  }
  return undefined;
}

/** One way to find the identity behind a credential: an identity attribute and the value to look for. */
export interface IdentityLookup {
  attribute: 'externalId' | 'userName' | 'id';
  value: string;
}

/**
 * The identity matched by the first lookup (in the given order) that finds one, and that lookup.
 * Undefined when none matches.
 */
export async function findIdentityByLookups<L extends IdentityLookup>(
  db: Queryable,
  tenantId: string,
  lookups: readonly L[],
): Promise<{ identity: IdentitySummary; matchedBy: L } | undefined> {
  for (const l of lookups) {
    const identity = await findIdentity(db, tenantId, { [l.attribute]: l.value });
    if (identity) return { identity, matchedBy: l };
  }
  return undefined;
}

export interface DatasetRef {
  id: string;
  name: string;
  externalId: string | null;
}

/** A dataset by id, else by externalId (exact), else by name (exact). */
export async function resolveDataset(db: Queryable, tenantId: string, ref: string): Promise<DatasetRef | undefined> {
  if (!isUuid(tenantId) || typeof ref !== 'string' || ref === '') return undefined;
  const { rows } = await db.query<{ id: string; name: string; external_id: string | null; rank: number }>(
    `SELECT id, name, external_id, 1 AS rank FROM datasets WHERE tenant_id = $1 AND id = $3::uuid AND $3::uuid IS NOT NULL
     UNION ALL
     SELECT id, name, external_id, 2 FROM datasets WHERE tenant_id = $1 AND external_id = $2
     UNION ALL
     SELECT id, name, external_id, 3 FROM datasets WHERE tenant_id = $1 AND name = $2
     ORDER BY rank LIMIT 1`,
    [tenantId, ref, isUuid(ref) ? ref : null],
  );
  const r = rows[0];
  return r ? { id: r.id, name: r.name, externalId: r.external_id } : undefined;
}

/** staged → active: applies an allowed access decision's `activate` (decision.ts). True when the status changed. */
export async function activateStagedIdentity(db: Queryable, tenantId: string, identityId: string): Promise<boolean> {
  if (!isUuid(tenantId) || !isUuid(identityId)) return false;
  const res = await db.query(
    `UPDATE scim_users SET status = 'active', updated_at = now()
      WHERE tenant_id = $1 AND id = $2 AND status = 'staged' AND active`,
    [tenantId, identityId],
  );
  return res.rowCount > 0;
}
