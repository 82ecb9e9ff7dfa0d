/**
 * Identities in the admin API. scim_users is the identity table: `manual` identities are created
 * and edited here; `scim` (provisioned) identities are owned by the IdP and read-only here except
 * for the fields the product owns (status staged → active; API keys and manual access-group
 * memberships have their own routes).
 */
import { randomUUID } from 'node:crypto';
import type { Database, Queryable } from '../db/types.js';
import { tenantSchemas } from '../tenants/settings.js';
import { normalizeResource, METADATA_SCHEMA, USER_SCHEMA } from '../scim/schema/index.js';
import { insertUser, selectUser, updateUser, deleteUser as deleteUserRows, type UserRow, type UserWrite } from '../directory/users-store.js';
import { isUuid } from '../lib/ids.js';
import type { TenantSettings } from '../tenants/settings.js';
import { checkRoles, checkUserType, grantValuesOf, metadataOf, primaryEmailOf, rolesOf, userTypeOf } from './identity-data.js';
import { checkUniquePrimaryEmail } from './unique-email.js';
import { grantsOf, syncGrants, type GrantView } from './grants.js';
import { effectiveAccess, toIdentitySummary, type EffectiveAccess, type IdentitySource, type IdentityStatus } from './effective.js';
import { loadSettings } from './observer.js';
import { recordAccessChange } from './access-changes.js';
import { renameAutoKeys } from './api-keys.js';

/** The codes of the non-SCIM error family (src/http/errors.ts) an identity refusal carries, with their statuses. */
export const IDENTITY_ERROR_STATUS = { ERR_NOT_FOUND: 404, ERR_CONFLICT: 409, ERR_READ_ONLY_IDENTITY: 409 } as const;

/**
 * A refusal of the admin API's identity operations, answered by the one error handler
 * (src/http/error-handler.ts) with its catalogued code: this floor sits below src/http, so the error
 * carries the code and its status itself instead of extending ApiError
 * (test/foundation/error-catalogue.test.ts holds the pairs to API_ERROR_CODES).
 */
export class IdentityError extends Error {
  readonly statusCode: number;

  constructor(readonly code: keyof typeof IDENTITY_ERROR_STATUS, message: string) {
    super(message);
    this.name = 'IdentityError';
    this.statusCode = IDENTITY_ERROR_STATUS[code];
  }
}

const identityNotFound = () => new IdentityError('ERR_NOT_FOUND', 'identity not found');

export interface IdentityInput {
  userName?: string;
  displayName?: string | null;
  externalId?: string | null;
  name?: { givenName?: string; familyName?: string; formatted?: string } | null;
  emails?: { value: string; type?: string; primary?: boolean }[] | null;
  status?: IdentityStatus;
  userType?: string | null;
  roles?: string[] | null;
  metadata?: Record<string, string> | null;
  grants?: string[] | null;
}

/** Fields of a provisioned identity the product owns (everything else comes from the IdP). */
export const PRODUCT_OWNED_FIELDS = ['status'] as const;

export interface IdentityView {
  id: string;
  userName: string;
  externalId: string | null;
  displayName: string | null;
  source: IdentitySource;
  status: IdentityStatus;
  active: boolean;
  /** Provisioned identities are read-only in the admin API except product-owned fields. */
  readOnly: boolean;
  name: Record<string, unknown> | null;
  emails: unknown[];
  userType: string | null;
  roles: string[];
  metadata: Record<string, string>;
  createdAt: Date;
  updatedAt: Date;
}

export interface IdentityDetail extends IdentityView {
  grants: GrantView[];
  groups: EffectiveAccess['groups'];
  accessGroups: EffectiveAccess['accessGroups'];
  datasets: EffectiveAccess['datasets'];
}

