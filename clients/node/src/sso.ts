import { createPublicKey, verify as verifySignature, type JsonWebKey } from 'node:crypto';
import { call, type ConnectionOptions } from './http.js';
import type { AccessGroup, Dataset, Group } from './v1.js';

/** The claims of the token idpbridge hands to the host product after sign-in. */
export interface IdpbridgeTokenClaims {
  /** The tenant's issuer: `{idpbridge public URL}/sso/{tenantId}`. */
  iss: string;
  /** The registered redirect URI the token was issued for. */
  aud: string;
  /** The identity id. */
  sub: string;
  iat: number;
  nbf: number;
  exp: number;
  jti: string;
  tenant: string;
  identity: { id: string; userName: string; externalId: string | null; displayName: string | null; status: string; source: string };
  groups: Group[];
  accessGroups: AccessGroup[];
  datasets: Dataset[];
  roles: string[];
  /** ["idp"] (through the tenant's IdP) or ["pwd"] (built-in password). */
  amr: string[];
  idp?: { iss: string; sub: string };
}

export class IdpbridgeTokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IdpbridgeTokenError';
  }
}

const ALGS: Record<string, { hash: string; dsaEncoding?: 'ieee-p1363' }> = {
  ES256: { hash: 'sha256', dsaEncoding: 'ieee-p1363' },
  RS256: { hash: 'sha256' },
};
const b64json = (s: string) => JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as Record<string, unknown>;

/** The sign-in URL to send a browser to (the host product's redirect URI must be registered). */
export function signInUrl(baseUrl: string, tenantId: string, redirectUri: string, state?: string, opts: { method?: 'idp' | 'password' } = {}): string {
  const u = new URL(`${baseUrl.replace(/\/+$/, '')}/sso/${encodeURIComponent(tenantId)}/${opts.method === 'password' ? 'password-login' : 'login'}`);
  u.searchParams.set('redirect_uri', redirectUri);
  if (state !== undefined) u.searchParams.set('state', state);
  return u.href;
}

/**
 * Verifies the token the host product receives at its redirect URI: signature with idpbridge's
 * JWKS (`/.well-known/jwks.json`, cached; refetched for an unknown kid), issuer = the tenant's
 * issuer (`{idpbridge public URL}/sso/{tenantId}`), `tenant` = the expected tenant, audience = the
 * redirect URI, exp/nbf with a small tolerance. The expected tenant is required: a token signed
 * for another tenant of the same idpbridge is refused. Throws IdpbridgeTokenError.
 */
export class IdpbridgeTokenVerifier {
  private keys = new Map<string, { alg: string; key: ReturnType<typeof createPublicKey> }>();
  private fetchedAt = 0;

  /** `issuer`: idpbridge's public URL when it differs from `baseUrl` (the tenant's issuer is `{issuer}/sso/{tenantId}`). */
  constructor(private readonly conn: ConnectionOptions & { issuer?: string; clockToleranceSeconds?: number }) {}

  private async refresh(): Promise<void> {
    const jwks = await call<{ keys: (JsonWebKey & { kid?: string; alg?: string })[] }>(this.conn, { method: 'GET', path: '/.well-known/jwks.json' });
    const next = new Map<string, { alg: string; key: ReturnType<typeof createPublicKey> }>();
    for (const k of jwks.keys ?? []) if (k.kid && k.alg && ALGS[k.alg]) next.set(k.kid, { alg: k.alg, key: createPublicKey({ key: k, format: 'jwk' }) });
    this.keys = next;
    this.fetchedAt = Date.now();
  }

  /** `expected.tenantId`: the tenant the sign-in was started for; `expected.audience`: your registered redirect URI. */
  async verify(token: string, expected: { tenantId: string; audience: string }): Promise<IdpbridgeTokenClaims> {
    const tenantId = expected?.tenantId;
    const audience = expected?.audience;
    if (typeof tenantId !== 'string' || !tenantId || typeof audience !== 'string' || !audience) {
      throw new TypeError('verify(token, { tenantId, audience }): the expected tenant id and audience (redirect URI) are required');
    }
    if (typeof token !== 'string') throw new IdpbridgeTokenError('not a JWT');
    const parts = token.split('.');
    if (parts.length !== 3) throw new IdpbridgeTokenError('not a JWT');
    let header: Record<string, unknown>;
    let payload: Record<string, unknown>;
    try {
      header = b64json(parts[0]!);
      payload = b64json(parts[1]!);
    } catch {
      throw new IdpbridgeTokenError('malformed JWT');
    }
    const alg = String(header.alg);
    const spec = ALGS[alg];
    if (!spec) throw new IdpbridgeTokenError(`algorithm ${alg} is not accepted`);
    const kid = String(header.kid ?? '');
    if (!this.keys.has(kid) && Date.now() - this.fetchedAt > 30_000) await this.refresh();
    const k = this.keys.get(kid);
    if (!k || k.alg !== alg) throw new IdpbridgeTokenError(`unknown signing key ${kid}`);
    const ok = verifySignature(spec.hash, Buffer.from(`${parts[0]}.${parts[1]}`), spec.dsaEncoding ? { key: k.key, dsaEncoding: spec.dsaEncoding } : k.key, Buffer.from(parts[2]!, 'base64url'));
    if (!ok) throw new IdpbridgeTokenError('bad signature');
    const tenant = tenantId.toLowerCase();
    const issuer = `${(this.conn.issuer ?? this.conn.baseUrl).replace(/\/+$/, '')}/sso/${tenant}`;
    if (payload.iss !== issuer) throw new IdpbridgeTokenError(`issuer ${String(payload.iss)} is not ${issuer}`);
    if (payload.tenant !== tenant) throw new IdpbridgeTokenError(`token of tenant ${String(payload.tenant)}, not ${tenant}`);
    if (payload.aud !== audience) throw new IdpbridgeTokenError(`audience ${String(payload.aud)} is not ${audience}`);
    const now = Math.floor(Date.now() / 1000);
    const tol = this.conn.clockToleranceSeconds ?? 30;
    if (typeof payload.exp !== 'number' || !Number.isFinite(payload.exp) || payload.exp + tol < now) throw new IdpbridgeTokenError('token expired');
    if (typeof payload.nbf === 'number' && payload.nbf - tol > now) throw new IdpbridgeTokenError('token not valid yet');
    return payload as unknown as IdpbridgeTokenClaims;
  }
}
