import type { FastifyInstance, FastifyRequest, RouteHandlerMethod, RouteOptions } from 'fastify';
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
 *
 * A handler whose database work joins a batch that other requests share (a SCIM create on PGlite,
 * written with the creates that arrive meanwhile in one statement: create-batch.ts) lends its slot
 * out while it waits in the batch (TenantSlot.share): a batch is one database turn whatever it
 * holds, and with the slot held the batch of a busy tenant could never grow past `limit`. At most
 * `sharedMax` requests of a tenant lend at once (one batch's worth), so a tenant still holds at
 * most `limit` handlers plus one batch turn of the database.
 */
export interface TenantGateOptions {
  /** Handlers of one tenant running at once. */
  limit: number;
  /** Requests of one tenant waiting at once; more are refused at once. */
  queueMax?: number;
  /** Longest wait for a slot (ms) before the request is refused. */
  waitMs?: number;
  /** Requests of one tenant whose slot is lent out at once (TenantSlot.share); more keep their slot. */
  sharedMax?: number;
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
  /** Requests that lent their slot out (TenantSlot.share) and have not finished that work. */
  shared: number;
  waiters: Array<{ grant: () => void }>;
}

export class TenantGate {
  private readonly lanes = new Map<string, Lane>();
  private readonly opts: Required<TenantGateOptions>;

  constructor(opts: TenantGateOptions) {
    this.opts = { queueMax: 256, waitMs: 30_000, sharedMax: 64, ...opts };
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
      l = { active: 0, shared: 0, waiters: [] };
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
      this.dropIfIdle(tenant, l);
    };
  }

  private dropIfIdle(tenant: string, l: Lane): void {
    if (l.active === 0 && l.shared === 0 && this.lanes.get(tenant) === l) this.lanes.delete(tenant);
  }

  /**
   * Counts one lent slot of the tenant until the returned function is called; undefined (nothing
   * counted) when sharedMax are lent already. The lane exists: the caller holds a slot of it.
   */
  lend(tenant: string): (() => void) | undefined {
    const l = this.lanes.get(tenant);
    if (!l || l.shared >= this.opts.sharedMax) return undefined;
    l.shared++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      l.shared--;
      this.dropIfIdle(tenant, l);
    };
  }

  /** Handlers of the tenant running now (tests, metrics). */
  active(tenant: string): number {
    return this.lanes.get(tenant)?.active ?? 0;
  }

  /** Requests of the tenant whose slot is lent out now (tests, metrics). */
  shared(tenant: string): number {
    return this.lanes.get(tenant)?.shared ?? 0;
  }
}

/**
 * The gate slot of one gated request's handler (registerTenantConcurrency makes one per request;
 * without a gate there is none, and callers run their work directly).
 */
export class TenantSlot {
  private release: (() => void) | undefined;

  constructor(
    private readonly gate: TenantGate,
    private readonly tenant: string,
    release: () => void,
    private readonly refuse: GateRefusal,
  ) {
    this.release = release;
  }

  /**
   * Runs `work`, a wait for a database turn shared with other requests, with the slot given to the
   * tenant's next request meanwhile; the slot is not held afterwards (hold() takes one again).
   * When the tenant has sharedMax slots lent already, work runs holding the slot.
   */
  async share<T>(work: () => Promise<T>): Promise<T> {
    if (!this.release) return work();
    const endLend = this.gate.lend(this.tenant);
    if (!endLend) return work();
    this.end();
    try {
      return await work();
    } finally {
      endLend();
    }
  }

  /** Holds a slot again after share(), waiting as a new request does (and refused as it is). */
  async hold(): Promise<void> {
    if (this.release) return;
    this.release = this.gate.tryAcquire(this.tenant) ?? await this.gate.acquire(this.tenant, this.refuse);
  }

  /** Gives the slot back (to a waiter, or to the lane) if held. */
  end(): void {
    const r = this.release;
    this.release = undefined;
    r?.();
  }
}

const slots = new WeakMap<FastifyRequest, TenantSlot>();

/** The slot of a gated request's handler (undefined: the route is not gated, or there is no gate). */
export const tenantSlotOf = (req: FastifyRequest): TenantSlot | undefined => slots.get(req);

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
      const slot = new TenantSlot(gate, tenant, gate.tryAcquire(tenant) ?? await gate.acquire(tenant, opts.error), opts.error);
      slots.set(req, slot);
      try {
        return await handler.call(this, req, reply);
      } finally {
        slot.end();
      }
    };
    route.handler = gated;
  });
  return gate;
}
