import { randomBytes } from 'node:crypto';
import { Resolver } from 'node:dns/promises';
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../app-deps.js';
import type { Queryable } from '../db/types.js';
import { isUuid } from '../lib/ids.js';
import { listConnections, type Connection } from './connections.js';
import { SsoError } from './errors.js';
import { failPage, requireRedirect } from './route-kit.js';

/**
 * Sign-in routed by e-mail domain. A tenant claims a domain and proves it with a DNS TXT record
 * (`_idpbridge-challenge.<domain>` = `idpbridge-domain-verification=<token>`); `GET /sso/login?email=…`
 * (or `?domain=`) then finds the tenant that holds the verified domain and the connection serving
 * it, and sends the browser to that connection's sign-in. No two tenants can hold the same
 * verified domain (a unique index); unverified claims route nowhere.
 */

export interface DomainView {
  domain: string;
  verified: boolean;
  verifiedAt: string | null;
  txtRecordName: string;
  txtRecordValue: string;
  createdAt: string;
}

interface Row { domain: string; verification_token: string; verified_at: Date | null; created_at: Date }

const view = (r: Row): DomainView => ({
  domain: r.domain,
  verified: r.verified_at !== null,
  verifiedAt: r.verified_at ? new Date(r.verified_at).toISOString() : null,
  txtRecordName: `_idpbridge-challenge.${r.domain}`,
  txtRecordValue: `idpbridge-domain-verification=${r.verification_token}`,
  createdAt: new Date(r.created_at).toISOString(),
});

export async function listDomains(db: Queryable, tenantId: string): Promise<DomainView[]> {
  const { rows } = await db.query<Row>('SELECT domain, verification_token, verified_at, created_at FROM sso_domains WHERE tenant_id = $1 ORDER BY domain', [tenantId]);
  return rows.map(view);
}

export async function getDomain(db: Queryable, tenantId: string, domain: string): Promise<DomainView | undefined> {
  const { rows } = await db.query<Row>('SELECT domain, verification_token, verified_at, created_at FROM sso_domains WHERE tenant_id = $1 AND domain = $2', [tenantId, domain]);
  return rows[0] ? view(rows[0]) : undefined;
}

/** Claims a domain for the tenant (idempotent): its TXT record to publish. */
export async function claimDomain(db: Queryable, tenantId: string, domain: string): Promise<{ created: boolean; domain: DomainView }> {
  const { rows } = await db.query<Row>(
    `INSERT INTO sso_domains (tenant_id, domain, verification_token) VALUES ($1, $2, $3)
     ON CONFLICT (tenant_id, domain) DO NOTHING RETURNING domain, verification_token, verified_at, created_at`,
    [tenantId, domain, randomBytes(18).toString('base64url')]);
  if (rows[0]) return { created: true, domain: view(rows[0]) };
  return { created: false, domain: (await getDomain(db, tenantId, domain))! };
}

export async function deleteDomain(db: Queryable, tenantId: string, domain: string): Promise<boolean> {
  return (await db.query('DELETE FROM sso_domains WHERE tenant_id = $1 AND domain = $2', [tenantId, domain])).rowCount > 0;
}

export type VerifyResult = 'verified' | 'record_not_found' | 'held_by_another_tenant';

/** Looks the TXT record up (through `resolvers`, or the system's) and marks the domain verified when it is there. */
export async function verifyDomain(db: Queryable, resolvers: string[], tenantId: string, domain: string): Promise<VerifyResult | undefined> {
  const { rows } = await db.query<Row>('SELECT domain, verification_token, verified_at, created_at FROM sso_domains WHERE tenant_id = $1 AND domain = $2', [tenantId, domain]);
  const row = rows[0];
  if (!row) return undefined;
  const resolver = new Resolver({ timeout: 3000, tries: 2 });
  if (resolvers.length > 0) resolver.setServers(resolvers);
  let records: string[][] = [];
  try {
    records = await resolver.resolveTxt(`_idpbridge-challenge.${domain}`);
  } catch {
    records = [];
  }
  const expected = `idpbridge-domain-verification=${row.verification_token}`;
  if (!records.some((parts) => parts.join('') === expected)) return 'record_not_found';
  try {
    const res = await db.query(
      `UPDATE sso_domains SET verified_at = COALESCE(verified_at, now()) WHERE tenant_id = $1 AND domain = $2
         AND NOT EXISTS (SELECT 1 FROM sso_domains o WHERE o.domain = $2 AND o.tenant_id <> $1 AND o.verified_at IS NOT NULL)`,
      [tenantId, domain]);
    return res.rowCount > 0 ? 'verified' : 'held_by_another_tenant';
  } catch (err) {
    // Two tenants verifying at the same moment: the unique index lets one win.
    if ((err as { code?: string }).code === '23505') return 'held_by_another_tenant';
    throw err;
  }
}

