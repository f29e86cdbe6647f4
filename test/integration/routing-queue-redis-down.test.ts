// The hold queue's wake-up subscription (its own Redis connection) through a Redis outage, on a
// private Redis this test stops and starts: like every connection it says once that Redis is
// unreachable and once that it is back, counts each error in
// capconduit_redis_errors_total{connection="hold-queue"}, and hears wake-ups again afterwards
// (ioredis subscribes again by itself), telling the waiters to look once it has (what was published
// meanwhile is lost). And a caller whose join to the hold queue meets Redis away waits on, hearing the
// music, joins its line (as of its arrival) once Redis is back, and is served.
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis } from '../../src/platform/redis/client.ts';
import { RedisKeys } from '../../src/platform/redis/keys.ts';
import { HoldQueue, linkWake, type Wake } from '../../src/routing/queue.ts';
import { type CuttableLink, cuttableLink } from '../helpers/cuttable-link.ts';
import { redisPrefix } from '../helpers/env.ts';
import { type Flow, startFlow } from '../helpers/flow.ts';
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

/** A hold-queue join as sent to Redis: ZADD NX into a line. */
const JOIN = /\$4\r\nzadd\r\n\$\d+\r\n[^\r]*:waiting\r\n\$2\r\nNX\r\n/i;

describe('hold queue: a caller whose join meets Redis away', () => {
  let server: PrivateRedis;
  let link: CuttableLink;
  let f: Flow;

  beforeAll(async () => {
    server = await PrivateRedis.create();
    // The daemon reaches Redis through a link the test cuts at the join.
    link = await cuttableLink(server.port);
    f = await startFlow({ REDIS_URL: `redis://127.0.0.1:${link.port}`, HOLD_QUEUE_POLL_MS: '500' });
  }, 120_000);
  afterAll(async () => {
    await f?.stop();
    await link?.close();
    await server?.stop();
  });

  const live = (caller: string, phase: string) =>
    waitFor(() => f.routing.router!.live().find((x) => x.caller === caller && x.phase === phase));
  const failures = async () =>
    (await f.d.ctx.metrics.getSingleMetric('capconduit_queue_join_failures_total')!.get()).values[0]?.value ??
    0;

  /** A campaign waiting up to `queueS` for its one link of concurrency 1, whose slot `caller` holds. */
  const full = async (queueS: number, caller: string) => {
    const c = await f.campaign({ queue_s: queueS }, [
      { behaviour: { answerAfterMs: 10 }, link: { concurrency_cap: 1 } },
    ]);
    const up = f.sim.placeInboundCall({ did: c.did, callerNumber: caller });
    await live(caller, 'bridged');
    return { c, up };
  };

  it('waits on with the music, joins its line as of its arrival once Redis is back, and is served', async () => {
    const { c, up } = await full(600, '+12125556000');
    const linkId = c.clients[0]!.linkId;
    // Redis goes away at the next caller's join (ZADD NX into the link's line), before it is sent.
    link.cutOn((sent) => JOIN.test(sent.toString()));
    const waiter = f.sim.placeInboundCall({ did: c.did, callerNumber: '+12125556001' });
    await waitFor(async () => ((await failures()) >= 1 ? true : undefined));
    await server.stop();
    // Still waiting, hearing the music, while Redis is down.
    await waitFor(() => f.sim.hears(waiter) === 'music');
    expect(f.routing.router!.live().find((x) => x.caller === '+12125556001')?.phase).toBe('queued');
    await server.start();
    link.restore();
    // In its line at a later turn.
    const callId = f.routing.router!.live().find((x) => x.caller === '+12125556001')!.call_id;
    await waitFor(async () =>
      (await f.routing.router!.queue.waiting(linkId).catch((): string[] => [])).includes(callId)
        ? true
        : undefined,
    );
    expect(f.routing.router!.live().find((x) => x.caller === '+12125556001')?.phase).toBe('queued');
    // The slot frees: served.
    f.sim.hangup(up);
    await live('+12125556001', 'bridged');
    f.sim.hangup(waiter);
    const rows = await f.cdrsOnce(c.did, 2);
    expect(rows.map((r) => [r.caller_number, r.disposition])).toEqual([
      ['+12125556000', 'answered'],
      ['+12125556001', 'answered'],
    ]);
  }, 180_000);

  it("still ends at the campaign's queue time when Redis stays away", async () => {
    const { c, up } = await full(2, '+12125556100');
    const before = await failures();
    link.cutOn((sent) => JOIN.test(sent.toString()));
    f.sim.placeInboundCall({ did: c.did, callerNumber: '+12125556101' });
    await waitFor(async () => ((await failures()) > before ? true : undefined));
    await waitFor(() =>
      f.routing.router!.live().some((x) => x.caller === '+12125556101') ? undefined : true,
    );
    link.restore();
    f.sim.hangup(up);
    const rows = await f.cdrsOnce(c.did, 2);
    expect(rows.map((r) => [r.caller_number, r.disposition])).toEqual([
      ['+12125556100', 'answered'],
      ['+12125556101', 'queue_timeout'],
    ]);
  }, 180_000);
});
