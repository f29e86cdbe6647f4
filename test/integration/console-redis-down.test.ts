// Redis stopped under a whole daemon (console, routing, caller IDs, provisioning with its BullMQ
// queues and workers, webhooks), on a private Redis this test stops and starts: nothing is printed
// raw on stderr (no library's console.error, no `[ioredis] Unhandled error event`, no ECONNREFUSED
// stack) — each connection says once through the logger that Redis is unreachable and once that it
// is back, and every error is counted in capconduit_redis_errors_total.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createAuditModule } from '../../src/audit/index.ts';
import { createCallerIdModule } from '../../src/callerid/index.ts';
import { type ConsoleModule, createConsoleModule } from '../../src/console/index.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { createPbxModule } from '../../src/pbx/index.ts';
import { createProvisioningModule } from '../../src/provisioning/index.ts';
import { createReportsModule } from '../../src/reports/index.ts';
import { createRoutingModule } from '../../src/routing/index.ts';
import { Browser } from '../helpers/console.ts';
import { freshDatabase, testConfig } from '../helpers/env.ts';
import { capturingLogger } from '../helpers/log.ts';
import { PrivateRedis } from '../helpers/redis-server.ts';
import { waitFor } from '../helpers/wait.ts';

const PW = 'correct horse battery';

describe('Redis down under the daemon: logged once per outage, counted, nothing raw on stderr', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let redis: PrivateRedis;
  let redisUp = true;
  let d: Daemon;
  const { log, lines } = capturingLogger('info');
  /** What reached stderr or the console's error and warning outputs. */
  const raw: string[] = [];
  const writeErr = process.stderr.write.bind(process.stderr);

  beforeAll(async () => {
    [db, redis] = await Promise.all([freshDatabase(), PrivateRedis.create()]);
    // Library code prints through console.error/console.warn or straight to stderr: all caught here.
    vi.spyOn(console, 'error').mockImplementation(
      (...a: unknown[]) => void raw.push(a.map(String).join(' ')),
    );
    vi.spyOn(console, 'warn').mockImplementation((...a: unknown[]) => void raw.push(a.map(String).join(' ')));
    process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      raw.push(String(chunk));
      return writeErr(chunk, ...rest);
    }) as typeof process.stderr.write;
    d = await startDaemon(
      testConfig({ DATABASE_URL: db.url, REDIS_URL: redis.url, API_HOST: '127.0.0.1', LOG_LEVEL: 'info' }),
      log,
      [
        createRoutingModule,
        createAuditModule,
        createReportsModule,
        createPbxModule,
        (ctx) => createCallerIdModule(ctx),
        createConsoleModule,
        (ctx) => createProvisioningModule(ctx),
      ],
    );
    const con = d.ctx.modules.get('console') as ConsoleModule;
    await con.services.users.create({ email: 'admin@example.com', password: PW, role: 'admin' });
  });
  afterAll(async () => {
    // A failure while Redis was stopped: back first, or the daemon's stop waits for it.
    if (!redisUp) await redis.start();
    // The daemon's stop after a Redis restart has hung once in ~3 fresh-clone runs (not yet
    // explained, and not what this file checks): bounded so the rest of the teardown still runs,
    // and said on stdout when it happens.
    const stopped = await Promise.race([
      d?.stop().then(() => true),
      new Promise<false>((r) => setTimeout(() => r(false), 30_000).unref()),
    ]);
    if (!stopped) console.log('console-redis-down: the daemon had not stopped 30 s after stop()');
    await redis?.stop();
    await db?.drop();
    process.stderr.write = writeErr;
    vi.restoreAllMocks();
  });

  const errorsCounted = async (connection: string) => {
    const m = await d.ctx.metrics.getSingleMetric('capconduit_redis_errors_total')?.get();
    return m?.values.find((v) => v.labels.connection === connection)?.value ?? 0;
  };
  const said = (msg: string) =>
    lines.map((l) => JSON.parse(l) as { msg: string; connection?: string }).filter((l) => l.msg === msg);

  it('stopped and started again: one line each way per connection, errors counted, no raw output', async () => {
    const admin = new Browser(d.app);
    expect((await admin.signIn('admin@example.com', PW)).statusCode).toBe(303);
    expect((await admin.get('/console/numbers')).statusCode).toBe(200);
    const before = raw.length;
    let failures = 0;
    d.ctx.redis.on('error', () => failures++);
    await redis.stop();
    redisUp = false;
    // Several rounds of reconnects fail on every connection while pages are asked for.
    await waitFor(() => failures >= 6);
    expect((await admin.get('/console/numbers')).statusCode).toBe(503);
    expect(raw.slice(before)).toEqual([]);
    expect(await errorsCounted('bullmq')).toBeGreaterThan(0);
    expect(await errorsCounted('redis')).toBeGreaterThanOrEqual(6);
    await redis.start();
    redisUp = true;
    await waitFor(() => said('Redis reachable again').length >= 3);
    // Its data went with it (no append-only file here): signed in again.
    expect((await admin.signIn('admin@example.com', PW)).statusCode).toBe(303);
    expect((await admin.get('/console/numbers')).statusCode).toBe(200);
    expect(raw.slice(before)).toEqual([]);
    // Each connection: one line when it went, one when it came back.
    const went = said('Redis unreachable; reconnecting').map((l) => l.connection);
    const back = said('Redis reachable again').map((l) => l.connection);
    expect(went.length).toBe(new Set(went).size);
    expect(new Set(back)).toEqual(new Set(went));
    expect(went).toEqual(expect.arrayContaining(['redis', 'bullmq', 'callerid']));
    // BullMQ's queues and workers met only the connection failing: counted, not logged as errors.
    expect(said('BullMQ error')).toEqual([]);
  });
});
