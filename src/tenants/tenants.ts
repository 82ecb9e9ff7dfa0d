import { randomUUID } from 'node:crypto';
import { isUuid } from '../lib/ids.js';
import type { Queryable } from '../db/types.js';
import { withDefaults, type TenantSettings } from './settings.js';

export interface Tenant {
  id: string;
  name: string;
  settings: TenantSettings;
  createdAt: Date;
}

interface TenantRow {
  tenant_id: string;
  name: string;
  settings: Partial<TenantSettings>;
  created_at: Date;
}

const toTenant = (r: TenantRow): Tenant => ({
  id: r.tenant_id,
  name: r.name,
  settings: withDefaults(r.settings),
  createdAt: r.created_at,
});


export async function createTenant(db: Queryable, name: string): Promise<Tenant> {
  const { rows } = await db.query<TenantRow>(
    'INSERT INTO tenants (tenant_id, name) VALUES ($1, $2) RETURNING tenant_id, name, settings, created_at',
    [randomUUID(), name],
  );
  return toTenant(rows[0]!);
}

export async function getTenant(db: Queryable, id: string): Promise<Tenant | undefined> {
  return selectTenant(db, id, '');
}

/**
 * The tenant, its row locked until the transaction ends (NO KEY: foreign-key checks of rows that
 * reference it are not blocked). Writes of a tenant's singletons (settings, OIDC configuration,
 * SCIM Basic credential) take it first, so that what they read (to validate, or as the values
 * they replace) is what they change, also when the singleton's own row does not exist yet.
 */
export async function lockTenant(db: Queryable, id: string): Promise<Tenant | undefined> {
  return selectTenant(db, id, ' FOR NO KEY UPDATE');
}

async function selectTenant(db: Queryable, id: string, lock: '' | ' FOR NO KEY UPDATE'): Promise<Tenant | undefined> {
  if (!isUuid(id)) return undefined;
  const { rows } = await db.query<TenantRow>(`SELECT tenant_id, name, settings, created_at FROM tenants WHERE tenant_id = $1${lock}`, [id]);
  return rows[0] ? toTenant(rows[0]) : undefined;
}

export async function listTenants(db: Queryable): Promise<Tenant[]> {
  const { rows } = await db.query<TenantRow>(
    'SELECT tenant_id, name, settings, created_at FROM tenants ORDER BY created_at, tenant_id',
  );
  return rows.map(toTenant);
}

export async function deleteTenant(db: Queryable, id: string): Promise<boolean> {
  if (!isUuid(id)) return false;
  const res = await db.query('DELETE FROM tenants WHERE tenant_id = $1', [id]);
  return res.rowCount > 0;
}

export async function updateTenantSettings(
  db: Queryable,
  id: string,
  patch: Partial<TenantSettings>,
): Promise<{ settings: TenantSettings; replaced: TenantSettings } | undefined> {
  if (!isUuid(id)) return undefined;
  // `old` locks the row before the UPDATE (which joins it, so it runs first; a row lock taken after
  // waiting on a concurrent change reads the newest version; NO KEY, as the UPDATE itself, leaves
  // foreign-key checks of other rows unblocked): its settings are the ones replaced.
  const { rows } = await db.query<{ settings: Partial<TenantSettings>; old_settings: Partial<TenantSettings> }>(
    `WITH old AS (SELECT settings FROM tenants WHERE tenant_id = $1 FOR NO KEY UPDATE)
     UPDATE tenants t SET settings = t.settings || $2::jsonb, updated_at = now()
       FROM old
      WHERE t.tenant_id = $1 RETURNING t.settings, old.settings AS old_settings`,
    [id, JSON.stringify(patch)],
  );
  const r = rows[0];
  return r ? { settings: withDefaults(r.settings), replaced: withDefaults(r.old_settings) } : undefined;
}
