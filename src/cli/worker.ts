import { loadConfig } from '../config.ts';
import { startDaemon } from '../main.ts';
import { createPbxModule } from '../pbx/index.ts';
import { createLogger } from '../platform/logger.ts';
import { StartupError } from '../platform/module.ts';
import { createProvisioningModule } from '../provisioning/index.ts';
import { waitForSignal } from './start.ts';

export const usage = `usage: capconduit worker

Runs the BullMQ workers of DID provisioning alone, without the API: carrier job items (one queue per
provider account, at its concurrency and rate) and webhook deliveries. The daemon runs the same
workers itself unless PROVISIONING_WORKERS=false; run as many workers as needed, on any host that
reaches PostgreSQL and Redis. SIGTERM or SIGINT stops it gracefully.
`;

/** `capconduit worker`: the BullMQ workers (carrier jobs, webhook deliveries) without the API. */
export async function run(_argv: string[]): Promise<number> {
  const config = loadConfig();
  const log = createLogger({ level: config.LOG_LEVEL, pretty: config.LOG_PRETTY });
  let daemon: Awaited<ReturnType<typeof startDaemon>>;
  try {
    daemon = await startDaemon(
      config,
      log,
      [createPbxModule, (ctx) => createProvisioningModule(ctx, { workers: true })],
      {
        listen: false,
      },
    );
  } catch (e) {
    if (e instanceof StartupError) {
      log.fatal(e.message);
      return 1;
    }
    throw e;
  }
  log.info({ instance: config.INSTANCE_ID }, 'capconduit worker started');
  return waitForSignal(daemon.stop, log, config.SHUTDOWN_GRACE_MS);
}
