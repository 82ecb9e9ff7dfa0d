import { createHash, randomBytes } from 'node:crypto';
import type { JWTPayload } from 'jose';
import type { OidcConfig } from '../idp-tokens/oidc-config.js';
import { IdpUnavailableError, type KeyCache, type DiscoveryDocument } from '../idp-tokens/key-cache.js';
import type { Dispatcher } from 'undici';
import { request } from '../lib/lazy-undici.js';
import { isJoseError, loadJose } from '../lib/lazy-jose.js';
import { checkIdpUrl, FetchJsonError } from '../idp-tokens/fetch.js';
import { SsoError } from './errors.js';

export const randomToken = (bytes = 32) => randomBytes(bytes).toString('base64url');
/** RFC 7636 S256: BASE64URL(SHA256(ASCII(code_verifier))). */
export const pkceChallenge = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');

export interface IdpEndpoints {
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  authMethod: 'client_secret_basic' | 'client_secret_post';
}

/** The IdP's authorization and token endpoints from its discovery document (cached by KeyCache). */
export async function idpEndpoints(cfg: OidcConfig, keys: KeyCache): Promise<IdpEndpoints> {
  if (!cfg.discoveryUrl) throw new SsoError('ERR_SSO_UNAVAILABLE', 'the OIDC configuration has no discovery URL: sign-in needs the IdP\'s authorization and token endpoints');
  let doc: DiscoveryDocument;
  try {
    doc = await keys.discovery.get(cfg.discoveryUrl);
  } catch (err) {
    throw new SsoError('ERR_IDP_UNAVAILABLE', `the IdP's discovery document could not be fetched: ${(err as Error).message}`);
  }
  const auth = doc.authorization_endpoint;
  const token = doc.token_endpoint;
  if (typeof auth !== 'string' || typeof token !== 'string') {
    throw new SsoError('ERR_SSO_UNAVAILABLE', `the IdP's discovery document (${cfg.discoveryUrl}) names no authorization_endpoint / token_endpoint`);
  }
  try {
    checkIdpUrl(auth, 'authorization_endpoint');
    checkIdpUrl(token, 'token_endpoint');
  } catch (err) {
    throw new SsoError('ERR_SSO_UNAVAILABLE', (err as Error).message);
  }
  const methods = Array.isArray(doc.token_endpoint_auth_methods_supported) ? doc.token_endpoint_auth_methods_supported as string[] : ['client_secret_basic'];
  // OIDC Core: client_secret_basic is the default; post when the IdP offers only that.
  const authMethod = methods.includes('client_secret_basic') || !methods.includes('client_secret_post') ? 'client_secret_basic' : 'client_secret_post';
  return { issuer: doc.issuer, authorizationEndpoint: auth, tokenEndpoint: token, authMethod };
}

export function authorizationUrl(ep: IdpEndpoints, p: { clientId: string; redirectUri: string; state: string; nonce: string; codeVerifier: string; scope: string; loginHint?: string | undefined }): string {
  const u = new URL(ep.authorizationEndpoint);
  u.searchParams.set('response_type', 'code');
  u.searchParams.set('client_id', p.clientId);
  u.searchParams.set('redirect_uri', p.redirectUri);
  u.searchParams.set('scope', p.scope);
  u.searchParams.set('state', p.state);
  u.searchParams.set('nonce', p.nonce);
  u.searchParams.set('code_challenge', pkceChallenge(p.codeVerifier));
  u.searchParams.set('code_challenge_method', 'S256');
  if (p.loginHint) u.searchParams.set('login_hint', p.loginHint);
  return u.href;
}

// RFC 6749 client authentication with client_secret_basic: form-urlencode id and secret first.
const formEncode = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');

