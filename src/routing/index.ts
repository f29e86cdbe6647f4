// The `routing` daemon module: the resources calls are routed by (sellers, clients, campaigns, DIDs,
// links), the Redis slot store that enforces link caps, the CDR write path and, when Asterisk nodes
// are configured, the inbound Stasis router.
import { RoutingAlerts } from './alerts.ts';
import { AriError, type AsteriskModule } from '../asterisk/index.ts';
import { callRoutes } from '../cdr/routes/calls.ts';
import { CdrRetention, type RecordingDeleter } from '../cdr/retention.ts';
import { cdrMetrics } from '../cdr/metrics.ts';
import { CdrWriter } from '../cdr/writer.ts';
import type { Logger } from '../platform/logger.ts';
import { CALM_WINDOWS, LoopDelayGuard, type LoopDelaySampler } from '../platform/loop-delay.ts';
import type { DaemonContext, DaemonModule } from '../platform/module.ts';
import { RedisKeys } from '../platform/redis/keys.ts';
import { CallerScreen } from './callers.ts';
import { CallStore } from './call-store.ts';
import { adoptCampaignQueues } from './legacy-keys.ts';
import { HoldQueue } from './queue.ts';
import type { AtTimer } from './queue-waiters.ts';
import { linksOfCampaign } from './repository/links.ts';
import { answersApplied } from './repository/totals.ts';
import { RouteCatalog } from './catalog.ts';
import { followPlanChanges } from './plan-changes.ts';
import { InboundRouter } from './router.ts';
import { callerBlockRoutes } from './routes/caller-blocks.ts';
import { campaignRoutes } from './routes/campaigns.ts';
import { clientRoutes } from './routes/clients.ts';
import { didRoutes } from './routes/dids.ts';
import { groupRoutes } from './routes/groups.ts';
import { linkRoutes } from './routes/links.ts';
import { liveRoutes } from './routes/live.ts';
import { sellerRoutes } from './routes/sellers.ts';
import { RoutingService } from './service.ts';
import { SlotStore } from './slots.ts';
import { AnsweredTotals } from './totals.ts';
import { restoreUsesOnDataLoss } from './usage-restore.ts';

export interface RoutingModule extends DaemonModule {
  name: 'routing';
  slots: SlotStore;
  cdr: CdrWriter;
  totals: AnsweredTotals;
  router: InboundRouter | null;
  /** The resources' operations, for other front ends (the console) as for the API's routes. */
  service: RoutingService;
}

/** Deletes a recording on the node that recorded it (retention); not found there counts as deleted. */
export function recordingDeleter(asterisk: AsteriskModule | undefined, log: Logger): RecordingDeleter {
  return async (nodeId, name) => {
    const node = asterisk?.nodes.get(nodeId);
    if (!node) return false;
    try {
      await node.ari.recordings.deleteStored(name);
      return true;
    } catch (err) {
      if (err instanceof AriError && err.status === 404) return true;
      log.warn({ nodeId, recording: name, err: (err as Error).message }, 'recording not deleted; next run');
      return false;
    }
  };
}

/**
 * `o.loopSampler`: how this process's event-loop delay is read (default perf_hooks'
 * monitorEventLoopDelay); tests give their own to make the process behind at will.
 */
