import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/**
 * Per-key rate limiting for one surface, in one place. Keys are canonical: a tenant id is
 * lower-cased (the router matches paths case-insensitively, so `/SCIM/v2/ABC…` and `/scim/v2/abc…`
 * must share one bucket), and requests without a tenant fall back to the client address.
 * Counters are per process; account lockout in the database is the cross-process defence where
 * it matters (console sign-in).
 */
export interface RateLimitOptions {
  /** Requests per window; 0 or less installs nothing. */
  max: number;
  windowMs?: number;
  /** Prefix that keeps this surface's buckets apart from another's. */
  scope: string;
  /** `tenant` (default): one bucket per tenant id; `tenant+ip`: per tenant and address; `ip`: per address. */
  keyBy?: 'tenant' | 'tenant+ip' | 'ip';
  /** Builds the error thrown when the limit trips (each surface answers in its own format). */
  error: (retryAfterSeconds: number, max: number) => Error;
  /** `false`: only routes that opt in with `config.rateLimit` are limited. */
  global?: boolean;
}

export const tenantKeyOf = (req: FastifyRequest): string | undefined => {
  const t = (req.params as { tenantId?: unknown } | undefined)?.tenantId;
  return typeof t === 'string' && t.length > 0 ? t.toLowerCase() : undefined;
};

export function rateLimitKey(scope: string, keyBy: NonNullable<RateLimitOptions['keyBy']>, req: FastifyRequest): string {
  const tenant = tenantKeyOf(req);
  if (keyBy === 'ip' || !tenant) return `${scope}:ip:${req.ip}`;
  return keyBy === 'tenant+ip' ? `${scope}:${tenant}:${req.ip}` : `${scope}:${tenant}`;
}

export async function registerRateLimit(app: FastifyInstance, opts: RateLimitOptions): Promise<void> {
  if (opts.max <= 0) return;
  const keyBy = opts.keyBy ?? 'tenant';
  await app.register(rateLimit, {
    global: opts.global ?? true,
    max: opts.max,
    timeWindow: opts.windowMs ?? 60_000,
    keyGenerator: (req) => rateLimitKey(opts.scope, keyBy, req),
    errorResponseBuilder: (_req, ctx) => opts.error(Math.max(1, Math.ceil(ctx.ttl / 1000)), ctx.max),
  });
}
