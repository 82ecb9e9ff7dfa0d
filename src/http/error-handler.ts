/**
 * The one error handler of every HTTP surface (also fastify's `frameworkErrors`: malformed URLs,
 * overlong path parameters). It answers in two families (docs/errors.md):
 *  - SCIM routes (`/scim/…`, matched case-insensitively like the router): RFC 7644 §3.12 bodies
 *    from a ScimError (src/scim/errors.ts); anything else thrown there is turned into one.
 *  - every other route (admin API, /v1, sign-in broker, console): `{statusCode, code, error, message}`
 *    with a code of API_ERROR_CODES (src/http/errors.ts). No other code reaches the wire: a ScimError,
 *    a unique violation, a validation failure, an unreachable database or a framework error is
 *    answered with the catalogued code of its status.
 * Routes throw and never translate errors themselves.
 */
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ScimError, InvalidSyntaxError, PayloadTooLargeError, UniquenessError } from '../scim/errors.js';
import { API_ERROR_CODES, ApiError, apiErrorBody, type ApiErrorCode } from './errors.js';
import { isConnectionError, isForeignKeyViolation, isStatementTimeout, isUniqueViolation } from '../db/errors.js';

const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8';

// The router is case-insensitive (/SCIM/v2/… reaches the SCIM routes), so the error format is chosen the same way.
const isScimUrl = (url: string) => /^\/scim\//i.test(url);

/** A write that refers to a row deleted meanwhile (the tenant being deleted, a user removed): 404, nothing changed. */
const GONE_MESSAGE = 'The tenant or a resource this request refers to no longer exists; nothing was changed';
const ABORTED_MESSAGE = 'The request body was not received completely (the client closed the connection)';

/**
 * The client closed the connection before its body arrived (Node's `aborted` error from the body
 * stream): neither a server error nor an unavailable database (its ECONNRESET code would say so).
 */
export function isClientAbort(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  return typeof e === 'object' && e !== null && e.code === 'ECONNRESET' && e.message === 'aborted';
}

/** Turns any thrown error into a ScimError (SCIM routes) — the wire format of RFC 7644 §3.12. */
export function toScimError(err: unknown, req?: FastifyRequest): ScimError {
  if (err instanceof ScimError) return err;
  if (isStatementTimeout(err)) {
    // RFC 7644 §3.12 tooMany: a read the server is not willing to compute (retrying it would not help);
    // a write cancelled by the limit (e.g. waiting on a lock) is worth retrying.
    if (req && (req.method === 'GET' || /\/\.search(?:\?|$)/i.test(req.url))) {
      return new ScimError(400, 'ERR_SCIM_TOO_MANY', 'The request took the database longer than the server allows for one statement; narrow the filter or ask for fewer results', 'tooMany');
    }
    const se = new ScimError(503, 'ERR_DATABASE_TIMEOUT', 'The database took longer than the server allows for one statement; nothing was changed; retry later');
    se.headers = { 'retry-after': '5' };
    return se;
  }
  const e = err as Partial<FastifyError> & { message?: string };
  if (isUniqueViolation(err)) return new UniquenessError('A resource with this unique value already exists');
  if (isForeignKeyViolation(err)) return new ScimError(404, 'ERR_SCIM_NOT_FOUND', GONE_MESSAGE);
  if (isClientAbort(err)) return new InvalidSyntaxError(ABORTED_MESSAGE);
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new PayloadTooLargeError('Request body exceeds the maximum payload size');
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return new ScimError(415, 'ERR_SCIM_UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/scim+json or application/json');
  }
  if (e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return new InvalidSyntaxError('Request body is empty; a JSON object is required');
  if (e.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError || e.code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH') {
    return new InvalidSyntaxError(`Request body is not valid JSON: ${e.message ?? 'parse error'}`);
  }
  if (e.validation) return new InvalidSyntaxError(`Invalid request: ${e.message}`);
  if (e.statusCode === 429) return new ScimError(429, 'ERR_SCIM_RATE_LIMITED', e.message ?? 'Too many requests for this tenant; retry later');
  if (isConnectionError(err)) {
    const se = new ScimError(503, 'ERR_DATABASE_UNAVAILABLE', 'The database is unavailable; retry later');
    se.headers = { 'retry-after': '5' }; // IdPs back off on it
    return se;
  }
  if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
    return new ScimError(e.statusCode, 'ERR_SCIM_REJECTED', e.message ?? 'Bad request');
  }
  return new ScimError(500, 'ERR_INTERNAL', 'Internal server error');
}

