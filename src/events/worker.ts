import { randomUUID } from 'node:crypto';
import type { Agent } from 'undici';
import type { Database } from '../db/types.js';
import { createOutboundAgent, TargetPolicy } from '../lib/outbound.js';
import type { SecretBox } from '../lib/secret-box.js';
import { dispatchPass } from './dispatch.js';
import { expandAccessChanges } from './access-events.js';
import { claimWebhooks, serveQueue, type DeliverOptions, type RetryPolicy } from './delivery.js';
import { createMailer, sendInvitationsRound, type Mailer } from './invitations.js';
import { cleanupExpired } from './retention.js';

export interface EventsWorkerOptions {
  /** Idle poll interval. */
  pollMs: number;
  /** How long a claimed webhook queue / invitation stays with this worker without renewal. */
  leaseMs: number;
  timeoutMs: number;
  retry: RetryPolicy;
  smtpUrl: string | undefined;
  smtpFrom: string;
  invitationUrl: string | undefined;
  /** Retention cleanup period (0 = never). */
  cleanupEveryMs: number;
  /** Webhook queues served at once, and at most this many of one tenant. */
  concurrency: number;
  perTenant: number;
  batch: number;
  /** Where webhooks may connect (src/lib/outbound.ts). */
  targets: TargetPolicy;
  /** Decrypts webhook secrets. */
  secrets: SecretBox;
}

/** With no access change pending, the next look for one waits this long. */
const ACCESS_IDLE_MS = 250;

/** Below this many items moved in a pass, the next pass waits COALESCE_MS. */
const COALESCE_BELOW = 100;
const COALESCE_MS = 50;

/**
 * An idle worker sleeps instead of polling (issue 21: an idle server spent ~3% of a core on passes
 * every pollMs). It stays at pollMs for HOT_MS after the last work or nudge (retries and follow-ups
 * of a burst come quickly), then looks only every IDLE_BACKSTOP_MS (a retry falling due, another
 * process's expired lease, a write by a process without a worker) until a nudge wakes it.
 */
const HOT_MS = 10_000;
/** The longest wait between passes while committed events wait behind an open transaction. */
const WAITING_MAX_MS = 1_000;
const IDLE_BACKSTOP_MS = 5_000;

type Log = {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
};

/**
 * The outbox worker: access-change expansion (access-events.ts), dispatch (fan-out), webhook deliveries, invitations, retention. All its
 * state is in the database (claims, leases, backoff), so any number of processes may run one.
 */
export class EventsWorker {
  readonly id = randomUUID();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopping = false;
  private lastCleanup = 0;
  private nextAccessAt = 0;
  /** A queue finished with work done while a pass was running: the next pass comes at once. */
  private woken = false;
  /**
   * A request finished while a pass was running: that pass may have read before the request's
   * transaction committed, so the next one comes within COALESCE_MS, not after an idle wait.
   */
  private nudged = false;
  /**
   * Events are committed but held back by a transaction still open elsewhere (dispatch.ts
   * DispatchPass.waiting): the next pass comes after this many ms (doubling from COALESCE_MS up to
   * WAITING_MAX_MS while it lasts), not after the idle wait; 0 when nothing waits.
   */
  private waitingMs = 0;
  /** When the last pass moved something or the last nudge came (Date.now()). */
  private lastWorkAt = 0;
  /** When the pending timer fires (Date.now() based), to tell a long sleep from a short wait. */
  private timerAt = 0;
  private readonly agent: Agent;
  private readonly mailer: Mailer;
  /** Webhook queues being served now; a pass never waits for them. */
  private readonly serving = new Set<Promise<void>>();

  constructor(
    private readonly db: Database,
    private readonly opts: EventsWorkerOptions,
    private readonly log: Log,
    mailer?: Mailer,
  ) {
    this.agent = createOutboundAgent(opts.targets, {
      keepAliveTimeout: 10_000,
      connections: 64,
      connectTimeoutMs: opts.timeoutMs,
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
    });
    this.mailer = mailer ?? createMailer(opts.smtpUrl, log);
  }

