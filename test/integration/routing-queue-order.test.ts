// First come first served at the slot script (takeSlot-n.lua), on real Redis, from two connections
// ("two daemon instances"): while callers wait in a link's line, only the one that joined first may
// take a slot there; a newcomer is refused however free the link is. Checked against a model (a
// FIFO line and a count of live slots) over random runs of arrivals, freed slots, turns and
// callers leaving, and under simultaneous takes. With sellers' caps: a waiter held back by its own
// seller's cap keeps the slot from nobody (the script agrees with `lineAdmits` over random runs).
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedis } from '../../src/platform/redis/client.ts';
import { RedisKeys } from '../../src/platform/redis/keys.ts';
import { adoptCampaignQueues } from '../../src/routing/legacy-keys.ts';
import { HoldQueue, lineAdmits, staleBefore } from '../../src/routing/queue.ts';
import { type LinkCaps, type SlotRef, SlotStore, type SourceRef } from '../../src/routing/slots.ts';
import { redisPrefix } from '../helpers/env.ts';
import { waitFor } from '../helpers/wait.ts';

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

  const take = (
    i: number,
    linkId: string,
    callId: string,
    n: number,
    caps: LinkCaps,
    now: number,
    seller?: { id: string; cap: number },
    queued = true,
  ) => {
    const sources: SourceRef[] = seller ? [{ kind: 'seller', id: seller.id, buckets }] : [];
    const ref: SlotRef = { linkId, slotId: `${callId}-${n}`, buckets, ...(seller ? { sources } : {}) };
    const queue = queued ? { callId, staleBefore: staleBefore(now, WAIT_S) } : undefined;
    const limits = seller ? [{ caps: { ...none, concurrency: seller.cap } }] : [];
    return stores[i % 2]!.take(ref, caps, now, undefined, limits, queue).then((r) => ({ r, ref }));
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

  type SellerOp =
    | { kind: 'arrive'; seller: number; on: number }
    | { kind: 'free'; pick: number }
    | { kind: 'busy'; seller: number }
    | { kind: 'idle'; pick: number }
    | { kind: 'turn'; pick: number }
    | { kind: 'leave'; pick: number };
  const sellerOp: fc.Arbitrary<SellerOp> = fc.oneof(
    fc.record({ kind: fc.constant('arrive' as const), seller: fc.nat(2), on: fc.nat(1) }),
    fc.record({ kind: fc.constant('free' as const), pick: fc.nat(20) }),
    fc.record({ kind: fc.constant('busy' as const), seller: fc.nat(2) }),
    fc.record({ kind: fc.constant('idle' as const), pick: fc.nat(20) }),
    fc.record({ kind: fc.constant('turn' as const), pick: fc.nat(20) }),
    fc.record({ kind: fc.constant('leave' as const), pick: fc.nat(20) }),
  );

  it("with sellers' caps, agrees with a model of the link's line and each seller's line over random runs: a waiter held back by its own seller's cap keeps the link's slot from nobody, and a seller's freed slot goes to the first its cap refused, on whichever link", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }),
        fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 3, maxLength: 3 }),
        fc.array(sellerOp, { minLength: 15, maxLength: 40 }),
        async (cap, sellerCaps, ops) => {
          const [linkId, other] = [randomUUID(), randomUUID()];
          const sellerIds = sellerCaps.map(() => randomUUID());
          const caps = { ...none, concurrency: cap };
          const seller = (s: number) => ({ id: sellerIds[s]!, cap: sellerCaps[s]! });
          // The model: live slots (on the link, or the seller's elsewhere), the link's line and its
          // marks (held back by the seller's cap), each seller's line (the waiters its cap refused,
          // in the link's line order) and its marks (held back by the link's cap).
          const onLink: Array<{ ref: SlotRef; seller: number }> = [];
          const elsewhere: Array<{ ref: SlotRef; seller: number }> = [];
          const line: Array<{ id: string; seller: number }> = [];
          const marked = new Set<string>();
          const sellerLine = new Set<string>();
          const sellerMarked = new Set<string>();
          const used = (s: number) => [...onLink, ...elsewhere].filter((x) => x.seller === s).length;
          const lineOf = (s: number) =>
            line.filter((x) => x.seller === s && sellerLine.has(x.id)).map((x) => x.id);
          let now = 1_000_000;
          let n = 0;
          /** What the script answers, and what it does to the lines (applied once the answer agrees). */
          const expected = (id: string, s: number, queued: boolean, elsewhereLink = false) => {
            const inLine = queued && line.some((x) => x.id === id);
            const linkFull = onLink.length >= cap;
            // Refused by the link (its line or its cap): held back by the link's cap in the seller's line.
            const byLink = () => {
              if (inLine && sellerLine.has(id)) sellerMarked.add(id);
            };
            const bySeller = () => {
              if (!inLine) return;
              marked.add(id);
              sellerLine.add(id);
              sellerMarked.delete(id);
            };
            const heldBack = (w: string) => {
              const x = line.find((y) => y.id === w)!;
              return marked.has(w) && used(x.seller) >= sellerCaps[x.seller]!;
            };
            if (
              queued &&
              !lineAdmits(
                line.map((x) => x.id),
                id,
                heldBack,
              )
            )
              return { r: 'waiting', apply: byLink };
            if (linkFull && !elsewhereLink) return { r: 'concurrency', apply: byLink };
            if (used(s) >= sellerCaps[s]!) return { r: 'seller_concurrency', apply: bySeller };
            const sl = lineOf(s);
            const ahead = queued && sl.includes(id) ? sl.slice(0, sl.indexOf(id)) : sl;
            if (ahead.some((w) => !(sellerMarked.has(w) && linkFull)))
              return { r: 'seller_concurrency', apply: bySeller };
            return { r: 'taken', apply: () => {} };
          };
          const attempt = async (i: number, id: string, s: number, k: number) => {
            const want = expected(id, s, true);
            const inLine = line.some((x) => x.id === id);
            const { r, ref } = await take(i, linkId, id, k, caps, now, seller(s));
            expect(r).toBe(want.r);
            want.apply();
            if (r === 'taken') {
              onLink.push({ ref, seller: s });
              // A newcomer served past held waiters was never in the line (splice(-1) would drop its last).
              if (inLine) {
                line.splice(
                  line.findIndex((x) => x.id === id),
                  1,
                );
                for (const set of [marked, sellerLine, sellerMarked]) set.delete(id);
                await queues[i % 2]!.leave('c', id, [linkId]);
              }
            }
            return r;
          };
          for (const o of ops) {
            now += 1;
            if (o.kind === 'arrive') {
              const id = `call-${++n}`;
              const r = await attempt(o.on, id, o.seller, 1);
              if (r === 'concurrency' || r === 'waiting' || r === 'seller_concurrency') {
                await queues[o.on]!.join(id, [linkId], now, WAIT_S);
                line.push({ id, seller: o.seller });
              }
            } else if (o.kind === 'free' && onLink.length) {
              const [x] = onLink.splice(o.pick % onLink.length, 1);
              await stores[o.pick % 2]!.release(x!.ref);
            } else if (o.kind === 'busy') {
              // The seller's call on another link without a hold queue: taken if the seller has room
              // and nobody its cap refused is first in its line.
              const want = expected(`busy-${n + 1}`, o.seller, false, true);
              const { r, ref } = await take(0, other, `busy-${++n}`, 1, none, now, seller(o.seller), false);
              expect(r).toBe(want.r);
              if (r === 'taken') elsewhere.push({ ref, seller: o.seller });
            } else if (o.kind === 'idle' && elsewhere.length) {
              const [x] = elsewhere.splice(o.pick % elsewhere.length, 1);
              await stores[0]!.release(x!.ref);
            } else if (o.kind === 'turn' && line.length) {
              const x = line[o.pick % line.length]!;
              await attempt(o.pick, x.id, x.seller, 2 + n++);
            } else if (o.kind === 'leave' && line.length) {
              const [x] = line.splice(o.pick % line.length, 1);
              for (const set of [marked, sellerLine, sellerMarked]) set.delete(x!.id);
              await queues[o.pick % 2]!.leave(
                'c',
                x!.id,
                [linkId],
                [{ kind: 'seller', id: sellerIds[x!.seller]! }],
              );
            }
            expect(await queues[0]!.waiting(linkId)).toEqual(line.map((x) => x.id));
            expect((await r1.hkeys(keys.routing.link(linkId, 'held'))).sort()).toEqual([...marked].sort());
            for (const [s, sellerId] of sellerIds.entries()) {
              expect(await queues[0]!.waitingFor('seller', sellerId)).toEqual(lineOf(s));
              expect((await r1.hkeys(keys.routing.owner('seller', sellerId, 'held'))).sort()).toEqual(
                lineOf(s)
                  .filter((w) => sellerMarked.has(w))
                  .sort(),
              );
            }
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it("a seller's freed slot goes to the waiter its cap refused first, whichever link, while others arrive at once on both links and two instances; never over the cap", async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    const s = { id: randomUUID(), cap: 1 };
    const caps = { ...none, concurrency: 5 };
    const now = Date.now();
    const up = await take(0, a, 'up', 1, caps, now, s, false);
    expect(up.r).toBe('taken');
    // Four waiters, alternating links (two campaigns of the seller), each refused by the seller.
    const waiters = ['w-1', 'w-2', 'w-3', 'w-4'];
    const linkOf = (i: number) => (i % 2 ? b : a);
    for (const [i, w] of waiters.entries()) {
      await queues[i % 2]!.join(w, [linkOf(i)], now - 100 + i, WAIT_S, [{ kind: 'seller', id: s.id }]);
      expect((await take(i, linkOf(i), w, 1, caps, now, s)).r).toBe('seller_concurrency');
    }
    expect(await queues[0]!.waitingFor('seller', s.id)).toEqual(waiters);
    let held = up.ref;
    const served: string[] = [];
    let n = 0;
    while (served.length < waiters.length) {
      await stores[n % 2]!.release(held);
      const won: Array<{ w: string; ref: SlotRef }> = [];
      const turns = waiters
        .filter((w) => !served.includes(w))
        .map(async (w) => {
          const i = waiters.indexOf(w);
          const x = await take(i, linkOf(i), w, 2 + n, caps, now, s);
          if (x.r === 'taken') won.push({ w, ref: x.ref });
          else expect(x.r).toBe('seller_concurrency');
        });
      // Newcomers on both links, with and without a hold queue: never served while a waiter is first.
      // One that comes between the release and the waiter's take finds the seller's slot free: the
      // link's line (a waiter there) refuses it then, and the seller's line once that slot is held.
      const arrivals = Array.from({ length: 10 }, (_, i) =>
        take(i, i % 2 ? b : a, `new-${++n}`, 1, caps, now, s, i % 4 < 2).then(({ r }) =>
          expect(['seller_concurrency', 'waiting']).toContain(r),
        ),
      );
      await Promise.all([...turns, ...arrivals]);
      expect(won.map((x) => x.w)).toEqual([waiters[served.length]]);
      served.push(won[0]!.w);
      held = won[0]!.ref;
      expect(await stores[0]!.liveOf('seller', s.id, now)).toBe(1);
      expect(await queues[0]!.waitingFor('seller', s.id)).toEqual(waiters.slice(served.length));
    }
    expect(served).toEqual(waiters);
  });

  it("a waiter in a seller's line whose own link is full keeps the seller's slot from nobody", async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    const s = { id: randomUUID(), cap: 2 };
    const now = Date.now();
    // The seller's one call fills link a (cap 1); a waiter of link a is refused by the seller first.
    expect((await take(0, a, 'up-a', 1, { ...none, concurrency: 1 }, now, s, false)).r).toBe('taken');
    expect((await take(1, b, 'up-b', 1, none, now, s, false)).r).toBe('taken');
    await queues[0]!.join('w', [a], now - 100, WAIT_S, [{ kind: 'seller', id: s.id }]);
    expect((await take(0, a, 'w', 1, { ...none, concurrency: 1 }, now, s)).r).toBe('concurrency');
    // The seller's slot on link b frees: the waiter cannot use it (its link is full), a newcomer may.
    const upB = {
      linkId: b,
      slotId: 'up-b-1',
      buckets,
      sources: [{ kind: 'seller' as const, id: s.id, buckets }],
    };
    await stores[1]!.release(upB);
    expect((await take(1, b, 'n', 1, none, now, s, false)).r).toBe('taken');
    expect(await queues[0]!.waitingFor('seller', s.id)).toEqual(['w']);
  });

  it('a head held back by its seller while ten arrive at once on two instances: the waiters behind it get the freed slots, in line order', async () => {
    const linkId = randomUUID();
    const [full, free] = [
      { id: randomUUID(), cap: 0 },
      { id: randomUUID(), cap: 10 },
    ];
    const caps = { ...none, concurrency: 2 };
    const now = Date.now();
    // The head's seller has no room; two behind it from another seller.
    await queues[0]!.join('head', [linkId], now - 100, WAIT_S);
    await queues[1]!.join('w-1', [linkId], now - 99, WAIT_S);
    await queues[0]!.join('w-2', [linkId], now - 98, WAIT_S);
    // The head's turn: refused by its own seller, marked held back.
    expect((await take(0, linkId, 'head', 1, caps, now, full)).r).toBe('seller_concurrency');
    const served: string[] = [];
    let n = 0;
    while (served.length < 2) {
      const turns = ['w-1', 'w-2']
        .filter((w) => !served.includes(w))
        .map(async (w, i) => {
          const { r } = await take(i, linkId, w, 1, caps, now, free);
          if (r === 'taken') served.push(w);
          else expect(r).toBe('waiting');
        });
      const arrivals = Array.from({ length: 10 }, (_, i) =>
        take(i, linkId, `new-${++n}`, 1, caps, now, free).then(({ r }) => expect(r).not.toBe('taken')),
      );
      await Promise.all([...turns, ...arrivals]);
      expect([...served].sort()).toEqual(['w-1', 'w-2'].slice(0, served.length));
    }
    expect(await queues[0]!.waiting(linkId)).toEqual(['head']);
    expect(await stores[0]!.live(linkId, now)).toBe(2);
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

  it("a seller's cap raised while a waiter is held back by it: a newcomer of that seller, judging by the new cap, leaves the slot to the waiter; a cap removed holds nobody", async () => {
    const linkId = randomUUID();
    const sellerId = randomUUID();
    const caps = { ...none, concurrency: 5 };
    const now = Date.now();
    // The seller's one call, then a waiter its cap of 1 holds back (marked at its turn).
    expect((await take(0, linkId, 'up', 1, caps, now, { id: sellerId, cap: 1 }, false)).r).toBe('taken');
    await queues[0]!.join('w', [linkId], now - 100, WAIT_S);
    expect((await take(0, linkId, 'w', 1, caps, now, { id: sellerId, cap: 1 })).r).toBe('seller_concurrency');
    // Under the old cap a newcomer passes the waiter and is refused by the seller's cap itself.
    expect((await take(1, linkId, 'n-1', 1, caps, now, { id: sellerId, cap: 1 })).r).toBe(
      'seller_concurrency',
    );
    // The cap is now 2: the waiter could take the slot, so a newcomer of the same seller may not.
    expect((await take(1, linkId, 'n-2', 1, caps, now, { id: sellerId, cap: 2 })).r).toBe('waiting');
    // The seller's cap gone (its keys still given for another cap): nothing holds the waiter back.
    const ref: SlotRef = {
      linkId,
      slotId: 'n-3-1',
      buckets,
      sources: [{ kind: 'seller', id: sellerId, buckets }],
    };
    const r = await stores[1]!.take(ref, caps, now, undefined, [{ caps: { ...none, daily: 100 } }], {
      callId: 'n-3',
      staleBefore: staleBefore(now, WAIT_S),
    });
    expect(r).toBe('waiting');
    // The waiter's own turn under the new cap takes it.
    expect((await take(0, linkId, 'w', 2, caps, now, { id: sellerId, cap: 2 })).r).toBe('taken');
    expect(await queues[0]!.waiting(linkId)).toEqual([]);
  });

  it("a new round of turns (a plan change, a new hour): a mark made before holds nobody back until its waiter's own turn of the round, on whichever instance each waits", async () => {
    const caps = { ...none, concurrency: 5 };
    const now = Date.now();
    for (const raised of [false, true]) {
      const linkId = randomUUID();
      const [s1, s2] = [randomUUID(), randomUUID()];
      // W1 (instance 0) is held back by its seller's cap of 1 and marked so; W2 (instance 1, another
      // seller) joined after it.
      expect((await take(0, linkId, 'up', 1, caps, now, { id: s1, cap: 1 }, false)).r).toBe('taken');
      await queues[0]!.join('w1', [linkId], now - 200, WAIT_S);
      await queues[1]!.join('w2', [linkId], now - 100, WAIT_S);
      expect((await take(0, linkId, 'w1', 1, caps, now, { id: s1, cap: 1 })).r).toBe('seller_concurrency');
      const held = keys.routing.link(linkId, 'held');
      expect(await r1.hget(held, 'w1')).not.toBeNull();
      // A round begins (here the plans changed: S1's cap is 2 when `raised`). Before W1's turn of
      // it, W2's take on the other instance: W1's old mark (S1's cap of 1, full) no longer decides.
      await queues[1]!.newRound();
      expect((await take(1, linkId, 'w2', 1, caps, now, { id: s2, cap: 5 })).r).toBe('waiting');
      expect(await r1.hget(held, 'w1')).toBeNull();
      const s1Cap = raised ? 2 : 1;
      // W1's turn of the round: served under the raised cap, else marked again; then W2's.
      expect((await take(0, linkId, 'w1', 2, caps, now, { id: s1, cap: s1Cap })).r).toBe(
        raised ? 'taken' : 'seller_concurrency',
      );
      expect((await take(1, linkId, 'w2', 2, caps, now, { id: s2, cap: 5 })).r).toBe('taken');
      expect(await queues[0]!.waiting(linkId)).toEqual(raised ? [] : ['w1']);
    }
  });

  it("a new hour's wake-up is claimed once however many instances claim it, and starts one round", async () => {
    const sub = r1.duplicate();
    sub.on('error', () => {});
    const heard: string[] = [];
    sub.on('message', (_c: string, m: string) => heard.push(m));
    await sub.subscribe(keys.routing.queueWake);
    try {
      const at = Date.UTC(2026, 11, 6, 3) + Math.floor(Math.random() * 1e6) * 3_600_000;
      const round = Number((await r1.get(keys.routing.queueTurns)) ?? 0);
      const claims = await Promise.all(Array.from({ length: 6 }, (_, i) => queues[i % 2]!.claimHour(at)));
      expect(claims.filter(Boolean)).toHaveLength(1);
      expect(Number(await r1.get(keys.routing.queueTurns))).toBe(round + 1);
      await waitFor(() => (heard.includes(`h:${at}`) ? true : undefined));
      // The next hour is a new claim.
      expect(await queues[1]!.claimHour(at + 3_600_000)).toBe(true);
      await waitFor(() => (heard.includes(`h:${at + 3_600_000}`) ? true : undefined));
      expect(heard.filter((m) => m === `h:${at}`)).toHaveLength(1);
    } finally {
      sub.disconnect();
    }
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

  it("an earlier version's line of a campaign is put into its links' lines at start: its callers keep their place", async () => {
    const [campaignId, l1, l2] = [randomUUID(), randomUUID(), randomUUID()];
    const now = Date.now();
    const old = keys.routing.campaign(campaignId, 'queue');
    await r1.zadd(old, now - 3000, 'old-1', now - 2000, 'old-2');
    await r1.pexpire(old, 900_000);
    // A caller that joined l1's line since (after the new version started) stays behind them.
    await queues[0]!.join('new-1', [l1], now - 1000, WAIT_S);
    const asked: string[] = [];
    const moved = await adoptCampaignQueues(r1, keys.routing, async (id) => {
      asked.push(id);
      return [l1, l2];
    });
    expect(moved).toBe(2);
    expect(asked).toEqual([campaignId]);
    expect(await r1.exists(old)).toBe(0);
    expect(await queues[0]!.waiting(l1)).toEqual(['old-1', 'old-2', 'new-1']);
    expect(await queues[0]!.waiting(l2)).toEqual(['old-1', 'old-2']);
    expect(await r1.pttl(keys.routing.link(l2, 'waiting'))).toBeGreaterThan(600_000);
    // The first of them is served first; anyone else waits.
    const caps = { ...none, concurrency: 1 };
    expect((await take(0, l1, 'new-1', 1, caps, now)).r).toBe('waiting');
    expect((await take(1, l1, 'old-1', 1, caps, now)).r).toBe('taken');
    // Nothing left to move: a second start changes nothing.
    expect(await adoptCampaignQueues(r1, keys.routing, async () => [l1])).toBe(0);
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
