/**
 * The non-SCIM error family: every error the admin API, `/v1`, the sign-in broker and the console
 * answer with. Wire shape `{ statusCode, code, error, message }` (fastify's own shape, so framework
 * errors and ours look alike). `code` is part of the contract host products code against: each one
 * is listed in API_ERROR_CODES with its fixed HTTP status and meaning (docs/errors.md is generated
 * from the same table and a test keeps them equal). A code is never built at run time.
 *
 * Domain modules throw subclasses of ApiError (or ApiError itself); one handler
 * (src/http/error-handler.ts) maps every one of them, so no route translates errors by hand.
 */
export const API_ERROR_CODES = {
  // generic request errors
  ERR_BAD_REQUEST: { status: 400, meaning: 'The request is not valid for this operation (the message says why).' },
  ERR_VALIDATION: { status: 400, meaning: 'The body, query or path does not match the documented schema.' },
  ERR_UNAUTHORIZED: { status: 401, meaning: 'Missing or wrong credentials for this surface.' },
  ERR_FORBIDDEN: { status: 403, meaning: 'Authenticated, but this caller may not do this.' },
  ERR_NOT_FOUND: { status: 404, meaning: 'No such resource (or route) in this tenant.' },
  ERR_CONFLICT: { status: 409, meaning: 'A resource with this unique value already exists, or the change conflicts with its state.' },
  ERR_PRECONDITION_FAILED: { status: 412, meaning: 'A conditional request header (If-Match, If-Unmodified-Since) does not hold (console static files).' },
  ERR_PAYLOAD_TOO_LARGE: { status: 413, meaning: 'The body exceeds IDPBRIDGE_BODY_LIMIT.' },
  ERR_URI_TOO_LONG: { status: 414, meaning: 'A path parameter is longer than the router accepts (200 characters).' },
  ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, meaning: 'The Content-Type is not one this endpoint accepts.' },
  ERR_RANGE_NOT_SATISFIABLE: { status: 416, meaning: 'The Range header asks for bytes outside the file (console static files).' },
  ERR_REQUEST_TIMEOUT: { status: 408, meaning: 'The request (its headers or body) did not arrive within the server\'s time limit.' },
  ERR_HEADERS_TOO_LARGE: { status: 431, meaning: 'The request line and headers exceed 16 KB (refused before routing).' },
  ERR_RATE_LIMITED: { status: 429, meaning: 'Too many requests for this tenant (or address); retry after Retry-After seconds.' },
  ERR_INTERNAL: { status: 500, meaning: 'An unexpected server error; logged with the request id.' },
  ERR_DATABASE_UNAVAILABLE: { status: 503, meaning: 'The database cannot be reached; retry after Retry-After seconds.' },
  ERR_DATABASE_TIMEOUT: { status: 503, meaning: 'A database statement of the request ran longer than IDPBRIDGE_STATEMENT_TIMEOUT_MS and was cancelled (nothing was changed); retry after Retry-After seconds, or ask for less.' },
  // admin API: the access model
  ERR_READ_ONLY_IDENTITY: { status: 409, meaning: 'The identity is provisioned by SCIM; only product-owned fields may change.' },
  // admin API: webhooks and other outbound targets
  ERR_TARGET_NOT_ALLOWED: { status: 400, meaning: 'The URL points to a loopback, private, link-local or metadata address, which outbound requests may not reach unless the operator allows it (IDPBRIDGE_ALLOW_PRIVATE_TARGETS).' },
  ERR_WEBHOOK_LIMIT: { status: 409, meaning: 'The tenant already has the most webhooks allowed (IDPBRIDGE_WEBHOOKS_PER_TENANT_MAX); delete one first.' },
  ERR_SECRET_KEY_REQUIRED: { status: 503, meaning: 'The server has no IDPBRIDGE_SECRET_KEY, so it cannot store a secret (webhook or IdP client secret) encrypted; the operator must set it.' },
  // /v1: the bearer token (an IdP JWT or an identity API key)
  ERR_MISSING_TOKEN: { status: 401, meaning: 'No Authorization: Bearer header (an IdP JWT or an identity API key is required).' },
  ERR_MALFORMED_TOKEN: { status: 401, meaning: 'The bearer token is neither a JWT nor an idpbridge API key.' },
  ERR_ALG_NOT_ALLOWED: { status: 401, meaning: "The JWT's alg is not on the tenant's allow-list." },
  ERR_UNKNOWN_KEY: { status: 401, meaning: "The JWT's kid is not in the IdP's JWKS (after one refresh)." },
  ERR_BAD_SIGNATURE: { status: 401, meaning: 'The JWT signature does not verify.' },
  ERR_TOKEN_EXPIRED: { status: 401, meaning: 'The JWT has expired (beyond the allowed clock skew).' },
  ERR_TOKEN_NOT_YET_VALID: { status: 401, meaning: "The JWT's nbf or iat is in the future (beyond the allowed clock skew)." },
  ERR_WRONG_ISSUER: { status: 401, meaning: "The JWT's iss is not the tenant's configured issuer." },
  ERR_WRONG_AUDIENCE: { status: 401, meaning: "The JWT's aud is not one of the tenant's audiences." },
  ERR_MISSING_CLAIM: { status: 401, meaning: 'The JWT lacks the claim that identifies the user.' },
  ERR_OIDC_NOT_CONFIGURED: { status: 401, meaning: 'The tenant has no OIDC configuration, so no JWT can be verified.' },
  ERR_INVALID_API_KEY: { status: 401, meaning: 'The API key is unknown, disabled, or of another tenant.' },
  // /v1 and the sign-in broker: the identity behind a valid credential
  ERR_IDENTITY_NOT_FOUND: { status: 403, meaning: 'The credential is valid but no provisioned identity matches it.' },
  ERR_IDENTITY_SUSPENDED: { status: 403, meaning: 'The identity is suspended (inactive in the IdP).' },
  ERR_IDP_UNAVAILABLE: { status: 503, meaning: "The tenant's IdP (discovery, JWKS or token endpoint) cannot be reached; retry later." },
  // sign-in broker
  ERR_INVALID_REQUEST: { status: 400, meaning: 'A sign-in parameter is missing or malformed.' },
  ERR_INVALID_STATE: { status: 400, meaning: 'The sign-in state is unknown, used or expired; start again.' },
  ERR_UNREGISTERED_REDIRECT_URI: { status: 400, meaning: "The redirect_uri is not one of the tenant's registered redirect URIs." },
  ERR_IDP_ERROR: { status: 400, meaning: 'The IdP answered the sign-in with an error.' },
  ERR_INVALID_CREDENTIALS: { status: 401, meaning: 'Wrong login or password.' },
  ERR_INVALID_ID_TOKEN: { status: 401, meaning: "The IdP's ID token did not verify." },
  ERR_LOGIN_METHOD_PASSWORD: { status: 403, meaning: 'This identity signs in with a password, not through the IdP.' },
  ERR_SSO_NOT_CONFIGURED: { status: 409, meaning: 'Sign-in is not configured (or not ready) for this tenant.' },
  ERR_SSO_UNAVAILABLE: { status: 503, meaning: "Sign-in through the IdP cannot proceed: the tenant's OIDC configuration has no discovery URL, or the IdP's discovery document names no usable (https) authorization and token endpoints." },
  ERR_LOCKED: { status: 429, meaning: 'Too many failed password sign-ins; locked for a while.' },
  ERR_TOKEN_EXCHANGE_FAILED: { status: 502, meaning: "The IdP's token endpoint refused the code exchange." },
  ERR_SAML_INVALID_RESPONSE: { status: 400, meaning: 'The SAML response is malformed or refused as such: not XML, a DOCTYPE or entity declaration, markup inside NameID, an encrypted assertion, no bearer confirmation.' },
  ERR_SAML_INVALID_SIGNATURE: { status: 401, meaning: "The SAML assertion is unsigned, signed by another key than the connection's IdP certificates, or wrapped (more than one assertion or response)." },
  ERR_SAML_WRONG_ISSUER: { status: 401, meaning: "The SAML assertion's (or response's) Issuer is not the connection's IdP entity ID." },
  ERR_SAML_WRONG_AUDIENCE: { status: 401, meaning: "The SAML assertion's Audience is missing or not this connection's SP entity ID." },
  ERR_SAML_WRONG_DESTINATION: { status: 401, meaning: "The SAML response's Destination or the assertion's Recipient is not this connection's ACS URL." },
  ERR_SAML_EXPIRED: { status: 401, meaning: 'The SAML assertion is expired or not yet valid (beyond the allowed clock skew), or has no NotOnOrAfter.' },
  ERR_SAML_UNSOLICITED: { status: 400, meaning: 'The SAML response does not answer the request this browser started (InResponseTo), or is IdP-initiated while the connection does not allow it.' },
  ERR_SAML_REPLAYED: { status: 401, meaning: 'The SAML assertion was already used (its ID is kept until its NotOnOrAfter).' },
  // console
  ERR_SIGN_IN_FAILED: { status: 401, meaning: 'Console sign-in was refused (wrong operator token, login or password).' },
  ERR_SETUP_LINK_INVALID: { status: 401, meaning: 'The set-up link is unknown, expired, revoked or of another tenant; ask for a new one.' },
  ERR_ACCOUNT_LOCKED: { status: 429, meaning: 'Too many failed console sign-ins; the account is locked for a while.' },
  ERR_ACCOUNT_DISABLED: { status: 403, meaning: 'The console account is disabled.' },
  ERR_CSRF: { status: 403, meaning: 'The request lacks the console CSRF token.' },
  ERR_HTTPS_REQUIRED: { status: 400, meaning: 'This operation needs https (or a loopback address).' },
} as const satisfies Record<string, { status: number; meaning: string }>;

