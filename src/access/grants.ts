/** Direct grants: the identity's grants-attribute values, stored raw and resolved at query time. */
import type { Queryable } from '../db/types.js';
import { isUuid } from '../lib/ids.js';

/** Makes identity_grants hold exactly `values` for this identity (two statements). */
export async function syncGrants(tx: Queryable, tenantId: string, identityId: string, values: string[]): Promise<void> {
  await tx.query(
    'DELETE FROM identity_grants WHERE tenant_id = $1 AND identity_id = $2 AND NOT (value = ANY($3::text[]))',
    [tenantId, identityId, values],
  );
  if (values.length === 0) return;
  await tx.query(
    `INSERT INTO identity_grants (tenant_id, identity_id, value, value_id)
     SELECT $1, $2, v, CASE WHEN v ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN v::uuid END
       FROM unnest($3::text[]) AS v
     ON CONFLICT (tenant_id, identity_id, value) DO NOTHING`,
    [tenantId, identityId, values],
  );
}

export interface GrantView {
  value: string;
  /** The dataset the value resolves to now (by id, else externalId), or null: kept, grants once it exists. */
  datasetId: string | null;
  datasetName: string | null;
}

/** An identity's direct grants and what each resolves to at this moment. */
export async function grantsOf(db: Queryable, tenantId: string, identityId: string): Promise<GrantView[]> {
  const { rows } = await db.query<{ value: string; dataset_id: string | null; dataset_name: string | null }>(
    `SELECT gr.value, d.id AS dataset_id, d.name AS dataset_name
       FROM identity_grants gr
       LEFT JOIN LATERAL (
         SELECT d.id, d.name FROM datasets d
          WHERE d.tenant_id = $1 AND ((gr.value_id IS NOT NULL AND d.id = gr.value_id) OR d.external_id = gr.value)
          ORDER BY (d.id = gr.value_id) DESC NULLS LAST LIMIT 1
       ) d ON true
      WHERE gr.tenant_id = $1 AND gr.identity_id = $2
      ORDER BY gr.value`,
    [tenantId, identityId],
  );
  return rows.map((r) => ({ value: r.value, datasetId: r.dataset_id, datasetName: r.dataset_name }));
}

/**
 * Grant values of this identity that match no dataset yet (for the provisioning log: "kept,
 * will grant once a dataset with this id or externalId exists").
 */
export async function unresolvedGrants(db: Queryable, tenantId: string, identityId: string): Promise<string[]> {
  if (!isUuid(tenantId) || !isUuid(identityId)) return [];
  const { rows } = await db.query<{ value: string }>(
    `SELECT gr.value FROM identity_grants gr
      WHERE gr.tenant_id = $1 AND gr.identity_id = $2
        AND NOT EXISTS (SELECT 1 FROM datasets d WHERE d.tenant_id = $1 AND d.id = gr.value_id)
        AND NOT EXISTS (SELECT 1 FROM datasets d WHERE d.tenant_id = $1 AND d.external_id = gr.value)
      ORDER BY gr.value`,
    [tenantId, identityId],
  );
  return rows.map((r) => r.value);
}

/** Identities whose direct grants a dataset (id, externalId) satisfies: who gains access when it is created. */
export async function identitiesGrantedDirectly(
  db: Queryable,
  tenantId: string,
  dataset: { id: string; externalId: string | null },
): Promise<string[]> {
  const { rows } = await db.query<{ identity_id: string }>(
    `SELECT identity_id FROM identity_grants WHERE tenant_id = $1 AND value_id = $2
     UNION
     SELECT identity_id FROM identity_grants WHERE tenant_id = $1 AND value = $3`,
    [tenantId, dataset.id, dataset.externalId],
  );
  return rows.map((r) => r.identity_id);
}
