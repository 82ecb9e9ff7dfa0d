import type { FastifyRequest, FastifyServerOptions } from 'fastify';
import pino from 'pino';

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

/**
 * The server's log destination: JSON lines to stdout, written asynchronously (pino's default),
 * with a bounded end. pino flushes what is left synchronously when the process exits, and retries a
 * full pipe (EAGAIN) forever, sleeping on the main thread between tries: a supervisor or test
 * harness that stops reading our stdout would then hold the process at exit for good, idle, with
 * no timer able to fire (issue 17 item 25). `giveUpAfter(ms)` — called when shutdown starts —
 * makes every retry after that deadline fail instead: the lines still unwritten are dropped and
 * the process ends.
 */
export function stdoutLogDestination(): { stream: ReturnType<typeof pino.destination>; giveUpAfter(ms: number): void } {
  let deadline = Number.POSITIVE_INFINITY;
  const stream = pino.destination({ dest: 1, sync: false, retryEAGAIN: () => Date.now() < deadline });
  // A write given up is an 'error' event; without a listener it would crash the exiting process.
  stream.on('error', () => {});
  const flushSync = stream.flushSync.bind(stream);
  stream.flushSync = () => {
    try {
      flushSync();
    } catch {
      // stdout cannot take the rest in time: dropped (see above).
    }
  };
  return { stream, giveUpAfter: (ms) => { deadline = Date.now() + ms; } };
}
