/** Datasets: the host product's protected resources (id, name, optional externalId). */
import { randomUUID } from 'node:crypto';
import type { Queryable } from '../db/types.js';
import { isUuid } from '../lib/ids.js';
import type { DatasetView } from './access-groups.js';

interface DsRow { id: string; name: string; external_id: string | null; description: string | null; created_at: Date; updated_at: Date }
const COLS = 'id, name, external_id, description, created_at, updated_at';
const toView = (r: DsRow): DatasetView => ({
  id: r.id, name: r.name, externalId: r.external_id, description: r.description, createdAt: r.created_at, updatedAt: r.updated_at,
});

export async function createDataset(
  db: Queryable,
  tenantId: string,
  input: { name: string; externalId?: string | null; description?: string | null },
): Promise<DatasetView> {
  const { rows } = await db.query<DsRow>(
    `INSERT INTO datasets (tenant_id, id, name, external_id, description) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLS}`,
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
): Promise<DatasetView | undefined> {
  if (!isUuid(id)) return undefined;
  const { rows } = await db.query<DsRow>(
    `UPDATE datasets SET name = COALESCE($3, name),
            external_id = CASE WHEN $4::boolean THEN $5 ELSE external_id END,
            description = CASE WHEN $6::boolean THEN $7 ELSE description END,
            updated_at = now()
      WHERE tenant_id = $1 AND id = $2 RETURNING ${COLS}`,
    [tenantId, id, patch.name ?? null, patch.externalId !== undefined, patch.externalId ?? null,
      patch.description !== undefined, patch.description ?? null],
  );
  return rows[0] ? toView(rows[0]) : undefined;
}

export async function deleteDataset(db: Queryable, tenantId: string, id: string): Promise<boolean> {
  if (!isUuid(id)) return false;
  const res = await db.query('DELETE FROM datasets WHERE tenant_id = $1 AND id = $2', [tenantId, id]);
  return res.rowCount > 0;
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
