import { FetchJsonError } from './fetch.js';
import { entraTenantIdOf, type OidcConfig } from './oidc-config.js';
import { IdpUnavailableError, type DiscoveryDocument, type ParsedJwks } from './key-cache.js';
import { TokenError } from './verify.js';
import { describeLookups } from './claims.js';
import type { IdpTokens } from './service.js';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skipped';

export interface OidcCheck {
  name: 'discovery' | 'issuer' | 'jwks' | 'algorithms' | 'token' | 'identity';
  status: CheckStatus;
  message: string;
  details?: Record<string, unknown>;
}

export interface OidcTestResult {
  ok: boolean;
  checks: OidcCheck[];
}

const KEY_TYPES_FOR: Record<string, string> = { RS: 'RSA', PS: 'RSA', ES: 'EC', Ed: 'OKP' };
const ktyFor = (alg: string) => KEY_TYPES_FOR[alg.slice(0, 2)] ?? '?';

const failure = (err: unknown) => {
  const e = err instanceof IdpUnavailableError && err.cause ? err.cause : err;
  return e instanceof FetchJsonError
    ? { message: e.message, details: { kind: e.kind, ...(e.status ? { httpStatus: e.status } : {}) } }
    : { message: (e as Error).message ?? String(e), details: {} };
};

/**
 * Fetches the discovery document and the JWKS now (refreshing the caches) and checks what an IT
 * admin can get wrong; with a sample token, also verifies it and resolves its identity.
 */
export async function testOidcConfig(svc: IdpTokens, cfg: OidcConfig, sampleToken?: string): Promise<OidcTestResult> {
  const checks: OidcCheck[] = [];
  let discovery: DiscoveryDocument | undefined;

  if (cfg.discoveryUrl) {
    try {
      discovery = (await svc.keys.discovery.refresh(cfg.discoveryUrl)).value;
      checks.push({ name: 'discovery', status: 'ok', message: `discovery document fetched from ${cfg.discoveryUrl}`, details: { issuer: discovery.issuer, jwks_uri: discovery.jwks_uri } });
    } catch (err) {
      const f = failure(err);
      checks.push({ name: 'discovery', status: cfg.jwksUri ? 'warn' : 'fail', message: f.message, details: { url: cfg.discoveryUrl, ...f.details } });
    }
  } else {
    checks.push({ name: 'discovery', status: 'skipped', message: 'no discovery URL configured; jwksUri is used directly' });
  }

  if (discovery) {
    if (cfg.acceptedIssuers.includes(discovery.issuer)) {
      const note = discovery.issuer === cfg.issuer ? '' : ` (the configured ${cfg.issuer} is accepted as well)`;
      checks.push({ name: 'issuer', status: 'ok', message: `discovery issuer ${discovery.issuer} is accepted${note}` });
    } else if (cfg.entraTenantId && discovery.issuer.includes('{tenantid}')) {
      checks.push({ name: 'issuer', status: 'warn', message: `the discovery URL is Entra's multi-tenant (common/organizations) document; tokens are still checked against ${cfg.acceptedIssuers.join(' and ')}. Prefer the tenant-specific URL https://login.microsoftonline.com/${cfg.entraTenantId}/v2.0/.well-known/openid-configuration` });
    } else {
      const tid = entraTenantIdOf(discovery.issuer);
      const hint = tid && cfg.entraTenantId && tid !== cfg.entraTenantId
        ? ` — the discovery document is for Entra directory ${tid}, the issuer names directory ${cfg.entraTenantId}`
        : '';
      checks.push({ name: 'issuer', status: 'fail', message: `discovery issuer ${discovery.issuer} differs from the configured issuer ${cfg.acceptedIssuers.join(' / ')}${hint}; tokens of this IdP would be refused` });
    }
  } else {
    checks.push({ name: 'issuer', status: 'skipped', message: 'no discovery document to compare the issuer with' });
  }

  const jwksUri = cfg.jwksUri ?? discovery?.jwks_uri;
  let jwks: ParsedJwks | undefined;
  if (jwksUri) {
    try {
      jwks = (await svc.keys.jwks.refresh(jwksUri)).value;
      const keys = jwks.jwks.keys;
      const usable = keys.filter((k) => cfg.algorithms.some((a) => ktyFor(a) === k.kty && (!k.alg || k.alg === a)) && (!k.use || k.use === 'sig'));
      const details = { url: jwksUri, keys: keys.map((k) => ({ kid: k.kid ?? null, kty: k.kty, alg: k.alg ?? null, use: k.use ?? null })) };
      if (usable.length === 0) {
        checks.push({ name: 'jwks', status: 'fail', message: `JWKS ${jwksUri} has ${keys.length} key(s) but none usable with the allowed algorithms ${cfg.algorithms.join(', ')}`, details });
      } else {
        const note = cfg.jwksUri && discovery && discovery.jwks_uri !== cfg.jwksUri ? ` (differs from the discovery jwks_uri ${discovery.jwks_uri})` : '';
        checks.push({ name: 'jwks', status: note ? 'warn' : 'ok', message: `JWKS fetched: ${usable.length} signing key(s) usable${note}`, details });
      }
    } catch (err) {
      const f = failure(err);
      checks.push({ name: 'jwks', status: 'fail', message: f.message, details: { url: jwksUri, ...f.details } });
    }
  } else {
    checks.push({ name: 'jwks', status: 'fail', message: 'no JWKS URL: the discovery document could not be read and no jwksUri is configured' });
  }

  const advertised = discovery?.id_token_signing_alg_values_supported;
  if (Array.isArray(advertised) && advertised.length > 0 && !advertised.some((a) => cfg.algorithms.includes(a))) {
    checks.push({ name: 'algorithms', status: 'warn', message: `the IdP advertises ${advertised.join(', ')}; none is in the allowed list ${cfg.algorithms.join(', ')}` });
  } else {
    checks.push({ name: 'algorithms', status: 'ok', message: `allowed: ${cfg.algorithms.join(', ')} (never none, never HMAC)` });
  }

  if (sampleToken) {
    try {
      const p = await svc.authenticate(cfg.tenantId, sampleToken);
      checks.push({
        name: 'token', status: 'ok', message: `token verified (alg ${p.jwt?.alg}, kid ${p.jwt?.kid ?? 'none'}, expires ${new Date(p.jwt?.expiresAt ?? 0).toISOString()})`,
        details: { issuer: p.jwt?.issuer, audience: p.jwt?.audience, groups: p.tokenGroups },
      });
      checks.push(p.identityId
        ? { name: 'identity', status: 'ok', message: `identity ${p.identityId} matched by ${p.matchedBy?.claim} → ${p.matchedBy?.attribute}` }
        : { name: 'identity', status: 'warn', message: `the token is valid but no provisioned identity matches it (${describeLookups(p.tried ?? [])}); provision the user via SCIM` });
    } catch (err) {
      const message = err instanceof TokenError ? `${err.reason}: ${err.message}` : failure(err).message;
      checks.push({ name: 'token', status: 'fail', message });
      checks.push({ name: 'identity', status: 'skipped', message: 'the token did not verify' });
    }
  }

  return { ok: checks.every((c) => c.status !== 'fail'), checks };
}
