/**
 * Access changes: the write side of `access.granted` / `access.revoked`.
 *
 * A write that may change some identity's effective datasets records one compact row in
 * `access_changes`, in its own transaction: the cause and the scope (which identities to look at
 * again), never the fan-out — assigning a dataset to an access group linked to a 100k-member IdP
 * group writes one small row. The outbox worker (`events/access-events.ts`) expands the scope in
 * chunks, compares each identity's effective datasets now (`effectiveDatasetsOf`) with what was
 * last announced to it (`access_announced`) and emits one event per difference.
 *
 * A scope names identities directly, or by what they hang on; the worker expands it, at its time, to
 *   identities   — these ids
 *   groups       — members of these SCIM groups (and of their nested groups when the tenant enables nestedGroupsGrant)
 *   accessGroups — current members of these access groups (linked-group members ∪ manual members)
 *   datasets     — identities that have one of these datasets now, and those last told they had it
 *   all          — every identity of the tenant (a change of the nestedGroupsGrant setting)
 * A scope may be wider than the change (identities whose access did not change get no event); it
 * must never be narrower.
 */
import type { Queryable } from '../db/types.js';
import type { CompanionInsert } from '../directory/observer.js';

export interface AccessScope {
  identities?: string[];
  groups?: string[];
  accessGroups?: string[];
  datasets?: string[];
  all?: boolean;
}

/** What happened, as the events will show it: `type` plus references (ids, names). */
export interface AccessCause {
  type: string;
  [key: string]: unknown;
}

const isEmpty = (s: AccessScope) =>
  !s.all && !s.identities?.length && !s.groups?.length && !s.accessGroups?.length && !s.datasets?.length;

/** Records an access change in `tx`, the transaction of the write that caused it (one INSERT). */
export async function recordAccessChange(tx: Queryable, tenantId: string, cause: AccessCause, scope: AccessScope): Promise<void> {
  if (isEmpty(scope)) return;
  await tx.query('INSERT INTO access_changes (tenant_id, cause, scope) VALUES ($1, $2, $3)', [tenantId, JSON.stringify(cause), JSON.stringify(scope)]);
}

/** The same row as a companion insert of a one-statement SCIM write (directory/observer.ts). */
export function accessChangeInsert(tenantId: string, cause: AccessCause, scope: AccessScope): CompanionInsert {
  return {
    table: 'access_changes',
    columns: ['tenant_id', 'cause', 'scope'],
    values: [tenantId, JSON.stringify(cause), JSON.stringify(scope)],
    casts: ['uuid', 'jsonb', 'jsonb'],
  };
}

/** The datasets assigned to an access group now (to scope a rename or delete of it). */
export async function datasetIdsOfAccessGroup(db: Queryable, tenantId: string, agId: string): Promise<string[]> {
  const { rows } = await db.query<{ dataset_id: string }>(
    'SELECT dataset_id FROM access_group_datasets WHERE tenant_id = $1 AND access_group_id = $2',
    [tenantId, agId],
  );
  return rows.map((r) => r.dataset_id);
}

/** One route to a dataset. */
export type AccessRoute = { type: 'accessGroup'; id: string; name: string } | { type: 'grant'; value: string };

export interface HeldDataset {
  id: string;
  externalId: string | null;
  name: string;
  via: AccessRoute[];
}

export const routeKey = (r: AccessRoute): string => (r.type === 'grant' ? `grant:${r.value}` : `accessGroup:${r.id}`);

/**
 * Effective datasets of many identities at once ($2), with every route to each — the set-based
 * twin of EFFECTIVE_SQL (effective.ts): same groups (nested when enabled), same name links, same
 * direct-grant resolution by id or externalId.
 */
