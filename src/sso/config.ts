import type { SigningAlg } from './keys.js';

/** Sign-in broker settings (environment variables, documented in README.md). */
export interface SsoOptions {
  /** Lifetime of the idpbridge token handed to the host product. */
  tokenTtlSeconds: number;
  /** How long a started sign-in (state, nonce, PKCE verifier) may take to come back. */
  stateTtlSeconds: number;
  /** A new signing key every period; the next one is published a period ahead. */
  keyRotationMs: number;
  keyAlg: SigningAlg;
  /** Scopes requested from the IdP. */
  scope: string;
}

function int(name: string, v: string | undefined, fallback: number, min: number, max: number): number {
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be an integer from ${min} to ${max}, got "${v}"`);
  return n;
}

export function ssoOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): SsoOptions {
  const alg = env.IDPBRIDGE_SSO_KEY_ALG || 'ES256';
  if (alg !== 'ES256' && alg !== 'RS256') throw new Error(`IDPBRIDGE_SSO_KEY_ALG must be ES256 or RS256, got "${alg}"`);
  return {
    tokenTtlSeconds: int('IDPBRIDGE_SSO_TOKEN_TTL_SECONDS', env.IDPBRIDGE_SSO_TOKEN_TTL_SECONDS, 300, 30, 3600),
    stateTtlSeconds: int('IDPBRIDGE_SSO_STATE_TTL_SECONDS', env.IDPBRIDGE_SSO_STATE_TTL_SECONDS, 600, 60, 3600),
    keyRotationMs: int('IDPBRIDGE_SSO_KEY_ROTATION_DAYS', env.IDPBRIDGE_SSO_KEY_ROTATION_DAYS, 30, 1, 365) * 86_400_000,
    keyAlg: alg,
    scope: env.IDPBRIDGE_SSO_SCOPE || 'openid profile email',
  };
}
