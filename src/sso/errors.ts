import { ApiError, type ApiErrorCode } from '../http/errors.js';

/**
 * The sign-in broker's errors. Each is a catalogued code (src/http/errors.ts: HTTP status, and the
 * `code` of a JSON answer) with the short reason the host product receives as `error_code` on its
 * redirect URI and the broker's error page shows.
 */
export const SSO_ERROR_REASONS = {
  ERR_INVALID_REQUEST: 'invalid_request',
  ERR_UNREGISTERED_REDIRECT_URI: 'unregistered_redirect_uri',
  ERR_SSO_NOT_CONFIGURED: 'sso_not_configured',
  ERR_SSO_UNAVAILABLE: 'sso_unavailable',
  ERR_INVALID_STATE: 'invalid_state',
  ERR_IDP_ERROR: 'idp_error',
  ERR_TOKEN_EXCHANGE_FAILED: 'token_exchange_failed',
  ERR_INVALID_ID_TOKEN: 'invalid_id_token',
  ERR_IDP_UNAVAILABLE: 'idp_unavailable',
  ERR_IDENTITY_NOT_FOUND: 'identity_not_found',
  ERR_IDENTITY_SUSPENDED: 'identity_suspended',
  ERR_LOGIN_METHOD_PASSWORD: 'login_method_password',
  ERR_INVALID_CREDENTIALS: 'invalid_credentials',
  ERR_LOCKED: 'locked',
  ERR_SAML_INVALID_RESPONSE: 'saml_invalid_response',
  ERR_SAML_INVALID_SIGNATURE: 'saml_invalid_signature',
  ERR_SAML_WRONG_ISSUER: 'saml_wrong_issuer',
  ERR_SAML_WRONG_AUDIENCE: 'saml_wrong_audience',
  ERR_SAML_WRONG_DESTINATION: 'saml_wrong_destination',
  ERR_SAML_EXPIRED: 'saml_expired',
  ERR_SAML_UNSOLICITED: 'saml_unsolicited',
  ERR_SAML_REPLAYED: 'saml_replayed',
} as const satisfies Partial<Record<ApiErrorCode, string>>;

export type SsoErrorCode = keyof typeof SSO_ERROR_REASONS;
export type SsoErrorReason = (typeof SSO_ERROR_REASONS)[SsoErrorCode];

/** RFC 6749 §4.1.2.1 `error` for the host product; the rest are invalid_request (4xx) or server_error (5xx). */
const OAUTH_ERRORS: Partial<Record<SsoErrorCode, string>> = {
  ERR_IDENTITY_NOT_FOUND: 'access_denied',
  ERR_IDENTITY_SUSPENDED: 'access_denied',
  ERR_LOGIN_METHOD_PASSWORD: 'access_denied',
  ERR_IDP_ERROR: 'access_denied',
  ERR_IDP_UNAVAILABLE: 'temporarily_unavailable',
};

/** Why a sign-in failed. */
export class SsoError extends ApiError {
  declare readonly code: SsoErrorCode;
  readonly reason: SsoErrorReason;

  constructor(code: SsoErrorCode, message: string) {
    super(code, message);
    this.reason = SSO_ERROR_REASONS[code];
  }

  /** The OAuth `error` parameter sent back to the host product's redirect URI. */
  get oauthError(): string {
    return OAUTH_ERRORS[this.code] ?? (this.statusCode >= 500 ? 'server_error' : 'invalid_request');
  }
}