const EFFECTIVE_BATCH_SQL = `
WITH RECURSIVE
  cfg AS (SELECT COALESCE((settings->>'nestedGroupsGrant')::boolean, false) AS nested FROM tenants WHERE tenant_id = $1),
  grp(identity_id, group_id) AS (
    SELECT gm.member_id, gm.group_id FROM scim_group_members gm WHERE gm.tenant_id = $1 AND gm.member_id = ANY($2::uuid[])
    UNION
    SELECT grp.identity_id, gm.group_id FROM grp JOIN scim_group_members gm ON gm.tenant_id = $1 AND gm.member_id = grp.group_id
     WHERE gm.member_type = 'Group' AND (SELECT nested FROM cfg)
  ),
  ag(identity_id, id, name) AS (
    SELECT grp.identity_id, a.id, a.name FROM grp
      JOIN scim_groups sg ON sg.tenant_id = $1 AND sg.id = grp.group_id
      JOIN access_groups a ON a.tenant_id = $1 AND a.name = sg.display_name
    UNION
    SELECT m.identity_id, a.id, a.name FROM access_group_members m
      JOIN access_groups a ON a.tenant_id = $1 AND a.id = m.access_group_id
     WHERE m.tenant_id = $1 AND m.identity_id = ANY($2::uuid[])
  )
SELECT ag.identity_id, d.id AS dataset_id, d.external_id, d.name, 'accessGroup' AS kind, ag.id::text AS ref, ag.name AS ref_name
  FROM ag JOIN access_group_datasets x ON x.tenant_id = $1 AND x.access_group_id = ag.id
  JOIN datasets d ON d.tenant_id = $1 AND d.id = x.dataset_id
UNION ALL
SELECT gr.identity_id, d.id, d.external_id, d.name, 'grant', gr.value, NULL
  FROM identity_grants gr CROSS JOIN LATERAL (
    SELECT d.id, d.external_id, d.name FROM datasets d WHERE d.tenant_id = $1 AND d.id = gr.value_id
    UNION
    SELECT d.id, d.external_id, d.name FROM datasets d WHERE d.tenant_id = $1 AND d.external_id = gr.value
  ) d
 WHERE gr.tenant_id = $1 AND gr.identity_id = ANY($2::uuid[])`;

/**
 * The datasets each of `ids` may use now, keyed by identity then dataset id. A suspended (or
 * inactive) identity holds none — the access decision refuses it whatever its grants — and so
 * does one that no longer exists. Staged identities hold theirs (first use activates them).
 */
export async function effectiveDatasetsOf(
  db: Queryable,
  tenantId: string,
  ids: readonly string[],
): Promise<Map<string, Map<string, HeldDataset>>> {
  const out = new Map<string, Map<string, HeldDataset>>();
  if (ids.length === 0) return out;
  const { rows: users } = await db.query<{ id: string }>(
    `SELECT id FROM scim_users WHERE tenant_id = $1 AND id = ANY($2::uuid[]) AND active AND status <> 'suspended'`,
    [tenantId, ids],
  );
  const usable = users.map((u) => u.id);
  if (usable.length === 0) return out;
  const { rows } = await db.query<{ identity_id: string; dataset_id: string; external_id: string | null; name: string; kind: string; ref: string; ref_name: string | null }>(
    EFFECTIVE_BATCH_SQL,
    [tenantId, usable],
  );
  for (const r of rows) {
    let held = out.get(r.identity_id);
    if (!held) out.set(r.identity_id, (held = new Map()));
    let ds = held.get(r.dataset_id);
    if (!ds) held.set(r.dataset_id, (ds = { id: r.dataset_id, externalId: r.external_id, name: r.name, via: [] }));
    const route: AccessRoute = r.kind === 'grant' ? { type: 'grant', value: r.ref } : { type: 'accessGroup', id: r.ref, name: r.ref_name ?? '' };
    if (!ds.via.some((v) => routeKey(v) === routeKey(route))) ds.via.push(route);
  }
  for (const held of out.values()) for (const ds of held.values()) ds.via.sort((a, b) => routeKey(a).localeCompare(routeKey(b)));
  return out;
}
