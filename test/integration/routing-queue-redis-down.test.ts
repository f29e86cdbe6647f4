// The hold queue's wake-up subscription (its own Redis connection) through a Redis outage, on a
// private Redis this test stops and starts: like every connection it says once that Redis is
// unreachable and once that it is back, counts each error in
// capconduit_redis_errors_total{connection="hold-queue"}, and hears wake-ups again afterwards
// (ioredis subscribes again by itself), telling the waiters to look once it has (what was published
// meanwhile is lost).
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis } from '../../src/platform/redis/client.ts';
import { RedisKeys } from '../../src/platform/redis/keys.ts';
import { HoldQueue, linkWake, type Wake } from '../../src/routing/queue.ts';
import { redisPrefix } from '../helpers/env.ts';
import { capturingLogger } from '../helpers/log.ts';
import { PrivateRedis } from '../helpers/redis-server.ts';
import { waitFor } from '../helpers/wait.ts';

describe('hold queue subscription: Redis down and back', () => {
  let server: PrivateRedis;
  let up = true;
  let redis: ReturnType<typeof createRedis>;
  let queue: HoldQueue;
  const metrics = new Registry();
  const { log, lines } = capturingLogger('info');
  const keys = new RedisKeys(redisPrefix());
  const woken: Wake[] = [];

  beforeAll(async () => {
    server = await PrivateRedis.create();
    redis = createRedis(server.url);
    redis.on('error', () => {});
    queue = new HoldQueue(redis, keys.routing, { log, metrics });
  });
  afterAll(async () => {
    if (!up) await server.start();
    queue?.close();
    redis?.disconnect();
    await server?.stop();
  });

  const counted = async () => {
    const m = await metrics.getSingleMetric('capconduit_redis_errors_total')?.get();
    return m?.values.find((v) => v.labels.connection === 'hold-queue')?.value ?? 0;
  };
  const said = (msg: string) =>
    lines
      .map((l) => JSON.parse(l) as { msg: string; connection?: string })
      .filter((l) => l.msg === msg && l.connection === 'hold-queue');
  /** Publishes a wake for `link` until the subscription hears it (it may be subscribing again). */
  const heard = (link: string) =>
    waitFor(async () => {
      await redis.publish(keys.routing.queueWake, linkWake(link)).catch(() => {});
      return woken.some((w) => 'linkId' in w && w.linkId === link);
    });

  it('logs the outage once each way, counts every error, and hears wake-ups again', async () => {
    await queue.listen((w) => woken.push(w));
    await heard('before');
    expect(await counted()).toBe(0);

    await server.stop();
    up = false;
    // Several failed reconnects: each counted, one line said.
    await waitFor(async () => (await counted()) >= 3);
    expect(said('Redis unreachable; reconnecting')).toHaveLength(1);
    expect(said('Redis reachable again')).toHaveLength(0);

    await server.start();
    up = true;
    await waitFor(() => said('Redis reachable again').length === 1);
    // Subscribed again: every waiter is told to look, for the wake-ups published while it was away.
    await waitFor(() => woken.some((w) => 'reheard' in w));
    await heard('after');
    expect(said('Redis unreachable; reconnecting')).toHaveLength(1);
    expect(said('Redis reachable again')).toHaveLength(1);
  });
});
