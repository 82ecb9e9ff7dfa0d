/**
 * SCIM errors (RFC 7644 §3.12). Every error carries a stable `code` for logs and
 * tests, plus the wire fields: HTTP `status`, optional `scimType` and `detail`.
 */
export type ScimType =
  | 'invalidFilter'
  | 'tooMany'
  | 'uniqueness'
  | 'mutability'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue'
  | 'invalidVers'
  | 'sensitive'
  // RFC 9865 (cursor pagination)
  | 'invalidCursor'
  | 'expiredCursor';

export const SCIM_ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

/**
 * The SCIM family's codes. The wire body carries `status`, `scimType` and `detail`, not the code;
 * the code names the error in the server log and in the provisioning log's `error.code`. Each one
 * is listed in docs/errors.md (test/foundation/error-catalogue.test.ts keeps both equal and fails on
 * an `ERR_` literal in src/ that neither this table nor API_ERROR_CODES lists). `4xx`: the status of
 * the HTTP-layer refusal it stands for.
 */
export const SCIM_ERROR_CODES = {
  ERR_SCIM_INVALID_FILTER: { status: 400, scimType: 'invalidFilter', meaning: 'The filter does not parse, or names an attribute or operator it cannot use.' },
  ERR_SCIM_INVALID_PATH: { status: 400, scimType: 'invalidPath', meaning: 'A PATCH path does not parse or names no attribute of the schema.' },
  ERR_SCIM_NO_TARGET: { status: 400, scimType: 'noTarget', meaning: 'A PATCH remove without a path, or a value filter that matches nothing where a target is required.' },
  ERR_SCIM_INVALID_VALUE: { status: 400, scimType: 'invalidValue', meaning: 'A value is missing, of the wrong type, not allowed by the tenant, or cannot be stored.' },
  ERR_SCIM_INVALID_SYNTAX: { status: 400, scimType: 'invalidSyntax', meaning: 'The body is not valid JSON or not a valid SCIM message.' },
  ERR_SCIM_MUTABILITY: { status: 400, scimType: 'mutability', meaning: 'The request changes a readOnly or immutable attribute, or removes a required one.' },
  ERR_SCIM_UNIQUENESS: { status: 409, scimType: 'uniqueness', meaning: "A user's userName or a group's displayName (both case-insensitively) is already taken in the tenant." },
  ERR_SCIM_BULK_UNRESOLVED: { status: 409, scimType: 'invalidValue', meaning: 'A Bulk operation references a bulkId that was not created (unknown, failed or circular).' },
  ERR_SCIM_INVALID_CURSOR: { status: 400, scimType: 'invalidCursor', meaning: 'A list request\'s cursor (RFC 9865) is not one this server issued for this tenant, endpoint, filter and sort order, or is combined with startIndex, sortBy or a root search.' },
  ERR_SCIM_EXPIRED_CURSOR: { status: 400, scimType: 'expiredCursor', meaning: 'A list request\'s cursor (RFC 9865) is older than the advertised cursorTimeout; start again with an empty cursor.' },
  ERR_SCIM_NOT_FOUND: { status: 404, meaning: 'No such resource in the tenant, or no such SCIM endpoint.' },
  ERR_SCIM_PRECONDITION_FAILED: { status: 412, meaning: 'If-Match does not match the resource version (meta.version).' },
  ERR_SCIM_UNAUTHORIZED: { status: 401, meaning: 'Missing, wrong, expired or revoked SCIM credential for this tenant.' },
  ERR_SCIM_METHOD_NOT_ALLOWED: { status: 405, meaning: 'The endpoint does not support this method.' },
  ERR_SCIM_PAYLOAD_TOO_LARGE: { status: 413, meaning: 'The body exceeds maxPayloadSize, or a Bulk request exceeds maxOperations.' },
  ERR_SCIM_UNSUPPORTED_MEDIA_TYPE: { status: 415, meaning: 'The Content-Type is neither application/scim+json nor application/json.' },
  ERR_SCIM_RATE_LIMITED: { status: 429, meaning: "Too many requests for this tenant; retry after Retry-After seconds." },
  ERR_SCIM_REJECTED: { status: '4xx', meaning: 'Another refusal by the HTTP layer (a malformed URL or HTTP message: 400; an overlong id: 414; headers over 16 KB: 431; too slow: 408); the status is that refusal\'s.' },
  ERR_SCIM_TOO_MANY: { status: 400, scimType: 'tooMany', meaning: 'A read (a list, search or GET) ran longer than the database statement limit (IDPBRIDGE_STATEMENT_TIMEOUT_MS) and was cancelled; narrow the filter or ask for fewer results.' },
  ERR_DATABASE_UNAVAILABLE: { status: 503, meaning: 'The database cannot be reached; retry after Retry-After seconds (same code as the non-SCIM family).' },
  ERR_DATABASE_TIMEOUT: { status: 503, meaning: 'A write ran longer than the database statement limit (IDPBRIDGE_STATEMENT_TIMEOUT_MS) and was rolled back; retry after Retry-After seconds (same code as the non-SCIM family).' },
  ERR_INTERNAL: { status: 500, meaning: 'An unexpected server error; logged with the request id (same code as the non-SCIM family).' },
} as const satisfies Record<string, { status: number | '4xx'; scimType?: ScimType; meaning: string }>;

