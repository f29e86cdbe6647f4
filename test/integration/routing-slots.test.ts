// Cap invariants on real Redis: many takes at once, from two connections ("two daemon instances").
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis } from '../../src/platform/redis/client.ts';
import { RedisKeys } from '../../src/platform/redis/keys.ts';
import { type LinkCaps, RR_BLOCK, type SlotRef, SlotStore } from '../../src/routing/slots.ts';
import { redisPrefix } from '../helpers/env.ts';

const none: LinkCaps = { concurrency: null, hourly: null, daily: null, monthly: null, total: null };
const buckets = { hour: '2026112305', day: '20261123', month: '202611' };

describe('routing slots', () => {
  const keys = new RedisKeys(redisPrefix());
  const r1 = createRedis(process.env.REDIS_URL!, { enableOfflineQueue: true });
  const r2 = createRedis(process.env.REDIS_URL!, { enableOfflineQueue: true });
  let a: SlotStore;
  let b: SlotStore;
  beforeAll(() => {
    a = new SlotStore(r1, keys, 60_000);
    b = new SlotStore(r2, keys, 60_000);
  });
  afterAll(async () => {
    const left = await r1.keys(`${keys.prefix}:*`);
    if (left.length) await r1.del(...left);
    r1.disconnect();
    r2.disconnect();
  });
  const ref = (linkId: string): SlotRef => ({ linkId, slotId: randomUUID(), buckets });

  it('50 arrivals at once on concurrency cap 5, split over two instances: exactly 5 live', async () => {
    const link = randomUUID();
    const caps = { ...none, concurrency: 5 };
    const refs = Array.from({ length: 50 }, () => ref(link));
    const results = await Promise.all(refs.map((x, i) => (i % 2 ? a : b).take(x, caps)));
    expect(results.filter((r) => r === 'taken')).toHaveLength(5);
    expect(results.filter((r) => r === 'concurrency')).toHaveLength(45);
    expect(await a.live(link)).toBe(5);
    // Releasing one frees exactly one place.
    const taken = refs.filter((_, i) => results[i] === 'taken');
    expect(await a.release(taken[0]!)).toBe('refunded');
    expect(await a.take(ref(link), caps)).toBe('taken');
    expect(await a.take(ref(link), caps)).toBe('concurrency');
  });

  it('a total cap of 10 under 30 simultaneous answered arrivals ends at exactly 10', async () => {
    const link = randomUUID();
    const caps = { ...none, total: 10 };
    const refs = Array.from({ length: 30 }, () => ref(link));
    const results = await Promise.all(
      refs.map(async (x, i) => {
        const s = i % 2 ? a : b;
        const t = await s.take(x, caps);
        if (t === 'taken') {
          await s.answer(x);
          await s.release(x);
        }
        return t;
      }),
    );
    expect(results.filter((r) => r === 'taken')).toHaveLength(10);
    expect((await a.counters(link, buckets)).total).toBe(10);
    expect(await a.take(ref(link), caps)).toBe('total');
  });

  it('refunds reservations of calls the client did not answer', async () => {
    const link = randomUUID();
    const caps = { ...none, hourly: 2 };
    const x = ref(link);
    const y = ref(link);
    expect(await a.take(x, caps)).toBe('taken');
    expect(await a.take(y, caps)).toBe('taken');
    expect(await a.take(ref(link), caps)).toBe('hourly'); // both reserved
    expect(await a.release(x)).toBe('refunded'); // no answer
    expect(await a.answer(y)).toBe(true);
    expect(await a.release(y)).toBe('answered');
    expect(await a.counters(link, buckets)).toMatchObject({ hourly: 1, daily: 1, monthly: 1, total: 1 });
    expect(await a.take(ref(link), caps)).toBe('taken');
  });

  it('releases exactly once, whichever path calls release first', async () => {
    const link = randomUUID();
    const x = ref(link);
    await a.take(x, { ...none, daily: 5 });
    const outcomes = await Promise.all([a.release(x), b.release(x), a.release(x)]);
    expect(outcomes.filter((o) => o === 'refunded')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'already')).toHaveLength(2);
    expect((await a.counters(link, buckets)).daily).toBe(0);
    expect(await a.answer(x)).toBe(false); // a late answer after release changes nothing
    expect(await a.take(x, none)).toBe('duplicate'); // the same slot id is never taken twice
  });

  it('a slot leaked by a crash stops counting once its expiry passes', async () => {
    const link = randomUUID();
    const caps = { ...none, concurrency: 1 };
    const now = Date.now();
    expect(await a.take(ref(link), caps, now)).toBe('taken');
    expect(await a.take(ref(link), caps, now + 1000)).toBe('concurrency');
    expect(await a.take(ref(link), caps, now + 61_000)).toBe('taken');
  });

  it('reconcile releases slots whose call is gone, refunding unanswered ones', async () => {
    const link = randomUUID();
    const caps = { ...none, concurrency: 4, daily: 10 };
    const alive = ref(link);
    const dead = ref(link);
    const deadAnswered = ref(link);
    for (const x of [alive, dead, deadAnswered]) expect(await a.take(x, caps)).toBe('taken');
    await a.answer(deadAnswered);
    const listedAt = Date.now() + 1;
    // Taken after the channel list was asked for: its call cannot be in the list yet.
    const fresh = ref(link);
    expect(await a.take(fresh, caps, listedAt + 5)).toBe('taken');
    const n = await b.reconcile('', (id) => id === alive.slotId, listedAt);
    expect(await b.reconcile('other-node', () => false, listedAt)).toBe(0);
    expect(n).toBeGreaterThanOrEqual(2);
    expect(await a.live(link, listedAt)).toBe(2); // alive + fresh
    expect((await a.counters(link, buckets)).daily).toBe(3); // alive, fresh (reserved) + the answered one
  });

  it('seeds the total from PostgreSQL only when Redis has none', async () => {
    const link = randomUUID();
    // PostgreSQL says 7 answered: the first take seeds 7 and counts itself (8 = the cap) ...
    expect(await a.take(ref(link), { ...none, total: 8 }, Date.now(), 7)).toBe('taken');
    expect((await a.counters(link, buckets)).total).toBe(8);
    // ... and a later, lower figure from PostgreSQL never overwrites Redis.
    expect(await a.take(ref(link), { ...none, total: 8 }, Date.now(), 3)).toBe('total');
    expect((await a.counters(link, buckets)).total).toBe(8);
  });

  it('round-robin positions: shared by instances, never handed out twice, one round trip a block', async () => {
    const campaign = randomUUID();
    const calls = Array.from({ length: 80 }, (_, i) => (i % 2 ? a : b).nextRoundRobin(campaign));
    const got = await Promise.all(calls);
    expect(new Set(got).size).toBe(80);
    // 40 positions per instance = 3 blocks each, so the shared counter moved by 6 blocks, not 80.
    expect(Number(await r1.get(keys.routing.campaign(campaign, 'rr')))).toBe(6 * RR_BLOCK);
    // Within an instance, calls get positions in order, a block of consecutive ones at a time (so
    // one instance rotates over its links exactly).
    const fromA = got.filter((_, i) => i % 2);
    expect(fromA).toEqual([...fromA].sort((x, y) => x - y));
    expect(fromA[RR_BLOCK - 1]! - fromA[0]!).toBe(RR_BLOCK - 1);
    expect(fromA[0]! % RR_BLOCK).toBe(1);
    // Past half a block the next one is asked for ahead, so the call after the block waits for nothing.
    const ahead = randomUUID();
    const rrKey = keys.routing.campaign(ahead, 'rr');
    for (let i = 0; i < RR_BLOCK / 2; i++) await a.nextRoundRobin(ahead);
    expect(Number(await r1.get(rrKey))).toBe(RR_BLOCK);
    await a.nextRoundRobin(ahead);
    for (let i = 0; i < 50 && Number(await r1.get(rrKey)) !== 2 * RR_BLOCK; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(Number(await r1.get(rrKey))).toBe(2 * RR_BLOCK);
  });
});

