// Daemon entry: config -> db -> redis -> modules (asterisk nodes, routing, caller IDs, pbx...) -> api.
// Stops in reverse order on SIGTERM/SIGINT.
import type { FastifyPluginAsync } from 'fastify';
import apiKeyRoutes from './auth/routes/api-keys.ts';
import { type App, buildApp } from './platform/http/app.ts';
import type { ReadinessCheck } from './platform/http/context.ts';
import { KeyStore } from './auth/keys.ts';
import type { Config } from './config.ts';
import { stasisApps } from './asterisk/index.ts';
import { createDatabase, pendingMigrations, runMigrations } from './platform/db.ts';
import type { Logger } from './platform/logger.ts';
import { createMetrics } from './platform/metrics.ts';
import { stopPart, stopPartMs } from './platform/stop.ts';
import type { DaemonContext, DaemonModule, ModuleFactory } from './platform/module.ts';
import { StartupError } from './platform/module.ts';
import { Counter, type Registry } from 'prom-client';
import { countRedisErrors, createRedis, quitOrDisconnect, waitReady } from './platform/redis/client.ts';

// Domain modules import these from src/platform/module.ts; callerid and the CLI still import them
// from here.
export { type DaemonContext, type DaemonModule, type ModuleFactory, StartupError };

export interface Daemon {
  app: App;
  ctx: DaemonContext;
  /** The address the API listens on. */
  address: string;
  stop(): Promise<void>;
}

export async function startDaemon(
  config: Config,
  log: Logger,
  factories: ModuleFactory[] = [],
  opts: { listen?: boolean } = {},
): Promise<Daemon> {
  const database = createDatabase(config.DATABASE_URL);
  const redis = createRedis(config.REDIS_URL, {}, log);
  const closeAll = async () => {
    redis.disconnect();
    await database.close().catch(() => {});
  };
  try {
    await database.sql`select 1`.catch((e: Error) => {
      throw new StartupError(`cannot reach PostgreSQL at ${safeUrl(config.DATABASE_URL)}: ${e.message}`);
    });
    if (config.MIGRATE_ON_START) {
      const r = await runMigrations(config.DATABASE_URL);
      log.info({ applied: r.applied }, 'migrations applied');
    }
    const pending = await pendingMigrations(database.sql);
    if (pending > 0)
      throw new StartupError(
        `database has ${pending} pending migration(s): run "capconduit migrate" (or set MIGRATE_ON_START=true)`,
      );
    await waitReady(redis, 5000, 'Redis').catch(() => {
      throw new StartupError(`cannot reach Redis at ${safeUrl(config.REDIS_URL)}`);
    });
  } catch (e) {
    await closeAll();
    throw e;
  }

  const metrics = createMetrics({
    app: stasisApps(config.STASIS_APP, config.INSTANCE_ID, config.STASIS_BROADCAST)[0]!,
    instance: config.INSTANCE_ID,
  });
  const stopNet = lastNetForRejections(log, metrics);
  countRedisErrors(redis, metrics, 'redis');
  const ctx: DaemonContext = { config, log, database, redis, metrics, modules: new Map() };
  const started: DaemonModule[] = [];
  const readiness: ReadinessCheck[] = [
    { name: 'postgres', check: async () => void (await database.sql`select 1`) },
    {
      name: 'redis',
      check: async () => {
        if (redis.status !== 'ready') throw new Error(`redis ${redis.status}`);
        await redis.ping();
      },
    },
  ];
  const routes: FastifyPluginAsync[] = [apiKeyRoutes];
  try {
    // Build every module first, so each can subscribe to the others before any link starts
    // delivering events; then start them in order.
    const built: DaemonModule[] = [];
    for (const f of factories) {
      const m = await f(ctx);
      ctx.modules.set(m.name, m);
      built.push(m);
    }
    for (const m of built) {
      await m.start?.();
      started.push(m);
      readiness.push(...(m.readiness ?? []));
      routes.push(...(m.routes ?? []));
    }
  } catch (e) {
    for (const m of started.reverse()) await m.stop?.().catch(() => {});
    await closeAll();
    throw e;
  }

  const app = await buildApp({
    config,
    log,
    database,
    redis,
    keys: new KeyStore(database.db),
    metrics,
    readiness,
    routes,
  });
  let address = '';
  if (opts.listen !== false) address = await app.listen({ host: config.API_HOST, port: config.API_PORT });
  else await app.ready();

  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      // Each part bounded (platform/stop.ts): one that hangs is logged by name and the stop goes
      // on, so the modules after it (routing and its CDR flush last) and the connections still close.
      const ms = stopPartMs(config.SHUTDOWN_GRACE_MS);
      // Fastify stops accepting, answers 503 to new requests on kept-alive sockets,
      // and waits for requests in flight before resolving.
      await stopPart(log, 'api', () => app.close(), ms);
      for (const m of started.reverse())
        if (m.stop) await stopPart(log, `module ${m.name}`, () => m.stop!(), ms);
      await quitOrDisconnect(redis, log, 'redis', ms);
      await stopPart(log, 'postgres', () => database.close(), ms);
      stopNet();
    })();
    return stopping;
  };
  return { app, ctx, address, stop };
}

/**
 * The last net: a promise that rejects with nobody listening would make Node exit, taking every call
 * in progress with it. Each code path handles its own failures; what still slips through is logged
 * and counted here (`capconduit_unhandled_rejections_total` should stay 0), and the daemon runs on.
 */
function lastNetForRejections(log: Logger, metrics: Registry): () => void {
  const counter = new Counter({
    name: 'capconduit_unhandled_rejections_total',
    help: 'Promise rejections nothing handled (a bug: each is logged with its stack)',
    registers: [metrics],
  });
  const onRejection = (reason: unknown) => {
    counter.inc();
    log.error({ err: reason }, 'unhandled promise rejection');
  };
  process.on('unhandledRejection', onRejection);
  return () => process.off('unhandledRejection', onRejection);
}

/** A URL with its password masked, for messages. */
export function safeUrl(u: string): string {
  try {
    const x = new URL(u);
    if (x.password) x.password = '***';
    if (x.searchParams.has('password')) x.searchParams.set('password', '***');
    return x.toString();
  } catch {
    return '<invalid url>';
  }
}
