import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ScimError, InvalidSyntaxError, PayloadTooLargeError, UniquenessError } from '../scim/errors.js';
import { ApiError } from './errors.js';
import { isConnectionError, isUniqueViolation } from '../db/errors.js';

const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8';

// The router is case-insensitive (/SCIM/v2/… reaches the SCIM routes), so the error format is chosen the same way.
const isScimUrl = (url: string) => /^\/scim\//i.test(url);

/** Turns any thrown error into a ScimError (SCIM routes) — the wire format of RFC 7644 §3.12. */
export function toScimError(err: unknown): ScimError {
  if (err instanceof ScimError) return err;
  const e = err as Partial<FastifyError> & { message?: string };
  if (isUniqueViolation(err)) return new UniquenessError('A resource with this unique value already exists');
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new PayloadTooLargeError('Request body exceeds the maximum payload size');
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return new ScimError(415, 'ERR_SCIM_UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/scim+json or application/json');
  }
  if (e.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return new InvalidSyntaxError('Request body is empty; a JSON object is required');
  if (e.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError || e.code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH') {
    return new InvalidSyntaxError(`Request body is not valid JSON: ${e.message ?? 'parse error'}`);
  }
  if (e.validation) return new InvalidSyntaxError(`Invalid request: ${e.message}`);
  if (e.statusCode === 429) {
    const se = new ScimError(429, 'ERR_SCIM_RATE_LIMITED', e.message ?? 'Too many requests for this tenant; retry later');
    return se;
  }
  if (isConnectionError(err)) {
    const se = new ScimError(503, 'ERR_DATABASE_UNAVAILABLE', 'The database is unavailable; retry later');
    se.headers = { 'retry-after': '5' }; // IdPs back off on it
    return se;
  }
  if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) return new ScimError(e.statusCode, e.code ?? 'ERR_SCIM', e.message ?? 'Bad request');
  return new ScimError(500, 'ERR_INTERNAL', 'Internal server error');
}

function sendScim(reply: FastifyReply, err: ScimError): FastifyReply {
  if (err.headers) for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
  return reply.code(err.status).type(SCIM_CONTENT_TYPE).send(err.toJSON());
}

function adminBody(statusCode: number, code: string, message: string) {
  const error = statusCode === 400 ? 'Bad Request' : statusCode === 401 ? 'Unauthorized' : statusCode === 404 ? 'Not Found'
    : statusCode === 409 ? 'Conflict' : statusCode === 413 ? 'Payload Too Large' : statusCode === 415 ? 'Unsupported Media Type'
    : statusCode === 429 ? 'Too Many Requests' : statusCode === 503 ? 'Service Unavailable' : statusCode >= 500 ? 'Internal Server Error' : 'Error';
  return { statusCode, code, error, message };
}

/** The error handler; also fastify's `frameworkErrors` (bad URL encoding, overlong path parameters), so those answer in the same formats. */
export function handleError(error: unknown, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const err = error as FastifyError;
  if (isScimUrl(req.url)) {
    const scimErr = toScimError(err);
    if (scimErr.status >= 500) req.log.error({ err }, 'scim request failed');
    else req.log.info({ code: scimErr.code, status: scimErr.status, detail: scimErr.message }, 'scim request rejected');
    return sendScim(reply, scimErr);
  }
  if (error instanceof ApiError) return reply.code(error.statusCode).send(adminBody(error.statusCode, error.code, error.message));
  if (isUniqueViolation(err)) return reply.code(409).send(adminBody(409, 'ERR_CONFLICT', 'A resource with this unique value already exists'));
  if (error instanceof ScimError) return reply.code(error.status).send(adminBody(error.status, error.code, error.message));
  if (err.validation) return reply.code(400).send(adminBody(400, 'ERR_VALIDATION', err.message));
  if (isConnectionError(err)) return reply.code(503).header('retry-after', '5').send(adminBody(503, 'ERR_DATABASE_UNAVAILABLE', 'The database is unavailable; retry later'));
  const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
  if (status >= 500) {
    req.log.error({ err }, 'request failed');
    return reply.code(500).send(adminBody(500, 'ERR_INTERNAL', 'Internal server error'));
  }
  if (reply.getHeader('retry-after') === undefined && status === 429) reply.header('retry-after', '60');
  return reply.code(status).send(adminBody(status, err.code ?? 'ERR_BAD_REQUEST', err.message));
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler(handleError);

  app.setNotFoundHandler((req, reply) => {
    if (isScimUrl(req.url)) {
      return sendScim(reply, new ScimError(404, 'ERR_SCIM_NOT_FOUND', `No SCIM endpoint ${req.method} ${req.url.split('?')[0]}`));
    }
    return reply.code(404).send(adminBody(404, 'ERR_NOT_FOUND', `Route ${req.method} ${req.url.split('?')[0]} not found`));
  });
}

export { sendScim, SCIM_CONTENT_TYPE };