export function toIdentityView(r: UserRow): IdentityView {
  const d = r.data;
  return {
    ...toIdentitySummary(r),
    readOnly: r.source !== 'manual',
    name: typeof d.name === 'object' && d.name !== null ? (d.name as Record<string, unknown>) : null,
    emails: Array.isArray(d.emails) ? d.emails : [],
    userType: userTypeOf(d) ?? null,
    roles: rolesOf(d),
    metadata: metadataOf(d),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** Where the tenant's grants attribute lives in a SCIM resource. */
function setGrants(body: Record<string, unknown>, grantsAttribute: string, values: string[] | null): void {
  const i = grantsAttribute.lastIndexOf(':');
  const urn = grantsAttribute.slice(0, i);
  const attr = grantsAttribute.slice(i + 1);
  if (urn.toLowerCase() === USER_SCHEMA.toLowerCase()) {
    if (values && values.length) body[attr] = values;
    else delete body[attr];
    return;
  }
  const key = Object.keys(body).find((k) => k.toLowerCase() === urn.toLowerCase()) ?? urn;
  const ext = { ...((body[key] as Record<string, unknown> | undefined) ?? {}) };
  for (const k of Object.keys(ext)) if (k.toLowerCase() === attr.toLowerCase()) delete ext[k];
  if (values && values.length) ext[attr] = values;
  if (Object.keys(ext).length) body[key] = ext;
  else delete body[key];
}

/** Applies admin input onto a SCIM User body (a copy of the stored data, or empty). */
function applyInput(base: Record<string, unknown>, input: IdentityInput, settings: TenantSettings): Record<string, unknown> {
  const body: Record<string, unknown> = { ...base };
  const set = (k: string, v: unknown) => {
    if (v === null) delete body[k];
    else if (v !== undefined) body[k] = v;
  };
  set('userName', input.userName);
  set('displayName', input.displayName);
  set('externalId', input.externalId);
  set('name', input.name);
  set('emails', input.emails === null ? null : input.emails?.length === 0 ? null : input.emails);
  set('userType', input.userType);
  if (input.roles !== undefined) set('roles', input.roles === null || input.roles.length === 0 ? null : input.roles.map((value) => ({ value })));
  if (input.metadata !== undefined) {
    const key = Object.keys(body).find((k) => k.toLowerCase() === METADATA_SCHEMA.toLowerCase()) ?? METADATA_SCHEMA;
    set(key, input.metadata === null || Object.keys(input.metadata).length === 0 ? null : input.metadata);
  }
  if (input.grants !== undefined) setGrants(body, settings.grantsAttribute, input.grants);
  if (input.status !== undefined) body.active = input.status !== 'suspended';
  delete body.schemas;
  return body;
}

function writeOf(data: Record<string, unknown>, status: string): UserWrite {
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  return {
    userName: data.userName as string,
    externalId: str(data.externalId),
    displayName: str(data.displayName),
    active: status !== 'suspended',
    data,
    passwordHash: undefined,
    status,
  };
}

const userNameTaken = (userName: string) =>
  new IdentityError('ERR_CONFLICT', `userName "${userName}" is already in use in this tenant (userName is unique, case-insensitively)`);

export async function createManualIdentity(db: Database, tenantId: string, input: IdentityInput & { userName: string }): Promise<IdentityDetail> {
  const id = await db.transaction(async (tx) => {
    const settings = await loadSettings(tx, tenantId);
    const body = applyInput({ active: true }, input, settings);
    const data = normalizeResource(tenantSchemas(settings).users, body, 'create');
    checkUserType(settings, data);
    checkRoles(settings, data);
    const grants = grantValuesOf(data, settings.grantsAttribute);
    const status = input.status ?? 'active';
    const row = await insertUser(tx, tenantId, randomUUID(), writeOf(data, status), 'manual');
    if (!row) throw userNameTaken(input.userName);
    await checkUniquePrimaryEmail(tx, tenantId, settings, row.id, data);
    await syncGrants(tx, tenantId, row.id, grants);
    if (grants.length > 0) {
      await recordAccessChange(tx, tenantId, { type: 'identity.created', identity: { id: row.id, userName: row.user_name, externalId: row.external_id } }, { identities: [row.id] });
    }
    return row.id;
  });
  return (await getIdentityDetail(db, tenantId, id))!;
}

export async function getIdentityDetail(db: Queryable, tenantId: string, id: string): Promise<IdentityDetail | undefined> {
  if (!isUuid(id)) return undefined;
  const row = await selectUser(db, tenantId, id);
  if (!row) return undefined;
  const [grants, access] = [await grantsOf(db, tenantId, id), await effectiveAccess(db, tenantId, id)];
  return {
    ...toIdentityView(row),
    grants,
    groups: access?.groups ?? [],
    accessGroups: access?.accessGroups ?? [],
    datasets: access?.datasets ?? [],
  };
}

export async function listIdentities(
  db: Queryable,
  tenantId: string,
  q: { limit: number; offset: number; source?: string; status?: string; userName?: string },
): Promise<{ total: number; items: IdentityView[] }> {
  const params: unknown[] = [tenantId];
  let where = 'tenant_id = $1';
  if (q.source) { params.push(q.source); where += ` AND source = $${params.length}`; }
  if (q.status) { params.push(q.status); where += ` AND status = $${params.length}`; }
  if (q.userName) { params.push(q.userName); where += ` AND lower(user_name) = lower($${params.length})`; }
  const { rows } = await db.query<UserRow>(
    `SELECT id, user_name, external_id, display_name, active, data, source, status, version, created_at, updated_at
       FROM scim_users WHERE ${where} ORDER BY created_at, id LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
    [...params, q.limit, q.offset],
  );
  const c = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM scim_users WHERE ${where}`, params);
  return { total: c.rows[0]!.n, items: rows.map(toIdentityView) };
}

function readOnlyMessage(id: string, fields: string[]): string {
  return `Identity ${id} is provisioned by the identity provider (SCIM) and is read-only here: ${fields.join(', ')} `
    + `must be changed in the IdP. Only product-owned fields can be changed through this API: `
    + `status (staged → active); API keys and manual access-group memberships have their own routes.`;
}

/**
 * Manual identities: any field. Provisioned identities: product-owned fields only
 * (status: staged → active), anything else is refused with IdentityError('ERR_READ_ONLY_IDENTITY').
 */
export async function updateIdentity(
  db: Database, tenantId: string, id: string, input: IdentityInput,
): Promise<IdentityDetail & { replaced: Partial<IdentityDetail> }> {
  if (!isUuid(id)) throw identityNotFound();
  let replaced: Partial<IdentityDetail> = {};
  await db.transaction(async (tx) => {
    const before = await selectUser(tx, tenantId, id, true);
    if (!before) throw identityNotFound();
    // Read under the row's lock: the values this write replaces (grants only when it sets them).
    replaced = { ...toIdentityView(before), ...(input.grants !== undefined ? { grants: await grantsOf(tx, tenantId, id) } : {}) };
    if (before.source !== 'manual') {
      const given = Object.entries(input).filter(([, v]) => v !== undefined).map(([k]) => k);
      const idpOwned = given.filter((k) => !(PRODUCT_OWNED_FIELDS as readonly string[]).includes(k));
      if (idpOwned.length) throw new IdentityError('ERR_READ_ONLY_IDENTITY', readOnlyMessage(id, idpOwned));
      if (input.status !== undefined && input.status !== before.status) {
        if (input.status === 'active' && before.status === 'staged') {
          await tx.query(`UPDATE scim_users SET status = 'active', updated_at = now() WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
        } else {
          throw new IdentityError('ERR_READ_ONLY_IDENTITY', `Identity ${id} is provisioned by the identity provider (SCIM): its status `
            + `"${before.status}" follows the user's active flag in the IdP; the only status change allowed here is staged → active.`);
        }
      }
      return;
    }
    const settings = await loadSettings(tx, tenantId);
    const body = applyInput(before.data, input, settings);
    const data = normalizeResource(tenantSchemas(settings).users, body, 'replace');
    if (userTypeOf(data) !== userTypeOf(before.data)) checkUserType(settings, data);
    if (rolesOf(data).join('\n') !== rolesOf(before.data).join('\n')) checkRoles(settings, data);
    const status = input.status ?? before.status;
    if (data.userName !== before.user_name) {
      const { rows } = await tx.query('SELECT 1 FROM scim_users WHERE tenant_id = $1 AND lower(user_name) = lower($2) AND id <> $3', [tenantId, data.userName, id]);
      if (rows.length) throw userNameTaken(String(data.userName));
    }
    const after = await updateUser(tx, tenantId, id, writeOf(data, status));
    if (primaryEmailOf(data) !== primaryEmailOf(before.data)) await checkUniquePrimaryEmail(tx, tenantId, settings, id, data);
    await syncGrants(tx, tenantId, id, grantValuesOf(data, settings.grantsAttribute));
    if (after.user_name !== before.user_name) await renameAutoKeys(tx, tenantId, id, after.user_name);
    // Grants or suspension may have changed: the worker compares and announces only real changes.
    await recordAccessChange(tx, tenantId, { type: 'identity.updated', identity: { id, userName: after.user_name, externalId: after.external_id } }, { identities: [id] });
  });
  return { ...(await getIdentityDetail(db, tenantId, id))!, replaced };
}

/** Deletes a manual identity (with its memberships, grants and API keys). */
export async function deleteManualIdentity(db: Database, tenantId: string, id: string): Promise<void> {
  if (!isUuid(id)) throw identityNotFound();
  await db.transaction(async (tx) => {
    const before = await selectUser(tx, tenantId, id, true);
    if (!before) throw identityNotFound();
    if (before.source !== 'manual') {
      throw new IdentityError('ERR_READ_ONLY_IDENTITY', `Identity ${id} is provisioned by the identity provider (SCIM): delete or unassign the user in the IdP.`);
    }
    await deleteUserRows(tx, tenantId, id);
    await recordAccessChange(tx, tenantId, { type: 'identity.deleted', identity: { id, userName: before.user_name, externalId: before.external_id } }, { identities: [id] });
  });
}

export async function identityExists(db: Queryable, tenantId: string, id: string): Promise<boolean> {
  if (!isUuid(id)) return false;
  const { rows } = await db.query('SELECT 1 FROM scim_users WHERE tenant_id = $1 AND id = $2', [tenantId, id]);
  return rows.length > 0;
}
