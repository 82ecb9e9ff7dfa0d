import { call, type ConnectionOptions } from './http.js';
import type { AdminPaths } from './admin-types.js';

export type { AdminPaths } from './admin-types.js';
export type AdminPath = keyof AdminPaths;
type Ops<P extends AdminPath> = AdminPaths[P];
export type AdminMethod<P extends AdminPath> = keyof Ops<P> & string;
type Op = { path: object; query: object; body: unknown; response: unknown };
type OpOf<P extends AdminPath, M extends AdminMethod<P>> = Ops<P>[M] extends Op ? Ops<P>[M] : never;

/** Request parts of one operation: path parameters when the path has any, the body when it takes one. */
export type AdminRequest<O extends Op> =
  & (keyof O['path'] extends never ? { path?: undefined } : { path: O['path'] })
  & { query?: O['query'] }
  & ([O['body']] extends [never] ? { body?: undefined } : { body: O['body'] });

/** The success response of an operation. */
export type AdminResponse<P extends AdminPath, M extends AdminMethod<P>> = OpOf<P, M>['response'];
/** The request body of an operation. */
export type AdminBody<P extends AdminPath, M extends AdminMethod<P>> = OpOf<P, M>['body'];

type Args<O extends Op> = keyof O['path'] extends never
  ? ([O['body']] extends [never] ? [req?: AdminRequest<O>] : [req: AdminRequest<O>])
  : [req: AdminRequest<O>];

/**
 * The operator admin API (`/admin/v1`, operator bearer token), typed from its OpenAPI document:
 *
 *   const t = await admin.request('post', '/tenants', { body: { name: 'Contoso' } });
 *   await admin.request('post', '/tenants/{tenantId}/datasets', { path: { tenantId: t.id! }, body: { name: 'ledger' } });
 */
export class AdminClient {
  constructor(private readonly conn: ConnectionOptions & { adminToken: string }) {}

  request<P extends AdminPath, M extends AdminMethod<P>>(method: M, path: P, ...args: Args<OpOf<P, M>>): Promise<AdminResponse<P, M>> {
    const req = (args[0] ?? {}) as { path?: Record<string, string>; query?: Record<string, unknown>; body?: unknown };
    const url = (path as string).replace(/\{(\w+)\}/g, (_m, name: string) => {
      const v = req.path?.[name];
      if (v === undefined) throw new TypeError(`path parameter ${name} is required for ${path as string}`);
      return encodeURIComponent(v);
    });
    return call<AdminResponse<P, M>>(this.conn, { method, path: `/admin/v1${url}`, bearer: this.conn.adminToken, query: req.query, body: req.body });
  }

  /**
   * A set-up link for a tenant's IT admin: send or redirect them to `url` (it carries the secret, which
   * this answer alone holds); it opens the console for that tenant only, for 7 days unless told otherwise.
   */
  createSetupLink(tenantId: string, opts: { expiresInDays?: number; expiresAt?: string } = {}): Promise<AdminResponse<'/tenants/{tenantId}/setup-links', 'post'>> {
    return this.request('post', '/tenants/{tenantId}/setup-links', { path: { tenantId }, body: opts });
  }

  /** The live OpenAPI document (what src/admin-types.ts was generated from). */
  openApi(): Promise<unknown> {
    return call(this.conn, { method: 'GET', path: '/admin/v1/openapi.json' });
  }
}