/** Redeems the authorization code (with the PKCE verifier) at the IdP's token endpoint; returns the ID token. */
export async function exchangeCode(
  ep: IdpEndpoints,
  p: { clientId: string; clientSecret: string; code: string; redirectUri: string; codeVerifier: string },
  /** The outbound agent (SSRF guard, src/lib/outbound.ts): KeyCache.fetchOptions.dispatcher. */
  dispatcher: Dispatcher | undefined,
  timeoutMs = 10_000,
): Promise<string> {
  const form = new URLSearchParams({ grant_type: 'authorization_code', code: p.code, redirect_uri: p.redirectUri, code_verifier: p.codeVerifier });
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', 'user-agent': 'idpbridge' };
  if (ep.authMethod === 'client_secret_basic') {
    headers.authorization = `Basic ${Buffer.from(`${formEncode(p.clientId)}:${formEncode(p.clientSecret)}`).toString('base64')}`;
  } else {
    form.set('client_id', p.clientId);
    form.set('client_secret', p.clientSecret);
  }
  let res: { status: number; ok: boolean; text: string };
  try {
    // undici's request never follows redirects; the guard refuses internal addresses at connect time.
    const r = await request(ep.tokenEndpoint, {
      method: 'POST', headers, body: form.toString(), signal: AbortSignal.timeout(timeoutMs),
      headersTimeout: timeoutMs, bodyTimeout: timeoutMs, ...(dispatcher ? { dispatcher } : {}),
    });
    const text = (await r.body.text()).slice(0, 64 * 1024);
    res = { status: r.statusCode, ok: r.statusCode >= 200 && r.statusCode < 300, text };
  } catch {
    // One answer for refused, unreachable, timed out and not allowed (no port scanning through sign-in).
    throw new SsoError('ERR_IDP_UNAVAILABLE', "the IdP's token endpoint could not be reached");
  }
  const text = res.text;
  let body: { id_token?: unknown; error?: unknown; error_description?: unknown } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    /* reported below */
  }
  if (!res.ok) {
    const why = typeof body.error === 'string' ? `${body.error}${typeof body.error_description === 'string' ? `: ${body.error_description}` : ''}` : `HTTP ${res.status}`;
    throw new SsoError('ERR_TOKEN_EXCHANGE_FAILED', `the IdP refused the authorization code (${why})`);
  }
  if (typeof body.id_token !== 'string') throw new SsoError('ERR_TOKEN_EXCHANGE_FAILED', 'the IdP\'s token response has no id_token (is the "openid" scope allowed for this application?)');
  return body.id_token;
}

/**
 * Verifies an ID token (OIDC Core 3.1.3.7): signature with the tenant's IdP keys and allowed
 * algorithms, issuer exact, audience = our client id (azp when several), exp/iat with the
 * configured tolerance, and the nonce of this sign-in.
 */
export async function verifyIdToken(idToken: string, cfg: OidcConfig, keys: KeyCache, nonce: string): Promise<JWTPayload> {
  let jwksUri: string;
  try {
    jwksUri = await keys.jwksUriFor(cfg);
  } catch (err) {
    throw new SsoError('ERR_IDP_UNAVAILABLE', `the IdP's signing keys could not be fetched: ${(err as Error).message}`);
  }
  let payload: JWTPayload;
  try {
    const { jwtVerify } = await loadJose();
    ({ payload } = await jwtVerify(idToken, keys.resolver(jwksUri), {
      issuer: cfg.acceptedIssuers,
      audience: cfg.clientId!,
      algorithms: cfg.algorithms,
      clockTolerance: cfg.clockToleranceSeconds,
      requiredClaims: ['exp', 'iat', 'sub'],
    }));
  } catch (err) {
    if (err instanceof FetchJsonError || err instanceof IdpUnavailableError) throw new SsoError('ERR_IDP_UNAVAILABLE', err.message);
    const why = isJoseError(err, 'JWTClaimValidationFailed') ? `claim "${err.claim}" ${err.reason === 'missing' ? 'is missing' : 'is not accepted'}`
      : isJoseError(err, 'JWTExpired') ? 'it has expired'
        : isJoseError(err, 'JWSSignatureVerificationFailed') ? 'its signature does not verify with the IdP keys'
          : (err as Error).message;
    throw new SsoError('ERR_INVALID_ID_TOKEN', `the IdP's ID token was refused: ${why}`);
  }
  if (typeof payload.nonce !== 'string' || payload.nonce !== nonce) throw new SsoError('ERR_INVALID_ID_TOKEN', 'the ID token\'s nonce does not match this sign-in (replayed or substituted token)');
  if (Array.isArray(payload.aud) && payload.aud.length > 1 && payload.azp !== cfg.clientId) {
    throw new SsoError('ERR_INVALID_ID_TOKEN', 'the ID token has several audiences and its azp is not this client');
  }
  return payload;
}
