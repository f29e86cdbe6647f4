// The `console` daemon module: the operator web console at /console, served by the daemon's own
// app (same process and port as the API), and the live floor's publisher for this instance.
import type { FastifyInstance } from 'fastify';
import type { Counter } from 'prom-client';
import type { AsteriskModule } from '../asterisk/index.ts';
import type { CallerIdModule } from '../callerid/index.ts';
import type { PbxModule } from '../pbx/index.ts';
import type { ProvisioningModule } from '../provisioning/index.ts';
import type { ReportsModule } from '../reports/index.ts';
import { AuditService } from '../audit/service.ts';
import { CallsService } from '../cdr/service.ts';
import type { DaemonContext, DaemonModule } from '../platform/module.ts';
import { RedisKeys } from '../platform/redis/keys.ts';
import type { RoutingModule } from '../routing/index.ts';
import { Floor } from './floor.ts';
import { LiveHub, LivePublisher, type LiveSource } from './live.ts';
import { Lockout } from './lockout.ts';
import { type ConsoleRoute, consolePlugin } from './plugin.ts';
import { ConsoleRepository } from './repository.ts';
import { assetRoutes } from './routes/assets.ts';
import { apiKeyRoutes } from './routes/api-keys.ts';
import { auditRoutes } from './routes/audit.ts';
import { authRoutes } from './routes/auth.ts';
import { callerIdRoutes } from './routes/callerids.ts';
import { callTotalRoutes } from './routes/call-totals.ts';
import { callDetailRoutes } from './routes/call-detail.ts';
import { callRoutes } from './routes/calls.ts';
import { numberRoutes } from './routes/numbers.ts';
import { providerAccountRoutes } from './routes/provider-accounts.ts';
import { webhookRoutes } from './routes/webhooks.ts';
import { pbxRoutes } from './routes/pbx.ts';
import { liveRoutes } from './routes/live.ts';
import { routingRoutes } from './routes/routing.ts';
import { userRoutes } from './routes/users.ts';
import type { ConsoleServices } from './services.ts';
import { SessionStore } from './sessions.ts';
import { TotpReplayGuard } from './totp.ts';
import { ConsoleUsers } from './users.ts';

export interface ConsoleModule extends DaemonModule {
  name: 'console';
  services: ConsoleServices;
  hub: LiveHub;
  publisher: LivePublisher | null;
  /** Every route the console registered, as registered (public or not). */
  routeList: ConsoleRoute[];
}

/** Finished calls (and the answered ones) counted by the router's own metric. */
async function finishedCalls(ctx: DaemonContext) {
  const m = ctx.metrics.getSingleMetric('capconduit_calls_routed_total') as Counter | undefined;
  if (!m) return { routed: 0, answered: 0 };
  let routed = 0;
  let answered = 0;
  for (const v of (await m.get()).values) {
    routed += v.value;
    if (v.labels.disposition === 'answered') answered += v.value;
  }
  return { routed, answered };
}

export function createConsoleModule(ctx: DaemonContext): ConsoleModule {
  const { config, log, database, redis } = ctx;
  const routing = ctx.modules.get('routing') as RoutingModule | undefined;
  if (!routing) throw new Error('the console module needs the routing module (start it first)');
  const asterisk = () => ctx.modules.get('asterisk') as AsteriskModule | undefined;
  const keys = new RedisKeys(config.REDIS_KEY_PREFIX);
  const sessionsEnded = keys.plain('console', 'sess-ended');
  const sessions = new SessionStore(
    redis,
    keys,
    config.CONSOLE_SESSION_IDLE_MIN * 60_000,
    config.CONSOLE_SESSION_MAX_H * 3600_000,
    sessionsEnded,
  );
  const lockout = new Lockout(redis, keys);
  const users = new ConsoleUsers(
    new ConsoleRepository(database.db),
    config.masterKey,
    lockout,
    sessions,
    new TotpReplayGuard(redis, keys),
  );
  const services: ConsoleServices = {
    config,
    log: log.child({ module: 'console' }),
    database,
    redis,
    keys,
    users,
    sessions,
    lockout,
  };
  const channel = keys.plain('console', 'live');
  const floor = new Floor(routing.service, routing.slots, config.DEFAULT_TIMEZONE);
  const hub = new LiveHub(redis, channel, floor, services.log, sessionsEnded, ctx.metrics);
  const source: LiveSource = {
    calls: () => routing.router?.live() ?? [],
    nodes: () => [...(asterisk()?.nodes.values() ?? [])].map((n) => n.health()),
    counters: () => finishedCalls(ctx),
  };
  // Only an instance that routes calls has anything to say on the floor.
  const publisher = routing.router
    ? new LivePublisher(redis, channel, config.INSTANCE_ID, source, services.log)
    : null;

  const calls = new CallsService(database.db);
  const routeList: ConsoleRoute[] = [];
  const pages = [
    assetRoutes,
    authRoutes(services),
    userRoutes(services),
    liveRoutes(services, hub),
    routingRoutes(
      routing.service,
      () => floor.invalidate(),
      // Looked up per request: the provisioning module is created after this one.
      async () => {
        const p = ctx.modules.get('provisioning') as ProvisioningModule | undefined;
        return p ? (await p.service.repo.accounts()).map((a) => ({ id: a.id, name: a.name })) : [];
      },
    ),
    callRoutes(calls, routing.service),
    callDetailRoutes(calls, routing.service, asterisk, config.RECORDING_RETENTION_DAYS),
    apiKeyRoutes(database.db, routing.service, services),
    // The trail is written by database triggers whatever runs; reading it needs no module.
    auditRoutes(new AuditService(database.db)),
  ];
  return {
    name: 'console',
    services,
    hub,
    publisher,
    routeList,
    routes: [
      async (app: FastifyInstance) => {
        // Open event streams would hold the server's close; they end first.
        app.addHook('preClose', async () => hub.endAll());
        // Modules created after this one (the daemon registers routes once all are created).
        const callerid = ctx.modules.get('callerid') as CallerIdModule | undefined;
        const pbx = ctx.modules.get('pbx') as PbxModule | undefined;
        const provisioning = ctx.modules.get('provisioning') as ProvisioningModule | undefined;
        const reports = ctx.modules.get('reports') as ReportsModule | undefined;
        await app.register(
          consolePlugin(
            services,
            [
              ...pages,
              callTotalRoutes(reports?.service, routing.service, config.DEFAULT_TIMEZONE),
              callerIdRoutes(callerid?.service, config.PUBLIC_URL),
              pbxRoutes(pbx?.service, routing.service, config),
              numberRoutes(provisioning?.service, routing.service),
              providerAccountRoutes(provisioning?.service),
              webhookRoutes(provisioning?.webhooks, routing.service),
            ],
            routeList,
          ),
          { prefix: '/console' },
        );
      },
    ],
    async start() {
      publisher?.start();
    },
    async stop() {
      await publisher?.stop();
      hub.endAll();
    },
  };
}
