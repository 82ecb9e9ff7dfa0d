import { randomUUID } from 'node:crypto';
import { Agent } from 'undici';
import type { Database } from '../db/types.js';
import { dispatchPending } from './dispatch.js';
import { deliverRound, type RetryPolicy } from './delivery.js';
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
  concurrency: number;
  batch: number;
}

/** Below this many items moved in a pass, the next pass waits COALESCE_MS. */
const COALESCE_BELOW = 100;
const COALESCE_MS = 50;

type Log = {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
};

/**
 * The outbox worker: dispatch (fan-out), webhook deliveries, invitations, retention. All its
 * state is in the database (claims, leases, backoff), so any number of processes may run one.
 */
export class EventsWorker {
  readonly id = randomUUID();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopping = false;
  private lastCleanup = 0;
  private readonly agent: Agent;
  private readonly mailer: Mailer;

  constructor(
    private readonly db: Database,
    private readonly opts: EventsWorkerOptions,
    private readonly log: Log,
    mailer?: Mailer,
  ) {
    this.agent = new Agent({ keepAliveTimeout: 10_000, connections: 64 });
    this.mailer = mailer ?? createMailer(opts.smtpUrl, log);
  }

  start(): void {
    this.stopping = false;
    this.lastCleanup = Date.now(); // first cleanup after one period, not at boot
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.stopping) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.tickCount().then((done) => {
        this.running = undefined;
        // A backlog: go on at once. A trickle (a sync creating users one by one): let a few more
        // events gather first — each pass costs the same few queries whether it moves 1 event or 100.
        this.schedule(done >= COALESCE_BELOW ? 0 : done > 0 ? COALESCE_MS : this.opts.pollMs);
      });
    }, ms);
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
    await step('dispatch', () => dispatchPending(this.db));
    await step('webhooks', () =>
      deliverRound(this.db, this.agent, {
        owner: this.id,
        leaseMs: this.opts.leaseMs,
        timeoutMs: this.opts.timeoutMs,
        retry: this.opts.retry,
        batch: this.opts.batch,
        concurrency: this.opts.concurrency,
        isStopping: () => this.stopping,
        log: this.log,
      }),
    );
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

  /** Finishes the deliveries in flight (bounded by the HTTP timeout), gives leases back. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    this.mailer.close();
    await this.agent.close().catch(() => {});
  }
}
