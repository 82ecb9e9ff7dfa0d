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
  /** When the request is counted (default onRequest); e.g. preParsing to count only requests that authenticated in onRequest. */
  hook?: 'onRequest' | 'preParsing' | 'preValidation' | 'preHandler';
}

export const tenantKeyOf = (req: FastifyRequest): string | undefined => {
  const t = (req.params as { tenantId?: unknown } | undefined)?.tenantId;
  return typeof t === 'string' && t.length > 0 ? t.toLowerCase() : undefined;
};

/** A tenant id as every lookup, cache and bucket uses it: lower case (UUIDs are matched case-insensitively). */
export function canonicalTenantId(req: FastifyRequest): void {
  const params = req.params as { tenantId?: unknown } | undefined;
  if (params && typeof params.tenantId === 'string') params.tenantId = params.tenantId.toLowerCase();
}

/**
 * Failed authentications per client address in a fixed window (per process): an anonymous caller
 * sending bad credentials spends its own address's budget, not the tenant's (the tenant bucket
 * counts authenticated requests only), so it cannot make a tenant's valid key get 429.
 */
export class FailureLimiter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();

  constructor(private readonly max: number, private readonly windowMs = 60_000) {}

  /** Seconds until the address may try again, or undefined when it may try now. */
  blocked(key: string, now = Date.now()): number | undefined {
    if (this.max <= 0) return undefined;
    const w = this.windows.get(key);
    if (!w || w.resetAt <= now || w.count < this.max) return undefined;
    return Math.max(1, Math.ceil((w.resetAt - now) / 1000));
  }

  /** Counts one failure of the address. */
  fail(key: string, now = Date.now()): void {
    if (this.max <= 0) return;
    if (this.windows.size > 100_000) for (const [k, w] of this.windows) if (w.resetAt <= now) this.windows.delete(k);
    const w = this.windows.get(key);
    if (!w || w.resetAt <= now) this.windows.set(key, { count: 1, resetAt: now + this.windowMs });
    else w.count++;
  }
}

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
    ...(opts.hook ? { hook: opts.hook } : {}),
    errorResponseBuilder: (_req, ctx) => opts.error(Math.max(1, Math.ceil(ctx.ttl / 1000)), ctx.max),
  });
}
