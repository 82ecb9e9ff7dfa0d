import type { FastifyRequest, FastifyServerOptions } from 'fastify';

/** Query parameters whose values are secrets or one-time codes (OAuth `code`/`state`, tokens, passwords). */
const SECRET_QUERY_PARAMS = ['token', 'password', 'client_secret', 'code', 'state', 'id_token', 'access_token', 'refresh_token', 'session_state'];
const SECRET_QUERY_RE = new RegExp(`([?&](?:${SECRET_QUERY_PARAMS.join('|')})=)[^&#]*`, 'gi');

/** A request URL as logged: the values of secret query parameters replaced by `[redacted]`. */
export function redactUrl(url: string): string {
  return url.includes('?') ? url.replace(SECRET_QUERY_RE, '$1[redacted]') : url;
}

/** pino options: JSON lines, secrets redacted wherever they could appear. */
export function loggerOptions(level: string): FastifyServerOptions['logger'] {
  return {
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'headers.authorization',
        '*.password',
        '*.token',
        '*.secret',
        '*.clientSecret',
        'body.password',
      ],
      censor: '[redacted]',
    },
    serializers: {
      // Fastify's request serializer, with the URL's secret query values redacted.
      req: (req: FastifyRequest) => ({
        method: req.method,
        url: typeof req.url === 'string' ? redactUrl(req.url) : req.url,
        host: req.host ?? req.headers?.host,
        remoteAddress: req.ip ?? req.socket?.remoteAddress,
        remotePort: req.socket?.remotePort,
      }),
    },
  };
}
