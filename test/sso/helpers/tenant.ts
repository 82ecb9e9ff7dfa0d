/**
 * The sign-in broker's usual test set-up: a listening app whose first tenant signs in through a
 * fresh test OpenID provider (Okta-style connection with the web client's secret; the broker's
 * callback registered at the provider). Callers close `t` and `op`.
 */
import { startTestApp, type TestApp } from '../../helpers/app.js';
import { apis } from '../../idp-tokens/helpers/setup.js';
import { startSsoTestOp, WEB_CLIENT_ID, WEB_CLIENT_SECRET, type SsoTestOp } from './op.js';

export interface SsoTenant {
  t: TestApp;
  op: SsoTestOp;
  api: ReturnType<typeof apis>;
  /** The app's origin, http://127.0.0.1:port. */
  base: string;
}

export async function startSsoTenant(kind: Parameters<typeof startTestApp>[0]): Promise<SsoTenant> {
  const t = await startTestApp(kind, { accessCacheTtlMs: 0, oidcJwksCooldownMs: 0 });
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
  const api = apis(t);
  const op = await startSsoTestOp();
  op.allowRedirect(`${base}/sso/${t.tenantId}/callback`);
  await api.ok('PUT', `/tenants/${t.tenantId}/oidc`, {
    provider: 'okta', issuer: op.issuer, discoveryUrl: op.discoveryUrl, audience: op.audience,
    clientId: WEB_CLIENT_ID, clientSecret: WEB_CLIENT_SECRET, clockToleranceSeconds: 5,
  });
  return { t, op, api, base };
}
