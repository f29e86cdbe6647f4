import { loadConfig } from '../config.ts';
import { createLogger } from '../platform/logger.ts';
import { guardPostgresDeadSocketWrites } from '../platform/pg-write-guard.ts';
import { startDaemon, StartupError } from '../main.ts';
import { defaultModules } from '../modules.ts';
import { ensurePortsFree, portError } from './ports.ts';

export const usage = `usage: capconduit start

Runs the daemon: the API (API_HOST:API_PORT), the links to every configured Asterisk node, inbound
routing, caller-ID rotation, PBX provisioning and the workers. Configuration comes from the
environment and .env (every variable is in .env.example); a missing or invalid one stops it with one
line per problem (exit status 78). It refuses a database with pending migrations (capconduit migrate,
or MIGRATE_ON_START=true). SIGTERM or SIGINT stops it gracefully (exit status 0).
`;

export async function run(_argv: string[]): Promise<number> {
  const config = loadConfig();
  const log = createLogger({ level: config.LOG_LEVEL, pretty: config.LOG_PRETTY });
  await ensurePortsFree([{ host: config.API_HOST, port: config.API_PORT, setting: 'API_PORT' }]);
  let daemon: Awaited<ReturnType<typeof startDaemon>>;
  try {
    daemon = await startDaemon(config, log, defaultModules());
  } catch (e) {
    if (e instanceof StartupError) {
      log.fatal(e.message);
      return 1;
    }
    throw portError(e, 'API_PORT');
  }
  // The process's own: a PostgreSQL outage must not end it through a known driver defect.
  guardPostgresDeadSocketWrites(log, daemon.ctx.metrics);
  log.info({ address: daemon.address, instance: config.INSTANCE_ID }, 'capconduit started');
  return waitForSignal(daemon.stop, log, config.SHUTDOWN_GRACE_MS);
}

/** Resolves with the exit code once a SIGTERM/SIGINT has stopped the daemon. */
export function waitForSignal(
  stop: () => Promise<void>,
  log: { info(o: object, m: string): void; error(o: object, m: string): void },
  graceMs: number,
): Promise<number> {
  return new Promise((resolve) => {
    const onSignal = (sig: NodeJS.Signals) => {
      log.info({ signal: sig }, 'stopping');
      const force = setTimeout(() => {
        log.error({ graceMs }, 'graceful stop timed out; exiting');
        resolve(1);
      }, graceMs);
      force.unref();
      stop().then(
        () => {
          clearTimeout(force);
          log.info({}, 'stopped');
          resolve(0);
        },
        (err: unknown) => {
          clearTimeout(force);
          log.error({ err }, 'stop failed');
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  });
}
