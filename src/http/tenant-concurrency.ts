import type { FastifyInstance, RouteHandlerMethod, RouteOptions } from 'fastify';
import { tenantKeyOf } from './rate-limit.js';

/**
 * Bounds how many requests of one tenant run their handlers at once, so one tenant's credential
 * cannot hold more than its share of the database pool (or, on PGlite's single connection, of the
 * database's time): with the default 4 of a 10-connection pool, the other tenants keep the rest.
 * Requests over the limit wait their turn in a per-tenant queue; a full queue or a long wait is
 * refused with the surface's 429 error (Retry-After). The slot is held exactly while the route
 * handler runs (where the database work is), also when the client has gone away meanwhile.
 * One gate is shared by every surface of an app (SCIM, /v1, the tenant-scoped admin reads), keyed
 * by the canonical (lower-case) tenant id, so a tenant's share is one share whichever surface it
 * floods. Counters are per process.
 */
export interface TenantGateOptions {
  /** Handlers of one tenant running at once. */
  limit: number;
  /** Requests of one tenant waiting at once; more are refused at once. */
  queueMax?: number;
  /** Longest wait for a slot (ms) before the request is refused. */
  waitMs?: number;
}

/** A refusal in the surface's own error format. */
export type GateRefusal = (retryAfterSeconds: number, limit: number) => Error;

export interface TenantConcurrencyOptions extends TenantGateOptions {
  /** The gate to use (shared between surfaces); when absent one is created from the options. */
  gate?: TenantGate | undefined;
  /** The error of a refusal, in the surface's format. */
  error: GateRefusal;
  /** Which routes are gated (default: every route with a tenant id). */
  appliesTo?: (route: RouteOptions) => boolean;
}

interface Lane {
  active: number;
  waiters: Array<{ grant: () => void }>;
}

export class TenantGate {
  private readonly lanes = new Map<string, Lane>();
  private readonly opts: Required<TenantGateOptions>;

  constructor(opts: TenantGateOptions) {
    this.opts = { queueMax: 256, waitMs: 30_000, ...opts };
  }

  /** The gate of an app, or undefined when the limit is 0 or less (no gate). */
  static create(opts: TenantGateOptions): TenantGate | undefined {
    return opts.limit > 0 ? new TenantGate(opts) : undefined;
  }

  /**
   * A release function when the tenant has a free slot now, else undefined (the caller waits with
   * acquire). The common case of every gated request, without a promise.
   */
  tryAcquire(tenant: string): (() => void) | undefined {
    const lane = this.lanes.get(tenant);
    if (lane && lane.active >= this.opts.limit) return undefined;
    return this.take(tenant, lane);
  }

  /** Resolves with a release function once the tenant has a free slot; rejects with `refuse`'s error. */
  acquire(tenant: string, refuse: GateRefusal): Promise<() => void> {
    const lane = this.lanes.get(tenant);
    if (!lane || lane.active < this.opts.limit) return Promise.resolve(this.take(tenant, lane));
    const l = lane;
    const retryAfter = Math.max(1, Math.ceil(this.opts.waitMs / 1000));
    if (l.waiters.length >= this.opts.queueMax) return Promise.reject(refuse(retryAfter, this.opts.limit));
    return new Promise((resolve, reject) => {
      const waiter = {
        grant: () => {
          clearTimeout(timer);
          resolve(this.releaseOf(tenant, l));
        },
      };
      const timer = setTimeout(() => {
        const i = l.waiters.indexOf(waiter);
        if (i >= 0) l.waiters.splice(i, 1);
        reject(refuse(retryAfter, this.opts.limit));
      }, this.opts.waitMs);
      timer.unref();
      l.waiters.push(waiter);
    });
  }

  /** Takes a free slot of the tenant's lane (created when absent). */
  private take(tenant: string, lane: Lane | undefined): () => void {
    let l = lane;
    if (!l) {
      l = { active: 0, waiters: [] };
      this.lanes.set(tenant, l);
    }
    l.active++;
    return this.releaseOf(tenant, l);
  }

  /** Gives a slot back once: to the next waiter, or to the lane (dropped when idle). */
  private releaseOf(tenant: string, l: Lane): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = l.waiters.shift();
      if (next) return next.grant(); // the slot passes on
      l.active--;
      if (l.active === 0) this.lanes.delete(tenant);
    };
  }

  /** Handlers of the tenant running now (tests, metrics). */
  active(tenant: string): number {
    return this.lanes.get(tenant)?.active ?? 0;
  }
}

/**
 * Wraps the handler of every route registered after this call in `app` (and its children) that
 * `appliesTo` selects with the gate (`opts.gate`, or a new one).
 */
export function registerTenantConcurrency(app: FastifyInstance, opts: TenantConcurrencyOptions): TenantGate | undefined {
  const gate = opts.gate ?? TenantGate.create(opts);
  if (!gate) return undefined;
  app.addHook('onRoute', (route) => {
    if (opts.appliesTo && !opts.appliesTo(route)) return;
    const handler = route.handler;
    const gated: RouteHandlerMethod = async function (this: FastifyInstance, req, reply) {
      const tenant = tenantKeyOf(req);
      if (tenant === undefined) return handler.call(this, req, reply);
      // A free slot is taken at once: no promise to wait on for the common, uncontended request.
      const release = gate.tryAcquire(tenant) ?? await gate.acquire(tenant, opts.error);
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
