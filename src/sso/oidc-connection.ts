import type { AppDeps } from '../app-deps.js';
import { clientSecretForTokenEndpoint, normalizeOidcConfig, type OidcConfig } from '../idp-tokens/oidc-config.js';
import { getConnection, oidcConnections, OIDC_CONNECTION_SECRET_PURPOSE, type Connection } from './connections.js';
import { SsoError } from './errors.js';

/** The OIDC client a sign-in goes through: the tenant's OIDC configuration, or a connection's own client. */
export interface OidcSignInClient {
  /** null: the connection standing for the tenant's OIDC configuration (PUT …/oidc). */
  connectionId: string | null;
  cfg: OidcConfig & { clientId: string };
  /** The client secret to send to this token endpoint; null when none is stored (or it is not bound to that endpoint). */
  secretFor(tokenEndpoint: string): Promise<string | null>;
}

const notConfigured = (why: string) => new SsoError('ERR_SSO_NOT_CONFIGURED', why);

/** An OIDC connection's own client as the OidcConfig the OIDC client code reads (generic provider rules). */
function configOf(conn: Connection & { oidc: NonNullable<Connection['oidc']> }): OidcConfig {
  const n = normalizeOidcConfig({
    provider: 'generic', issuer: conn.oidc.issuer, discoveryUrl: conn.oidc.discoveryUrl, audience: conn.oidc.clientId, clientId: conn.oidc.clientId,
    ...(conn.oidc.identityClaims ? { identityClaims: conn.oidc.identityClaims } : {}),
  });
  return { tenantId: conn.tenantId, ...n, clientSecretSet: conn.oidcClientSecret !== null, version: 0, updatedAt: new Date(conn.updatedAt) };
}

/**
 * The client of the OIDC connection `connectionId` (an id given to /sso/{tenant}/login, or the one
 * its state remembers); null: the tenant's OIDC configuration; undefined (a login naming no
 * connection): the tenant's OIDC configuration when it has a client, else its first OIDC connection
 * with one. Throws SsoError when none is set up.
 */
export async function oidcSignInClient(deps: AppDeps, tenantId: string, connectionId: string | null | undefined): Promise<OidcSignInClient> {
  if (connectionId) {
    const conn = await getConnection(deps.db, tenantId, connectionId);
    if (!conn || conn.type !== 'oidc') throw notConfigured('there is no such OIDC connection for this tenant');
    if (conn.oidc) return ownClient({ ...conn, oidc: conn.oidc }, deps);
    // The connection standing for the tenant's configuration, named by id.
  }
  const cfg = await deps.idpTokens.config(tenantId);
  if (cfg?.clientId) {
    if (!cfg.clientSecretSet) throw notConfigured('the OIDC configuration has a client id but no client secret');
    // The tenant's secret is bound to the token endpoint origin it was first sent to (issue 17 item 7).
    return { connectionId: null, cfg: { ...cfg, clientId: cfg.clientId }, secretFor: (te) => clientSecretForTokenEndpoint(deps.db, tenantId, te, deps.secrets) };
  }
  if (connectionId === undefined) {
    const own = (await oidcConnections(deps.db, tenantId)).find((c) => c.oidc && c.oidcClientSecret);
    if (own?.oidc) return ownClient({ ...own, oidc: own.oidc }, deps);
  }
  throw notConfigured('sign-in through the IdP is not set up for this tenant: enter the client id and secret in its OIDC configuration');
}

function ownClient(conn: Connection & { oidc: NonNullable<Connection['oidc']> }, deps: AppDeps): OidcSignInClient {
  if (!conn.oidcClientSecret) throw notConfigured(`the OIDC connection "${conn.name}" has no client secret`);
  const cfg = configOf(conn);
  const stored = conn.oidcClientSecret;
  // A connection's secret is forgotten when its issuer or discovery URL changes (connections-routes.ts).
  return { connectionId: conn.id, cfg: { ...cfg, clientId: conn.oidc.clientId }, secretFor: async () => deps.secrets.decrypt(stored, OIDC_CONNECTION_SECRET_PURPOSE) };
}