/** The tenant holding the verified domain and the connection serving it. */
export async function routeDomain(db: Queryable, domain: string): Promise<{ tenantId: string; connection: Connection } | undefined> {
  const { rows } = await db.query<{ tenant_id: string }>('SELECT tenant_id FROM sso_domains WHERE domain = $1 AND verified_at IS NOT NULL', [domain]);
  const tenantId = rows[0]?.tenant_id;
  if (!tenantId) return undefined;
  const connections = await listConnections(db, tenantId);
  // The connection naming the domain; a tenant with a single connection needs none named.
  const connection = connections.find((c) => c.domains.includes(domain)) ?? (connections.length === 1 ? connections[0] : undefined);
  return connection ? { tenantId, connection } : undefined;
}

/** Lower-cased domain of an e-mail address or domain parameter; undefined when it is not one. */
export function domainOf(emailOrDomain: string): string | undefined {
  const at = emailOrDomain.lastIndexOf('@');
  const d = (at >= 0 ? emailOrDomain.slice(at + 1) : emailOrDomain).trim().toLowerCase().replace(/\.$/, '');
  return /^([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(d) && d.length <= 253 ? d : undefined;
}

type RouteQuery = { email?: string; domain?: string; redirect_uri?: string; state?: string };

/** `GET /sso/login?email=…|domain=…&redirect_uri=…&state=…`: one sign-in button for every tenant. */
export function domainRoutingRoute(app: FastifyInstance, deps: AppDeps): void {
  const { db } = deps;
  app.get<{ Querystring: RouteQuery }>('/sso/login', {
    schema: {
      summary: 'Start sign-in by e-mail address or domain: the tenant holding the verified domain, through the connection serving it',
      querystring: {
        type: 'object',
        properties: {
          email: { type: 'string', maxLength: 320 },
          domain: { type: 'string', maxLength: 253 },
          redirect_uri: { type: 'string', maxLength: 2000 },
          state: { type: 'string', maxLength: 1000 },
        },
      },
    },
  }, async (req, reply) => {
    const q = req.query;
    try {
      const raw = q.email ?? q.domain;
      if (!raw) throw new SsoError('ERR_INVALID_REQUEST', 'email or domain is required');
      const domain = domainOf(raw);
      if (!domain) throw new SsoError('ERR_INVALID_REQUEST', `"${raw}" has no valid e-mail domain`);
      const route = await routeDomain(db, domain);
      if (!route || !isUuid(route.tenantId)) throw new SsoError('ERR_SSO_NOT_CONFIGURED', `sign-in is not set up for ${domain} (no tenant has verified this domain, or no connection serves it)`);
      // The host product's redirect URI must be registered for the tenant the domain leads to.
      await requireRedirect(db, route.tenantId, q.redirect_uri);
      const next = new URLSearchParams({ redirect_uri: q.redirect_uri! });
      if (q.state !== undefined) next.set('state', q.state);
      const c = route.connection;
      if (c.type === 'oidc' && q.email) next.set('login_hint', q.email);
      // An OIDC connection with its own client is named; the one standing for the tenant's configuration is the default.
      if (c.type === 'oidc' && c.oidc) next.set('connection', c.id);
      const path = c.type === 'saml' ? `/sso/saml/${route.tenantId}/${c.id}/login` : `/sso/${route.tenantId}/login`;
      reply.header('cache-control', 'no-store');
      return reply.redirect(`${path}?${next}`, 302);
    } catch (err) {
      if (err instanceof SsoError) return failPage(reply, err);
      throw err;
    }
  });
}
