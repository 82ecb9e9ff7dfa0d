import type { FastifyInstance, RouteHandlerMethod } from 'fastify';
import { tenantKeyOf } from './rate-limit.js';

/**
 * Bounds how many requests of one tenant run their handlers at once, so one tenant's credential
 * cannot hold more than its share of the database pool (or, on PGlite's single connection, of the
 * database's time): with the default 4 of a 10-connection pool, the other tenants keep the rest.
 * Requests over the limit wait their turn in a per-tenant queue; a full queue or a long wait is
 * refused with the surface's 429 error (Retry-After). The slot is held exactly while the route
 * handler runs (where the database work is), also when the client has gone away meanwhile.
 * Counters are per process.
 */
export interface TenantConcurrencyOptions {
  /** Handlers of one tenant running at once; 0 or less installs nothing. */
  limit: number;
  /** Requests of one tenant waiting at once; more are refused at once. */
  queueMax?: number;
  /** Longest wait for a slot (ms) before the request is refused. */
  waitMs?: number;
  /** The error of a refusal, in the surface's format. */
  error: (retryAfterSeconds: number, limit: number) => Error;
}

interface Lane {
  active: number;
  waiters: Array<{ grant: () => void }>;
}

export class TenantGate {
  private readonly lanes = new Map<string, Lane>();

  constructor(private readonly opts: Required<TenantConcurrencyOptions>) {}

  /** Resolves with a release function once the tenant has a free slot; rejects with the refusal. */
  acquire(tenant: string): Promise<() => void> {
    let lane = this.lanes.get(tenant);
    if (!lane) {
      lane = { active: 0, waiters: [] };
      this.lanes.set(tenant, lane);
    }
    const l = lane;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const next = l.waiters.shift();
      if (next) return next.grant(); // the slot passes on
      l.active--;
      if (l.active === 0) this.lanes.delete(tenant);
    };
    if (l.active < this.opts.limit) {
      l.active++;
      return Promise.resolve(release);
    }
    const retryAfter = Math.max(1, Math.ceil(this.opts.waitMs / 1000));
    if (l.waiters.length >= this.opts.queueMax) return Promise.reject(this.opts.error(retryAfter, this.opts.limit));
    return new Promise((resolve, reject) => {
      const waiter = {
        grant: () => {
          clearTimeout(timer);
          resolve(release);
        },
      };
      const timer = setTimeout(() => {
        const i = l.waiters.indexOf(waiter);
        if (i >= 0) l.waiters.splice(i, 1);
        reject(this.opts.error(retryAfter, this.opts.limit));
      }, this.opts.waitMs);
      timer.unref();
      l.waiters.push(waiter);
    });
  }

  /** Handlers of the tenant running now (tests, metrics). */
  active(tenant: string): number {
    return this.lanes.get(tenant)?.active ?? 0;
  }
}

/** Wraps the handler of every route registered after this call in `app` (and its children) with the gate. */
export function registerTenantConcurrency(app: FastifyInstance, opts: TenantConcurrencyOptions): TenantGate | undefined {
  if (opts.limit <= 0) return undefined;
  const gate = new TenantGate({ queueMax: 256, waitMs: 30_000, ...opts });
  app.addHook('onRoute', (route) => {
    const handler = route.handler;
    const gated: RouteHandlerMethod = async function (this: FastifyInstance, req, reply) {
      const tenant = tenantKeyOf(req);
      if (tenant === undefined) return handler.call(this, req, reply);
      const release = await gate.acquire(tenant);
      try {
        return await handler.call(this, req, reply);
      } finally {
        release();
      }
    };
    route.handler = gated;
  });
  return gate;
}
