/**
 * Datasets: the host product's protected resources (id, name, optional externalId). A create that
 * resolves pending direct grants, a change of externalId and a delete record their access change
 * (access-changes.ts) in the same statement.
 */
import { randomUUID } from 'node:crypto';
import type { Queryable } from '../db/types.js';
import { isUuid } from '../lib/ids.js';
import type { DatasetView } from './access-groups.js';

interface DsRow { id: string; name: string; external_id: string | null; description: string | null; created_at: Date; updated_at: Date }
const COLS = 'id, name, external_id, description, created_at, updated_at';
/** A dataset's changeable fields (what a PATCH sets). */
export type DatasetFields = Pick<DatasetView, 'name' | 'externalId' | 'description'>;
const toView = (r: DsRow): DatasetView => ({
  id: r.id, name: r.name, externalId: r.external_id, description: r.description, createdAt: r.created_at, updatedAt: r.updated_at,
});

export async function createDataset(
  db: Queryable,
  tenantId: string,
  input: { name: string; externalId?: string | null; description?: string | null },
): Promise<DatasetView> {
  // Pending direct grants (by this id — only possible for a value that was a uuid — or by externalId) resolve now.
  const { rows } = await db.query<DsRow>(
    `WITH r AS (
       INSERT INTO datasets (tenant_id, id, name, external_id, description) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLS}
     ), ch AS (
       INSERT INTO access_changes (tenant_id, cause, scope)
       SELECT $1, jsonb_build_object('type', 'dataset.created', 'dataset', jsonb_build_object('id', r.id, 'externalId', r.external_id, 'name', r.name)),
              jsonb_build_object('datasets', jsonb_build_array(r.id))
         FROM r WHERE EXISTS (SELECT 1 FROM identity_grants g WHERE g.tenant_id = $1 AND g.value_id = r.id)
            OR EXISTS (SELECT 1 FROM identity_grants g WHERE g.tenant_id = $1 AND g.value = r.external_id)
     )
     SELECT ${COLS} FROM r`,
    [tenantId, randomUUID(), input.name, input.externalId ?? null, input.description ?? null],
  );
  return toView(rows[0]!);
}

export async function getDataset(db: Queryable, tenantId: string, id: string): Promise<DatasetView | undefined> {
  if (!isUuid(id)) return undefined;
  const { rows } = await db.query<DsRow>(`SELECT ${COLS} FROM datasets WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
  return rows[0] ? toView(rows[0]) : undefined;
}

export async function listDatasets(
  db: Queryable,
  tenantId: string,
  page: { limit: number; offset: number; name?: string; externalId?: string },
): Promise<{ total: number; items: DatasetView[] }> {
  const params: unknown[] = [tenantId];
  let where = 'tenant_id = $1';
  if (page.name !== undefined) { params.push(page.name); where += ` AND name = $${params.length}`; }
  if (page.externalId !== undefined) { params.push(page.externalId); where += ` AND external_id = $${params.length}`; }
  const { rows } = await db.query<DsRow>(
    `SELECT ${COLS} FROM datasets WHERE ${where} ORDER BY name, id LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
    [...params, page.limit, page.offset],
  );
  const c = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM datasets WHERE ${where}`, params);
  return { total: c.rows[0]!.n, items: rows.map(toView) };
}

export async function updateDataset(
  db: Queryable,
  tenantId: string,
  id: string,
  patch: { name?: string; externalId?: string | null; description?: string | null },
): Promise<(DatasetView & { replaced: DatasetFields }) | undefined> {
  if (!isUuid(id)) return undefined;
  // A new externalId may resolve other identities' direct grants, and unresolve the old one's.
  // `old` locks the row before the UPDATE (which joins it, so it runs first; FOR UPDATE after
  // waiting on a concurrent change reads the newest version): its values are the ones replaced.
  const { rows } = await db.query<DsRow & { old_name: string; old_external_id: string | null; old_description: string | null }>(
    `WITH old AS (SELECT name, external_id, description FROM datasets WHERE tenant_id = $1 AND id = $2 FOR UPDATE),
     r AS (
       UPDATE datasets d SET name = COALESCE($3, d.name),
              external_id = CASE WHEN $4::boolean THEN $5 ELSE d.external_id END,
              description = CASE WHEN $6::boolean THEN $7 ELSE d.description END,
              updated_at = now()
         FROM old
        WHERE d.tenant_id = $1 AND d.id = $2 RETURNING ${COLS.split(', ').map((c) => `d.${c}`).join(', ')}
     ), ch AS (
       INSERT INTO access_changes (tenant_id, cause, scope)
       SELECT $1, jsonb_build_object('type', 'dataset.updated', 'dataset', jsonb_build_object('id', r.id, 'externalId', r.external_id, 'name', r.name)),
              jsonb_build_object('datasets', jsonb_build_array(r.id))
         FROM r WHERE r.external_id IS DISTINCT FROM (SELECT external_id FROM old)
     )
     SELECT r.*, old.name AS old_name, old.external_id AS old_external_id, old.description AS old_description FROM r, old`,
    [tenantId, id, patch.name ?? null, patch.externalId !== undefined, patch.externalId ?? null,
      patch.description !== undefined, patch.description ?? null],
  );
  const r = rows[0];
  return r ? { ...toView(r), replaced: { name: r.old_name, externalId: r.old_external_id, description: r.old_description } } : undefined;
}

export async function deleteDataset(db: Queryable, tenantId: string, id: string): Promise<boolean> {
  if (!isUuid(id)) return false;
  const { rows } = await db.query<{ n: number }>(
    `WITH r AS (DELETE FROM datasets WHERE tenant_id = $1 AND id = $2 RETURNING id, external_id, name), ch AS (
       INSERT INTO access_changes (tenant_id, cause, scope)
       SELECT $1, jsonb_build_object('type', 'dataset.deleted', 'dataset', jsonb_build_object('id', r.id, 'externalId', r.external_id, 'name', r.name)),
              jsonb_build_object('datasets', jsonb_build_array(r.id))
         FROM r WHERE EXISTS (SELECT 1 FROM access_announced a WHERE a.tenant_id = $1 AND a.dataset_id = r.id)
     )
     SELECT count(*)::int AS n FROM r`,
    [tenantId, id],
  );
  return rows[0]!.n > 0;
}

/** Access groups a dataset is assigned to. */
export async function accessGroupsOfDataset(db: Queryable, tenantId: string, datasetId: string): Promise<{ id: string; name: string }[]> {
  const { rows } = await db.query<{ id: string; name: string }>(
    `SELECT a.id, a.name FROM access_group_datasets x JOIN access_groups a ON a.tenant_id = x.tenant_id AND a.id = x.access_group_id
      WHERE x.tenant_id = $1 AND x.dataset_id = $2 ORDER BY a.name, a.id`,
    [tenantId, datasetId],
  );
  return rows;
}