export type ScimErrorCode = keyof typeof SCIM_ERROR_CODES;

export class ScimError extends Error {
  readonly status: number;
  readonly scimType: ScimType | undefined;
  readonly code: string;
  /** Extra response headers (e.g. Retry-After, WWW-Authenticate). */
  headers: Record<string, string> | undefined;

  constructor(status: number, code: string, detail: string, scimType?: ScimType) {
    super(detail);
    this.name = new.target.name;
    this.status = status;
    this.code = code;
    this.scimType = scimType;
  }

  toJSON(): Record<string, unknown> {
    const body: Record<string, unknown> = {
      schemas: [SCIM_ERROR_SCHEMA],
      status: String(this.status),
      detail: this.message,
    };
    if (this.scimType) body.scimType = this.scimType;
    return body;
  }
}

export class InvalidFilterError extends ScimError {
  constructor(detail: string) { super(400, 'ERR_SCIM_INVALID_FILTER', detail, 'invalidFilter'); }
}
export class InvalidPathError extends ScimError {
  constructor(detail: string) { super(400, 'ERR_SCIM_INVALID_PATH', detail, 'invalidPath'); }
}
export class NoTargetError extends ScimError {
  constructor(detail: string) { super(400, 'ERR_SCIM_NO_TARGET', detail, 'noTarget'); }
}
export class InvalidValueError extends ScimError {
  constructor(detail: string) { super(400, 'ERR_SCIM_INVALID_VALUE', detail, 'invalidValue'); }
}
export class InvalidSyntaxError extends ScimError {
  constructor(detail: string) { super(400, 'ERR_SCIM_INVALID_SYNTAX', detail, 'invalidSyntax'); }
}
export class InvalidCursorError extends ScimError {
  constructor(detail: string) { super(400, 'ERR_SCIM_INVALID_CURSOR', detail, 'invalidCursor'); }
}
export class ExpiredCursorError extends ScimError {
  constructor(detail: string) { super(400, 'ERR_SCIM_EXPIRED_CURSOR', detail, 'expiredCursor'); }
}
export class MutabilityError extends ScimError {
  constructor(detail: string) { super(400, 'ERR_SCIM_MUTABILITY', detail, 'mutability'); }
}
export class UniquenessError extends ScimError {
  constructor(detail: string) { super(409, 'ERR_SCIM_UNIQUENESS', detail, 'uniqueness'); }
}
export class NotFoundError extends ScimError {
  constructor(detail: string) { super(404, 'ERR_SCIM_NOT_FOUND', detail); }
}
export class PreconditionFailedError extends ScimError {
  constructor(detail: string) { super(412, 'ERR_SCIM_PRECONDITION_FAILED', detail); }
}
export class UnauthorizedError extends ScimError {
  constructor(detail = 'Authentication failed: a valid bearer token for this tenant is required') {
    super(401, 'ERR_SCIM_UNAUTHORIZED', detail);
    this.headers = { 'www-authenticate': 'Bearer realm="scim"' };
  }
}
export class PayloadTooLargeError extends ScimError {
  constructor(detail: string) { super(413, 'ERR_SCIM_PAYLOAD_TOO_LARGE', detail); }
}
export class TooManyRequestsError extends ScimError {
  constructor(detail: string, retryAfterSeconds: number) {
    super(429, 'ERR_SCIM_RATE_LIMITED', detail);
    this.headers = { 'retry-after': String(retryAfterSeconds) };
  }
}
export class MethodNotAllowedError extends ScimError {
  constructor(detail: string) { super(405, 'ERR_SCIM_METHOD_NOT_ALLOWED', detail); }
}
