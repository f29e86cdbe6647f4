// A daemon with the Asterisk and caller-ID modules over a Redis of its own (so FLUSHALL and a
// Redis restart are real) and the simulator, as the caller-ID outbound tests run it; requests
// signed as an admin (`Authorization: Bearer`).
import { Redis } from 'ioredis';
import { createAsteriskModule } from '../../src/asterisk/index.ts';
import { createApiKey } from '../../src/auth/keys.ts';
import { createCallerIdModule } from '../../src/callerid/index.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { type Simulator, type SimulatorOptions, startSimulator } from '../../src/simulator/index.ts';
import { freshDatabase, testConfig } from './env.ts';
import { PrivateRedis } from './redis-server.ts';
import { simEnv } from './sim-env.ts';
import { waitFor } from './wait.ts';

const log = createLogger({ level: process.env.TEST_LOG ? 'error' : 'silent' });

const adminRequests =
  (d: Daemon, admin: string) => (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object) =>
    d.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${admin}` },
      ...(payload ? { payload } : {}),
    });

export interface CidDaemon {
  db: Awaited<ReturnType<typeof freshDatabase>>;
  redisSrv: PrivateRedis;
  /** A client of the private Redis, for the test's own reads and writes. */
  redis: Redis;
  sim: Simulator;
  d: Daemon;
  /** An admin key. */
  admin: string;
  /** A request as the admin (a body only when one is given). */
  api: ReturnType<typeof adminRequests>;
  stop(): Promise<void>;
}

/**
 * Starts it ready (`/ready` answers 200); `env` is added to the test configuration (caller-ID
 * reservation 60 s, usage flush not on its own), `simulator` to the simulator's options.
 */
export async function startCidDaemon(
  env: Record<string, string> = {},
  simulator: SimulatorOptions = {},
): Promise<CidDaemon> {
  const db = await freshDatabase();
  const redisSrv = await PrivateRedis.create();
  const redis = new Redis(redisSrv.url);
  // The tests stop this Redis: the client's failed reconnects meanwhile are expected, and an
  // 'error' event with no listener would be printed raw ("[ioredis] Unhandled error event").
  redis.on('error', () => {});
  const sim = await startSimulator({ ariPort: 0, amiPort: 0, ...simulator });
  const config = testConfig({
    DATABASE_URL: db.url,
    REDIS_URL: redisSrv.url,
    ...simEnv(sim),
    CID_RESERVATION_TTL_S: '60',
    CID_FLUSH_INTERVAL_MS: '100000',
    ...env,
  });
  const d = await startDaemon(config, log, [createAsteriskModule, createCallerIdModule], { listen: false });
  await waitFor(async () => (await d.app.inject('/ready')).statusCode === 200);
  const admin = (await createApiKey(d.ctx.database.db, { role: 'admin' })).key;
  return {
    db,
    redisSrv,
    redis,
    sim,
    d,
    admin,
    api: adminRequests(d, admin),
    async stop() {
      await d.stop();
      await sim.stop();
      redis.disconnect();
      await redisSrv.stop();
      await db.drop();
    },
  };
}
