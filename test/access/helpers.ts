/** Helpers for the access-model suites: real SCIM requests, admin requests, access queries. */
import assert from 'node:assert/strict';
import type { TestApp } from '../helpers/app.js';
import { effectiveAccess, type EffectiveAccess } from '../../src/access/index.js';

export const CORE = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const FOLDERS = 'urn:ietf:params:scim:schemas:extension:2.0:CustomExtensionName:folders';
export const METADATA = 'urn:ietf:params:scim:schemas:extension:2.0:Metadata';

export interface Tenant {
  t: TestApp;
  tenantId: string;
  scimToken: string;
  scimBase: string;
}

export async function freshTenant(t: TestApp, settings?: Record<string, unknown>): Promise<Tenant> {
  const n = await t.newTenant('access test');
  const tn = { t, ...n };
  if (settings) await admin(tn, 'PUT', '/settings', settings, 200);
  return tn;
}

interface Res { status: number; body: any }

export async function scim(tn: Tenant, method: string, path: string, payload?: unknown, expect?: number): Promise<Res> {
  const r = await tn.t.app.inject({
    method: method as 'GET',
    url: `${tn.scimBase}${path}`,
    headers: { authorization: `Bearer ${tn.scimToken}`, 'content-type': 'application/scim+json', accept: 'application/scim+json' },
    ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }),
  });
  const out = { status: r.statusCode, body: r.body ? JSON.parse(r.body) : undefined };
  if (expect !== undefined) assert.equal(r.statusCode, expect, `${method} ${path}: ${r.body}`);
  return out;
}

/** Admin request under /admin/v1/tenants/{tenantId}{path}. */
export async function admin(tn: Tenant, method: string, path: string, payload?: unknown, expect?: number, tenantId = tn.tenantId): Promise<Res> {
  const r = await tn.t.app.inject({
    method: method as 'GET',
    url: `/admin/v1/tenants/${tenantId}${path}`,
    headers: { authorization: `Bearer ${tn.t.adminToken}`, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }),
  });
  const out = { status: r.statusCode, body: r.body ? JSON.parse(r.body) : undefined };
  if (expect !== undefined) assert.equal(r.statusCode, expect, `${method} ${path}: ${r.body}`);
  return out;
}

export async function access(tn: Tenant, identityId: string): Promise<EffectiveAccess | undefined> {
  return effectiveAccess(tn.t.db, tn.tenantId, identityId);
}

/** Dataset names the identity may use now, sorted. */
export async function datasetNames(tn: Tenant, identityId: string): Promise<string[]> {
  return ((await access(tn, identityId))?.datasets ?? []).map((d) => d.name).sort();
}

export async function accessGroupNames(tn: Tenant, identityId: string): Promise<string[]> {
  return ((await access(tn, identityId))?.accessGroups ?? []).map((d) => d.name).sort();
}

export async function createDataset(tn: Tenant, name: string, externalId?: string): Promise<string> {
  return (await admin(tn, 'POST', '/datasets', { name, ...(externalId ? { externalId } : {}) }, 201)).body.id;
}

export async function createAccessGroup(tn: Tenant, name: string, datasetIds: string[] = []): Promise<string> {
  const id = (await admin(tn, 'POST', '/access-groups', { name }, 201)).body.id as string;
  for (const d of datasetIds) await admin(tn, 'POST', `/access-groups/${id}/datasets`, { datasetId: d }, 201);
  return id;
}

/** Entra's user create body (Microsoft's documented shape). */
export function entraUser(userName: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schemas: [CORE, ENTERPRISE],
    externalId: userName.split('@')[0],
    userName,
    active: true,
    displayName: `User ${userName}`,
    emails: [{ primary: true, type: 'work', value: userName }],
    meta: { resourceType: 'User' },
    name: { formatted: 'Given Family', familyName: 'Family', givenName: 'Given' },
    roles: [],
    ...extra,
  };
}

/** Entra: probe by userName, then create. Returns the id. */
export async function entraProvisionUser(tn: Tenant, userName: string, extra: Record<string, unknown> = {}): Promise<string> {
  const probe = await scim(tn, 'GET', `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`, undefined, 200);
  assert.equal(probe.body.totalResults, 0);
  return (await scim(tn, 'POST', '/Users', entraUser(userName, extra), 201)).body.id;
}

export async function entraCreateGroup(tn: Tenant, displayName: string): Promise<string> {
  return (await scim(tn, 'POST', '/Groups', { schemas: [GROUP], externalId: `ext-${displayName}`, displayName, members: [] }, 201)).body.id;
}

export async function patchGroup(tn: Tenant, groupId: string, ops: unknown[]): Promise<void> {
  const r = await scim(tn, 'PATCH', `/Groups/${groupId}`, { schemas: [PATCH_OP], Operations: ops });
  assert.ok(r.status === 200 || r.status === 204, `PATCH group: ${r.status} ${JSON.stringify(r.body)}`);
}

/** PATCH a user; `expect` undefined = success (200 or 204). */
export async function patchUser(tn: Tenant, userId: string, ops: unknown[], expect?: number): Promise<Res> {
  const r = await scim(tn, 'PATCH', `/Users/${userId}`, { schemas: [PATCH_OP], Operations: ops }, expect);
  if (expect === undefined) assert.ok(r.status === 200 || r.status === 204, `PATCH user: ${r.status} ${JSON.stringify(r.body)}`);
  return r;
}
