/**
 * access.granted / access.revoked: the outbox worker expands the compact access changes that
 * writes record (access/access-changes.ts) into one event per (identity, dataset) change.
 *
 * The rule, per identity in a change's scope: events = (datasets it may use now) compared with
 * (datasets it was last announced, table access_announced). A dataset in the first only →
 * access.granted; in the second only → access.revoked; in both → nothing, whatever route was added
 * or removed (a second route to the same dataset announces nothing; the stored routes are
 * refreshed silently). "Now" is the moment the chunk runs, so two changes that cancel out before
 * the worker gets to them announce nothing, and every event describes access the identity really
 * gained or lost.
 *
 * Exactly once and in order: a tenant's changes are expanded by one worker at a time (a
 * transaction-scoped advisory lock), oldest first, in chunks of identities in id order; each chunk
 * inserts its events, moves access_announced and the change's cursor in one transaction. The
 * events are written after the change's own transaction committed, so they follow the events of
 * the write that caused them in every webhook's order (dispatch.ts orders by transaction, then
 * sequence).
 */
import type { Database, Queryable } from '../db/types.js';
import { effectiveDatasetsOf, routeKey, type AccessCause, type AccessRoute, type AccessScope, type HeldDataset } from '../access/access-changes.js';
import { emitEvents, type PendingEvent } from './outbox.js';
import { applyJoinProvisioning, JOIN_CAUSES } from './provisioning-join.js';

/** Identities compared per transaction. */
export const ACCESS_CHUNK = 500;
/** Events per INSERT statement. */
const EVENTS_PER_INSERT = 2000;

/** The identities of a scope past `cursor`, in id order (see AccessScope for what each part means). */
const CANDIDATES_SQL = `
WITH RECURSIVE
  cfg AS (SELECT COALESCE((settings->>'nestedGroupsGrant')::boolean, false) AS nested FROM tenants WHERE tenant_id = $1),
  ags(id) AS (
    SELECT unnest($4::uuid[])
    UNION
    SELECT access_group_id FROM access_group_datasets WHERE tenant_id = $1 AND dataset_id = ANY($5::uuid[])
  ),
  seed(group_id) AS (
    SELECT unnest($3::uuid[])
    UNION
    SELECT g.id FROM ags JOIN access_groups a ON a.tenant_id = $1 AND a.id = ags.id
      JOIN scim_groups g ON g.tenant_id = $1 AND g.display_name = a.name
  ),
  sg(group_id) AS (
    SELECT group_id FROM seed
    UNION
    SELECT gm.member_id FROM sg JOIN scim_group_members gm ON gm.tenant_id = $1 AND gm.group_id = sg.group_id
     WHERE gm.member_type = 'Group' AND (SELECT nested FROM cfg)
  ),
  dsx AS (SELECT id, external_id FROM datasets WHERE tenant_id = $1 AND id = ANY($5::uuid[])),
  cand(id) AS (
    SELECT unnest($2::uuid[])
    UNION
    -- per group, the next $8 members in id order straight from the primary key: a chunk reads about
    -- $8 rows of a 100k-member group, not every member past the cursor
    SELECT m.member_id FROM sg CROSS JOIN LATERAL (
      SELECT gm.member_id FROM scim_group_members gm
       WHERE gm.tenant_id = $1 AND gm.group_id = sg.group_id AND gm.member_type <> 'Group'
         AND gm.member_id > COALESCE($7::uuid, '00000000-0000-0000-0000-000000000000'::uuid)
       ORDER BY gm.member_id LIMIT $8) m
    UNION
    SELECT identity_id FROM access_group_members WHERE tenant_id = $1 AND access_group_id IN (SELECT id FROM ags)
    UNION
    SELECT gr.identity_id FROM dsx JOIN identity_grants gr ON gr.tenant_id = $1 AND gr.value_id = dsx.id
    UNION
    SELECT gr.identity_id FROM dsx JOIN identity_grants gr ON gr.tenant_id = $1 AND gr.value = dsx.external_id
    UNION
    SELECT identity_id FROM access_announced WHERE tenant_id = $1 AND dataset_id = ANY($5::uuid[])
    UNION
    (SELECT id FROM scim_users WHERE tenant_id = $1 AND $6::boolean AND ($7::uuid IS NULL OR id > $7::uuid) ORDER BY id LIMIT $8)
    UNION
    SELECT identity_id FROM access_announced WHERE tenant_id = $1 AND $6::boolean AND ($7::uuid IS NULL OR identity_id > $7::uuid)
  )
SELECT id FROM cand WHERE $7::uuid IS NULL OR id > $7::uuid ORDER BY id LIMIT $8`;

