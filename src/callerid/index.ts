// The `callerid` daemon module: caller-ID pools and numbers, GET /next-cid, the Redis hot state
// (rebuilt from PostgreSQL when Redis lost it), the usage flush, number health from AMI and the
// outbound Stasis handler.
import type { AsteriskModule } from '../asterisk/index.ts';
import type { DaemonContext, DaemonModule } from '../main.ts';
import { AppError } from '../platform/http/errors.ts';
import { countRedisErrors, createRedis, waitReady } from '../platform/redis/client.ts';
import { RedisKeys } from '../platform/redis/keys.ts';
import { HealthTracker } from './health.ts';
import { OutboundHandler } from './outbound.ts';
import { callerIdRoutes } from './routes/index.ts';
import { CallerIdService } from './service.ts';
import { CidStore } from './store.ts';

export interface CallerIdModule extends DaemonModule {
  name: 'callerid';
  service: CallerIdService;
  health: HealthTracker;
  outbound: OutboundHandler | null;
}

export function createCallerIdModule(ctx: DaemonContext, o: { now?: () => number } = {}): CallerIdModule {
  const { config, log } = ctx;
  const clog = log.child({ module: 'callerid' });
  // A connection of its own. No auto-pipelining: with a handful of dialer connections few picks share a
  // tick, and its per-command bookkeeping cost more than it saved (bench/next-cid: 1,684 -> 2,022 req/s).
  const redis = createRedis(config.REDIS_URL, {}, ctx.log, 'callerid');
  countRedisErrors(redis, ctx.metrics, 'callerid');
  const store = new CidStore(redis, new RedisKeys(config.REDIS_KEY_PREFIX));
  const service = new CallerIdService({
    sql: ctx.database.sql,
    db: ctx.database.db,
    store,
    log: clog,
    instanceId: config.INSTANCE_ID,
    timezone: config.CID_TIMEZONE ?? config.DEFAULT_TIMEZONE,
    reservationTtlMs: config.CID_RESERVATION_TTL_S * 1000,
    agentRatePerMin: config.CID_AGENT_RATE_PER_MIN,
    flushEveryMs: config.CID_FLUSH_INTERVAL_MS,
    promoteEveryMs: config.CID_PROMOTE_INTERVAL_MS,
    ...(o.now ? { now: o.now } : {}),
  });
  const health = new HealthTracker(
    service,
    config.CID_HEALTH_EVENT,
    { window: 20, minAnswerRate: 0, restS: 3600 },
    clog,
  );
  const asterisk = ctx.modules.get('asterisk') as AsteriskModule | undefined;
  let outbound: OutboundHandler | null = null;
  if (asterisk) {
    outbound = new OutboundHandler(asterisk, service, clog);
    asterisk.onStasisStart('outbound', outbound.onStasisStart);
    asterisk.onAmiEvent(
      (_node, ev) => {
        if (ev.event !== 'Hangup' && ev.event !== 'Cdr') return;
        void health
          .onAmiEvent(ev)
          .catch((err: unknown) =>
            clog.warn({ err: (err as Error).message }, 'caller-ID health event not counted'),
          );
      },
      [config.CID_HEALTH_EVENT === 'cdr' ? 'Cdr' : 'Hangup'],
    );
  }
  return {
    name: 'callerid',
    service,
    health,
    outbound,
    routes: callerIdRoutes(service),
    readiness: [
      {
        name: 'callerid',
        // Degraded, not 503: while the state is rebuilt the pools already placed are served, and a
        // load balancer acting on a 503 would take them away with the rest of the instance.
        critical: false,
        check: async () => {
          if (await store.isReady()) return;
          // Redis lost the hot state (or never had it): rebuild in the background and say so.
          void service.ensureReady().catch(() => {});
          throw new Error(
            'caller-ID state is being rebuilt from PostgreSQL (pools are served as they are placed)',
          );
        },
      },
    ],
    async start() {
      await waitReady(redis, 5000, 'caller-ID Redis connection');
      // The rebuild (Redis lost the state, or never had it) runs beside the daemon, never before
      // it: with a million numbers it takes minutes, and calls, the API and every pool already
      // placed are served meanwhile (/next-cid answers NOT_READY only for a pool not placed yet,
      // /ready says degraded). A rebuild that failed is started again by the next readiness check
      // or pick of a pool not placed.
      void service.ensureReady().catch((err: unknown) => {
        if (err instanceof AppError && err.code === 'NOT_READY')
          clog.warn(
            'caller-ID state still being rebuilt by another instance: its pools are served as it places them',
          );
        else if (!service.state.stopping)
          clog.error(
            { err: (err as Error).message },
            'caller-ID rebuild failed; it is tried again at the next readiness check',
          );
      });
      service.start();
    },
    async stop() {
      await service.stop();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