export type ApiErrorCode = keyof typeof API_ERROR_CODES;

const REASON: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 409: 'Conflict',
  413: 'Payload Too Large', 415: 'Unsupported Media Type', 429: 'Too Many Requests', 500: 'Internal Server Error',
  502: 'Bad Gateway', 503: 'Service Unavailable',
};

/** The wire body of every non-SCIM error. */
export function apiErrorBody(statusCode: number, code: string, message: string): { statusCode: number; code: string; error: string; message: string } {
  return { statusCode, code, error: REASON[statusCode] ?? (statusCode >= 500 ? 'Internal Server Error' : 'Error'), message };
}

/** Base of the family: the code fixes the HTTP status (API_ERROR_CODES). */
export class ApiError extends Error {
  readonly statusCode: number;
  /** Extra response headers (Retry-After, WWW-Authenticate). */
  headers: Record<string, string> | undefined;

  constructor(readonly code: ApiErrorCode, message: string, headers?: Record<string, string>) {
    super(message);
    this.name = new.target.name;
    this.statusCode = API_ERROR_CODES[code].status;
    this.headers = headers;
  }

  toJSON(): ReturnType<typeof apiErrorBody> {
    return apiErrorBody(this.statusCode, this.code, this.message);
  }
}

export const notFound = (what: string) => new ApiError('ERR_NOT_FOUND', `${what} not found`);
export const conflict = (message: string) => new ApiError('ERR_CONFLICT', message);
export const badRequest = (message: string) => new ApiError('ERR_BAD_REQUEST', message);
