import assert from 'node:assert/strict';
import type { TestApp } from '../helpers/app.js';

/** Polls until fn gives a value (refusals are recorded just after their answer). */
export async function eventually<T>(fn: () => Promise<T | undefined>, ms = 3000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) assert.fail('not recorded in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** An audit entry as the admin API answers it. */
export interface EntryView {
  id: string; tenantId: string | null; sequence: number; action: string; outcome: string;
  actor: { kind: string; id: string | null; login: string | null }; target: { type: string; id: string | null } | null;
  changes: Record<string, unknown>; clientIp: string | null; userAgent: string | null; requestId: string | null; hash: string; prevHash: string;
}

/** The operator's admin calls on a test app (`t()`: the app of the current database run), and a tenant's audit log. */
export function operatorCalls(t: () => TestApp) {
  const admin = { authorization: `Bearer idpb_admin_test-operator-token-0123456789`, 'user-agent': 'audit-test/1.0' };
  const call = (method: string, url: string, payload?: unknown) =>
    t().app.inject({ method: method as 'GET', url, headers: admin, ...(payload === undefined ? {} : { payload: payload as object }) });
  const log = async (tenantId: string, query = ''): Promise<EntryView[]> => {
    const r = await call('GET', `/admin/v1/tenants/${tenantId}/audit-log${query}`);
    assert.equal(r.statusCode, 200, r.body);
    return r.json().entries;
  };
  return { admin, call, log };
}
