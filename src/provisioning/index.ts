// The `provisioning` daemon module: carrier accounts, numbers as DIDs, jobs on BullMQ (workers in the
// daemon unless PROVISIONING_WORKERS=false; `capconduit worker` runs them alone), signed webhooks, and the carrier trunk
// of each account written through the PBX module.
import type { Redis } from 'ioredis';
import { Counter, Histogram } from 'prom-client';
import type { PbxModule } from '../pbx/index.ts';
import type { DaemonContext, DaemonModule } from '../platform/module.ts';
import { BullConnections, closeWorkers, type WorkerCloser } from '../platform/redis/bull-close.ts';
import { BullErrors, countRedisErrors, createRedis, quitOrDisconnect } from '../platform/redis/client.ts';
import { stopPartMs } from '../platform/stop.ts';
import { RedisKeys } from '../platform/redis/keys.ts';
import { ItemRunner } from './jobs/items.ts';
import { ProvisioningQueues } from './jobs/queue.ts';
import { ProvisioningRepository } from './repository.ts';
import { accountRoutes } from './routes/accounts.ts';
import { numberRoutes } from './routes/numbers.ts';
import { Keyring } from './sealed.ts';
import { ProvisioningService } from './service.ts';
import { webhookRoutes } from './routes/webhooks.ts';
import { WebhookService } from './webhooks/service.ts';

export interface ProvisioningModule extends DaemonModule {
  name: 'provisioning';
  service: ProvisioningService;
  queues: ProvisioningQueues;
  webhooks: WebhookService;
  /** Starts the workers (the daemon does it itself unless PROVISIONING_WORKERS=false). */
  startWorkers(): Promise<void>;
}

export function createProvisioningModule(
  ctx: DaemonContext,
  opts: { workers?: boolean } = {},
): ProvisioningModule {
  const { config, database, log, metrics } = ctx;
  const plog = log.child({ module: 'provisioning' });
  const keyring = new Keyring(config.masterKey, config.previousMasterKeys);
  const latency = new Histogram({
    name: 'capconduit_carrier_request_seconds',
    help: 'Carrier API request latency by provider account, operation and outcome (HTTP status, timeout, network)',
    labelNames: ['provider_account', 'operation', 'outcome'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [metrics],
  });
  const outcomes = new Counter({
    name: 'capconduit_provisioning_items_total',
    help: 'Job items finished, by job kind and outcome',
    labelNames: ['kind', 'outcome'],
    registers: [metrics],
  });
  const service = new ProvisioningService(
    new ProvisioningRepository(database.db),
    keyring,
    ctx.redis,
    new RedisKeys(config.REDIS_KEY_PREFIX),
    latency,
    plog,
  );
  const pbx = ctx.modules.get('pbx') as PbxModule | undefined;
  if (pbx)
    service.trunks = {
      ensureCarrierTrunk: async (name, cidrs) =>
        (await pbx.service.trunks.ensureCarrier({ keyId: null }, name, cidrs)).endpoint,
    };
  // BullMQ wants a connection that waits for Redis rather than failing fast (workers block on it).
  // Its outages are logged once each (createRedis) and its errors counted, with those of the queues
  // and workers on it (BullErrors).
  const bull: Redis = createRedis(
    config.REDIS_URL,
    { maxRetriesPerRequest: null, enableOfflineQueue: true },
    plog,
    'bullmq',
  );
  countRedisErrors(bull, metrics, 'bullmq');
  // Followed before any worker duplicates it: the stop needs to know whether they are all up.
  const bullConns = new BullConnections(bull);
  const errors = new BullErrors(plog, metrics, 'bullmq');
  const queues = new ProvisioningQueues(
    bull,
    service,
    new ItemRunner(service, outcomes),
    {
      prefix: `${config.REDIS_KEY_PREFIX}:bull`,
      attempts: config.PROVISIONING_ATTEMPTS,
      lockMs: config.PROVISIONING_LOCK_MS,
      reconcileEveryH: config.PROVISIONING_RECONCILE_INTERVAL_H,
      errors,
    },
    plog,
    metrics,
  );
  service.queue = queues;
  const webhooks = new WebhookService(
    database.db,
    keyring,
    bull,
    {
      prefix: `${config.REDIS_KEY_PREFIX}:bull`,
      attempts: config.PROVISIONING_ATTEMPTS,
      allowPrivate: config.WEBHOOK_ALLOW_PRIVATE,
      timeoutMs: config.WEBHOOK_TIMEOUT_MS,
      errors,
    },
    plog,
    database.sql,
  );
  service.events = webhooks;
  const runWorkers = opts.workers ?? config.PROVISIONING_WORKERS;
  return {
    name: 'provisioning',
    service,
    queues,
    webhooks,
    routes: [accountRoutes(service), numberRoutes(service), webhookRoutes(webhooks)],
    startWorkers: async () => {
      await webhooks.startWorker();
      await queues.startWorkers();
    },
    async start() {
      if (runWorkers) {
        await webhooks.startWorker();
        await queues.startWorkers();
      }
    },
    async stop() {
      // Each wait a quarter of the grace (so the whole of it stays within the half the daemon's
      // stop gives a module): BullMQ's connections to be up again, then each worker's close.
      const ms = stopPartMs(config.SHUTDOWN_GRACE_MS) / 2;
      const up = await bullConns.allUp(ms);
      if (!up)
        plog.warn(
          {},
          'stop: Redis not reachable; BullMQ workers closed without waiting for their current jobs',
        );
      const closer: WorkerCloser = (workers) => closeWorkers(workers, up, plog, ms);
      await Promise.all([queues.close(closer), webhooks.close(closer)]);
      await quitOrDisconnect(bull, plog, 'provisioning BullMQ connection', ms);
    },
  };
}
