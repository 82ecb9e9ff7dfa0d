import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import type { Database } from '../db/types.js';
import { scheduleUpkeep, type UpkeepScheduler } from '../db/upkeep.js';
import { TargetPolicy } from '../lib/outbound.js';
import { SecretBox } from '../lib/secret-box.js';
import { EventsWorker, type EventsWorkerOptions } from './worker.js';

export { emitEvent, emitEvents } from './outbox.js';
export { eventsObserver } from './observer.js';
export { EVENT_TYPES, type EventType } from './types.js';
export { EventsWorker } from './worker.js';
export { expandAccessChanges } from './access-events.js';

export { reencryptWebhookSecrets } from './webhooks.js';

/** `secrets`: the app's SecretBox (default: one from the configured keys only). */
export function workerOptions(config: Config, secrets: SecretBox = new SecretBox(config.secretKey, config.secretKeysPrevious)): EventsWorkerOptions {
  return {
    pollMs: config.workerPollMs,
    leaseMs: config.workerLeaseMs,
    timeoutMs: config.webhookTimeoutMs,
    retry: { baseMs: config.webhookBackoffBaseMs, maxMs: config.webhookBackoffMaxMs, windowMs: config.webhookRetryWindowMs },
    smtpUrl: config.smtpUrl,
    smtpFrom: config.smtpFrom,
    invitationUrl: config.invitationUrl,
    cleanupEveryMs: 10 * 60_000,
    concurrency: config.webhookConcurrency,
    perTenant: config.webhookTenantConcurrency,
    batch: 1000,
    targets: new TargetPolicy(config.allowPrivateTargets),
    secrets,
  };
}

/**
 * App wiring (one line in src/app.ts, after the database's onClose hook so that this one runs
 * first): starts the outbox worker and the table upkeep (src/db/upkeep.ts, unless
 * `config.tableUpkeep` is off) when ready unless `config.worker` is off; on close, stops both while
 * the database is still open.
 */
export function registerEvents(app: FastifyInstance, db: Database, config: Config, secrets: SecretBox): EventsWorker | undefined {
  const worker = config.worker ? new EventsWorker(db, workerOptions(config, secrets), app.log) : undefined;
  let upkeep: UpkeepScheduler | undefined;
  if (worker) {
    app.addHook('onReady', async () => {
      worker.start();
      if (config.tableUpkeep) upkeep = scheduleUpkeep(db, app.log);
    });
    // Both sleep while idle; a finished request (its writes committed) may have given them work.
    app.addHook('onResponse', async () => {
      worker.nudge();
      upkeep?.nudge();
    });
  }
  app.addHook('onClose', async () => {
    await upkeep?.stop();
    await worker?.stop();
  });
  return worker;
}