  start(): void {
    this.stopping = false;
    this.lastCleanup = Date.now(); // first cleanup after one period, not at boot
    this.lastWorkAt = Date.now();
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.stopping) return;
    this.timerAt = Date.now() + ms;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.woken = false;
      this.nudged = false;
      this.running = this.tickCount().then((done) => {
        this.running = undefined;
        if (this.woken) return this.schedule(0);
        // A backlog: go on at once. A trickle (a sync creating users one by one): let a few more
        // events gather first — each pass costs the same few queries whether it moves 1 event or 100.
        // Queues in flight free their slots soon: look again shortly.
        if (done > 0) this.lastWorkAt = Date.now();
        this.schedule(done >= COALESCE_BELOW ? 0
          : done > 0 || this.serving.size > 0 || this.nudged ? COALESCE_MS
            : this.waitingMs > 0 ? Math.min(this.waitingMs, this.idleMs()) : this.idleMs());
      });
    }, ms);
  }

  private idleMs(): number {
    return Date.now() - this.lastWorkAt < HOT_MS ? this.opts.pollMs : Math.max(this.opts.pollMs, IDLE_BACKSTOP_MS);
  }

  /**
   * Something may have given the worker work (a request finished: its transaction has committed).
   * A sleeping worker looks within COALESCE_MS, letting a burst's events gather; one in a pass looks
   * again within COALESCE_MS after it; a busy one goes on.
   */
  nudge(): void {
    this.lastWorkAt = Date.now();
    if (this.running) this.nudged = true;
    if (this.stopping || !this.timer || this.timerAt <= Date.now() + COALESCE_MS) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.schedule(COALESCE_MS);
  }

  /** One pass over every duty; true when it did something. */
  async tick(): Promise<boolean> {
    return (await this.tickCount()) > 0;
  }

  /** One pass over every duty; the number of events, deliveries and invitations it moved. */
  private async tickCount(): Promise<number> {
    let done = 0;
    const step = async (name: string, fn: () => Promise<number>) => {
      if (this.stopping) return;
      try {
        done += await fn();
      } catch (err) {
        this.log.error({ err, step: name }, 'events worker step failed');
      }
    };
    // Access changes first: the events they expand into are fanned out in the same pass. When the
    // last look found none, the next is at most ACCESS_IDLE_MS later (one query fewer per pass).
    if (Date.now() >= this.nextAccessAt) {
      await step('access', async () => {
        const n = await expandAccessChanges(this.db);
        this.nextAccessAt = n > 0 ? 0 : Date.now() + ACCESS_IDLE_MS;
        return n;
      });
    }
    await step('dispatch', async () => {
      const pass = await dispatchPass(this.db);
      this.waitingMs = pass.waiting ? Math.min(this.waitingMs * 2 || COALESCE_MS, WAITING_MAX_MS) : 0;
      return pass.n;
    });
    await step('webhooks', () => this.startQueues());
    await step('invitations', () =>
      sendInvitationsRound(this.db, this.mailer, {
        owner: this.id,
        leaseMs: this.opts.leaseMs,
        from: this.opts.smtpFrom,
        urlTemplate: this.opts.invitationUrl,
        retry: this.opts.retry,
        batch: 20,
        log: this.log,
      }),
    );
    if (this.opts.cleanupEveryMs > 0 && Date.now() - this.lastCleanup >= this.opts.cleanupEveryMs) {
      this.lastCleanup = Date.now();
      await step('retention', async () => {
        const r = await cleanupExpired(this.db);
        if (r.logRows + r.events > 0) this.log.info(r, 'retention cleanup');
        return 0;
      });
    }
    return done;
  }

  /**
   * Claims webhook queues for the free slots and serves them in the background: a slow receiver
   * holds its own slot only (bounded by the HTTP timeout and the queue's time budget), never the
   * pass, dispatch, or another tenant's deliveries. Returns the number of queues started.
   */
  private async startQueues(): Promise<number> {
    const free = this.opts.concurrency - this.serving.size;
    if (free <= 0) return 0;
    const opts: DeliverOptions = {
      owner: this.id,
      leaseMs: this.opts.leaseMs,
      timeoutMs: this.opts.timeoutMs,
      retry: this.opts.retry,
      batch: this.opts.batch,
      concurrency: this.opts.concurrency,
      perTenant: this.opts.perTenant,
      secrets: this.opts.secrets,
      isStopping: () => this.stopping,
      log: this.log,
    };
    const claimed = await claimWebhooks(this.db, { owner: this.id, leaseMs: this.opts.leaseMs, limit: free, perTenant: this.opts.perTenant });
    for (const w of claimed) {
      const p: Promise<void> = serveQueue(this.db, this.agent, w, opts).then(
        (n) => {
          this.serving.delete(p);
          if (n > 0) this.wake();
        },
        (err: unknown) => {
          this.serving.delete(p);
          this.log.warn({ err, tenantId: w.tenant_id, webhookId: w.id }, 'webhook queue round failed; its lease expires');
        },
      );
      this.serving.add(p);
    }
    return claimed.length;
  }

  /** A queue finished with work done: its webhook may have more, so the next pass comes now. */
  private wake(): void {
    if (this.stopping) return;
    if (this.running) {
      this.woken = true;
      return;
    }
    if (!this.timer) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.schedule(0);
  }

  /** Finishes the deliveries in flight (bounded by the HTTP timeout), gives leases back. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    await Promise.allSettled([...this.serving]);
    this.mailer.close();
    await this.agent.close().catch(() => {});
  }
}
