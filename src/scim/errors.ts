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
  | 'sensitive';

export const SCIM_ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

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
export class MutabilityError extends ScimError {
  constructor(detail: string) { super(400, 'ERR_SCIM_MUTABILITY', detail, 'mutability'); }
}
export class TooManyError extends ScimError {
  constructor(detail: string) { super(400, 'ERR_SCIM_TOO_MANY', detail, 'tooMany'); }
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
export class ForbiddenError extends ScimError {
  constructor(detail: string) { super(403, 'ERR_SCIM_FORBIDDEN', detail); }
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
export class NotImplementedError extends ScimError {
  constructor(detail: string) { super(501, 'ERR_SCIM_NOT_IMPLEMENTED', detail); }
}