interface ChangeRow {
  seq: string | number;
  cause: AccessCause;
  scope: AccessScope;
  cursor: string | null;
}

interface AnnouncedRow {
  identity_id: string;
  dataset_id: string;
  external_id: string | null;
  name: string | null;
  via: AccessRoute[];
}

const sameRoutes = (a: readonly AccessRoute[], b: readonly AccessRoute[]) =>
  a.length === b.length && a.map(routeKey).sort().join('\n') === b.map(routeKey).sort().join('\n');

/**
 * Expands one chunk of the tenant's oldest access change. Returns the number of identities looked
 * at plus the events written (0: nothing to do, or another worker holds the tenant).
 */
export async function expandAccessChunk(db: Database, tenantId: string, chunk = ACCESS_CHUNK): Promise<number> {
  return db.transaction(async (tx) => {
    const lock = await tx.query<{ ok: boolean }>(
      `SELECT pg_try_advisory_xact_lock(hashtext('idpbridge.access'), hashtext($1)) AS ok`,
      [tenantId],
    );
    if (!lock.rows[0]?.ok) return 0;
    const { rows: changes } = await tx.query<ChangeRow>(
      'SELECT seq, cause, scope, cursor FROM access_changes WHERE tenant_id = $1 ORDER BY seq LIMIT 1',
      [tenantId],
    );
    const change = changes[0];
    if (!change) return 0;
    const scope = change.scope;
    const { rows: cand } = await tx.query<{ id: string }>(CANDIDATES_SQL, [
      tenantId, scope.identities ?? [], scope.groups ?? [], scope.accessGroups ?? [], scope.datasets ?? [],
      scope.all === true, change.cursor, chunk,
    ]);
    const ids = cand.map((r) => r.id);
    let events = 0;
    if (ids.length > 0) events = await compareAndAnnounce(tx, tenantId, ids, change.cause);
    // New members may bring an access group's provisioning overrides (provisioning-join.ts).
    if (ids.length > 0 && JOIN_CAUSES.has(change.cause.type)) await applyJoinProvisioning(tx, tenantId, ids);
    if (ids.length < chunk) {
      await tx.query('DELETE FROM access_changes WHERE tenant_id = $1 AND seq = $2', [tenantId, change.seq]);
    } else {
      await tx.query('UPDATE access_changes SET cursor = $3 WHERE tenant_id = $1 AND seq = $2', [tenantId, change.seq, ids[ids.length - 1]]);
    }
    return 1 + ids.length + events;
  });
}

