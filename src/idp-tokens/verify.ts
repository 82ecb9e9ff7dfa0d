import type { decodeProtectedHeader, JWTPayload } from 'jose';
import { isJoseError, loadJose } from '../lib/lazy-jose.js';
import type { OidcConfig } from './oidc-config.js';
import { ApiError, type ApiErrorCode } from '../http/errors.js';
import { IdpUnavailableError, type KeyCache } from './key-cache.js';
import { FetchJsonError } from './fetch.js';

/**
 * Why a bearer token was refused: a short reason (logs, the OIDC connection test) and its
 * catalogued code (the 401 body's `code`, src/http/errors.ts).
 */
export const TOKEN_ERROR_CODES = {
  missing_token: 'ERR_MISSING_TOKEN',
  malformed_token: 'ERR_MALFORMED_TOKEN',
  alg_not_allowed: 'ERR_ALG_NOT_ALLOWED',
  unknown_key: 'ERR_UNKNOWN_KEY',
  bad_signature: 'ERR_BAD_SIGNATURE',
  token_expired: 'ERR_TOKEN_EXPIRED',
  token_not_yet_valid: 'ERR_TOKEN_NOT_YET_VALID',
  wrong_issuer: 'ERR_WRONG_ISSUER',
  wrong_audience: 'ERR_WRONG_AUDIENCE',
  missing_claim: 'ERR_MISSING_CLAIM',
  oidc_not_configured: 'ERR_OIDC_NOT_CONFIGURED',
  invalid_api_key: 'ERR_INVALID_API_KEY',
} as const satisfies Record<string, ApiErrorCode>;

export type TokenErrorReason = keyof typeof TOKEN_ERROR_CODES;

