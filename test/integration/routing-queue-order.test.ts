// First come first served at the slot script (takeSlot-n.lua), on real Redis, from two connections
// ("two daemon instances"): while callers wait in a link's line, only the one that joined first may
// take a slot there; a newcomer is refused however free the link is. Checked against a model (a
// FIFO line and a count of live slots) over random runs of arrivals, freed slots, turns and
// callers leaving, and under simultaneous takes.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedis } from '../../src/platform/redis/client.ts';
import { RedisKeys } from '../../src/platform/redis/keys.ts';
import { HoldQueue, staleBefore } from '../../src/routing/queue.ts';
import { type LinkCaps, type SlotRef, SlotStore } from '../../src/routing/slots.ts';
import { redisPrefix } from '../helpers/env.ts';

const none: LinkCaps = { concurrency: null, hourly: null, daily: null, monthly: null, total: null };
const buckets = { hour: '2026112305', day: '20261123', month: '202611' };
const WAIT_S = 600;

describe('hold queue order at the slot script', () => {
  const keys = new RedisKeys(redisPrefix());
  const r1 = createRedis(process.env.REDIS_URL!, { enableOfflineQueue: true });
  const r2 = createRedis(process.env.REDIS_URL!, { enableOfflineQueue: true });
  const stores = [new SlotStore(r1, keys, 60_000), new SlotStore(r2, keys, 60_000)];
  const queues = [new HoldQueue(r1, keys.routing), new HoldQueue(r2, keys.routing)];
  afterAll(async () => {
    const left = await r1.keys(`${keys.prefix}:*`);
    if (left.length) await r1.del(...left);
    r1.disconnect();
    r2.disconnect();
  });

  const take = (i: number, linkId: string, callId: string, n: number, caps: LinkCaps, now: number) => {
    const ref: SlotRef = { linkId, slotId: `${callId}-${n}`, buckets };
    const queue = { callId, staleBefore: staleBefore(now, WAIT_S) };
    return stores[i % 2]!.take(ref, caps, now, undefined, [], queue).then((r) => ({ r, ref }));
  };

  type Op =
    | { kind: 'arrive'; on: number }
    | { kind: 'free'; pick: number }
    | { kind: 'turn'; pick: number }
    | { kind: 'leave'; pick: number };
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ kind: fc.constant('arrive' as const), on: fc.nat(1) }),
    fc.record({ kind: fc.constant('free' as const), pick: fc.nat(20) }),
    fc.record({ kind: fc.constant('turn' as const), pick: fc.nat(20) }),
    fc.record({ kind: fc.constant('leave' as const), pick: fc.nat(20) }),
  );

  it('agrees with a FIFO line over random runs: nobody takes a slot while someone joined before it waits', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }),
        fc.array(op, { minLength: 1, maxLength: 40 }),
        async (cap, ops) => {
          const linkId = randomUUID();
          const caps = { ...none, concurrency: cap };
          const live: SlotRef[] = [];
          const line: string[] = []; // the model: who waits, first in line first
          const served: string[] = [];
          let now = 1_000_000;
          let n = 0;
          for (const o of ops) {
            now += 1;
            if (o.kind === 'arrive') {
              const callId = `call-${++n}`;
              const { r, ref } = await take(o.on, linkId, callId, 1, caps, now);
              const expected =
                line.length === 0 && live.length < cap ? 'taken' : line.length ? 'waiting' : 'concurrency';
              expect(r).toBe(expected);
              if (r === 'taken') live.push(ref);
              else {
                await queues[o.on]!.join(callId, [linkId], now, WAIT_S);
                line.push(callId);
              }
            } else if (o.kind === 'free' && live.length) {
              const [ref] = live.splice(o.pick % live.length, 1);
              expect(await stores[o.pick % 2]!.release(ref!)).toBe('refunded');
            } else if (o.kind === 'turn' && line.length) {
              const k = o.pick % line.length;
              const callId = line[k]!;
              const { r, ref } = await take(o.pick, linkId, callId, 2, caps, now);
              const expected = k === 0 && live.length < cap ? 'taken' : k === 0 ? 'concurrency' : 'waiting';
              expect(r).toBe(expected);
              if (r === 'taken') {
                // The script took the head out of the link's line; the call then leaves its lines.
                live.push(ref);
                line.shift();
                served.push(callId);
                await queues[o.pick % 2]!.leave('c', callId, [linkId]);
              }
            } else if (o.kind === 'leave' && line.length) {
              const [callId] = line.splice(o.pick % line.length, 1);
              await queues[o.pick % 2]!.leave('c', callId!, [linkId]);
            }
            expect(await queues[0]!.waiting(linkId)).toEqual(line);
            expect(await stores[0]!.live(linkId, now)).toBe(live.length);
          }
          // Served waiters came out in the order they joined.
          expect(served).toEqual([...served].sort((a, b) => Number(a.slice(5)) - Number(b.slice(5))));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('three slots freed while three wait and thirty arrive at once on two instances: the three waiters get them, first in line first', async () => {
    const linkId = randomUUID();
    const caps = { ...none, concurrency: 3 };
    const now = Date.now();
    const waiters = ['w-1', 'w-2', 'w-3'];
    for (const [i, w] of waiters.entries()) await queues[i % 2]!.join(w, [linkId], now - 100 + i, WAIT_S);
    const served: string[] = [];
    let n = 0;
    // Newcomers and the waiters' turns race; a waiter that was not first yet tries again after the
    // one ahead of it is served (as its wake-up would make it).
    while (served.length < waiters.length) {
      const turns = waiters
        .filter((w) => !served.includes(w))
        .map(async (w, i) => {
          const { r } = await take(i, linkId, w, 1, caps, now);
          if (r === 'taken') served.push(w);
          else expect(r).toBe('waiting');
        });
      // Refused: 'waiting' while anyone waits, the link's cap once the last waiter took the last slot.
      const arrivals = Array.from({ length: 10 }, (_, i) =>
        take(i, linkId, `new-${++n}`, 1, caps, now).then(({ r }) => expect(r).not.toBe('taken')),
      );
      await Promise.all([...turns, ...arrivals]);
      // Whoever was served so far were the first in line (replies of two connections may come back
      // in either order, so the set, not the order of replies).
      expect([...served].sort()).toEqual(waiters.slice(0, served.length));
    }
    expect(await stores[0]!.live(linkId, now)).toBe(3);
    expect(await queues[0]!.waiting(linkId)).toEqual([]);
    // The line empty and the link full: a newcomer now hears the link's own cap.
    expect((await take(0, linkId, 'late', 1, caps, now)).r).toBe('concurrency');
  });

  it('a stale entry (its instance died with the call) stops holding the line once past the wait and margin', async () => {
    const linkId = randomUUID();
    const caps = { ...none, concurrency: 1 };
    const now = Date.now();
    await queues[0]!.join('ghost', [linkId], now - WAIT_S * 1000 - 31_000, WAIT_S);
    await queues[0]!.join('recent', [linkId], now - 1000, WAIT_S);
    expect((await take(1, linkId, 'new', 1, caps, now)).r).toBe('waiting');
    expect(await queues[0]!.waiting(linkId)).toEqual(['recent']);
    expect((await take(1, linkId, 'recent', 1, caps, now)).r).toBe('taken');
  });

  it('a caller waiting for one link does not hold back another link', async () => {
    const [l1, l2] = [randomUUID(), randomUUID()];
    const caps = { ...none, concurrency: 1 };
    const now = Date.now();
    await queues[0]!.join('w', [l1], now - 10, WAIT_S);
    expect((await take(0, l1, 'new', 1, caps, now)).r).toBe('waiting');
    expect((await take(1, l2, 'new', 2, caps, now)).r).toBe('taken');
  });
});