describe('routing keys of the earlier layout', () => {
  it('are brought under the {routing} tag at start, beside live calls: counters add up, live slots and memories carry over with their TTLs', async () => {
    const keys = new RedisKeys(redisPrefix());
    const p = keys.prefix;
    const r = createRedis(process.env.REDIS_URL!, { enableOfflineQueue: true });
    try {
      const link = randomUUID();
      const slot = randomUUID();
      const now = Date.now();
      // As the previous version wrote them: one hash tag per link and campaign.
      await r.set(`${p}:link:{${link}}:h:${buckets.hour}`, '3', 'EX', 3600);
      await r.set(`${p}:link:{${link}}:d:${buckets.day}`, '7');
      await r.set(`${p}:link:{${link}}:m:${buckets.month}`, '9');
      await r.set(`${p}:link:{${link}}:total`, '11');
      await r.zadd(`${p}:link:{${link}}:live`, now + 60_000, slot);
      await r.hset(`${p}:link:{${link}}:slot:${slot}`, {
        state: 'taken',
        at: now,
        h: buckets.hour,
        d: buckets.day,
        m: buckets.month,
        node: '',
      });
      await r.sadd(`${p}:routing:links`, link);
      await r.set(`${p}:campaign:{c1}:dup:+13105551000`, 'client-a', 'EX', 600);
      // A call of the new version counted before the pass reaches the link: the counts add up.
      await r.set(keys.routing.link(link, 'h', buckets.hour), '1');
      const s = new SlotStore(r, keys, 60_000);
      expect(await s.legacyAdopted).toBe(8);
      expect(await s.counters(link, buckets)).toEqual({ hourly: 4, daily: 7, monthly: 9, total: 11 });
      expect(await s.live(link, now)).toBe(1);
      expect(await s.liveSlots(now)).toEqual([{ linkId: link, slotId: slot }]);
      expect(await s.lastClientOf('c1', '+13105551000')).toBe('client-a');
      // The hour's TTL came along; nothing is left under the old names.
      expect(await r.ttl(keys.routing.link(link, 'h', buckets.hour))).toBeGreaterThan(3000);
      expect(await r.keys(`${p}:link:*`)).toEqual([]);
      expect(await r.exists(`${p}:routing:links`)).toBe(0);
      // The slot taken before the upgrade is released exactly once, refunding the old counters.
      expect(await s.release({ linkId: link, slotId: slot, buckets })).toBe('refunded');
      expect(await s.counters(link, buckets)).toEqual({ hourly: 3, daily: 6, monthly: 8, total: 10 });
      // A cap counts what was used before the upgrade: 3 of 4 this hour, so one more is taken.
      const caps = { ...none, hourly: 4 };
      expect(await s.take({ linkId: link, slotId: randomUUID(), buckets }, caps)).toBe('taken');
      expect(await s.take({ linkId: link, slotId: randomUUID(), buckets }, caps)).toBe('hourly');
    } finally {
      const left = await r.keys(`${p}:*`);
      if (left.length) await r.del(...left);
      r.disconnect();
    }
  });
});