/** RFC 6750 error_description: printable ASCII without quotes or backslashes. */
const rfc6750 = (s: string) => s.replace(/[^\x20-\x7e]/g, '?').replace(/["\\]/g, "'").slice(0, 300);

/** A refused bearer credential: 401 with the catalogued code and an RFC 6750 WWW-Authenticate challenge. */
export class TokenError extends ApiError {
  constructor(readonly reason: TokenErrorReason, message: string) {
    super(TOKEN_ERROR_CODES[reason], message, {
      'www-authenticate': `Bearer realm="idpbridge", error="invalid_token", error_description="${rfc6750(message)}"`,
    });
  }
}

export interface VerifiedJwt {
  payload: JWTPayload;
  /** Expiry in ms since the epoch. */
  expiresAt: number;
  alg: string;
  kid: string | undefined;
}

const MAX_TOKEN_LENGTH = 16 * 1024;

/** A JWT has three base64url segments; an identity API key does not. */
export const looksLikeJwt = (token: string) => /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/.test(token);

/**
 * Verifies an IdP access token against a tenant's OIDC configuration: signature with the IdP's
 * published keys (algorithm allow-list; never `none`, never HMAC), issuer and audience exact,
 * exp required, exp/nbf with the configured clock tolerance.
 */
/** 9999-12-31T23:59:59Z: the last `exp` (seconds) that is still a date. */
const MAX_EXP_SECONDS = 253_402_300_799;

export async function verifyJwt(token: string, cfg: OidcConfig, keys: KeyCache): Promise<VerifiedJwt> {
  if (token.length > MAX_TOKEN_LENGTH) throw new TokenError('malformed_token', `token is longer than ${MAX_TOKEN_LENGTH} characters`);
  if (!looksLikeJwt(token)) throw new TokenError('malformed_token', 'token is not a JWT (three base64url segments)');
  const { decodeJwt, decodeProtectedHeader, jwtVerify } = await loadJose();
  let header: ReturnType<typeof decodeProtectedHeader>;
  let claims: JWTPayload;
  try {
    header = decodeProtectedHeader(token);
    claims = decodeJwt(token);
  } catch {
    throw new TokenError('malformed_token', 'token header or payload is not valid base64url JSON');
  }
  const alg = typeof header.alg === 'string' ? header.alg : '';
  if (!alg || alg.toLowerCase() === 'none') throw new TokenError('alg_not_allowed', 'unsigned tokens (alg "none") are never accepted');
  if (/^HS/i.test(alg)) throw new TokenError('alg_not_allowed', `HMAC algorithm ${alg} is never accepted: IdP tokens must be signed with the IdP's private key`);
  if (!cfg.algorithms.includes(alg)) throw new TokenError('alg_not_allowed', `algorithm ${alg} is not allowed for this tenant`);
  // Checked before any key fetch, so a token from another tenant's IdP costs nothing. The answer
  // never names the tenant's configured issuers or audiences (a caller could learn which IdP a
  // tenant uses); the admin API's connection test shows them to the tenant's admin.
  if (typeof claims.iss !== 'string' || !cfg.acceptedIssuers.includes(claims.iss)) {
    throw new TokenError('wrong_issuer', `token issuer ${JSON.stringify(claims.iss ?? null)} is not accepted by this tenant`);
  }

  let jwksUri: string;
  try {
    jwksUri = await keys.jwksUriFor(cfg);
  } catch (err) {
    throw keysUnavailable(err);
  }
  try {
    const { payload, protectedHeader } = await jwtVerify(token, keys.resolver(jwksUri), {
      issuer: cfg.acceptedIssuers,
      audience: cfg.audiences,
      algorithms: cfg.algorithms,
      clockTolerance: cfg.clockToleranceSeconds,
      requiredClaims: ['exp'],
    });
    // A correctly signed exp beyond year 9999 (9007199254740993, 1e20) is no date: refused, not a 500.
    if (typeof payload.exp !== 'number' || !Number.isFinite(payload.exp) || payload.exp > MAX_EXP_SECONDS) {
      throw new TokenError('malformed_token', 'token "exp" claim is invalid');
    }
    return { payload, expiresAt: payload.exp * 1000, alg: protectedHeader.alg, kid: protectedHeader.kid };
  } catch (err) {
    throw mapJoseError(err);
  }
}

/** 503: the IdP's keys could not be had (the fetch failure stays the cause, for the connection test). */
function keysUnavailable(err: unknown): IdpUnavailableError {
  const cause = err instanceof IdpUnavailableError && err.cause ? err.cause : err;
  return new IdpUnavailableError(`The IdP's signing keys could not be fetched: ${(err as Error).message}`, cause);
}

function mapJoseError(err: unknown): Error {
  if (err instanceof TokenError) return err;
  if (err instanceof IdpUnavailableError || err instanceof FetchJsonError) return keysUnavailable(err);
  if (isJoseError(err, 'JWTExpired')) return new TokenError('token_expired', 'token has expired');
  if (isJoseError(err, 'JWTClaimValidationFailed')) {
    switch (err.claim) {
      case 'aud': return new TokenError('wrong_audience', 'token audience is not accepted by this tenant');
      case 'iss': return new TokenError('wrong_issuer', 'token issuer is not accepted by this tenant');
      case 'nbf': return new TokenError('token_not_yet_valid', 'token is not valid yet (nbf in the future)');
      case 'iat': return new TokenError('token_not_yet_valid', 'token was issued in the future (iat)');
      case 'exp': return new TokenError(err.reason === 'missing' ? 'missing_claim' : 'malformed_token', `token "exp" claim is ${err.reason === 'missing' ? 'missing' : 'invalid'}`);
      default: return new TokenError('missing_claim', `token claim "${err.claim}" is ${err.reason}`);
    }
  }
  if (isJoseError(err, 'JWSSignatureVerificationFailed')) return new TokenError('bad_signature', 'token signature does not verify with the IdP key');
  if (isJoseError(err, 'JWKSNoMatchingKey')) return new TokenError('unknown_key', 'token is signed with a key (kid) the IdP does not publish');
  if (isJoseError(err, 'JWKSMultipleMatchingKeys')) return new TokenError('unknown_key', 'token names no kid and the IdP publishes several keys');
  if (isJoseError(err, 'JOSEAlgNotAllowed')) return new TokenError('alg_not_allowed', 'token algorithm is not allowed');
  if (isJoseError(err, 'JOSENotSupported')) return new TokenError('alg_not_allowed', `token uses an unsupported algorithm or key: ${(err as Error).message}`);
  if (isJoseError(err, 'JWTInvalid') || isJoseError(err, 'JWSInvalid')) return new TokenError('malformed_token', `token is malformed: ${(err as Error).message}`);
  if (isJoseError(err, 'JOSEError')) return new TokenError('malformed_token', `token could not be verified: ${(err as Error).message}`);
  // A key of the wrong type for the algorithm (e.g. an EC key for RS256) surfaces as a TypeError.
  if (err instanceof TypeError) return new TokenError('bad_signature', `token could not be verified with the IdP key: ${err.message}`);
  return err instanceof Error ? err : new Error(String(err));
}
