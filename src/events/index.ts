import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import type { Database } from '../db/types.js';
import { EventsWorker, type EventsWorkerOptions } from './worker.js';
import { provisioningLogWriterOf } from './provisioning-log.js';

export { emitEvent, emitEvents } from './outbox.js';
export { eventsObserver } from './observer.js';
export { EVENT_TYPES, type EventType } from './types.js';
export { EventsWorker } from './worker.js';

export function workerOptions(config: Config): EventsWorkerOptions {
  return {
    pollMs: config.workerPollMs,
    leaseMs: config.workerLeaseMs,
    timeoutMs: config.webhookTimeoutMs,
    retry: { baseMs: config.webhookBackoffBaseMs, maxMs: config.webhookBackoffMaxMs, windowMs: config.webhookRetryWindowMs },
    smtpUrl: config.smtpUrl,
    smtpFrom: config.smtpFrom,
    invitationUrl: config.invitationUrl,
    cleanupEveryMs: 10 * 60_000,
    concurrency: 16,
    batch: 100,
  };
}

/**
 * App wiring (one line in src/app.ts, after the database's onClose hook so that this one runs
 * first): starts the outbox worker when ready unless `config.worker` is off; on close, stops it
 * and flushes the provisioning log while the database is still open.
 */
export function registerEvents(app: FastifyInstance, db: Database, config: Config): EventsWorker | undefined {
  const worker = config.worker ? new EventsWorker(db, workerOptions(config), app.log) : undefined;
  if (worker) app.addHook('onReady', async () => worker.start());
  app.addHook('onClose', async () => {
    await worker?.stop();
    await provisioningLogWriterOf(db)?.flush();
  });
  return worker;
}