function sendScim(reply: FastifyReply, err: ScimError): FastifyReply {
  if (err.headers) for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
  return reply.code(err.status).type(SCIM_CONTENT_TYPE).send(err.toJSON());
}

/** The catalogued code of a client-error status (framework errors, ScimErrors outside SCIM routes). */
const CODE_OF_STATUS: Record<number, ApiErrorCode> = {
  400: 'ERR_BAD_REQUEST', 401: 'ERR_UNAUTHORIZED', 403: 'ERR_FORBIDDEN', 404: 'ERR_NOT_FOUND', 409: 'ERR_CONFLICT',
  412: 'ERR_PRECONDITION_FAILED', 413: 'ERR_PAYLOAD_TOO_LARGE', 414: 'ERR_URI_TOO_LONG', 415: 'ERR_UNSUPPORTED_MEDIA_TYPE',
  416: 'ERR_RANGE_NOT_SATISFIABLE', 429: 'ERR_RATE_LIMITED',
};

const isCatalogued = (code: unknown): code is ApiErrorCode => typeof code === 'string' && Object.hasOwn(API_ERROR_CODES, code);

/**
 * An error of the non-SCIM family. Besides ApiError itself: modules on floors below http (the access
 * model) cannot extend ApiError, so any Error carrying a catalogued `code` together with exactly that
 * code's `statusCode` counts too (a Node.js internal error with an `ERR_…` code has no statusCode).
 */
function apiErrorOf(err: unknown): ApiError | undefined {
  if (err instanceof ApiError) return err;
  if (!(err instanceof Error)) return undefined;
  const { code, statusCode, headers } = err as Error & { code?: unknown; statusCode?: unknown; headers?: Record<string, string> };
  if (!isCatalogued(code) || statusCode !== API_ERROR_CODES[code].status) return undefined;
  return new ApiError(code, err.message, headers);
}

function sendApi(reply: FastifyReply, err: ApiError): FastifyReply {
  if (err.headers) for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
  return reply.code(err.statusCode).send(apiErrorBody(err.statusCode, err.code, err.message));
}

/** The non-SCIM answer to any thrown error. */
export function toApiError(error: unknown): ApiError {
  const known = apiErrorOf(error);
  if (known) return known;
  const err = error as Partial<FastifyError> & { message?: string };
  if (isUniqueViolation(err)) return new ApiError('ERR_CONFLICT', 'A resource with this unique value already exists');
  if (isForeignKeyViolation(err)) return new ApiError('ERR_NOT_FOUND', GONE_MESSAGE);
  if (isClientAbort(err)) return new ApiError('ERR_BAD_REQUEST', ABORTED_MESSAGE);
  if (error instanceof ScimError) {
    // A SCIM-layer refusal (schema validation of an identity, a group that would contain itself) on another surface.
    if (error.status >= 500) return new ApiError('ERR_INTERNAL', 'Internal server error');
    return new ApiError(CODE_OF_STATUS[error.status] ?? 'ERR_BAD_REQUEST', error.message, error.headers);
  }
  if (err.validation) return new ApiError('ERR_VALIDATION', err.message ?? 'Invalid request');
  if (isConnectionError(err)) return new ApiError('ERR_DATABASE_UNAVAILABLE', 'The database is unavailable; retry later', { 'retry-after': '5' });
  if (isStatementTimeout(err)) {
    return new ApiError('ERR_DATABASE_TIMEOUT', 'The database took longer than the server allows for one statement; nothing was changed; retry later or ask for less', { 'retry-after': '5' });
  }
  const status = err.statusCode;
  if (status && status >= 400 && status < 500) {
    const code = CODE_OF_STATUS[status] ?? 'ERR_BAD_REQUEST';
    return new ApiError(code, err.message ?? API_ERROR_CODES[code].meaning, code === 'ERR_RATE_LIMITED' ? { 'retry-after': '60' } : undefined);
  }
  return new ApiError('ERR_INTERNAL', 'Internal server error');
}

