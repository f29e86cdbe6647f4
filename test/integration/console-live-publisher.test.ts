// The live floor's publisher on real Redis: it serialises this instance's calls only while a console
// is open somewhere (some live hub subscribed to the channel). With thousands of calls in progress
// the snapshot twice a second cost as much as routing them, for nobody when no console was open.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LivePublisher, type LiveSource } from '../../src/console/live.ts';
import type { LiveCall } from '../../src/routing/router.ts';
import { redisPrefix } from '../helpers/env.ts';
import { capturingLogger } from '../helpers/log.ts';

describe('live floor publisher', () => {
  let redis: Redis;
  let sub: Redis;
  const channel = `${redisPrefix()}:console:live`;
  let built = 0;
  const call: LiveCall = {
    call_id: 'c1',
    node_id: 'asterisk-1',
    did: '+15550001111',
    caller: '+15550002222',
    phase: 'bridged',
    started_at: new Date(0).toISOString(),
    client_id: null,
    seller_id: null,
  };
  const source: LiveSource = {
    calls: () => {
      built++;
      return [call];
    },
    nodes: () => [],
    counters: async () => ({ routed: 3, answered: 2 }),
  };

  beforeAll(() => {
    redis = new Redis(process.env.REDIS_URL!);
    sub = new Redis(process.env.REDIS_URL!);
  });
  afterAll(async () => {
    redis.disconnect();
    sub.disconnect();
  });

  it('builds no snapshot while nobody listens, and sends one as soon as a console subscribes', async () => {
    const p = new LivePublisher(redis, channel, 'i1', source, capturingLogger().log);
    await p.tick(1000);
    await p.tick(2000);
    expect(built).toBe(0);

    const got = new Promise<string>((resolve) => sub.once('message', (_ch: string, m: string) => resolve(m)));
    await sub.subscribe(channel);
    await p.tick(3000);
    const snapshot = JSON.parse(await got) as { instance: string; at: number; calls: LiveCall[] };
    expect(built).toBe(1);
    expect(snapshot).toMatchObject({ instance: 'i1', at: 3000, calls: [call], routed: 3, answered: 2 });

    // The console closed: nothing is built again until one opens.
    await sub.unsubscribe(channel);
    await p.tick(9000);
    expect(built).toBe(1);
  });
});
