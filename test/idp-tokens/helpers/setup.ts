import type { TestApp } from '../../helpers/app.js';

const SCIM_JSON = 'application/scim+json';

/** Small helpers over the real SCIM and admin APIs. */
export function apis(t: Pick<TestApp, 'app' | 'adminToken'>) {
  const admin = async (method: string, url: string, payload?: unknown) => {
    const res = await t.app.inject({
      method: method as 'GET', url: `/admin/v1${url}`,
      headers: { authorization: `Bearer ${t.adminToken}` },
      ...(payload !== undefined ? { payload: payload as object } : {}),
    });
    return res;
  };
  const ok = async (method: string, url: string, payload?: unknown) => {
    const res = await admin(method, url, payload);
    if (res.statusCode >= 300) throw new Error(`${method} ${url} → ${res.statusCode} ${res.body}`);
    return res.body ? res.json() : undefined;
  };
  const scim = async (scimToken: string, tenantId: string, method: string, path: string, payload?: unknown) => {
    const res = await t.app.inject({
      method: method as 'GET', url: `/scim/v2/${tenantId}${path}`,
      headers: { authorization: `Bearer ${scimToken}`, 'content-type': SCIM_JSON },
      ...(payload !== undefined ? { payload: JSON.stringify(payload) } : {}),
    });
    if (res.statusCode >= 300) throw new Error(`SCIM ${method} ${path} → ${res.statusCode} ${res.body}`);
    return res.body ? res.json() : undefined;
  };
  const v1 = async (tenantId: string, token: string | undefined, method: 'GET' | 'POST', path: string, payload?: unknown) =>
    t.app.inject({
      method, url: `/v1/${tenantId}${path}`,
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
      ...(payload !== undefined ? { payload: payload as object } : {}),
    });
  const authorize = (tenantId: string, token: string | undefined, dataset: string) => v1(tenantId, token, 'POST', '/authorize', { dataset });
  return { admin, ok, scim, v1, authorize };
}

export interface SeededTenant {
  users: Record<string, string>;
  groups: Record<string, string>;
  datasets: Record<string, { id: string; name: string; externalId: string | null }>;
  accessGroups: Record<string, string>;
}

/**
 * users: { key: { userName, externalId? } }, groups: { displayName: { externalId?, members: [userKey] } },
 * accessGroups: { name: [datasetName] }, datasets: { name: externalId|null }.
 */
export async function seedTenant(
  api: ReturnType<typeof apis>,
  tenantId: string,
  scimToken: string,
  spec: {
    users: Record<string, { userName: string; externalId?: string; active?: boolean }>;
    groups?: Record<string, { externalId?: string; members: string[] }>;
    datasets?: Record<string, string | null>;
    accessGroups?: Record<string, string[]>;
  },
): Promise<SeededTenant> {
  const out: SeededTenant = { users: {}, groups: {}, datasets: {}, accessGroups: {} };
  for (const [key, u] of Object.entries(spec.users)) {
    const created = await api.scim(scimToken, tenantId, 'POST', '/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: u.userName, ...(u.externalId ? { externalId: u.externalId } : {}),
      name: { givenName: key, familyName: 'Test' }, active: u.active ?? true,
      emails: [{ value: u.userName, type: 'work', primary: true }],
    });
    out.users[key] = created.id;
  }
  for (const [name, g] of Object.entries(spec.groups ?? {})) {
    const created = await api.scim(scimToken, tenantId, 'POST', '/Groups', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
      displayName: name, ...(g.externalId ? { externalId: g.externalId } : {}),
      members: g.members.map((m) => ({ value: out.users[m] })),
    });
    out.groups[name] = created.id;
  }
  for (const [name, externalId] of Object.entries(spec.datasets ?? {})) {
    out.datasets[name] = await api.ok('POST', `/tenants/${tenantId}/datasets`, { name, ...(externalId ? { externalId } : {}) });
  }
  for (const [name, ds] of Object.entries(spec.accessGroups ?? {})) {
    const ag = await api.ok('POST', `/tenants/${tenantId}/access-groups`, { name });
    out.accessGroups[name] = ag.id;
    for (const d of ds) await api.ok('POST', `/tenants/${tenantId}/access-groups/${ag.id}/datasets`, { datasetId: out.datasets[d]!.id });
  }
  return out;
}
