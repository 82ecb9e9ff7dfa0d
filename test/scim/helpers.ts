import type { TestApp } from '../helpers/app.js';

export const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/** A small SCIM client over app.inject for one tenant. */
export function scimClient(t: Pick<TestApp, 'app'>, base: string, token: string) {
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const r = await t.app.inject({
      method: method as 'GET',
      url: `${base}${path}`,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/scim+json' } : {}), ...headers },
      payload: body === undefined ? undefined : JSON.stringify(body),
    });
    let json: any;
    try { json = r.body ? JSON.parse(r.body) : undefined; } catch { json = undefined; }
    return { status: r.statusCode, body: json, headers: r.headers, raw: r.body };
  };
  return {
    call,
    createUser: async (userName: string, extra: Record<string, unknown> = {}) => {
      const r = await call('POST', '/Users', { schemas: [USER], userName, active: true, ...extra });
      if (r.status !== 201) throw new Error(`create user ${userName}: ${r.status} ${r.raw}`);
      return r.body as { id: string; userName: string; meta: { version: string } };
    },
    createGroup: async (displayName: string, members: string[] = []) => {
      const r = await call('POST', '/Groups', { schemas: [GROUP], displayName, members: members.map((value) => ({ value })) });
      if (r.status !== 201) throw new Error(`create group ${displayName}: ${r.status} ${r.raw}`);
      return r.body as { id: string; displayName: string };
    },
    patch: (path: string, ops: unknown[], headers?: Record<string, string>) => call('PATCH', path, { schemas: [PATCH], Operations: ops }, headers),
  };
}

/** Users straight into the table, created in the order given. */
export async function insertUsers(t: TestApp, tenantId: string, names: string[]): Promise<void> {
  await t.db.query(
    `INSERT INTO scim_users (tenant_id, id, user_name, data, created_at)
     SELECT $1::uuid, gen_random_uuid(), u, jsonb_build_object('schemas', jsonb_build_array('${USER}'), 'userName', u),
            timestamptz '2025-01-01' + i * interval '1 microsecond'
       FROM unnest($2::text[]) WITH ORDINALITY AS x(u, i)`,
    [tenantId, names],
  );
}

/** n user names `${prefix}1@example.com` … in order. */
export const range = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}@example.com`);