/** Compares now with what was announced for `ids`, writes the events and the new announced state. */
async function compareAndAnnounce(tx: Queryable, tenantId: string, ids: string[], cause: AccessCause): Promise<number> {
  const now = await effectiveDatasetsOf(tx, tenantId, ids);
  const { rows: announced } = await tx.query<AnnouncedRow>(
    'SELECT identity_id, dataset_id, external_id, name, via FROM access_announced WHERE tenant_id = $1 AND identity_id = ANY($2::uuid[])',
    [tenantId, ids],
  );
  const before = new Map<string, Map<string, AnnouncedRow>>();
  for (const r of announced) {
    let m = before.get(r.identity_id);
    if (!m) before.set(r.identity_id, (m = new Map()));
    m.set(r.dataset_id, r);
  }
  const granted: { identityId: string; ds: HeldDataset }[] = [];
  const refreshed: { identityId: string; ds: HeldDataset }[] = [];
  const revoked: AnnouncedRow[] = [];
  for (const id of ids) {
    const held = now.get(id) ?? new Map<string, HeldDataset>();
    const was = before.get(id) ?? new Map<string, AnnouncedRow>();
    for (const ds of held.values()) {
      const old = was.get(ds.id);
      if (!old) granted.push({ identityId: id, ds });
      else if (!sameRoutes(old.via, ds.via) || old.name !== ds.name || old.external_id !== ds.externalId) refreshed.push({ identityId: id, ds });
    }
    for (const old of was.values()) if (!held.has(old.dataset_id)) revoked.push(old);
  }
  if (granted.length === 0 && revoked.length === 0 && refreshed.length === 0) return 0;

  // Identity and dataset details for the payloads. A deleted identity or dataset keeps what the
  // cause or the announced row knew about it.
  const touched = [...new Set([...granted.map((g) => g.identityId), ...revoked.map((r) => r.identity_id)])];
  const { rows: users } = await tx.query<{ id: string; user_name: string; external_id: string | null }>(
    'SELECT id, user_name, external_id FROM scim_users WHERE tenant_id = $1 AND id = ANY($2::uuid[])',
    [tenantId, touched],
  );
  const userById = new Map(users.map((u) => [u.id, u]));
  const causeIdentity = cause.identity as { id?: string; userName?: string; externalId?: string | null } | undefined;
  const identityOf = (id: string) => {
    const u = userById.get(id);
    if (u) return { id, userName: u.user_name, externalId: u.external_id };
    if (causeIdentity?.id === id) return { id, userName: causeIdentity.userName ?? null, externalId: causeIdentity.externalId ?? null };
    return { id, userName: null, externalId: null };
  };
  const revokedIds = [...new Set(revoked.map((r) => r.dataset_id))];
  const { rows: dsRows } = revokedIds.length
    ? await tx.query<{ id: string; external_id: string | null; name: string }>(
      'SELECT id, external_id, name FROM datasets WHERE tenant_id = $1 AND id = ANY($2::uuid[])',
      [tenantId, revokedIds],
    )
    : { rows: [] };
  const dsById = new Map(dsRows.map((d) => [d.id, d]));

  const pending: PendingEvent[] = [];
  for (const g of granted) {
    pending.push({
      type: 'access.granted',
      data: { identity: identityOf(g.identityId), dataset: { id: g.ds.id, externalId: g.ds.externalId, name: g.ds.name }, via: g.ds.via, cause },
    });
  }
  for (const r of revoked) {
    const d = dsById.get(r.dataset_id);
    pending.push({
      type: 'access.revoked',
      data: {
        identity: identityOf(r.identity_id),
        dataset: d ? { id: d.id, externalId: d.external_id, name: d.name } : { id: r.dataset_id, externalId: r.external_id, name: r.name, deleted: true },
        via: r.via,
        cause,
      },
    });
  }
  for (let i = 0; i < pending.length; i += EVENTS_PER_INSERT) await emitEvents(tx, tenantId, pending.slice(i, i + EVENTS_PER_INSERT));

  if (revoked.length > 0) {
    await tx.query(
      `DELETE FROM access_announced WHERE tenant_id = $1
          AND (identity_id, dataset_id) IN (SELECT * FROM unnest($2::uuid[], $3::uuid[]))`,
      [tenantId, revoked.map((r) => r.identity_id), revoked.map((r) => r.dataset_id)],
    );
  }
  const upserts = [...granted, ...refreshed];
  if (upserts.length > 0) {
    await tx.query(
      `INSERT INTO access_announced (tenant_id, identity_id, dataset_id, external_id, name, via)
       SELECT $1, i, d, e, n, v FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::jsonb[]) AS t(i, d, e, n, v)
       ON CONFLICT (tenant_id, identity_id, dataset_id)
       DO UPDATE SET external_id = EXCLUDED.external_id, name = EXCLUDED.name, via = EXCLUDED.via`,
      [
        tenantId,
        upserts.map((u) => u.identityId),
        upserts.map((u) => u.ds.id),
        upserts.map((u) => u.ds.externalId),
        upserts.map((u) => u.ds.name),
        upserts.map((u) => JSON.stringify(u.ds.via)),
      ],
    );
  }
  return pending.length;
}

/**
 * Expands pending access changes, tenant by tenant, for about `budgetMs` (at least one chunk per
 * tenant with work): one tenant's 100k fan-out is spread over several worker passes, so dispatch,
 * deliveries and invitations of every tenant go on in between. Returns the work done (0: nothing pending).
 */
export async function expandAccessChanges(db: Database, chunk = ACCESS_CHUNK, budgetMs = 250): Promise<number> {
  const started = Date.now();
  const { rows } = await db.query<{ tenant_id: string }>(
    'SELECT DISTINCT tenant_id FROM access_changes LIMIT 200',
  );
  let n = 0;
  for (const { tenant_id } of rows) {
    for (;;) {
      const k = await expandAccessChunk(db, tenant_id, chunk);
      n += k;
      if (k === 0 || Date.now() - started >= budgetMs) break;
    }
  }
  return n;
}