/** The error handler; also fastify's `frameworkErrors` (bad URL encoding, overlong path parameters), so those answer in the same formats. */
export function handleError(error: unknown, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (isScimUrl(req.url)) {
    const scimErr = toScimError(error, req);
    if (isClientAbort(error)) req.log.info({ status: scimErr.status }, 'request aborted by the client');
    else if (scimErr.status >= 500) req.log.error({ err: error }, 'scim request failed');
    else req.log.info({ code: scimErr.code, status: scimErr.status, detail: scimErr.message }, 'scim request rejected');
    return sendScim(reply, scimErr);
  }
  const apiErr = toApiError(error);
  if (isClientAbort(error)) req.log.info({ status: apiErr.statusCode }, 'request aborted by the client');
  else if (apiErr.code === 'ERR_INTERNAL') req.log.error({ err: error }, 'request failed');
  // A limit that already set Retry-After (console lockout, the rate-limit plugin) keeps its value.
  if (apiErr.headers?.['retry-after'] !== undefined && reply.getHeader('retry-after') !== undefined) {
    const { 'retry-after': _, ...rest } = apiErr.headers;
    apiErr.headers = rest;
  }
  return sendApi(reply, apiErr);
}

// Errors the HTTP parser raises before any route runs (fastify's `clientErrorHandler`). The path
// is taken from the latest request line seen on the connection (the parser's failing chunk may be
// a later one), so the answer is in the SCIM format on SCIM paths and the API family elsewhere.
const kRequestLine = Symbol('idpbridge.requestLine');
type RequestLine = { method: string; path: string };
type TrackedSocket = Socket & { [kRequestLine]?: RequestLine };
const REQUEST_LINE_RE = /^([A-Z]{3,10}) (\S{1,200})/;
const requestLine = (chunk: Buffer): RequestLine | undefined => {
  const m = REQUEST_LINE_RE.exec(chunk.toString('latin1', 0, 220));
  return m ? { method: m[1]!, path: m[2]! } : undefined;
};

/** Remembers, per connection, the method and path of the latest request line (for clientErrorHandler). */
export function trackRequestPaths(server: { on(event: 'connection', l: (socket: Socket) => void): unknown }): void {
  server.on('connection', (socket: TrackedSocket) => {
    socket.on('data', (chunk: Buffer) => {
      const line = requestLine(chunk);
      if (line) socket[kRequestLine] = line;
    });
  });
}

/** The raw HTTP answer to a parser error: its status, a SCIM or API error body by path (none for HEAD), and Connection: close. */
export function clientErrorResponse(err: { code?: string }, line: RequestLine | undefined): string {
  const path = line?.path;
  // Node's request timeout (Node's code, not one of ours: matched by a pattern, not as a quoted code literal).
  const status = /^ERR_HTTP_REQUEST_TIMEOUT$/.test(err.code ?? '') ? 408 : err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
  const reason = status === 408 ? 'Request Timeout' : status === 431 ? 'Request Header Fields Too Large' : 'Bad Request';
  const message = status === 408 ? 'The request did not arrive in time'
    : status === 431 ? 'The request line and headers exceed 16 KB'
      : 'The request is not a valid HTTP/1.1 message (malformed request line or header, bare LF line ends, or Content-Length with Transfer-Encoding)';
  let body: string;
  let type: string;
  if (path !== undefined && isScimUrl(path)) {
    const e = status === 400 ? new InvalidSyntaxError(message) : new ScimError(status, 'ERR_SCIM_REJECTED', message);
    body = JSON.stringify(e.toJSON());
    type = SCIM_CONTENT_TYPE;
  } else {
    const code: ApiErrorCode = status === 408 ? 'ERR_REQUEST_TIMEOUT' : status === 431 ? 'ERR_HEADERS_TOO_LARGE' : 'ERR_BAD_REQUEST';
    body = JSON.stringify(apiErrorBody(status, code, message));
    type = 'application/json; charset=utf-8';
  }
  return `HTTP/1.1 ${status} ${reason}\r\nContent-Type: ${type}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${line?.method === 'HEAD' ? '' : body}`;
}

/** fastify's clientErrorHandler: answers parser errors in the surface's format, then closes. */
export function handleClientError(err: Error & { code?: string; rawPacket?: unknown }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const line = (Buffer.isBuffer(err.rawPacket) ? requestLine(err.rawPacket) : undefined) ?? (socket as TrackedSocket)[kRequestLine];
  if (socket.writable) socket.end(clientErrorResponse(err, line));
  // The rest of what the client sends is not read; the socket goes once the answer is out.
  setTimeout(() => socket.destroy(), 1000).unref();
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler(handleError);

  app.setNotFoundHandler((req, reply) => {
    if (isScimUrl(req.url)) {
      return sendScim(reply, new ScimError(404, 'ERR_SCIM_NOT_FOUND', `No SCIM endpoint ${req.method} ${req.url.split('?')[0]}`));
    }
    return sendApi(reply, new ApiError('ERR_NOT_FOUND', `Route ${req.method} ${req.url.split('?')[0]} not found`));
  });
}

export { sendScim, SCIM_CONTENT_TYPE };
