import type { FastifyServerOptions } from 'fastify';

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
  };
}