export function createRoutingModule(
  ctx: DaemonContext,
  o: {
    loopSampler?: LoopDelaySampler;
    /** The routing clock (ms) and a timer on it (tests move it; default the system's). */
    now?: () => number;
    hourTimer?: AtTimer;
  } = {},
): RoutingModule {
  const { config, database, log, metrics } = ctx;
  const keys = new RedisKeys(config.REDIS_KEY_PREFIX);
  const slots = new SlotStore(ctx.redis, keys, config.SLOT_TTL_S * 1000);
  const cdr = new CdrWriter(
    database.sql,
    config.CDR_BUFFER_DIR,
    config.INSTANCE_ID,
    log.child({ module: 'cdr' }),
  );
  cdrMetrics(metrics, cdr);
  const totals = new AnsweredTotals(database.db, ctx.redis, keys.routing, log.child({ module: 'routing' }));
  const asterisk = ctx.modules.get('asterisk') as AsteriskModule | undefined;
  const deleteRecording = recordingDeleter(asterisk, log.child({ module: 'cdr' }));
  const retention = new CdrRetention(
    database.db,
    ctx.redis,
    keys.cdrRetentionLock,
    {
      cdrDays: config.CDR_RETENTION_DAYS,
      callerNumberDays: config.CALLER_NUMBER_RETENTION_DAYS,
      recordingDays: config.RECORDING_RETENTION_DAYS,
      batch: 5_000,
    },
    log.child({ module: 'cdr' }),
    deleteRecording,
  );
  const service = new RoutingService(database.db);
  const catalog = new RouteCatalog(database.db, config.ROUTING_PLAN_TTL_S * 1000);
  let planChanges: { stop(): Promise<void> } | null = null;
  const alerts = new RoutingAlerts(
    database.db,
    ctx.redis,
    keys,
    {
      throttleS: config.ALERT_THROTTLE_S,
      defaultTimezone: config.DEFAULT_TIMEZONE,
      instanceId: config.INSTANCE_ID,
    },
    log.child({ module: 'alerts' }),
    metrics,
  );
  if (asterisk) alerts.watchNodes(asterisk.nodes.values());
  const store = new CallStore(
    ctx.redis,
    keys.routing,
    config.INSTANCE_ID,
    {
      ttlMs: config.SLOT_TTL_S * 1000,
      deadAfterMs: config.INSTANCE_DEAD_AFTER_S * 1000,
      beatMs: (config.INSTANCE_DEAD_AFTER_S * 1000) / 5,
    },
    log.child({ module: 'routing' }),
  );
  const routingLog = log.child({ module: 'routing' });
  const loop =
    asterisk && config.EVENT_LOOP_SHED_MS > 0
      ? new LoopDelayGuard(
          {
            shedMs: config.EVENT_LOOP_SHED_MS,
            resumeMs: config.EVENT_LOOP_RESUME_MS ?? config.EVENT_LOOP_SHED_MS / 2,
            calmWindows: CALM_WINDOWS,
          },
          {
            ...(o.loopSampler ? { sampler: o.loopSampler } : {}),
            onChange: (behind, delayMs) =>
              behind
                ? routingLog.warn(
                    { delayMs: Math.round(delayMs), boundMs: config.EVENT_LOOP_SHED_MS },
                    "shedding new calls: this process's event loop is late",
                  )
                : routingLog.info(
                    { delayMs: Math.round(delayMs) },
                    'event loop caught up: new calls admitted again',
                  ),
          },
        )
      : null;
  const router = asterisk
    ? new InboundRouter({
        loop,
        asterisk,
        slots,
        catalog,
        screen: new CallerScreen(database.db, ctx.redis, keys.routing),
        queue: new HoldQueue(ctx.redis, keys.routing, { log, metrics }),
        cdr,
        store,
        alerts,
        log: log.child({ module: 'routing' }),
        metrics,
        defaultTimezone: config.DEFAULT_TIMEZONE,
        reconcileEveryMs: config.RECONCILE_INTERVAL_S * 1000,
        queuePollMs: config.HOLD_QUEUE_POLL_MS,
        ...(o.now ? { now: o.now } : {}),
        ...(o.hourTimer ? { hourTimer: o.hourTimer } : {}),
        answersApplied: (ids) => answersApplied(database.db, ids),
        unseen: {
          db: database.db,
          tables: new Map(
            config.asteriskNodes.flatMap((n) => (n.cdrTable ? [[n.id, n.cdrTable] as const] : [])),
          ),
          graceMs: config.UNSEEN_CALLS_GRACE_S * 1000,
        },
      })
    : null;
  // After the router's own handler (the live calls' slots first), the ended calls' uses.
  const usageRestore = router
    ? restoreUsesOnDataLoss({
        db: database.db,
        slots,
        cdr,
        log: log.child({ module: 'routing' }),
        metrics,
        defaultTimezone: config.DEFAULT_TIMEZONE,
      })
    : null;
  return {
    name: 'routing',
    slots,
    cdr,
    totals,
    router,
    service,
    routes: [
      sellerRoutes(service),
      clientRoutes(service),
      groupRoutes(service),
      campaignRoutes(service),
      didRoutes(service),
      linkRoutes(service),
      callerBlockRoutes(service),
      callRoutes(() => asterisk),
      liveRoutes(
        service,
        () => router,
        () => slots,
        o.now ?? Date.now,
      ),
    ],
    readiness: [
      {
        name: 'event-loop',
        critical: false,
        check: async () => {
          if (loop?.behind)
            throw new Error(
              `shedding new calls: this process's event loop is ${Math.round(loop.delayMs)} ms late (bound ${config.EVENT_LOOP_SHED_MS} ms)`,
            );
        },
      },
      {
        name: 'cdr',
        check: async () => {
          if (cdr.lastError) throw new Error(`${cdr.pending} CDRs buffered locally: ${cdr.lastError}`);
        },
      },
    ],
    async start() {
      loop?.start();
      if (router) {
        // Before any call is taken over: callers waiting in an earlier version's lines keep their place.
        const adopted = await adoptCampaignQueues(ctx.redis, keys.routing, async (id) =>
          (await linksOfCampaign(database.db, id)).map((l) => l.id),
        ).catch((err: Error) => {
          log.warn({ err: err.message }, 'hold-queue lines of an earlier version not read');
          return 0;
        });
        if (adopted)
          log.info({ adopted }, "hold-queue callers of an earlier version put in their links' lines");
        store.start();
        // Redis losing its data is noticed at the next take or within one heartbeat.
        await slots.watchEpoch(config.INSTANCE_DEAD_AFTER_S * 200);
        planChanges = followPlanChanges(database.sql, catalog, log.child({ module: 'routing' }), metrics);
      }
      cdr.start();
      totals.start();
      retention.start(config.RETENTION_SWEEP_MIN * 60_000);
    },
    async stop() {
      loop?.stop();
      alerts.stop();
      await planChanges?.stop();
      await router?.drain();
      // Before the goodbye below: what another instance then does with our calls is not ours to act on.
      router?.deafen();
      slots.stopWatching();
      // Before PostgreSQL closes: its looks-again after a Redis loss would query a closed pool.
      await usageRestore?.stop();
      if (router) await store.stop();
      await totals.stop();
      await retention.stop();
      await cdr.stop();
    },
  };
}
