// The hold queue through the whole flow: callers finding every link at its concurrency cap wait on
// hold, and are served first come first served as slots free; a wait that runs out ends the call
// with its reason (or takes the default route). Waiters are woken when a slot frees: the flow's safety
// poll is set far beyond the tests' waits, except where a lost wake-up is what is tested.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisKeys } from '../../src/platform/redis/keys.ts';
import { type Flow, startFlow } from '../helpers/flow.ts';
import { waitFor } from '../helpers/wait.ts';

describe('hold queue', () => {
  let f: Flow;
  beforeAll(async () => {
    f = await startFlow({ HOLD_QUEUE_POLL_MS: '60000' });
  });
  afterAll(async () => {
    await f?.stop();
  });
  afterEach(async () => {
    await waitFor(() => f.sim.liveChannels().length === 0 || undefined);
  });
  const turns = async (by: string) =>
    (await f.d.ctx.metrics.getSingleMetric('capconduit_queue_turns_total')!.get()).values.find(
      (v) => v.labels.by === by,
    )?.value ?? 0;
  const live = (did: string, caller: string, phase: string) =>
    waitFor(() =>
      f.routing.router!.live().find((x) => x.did === did && x.caller === caller && x.phase === phase),
    );

  it('serves waiting callers first come first served as the slot frees', async () => {
    const c = await f.campaign({ queue_s: 600 }, [
      { behaviour: { answerAfterMs: 10 }, link: { concurrency_cap: 1 } },
    ]);
    const a = f.sim.placeInboundCall({ did: c.did, callerNumber: '+12125550200' });
    await live(c.did, '+12125550200', 'bridged');
    const b = f.sim.placeInboundCall({ did: c.did, callerNumber: '+12125550201' });
    await live(c.did, '+12125550201', 'queued');
    const d = f.sim.placeInboundCall({ did: c.did, callerNumber: '+12125550202' });
    await live(c.did, '+12125550202', 'queued');
    // Both looked once on joining (and found nothing): from now on only a wake-up serves them.
    await waitFor(async () => ((await turns('join')) === 2 ? true : undefined));
    f.sim.hangup(a);
    await live(c.did, '+12125550201', 'bridged');
    expect(f.routing.router!.live().find((x) => x.caller === '+12125550202')?.phase).toBe('queued');
    f.sim.hangup(b);
    await live(c.did, '+12125550202', 'bridged');
    f.sim.hangup(d);
    const rows = await f.cdrsOnce(c.did, 3);
    expect(rows.map((r) => [r.caller_number, r.disposition])).toEqual([
      ['+12125550200', 'answered'],
      ['+12125550201', 'answered'],
      ['+12125550202', 'answered'],
    ]);
    expect(Date.parse(String(rows[1]!.answered_at))).toBeLessThan(Date.parse(String(rows[2]!.answered_at)));
    const served = await f.d.ctx.metrics.getSingleMetric('capconduit_queue_served_total')!.get();
    expect(served.values.map((v) => [v.labels.by, v.value])).toEqual([['wake', 2]]);
  });

  it('a wait that runs out ends with queue_timeout and the capped links as reasons', async () => {
    const c = await f.campaign({ queue_s: 1 }, [
      { behaviour: { answerAfterMs: 10 }, link: { concurrency_cap: 0 } },
    ]);
    f.sim.placeInboundCall({ did: c.did, callerNumber: '+12125550203' });
    const [r] = await f.cdrsOnce(c.did);
    expect(r!.disposition).toBe('queue_timeout');
    expect(r!.not_routed.map((x) => x.reason)).toEqual(['concurrency']);
  });

  it('then the default route when there is one; links capped otherwise than by concurrency do not queue', async () => {
    const c = await f.campaign({ queue_s: 1, default_route: { kind: 'message', media: ['sound:beep'] } }, [
      { behaviour: { answerAfterMs: 10 }, link: { concurrency_cap: 0 } },
    ]);
    f.sim.placeInboundCall({ did: c.did, callerNumber: '+12125550204' });
    const [r] = await f.cdrsOnce(c.did);
    expect(r).toMatchObject({ disposition: 'default_route', default_route: 'message' });
    const h = await f.campaign({ queue_s: 600 }, [
      { behaviour: { answerAfterMs: 10 }, link: { hourly_cap: 0 } },
    ]);
    f.sim.placeInboundCall({ did: h.did, callerNumber: '+12125550205' });
    const [x] = await f.cdrsOnce(h.did);
    expect(x!.disposition).toBe('no_client');
  });

  it('a caller hanging up while queued leaves the line: the next one gets the slot', async () => {
    const c = await f.campaign({ queue_s: 600 }, [
      { behaviour: { answerAfterMs: 10 }, link: { concurrency_cap: 1 } },
    ]);
    const queueKey = new RedisKeys(f.d.ctx.config.REDIS_KEY_PREFIX).routing.link(
      c.clients[0]!.linkId,
      'waiting',
    );
    const a = f.sim.placeInboundCall({ did: c.did, callerNumber: '+12125550210' });
    await live(c.did, '+12125550210', 'bridged');
    const b = f.sim.placeInboundCall({ did: c.did, callerNumber: '+12125550211' });
    await live(c.did, '+12125550211', 'queued');
    const d = f.sim.placeInboundCall({ did: c.did, callerNumber: '+12125550212' });
    await live(c.did, '+12125550212', 'queued');
    await waitFor(async () => ((await f.d.ctx.redis.zcard(queueKey)) === 2 ? true : undefined));
    f.sim.hangup(b);
    await waitFor(async () => ((await f.d.ctx.redis.zcard(queueKey)) === 1 ? true : undefined));
    f.sim.hangup(a);
    await live(c.did, '+12125550212', 'bridged');
    f.sim.hangup(d);
    const rows = await f.cdrsOnce(c.did, 3);
    expect(rows.map((r) => [r.caller_number, r.disposition])).toEqual([
      ['+12125550210', 'answered'],
      ['+12125550211', 'caller_abandoned'],
      ['+12125550212', 'answered'],
    ]);
    expect(await f.d.ctx.redis.exists(queueKey)).toBe(0);
  });

  it("a waiter held back by its own DID's cap does not hold up the callers behind it, who are served in line order", async () => {
    const c = await f.campaign({ queue_s: 600 }, [
      { behaviour: { answerAfterMs: 10 }, link: { concurrency_cap: 1 } },
    ]);
    // A second number of the campaign, whose DID allows one answered call an hour.
    const capped = '+14155559301';
    const d = await f.api(f.sellerKey, 'POST', '/v1/dids', { number: capped, campaign_id: c.campaignId });
    expect(d.statusCode).toBe(201);
    expect((await f.api(f.staffKey, 'PATCH', `/v1/dids/${d.json().id}`, { hourly_cap: 1 })).statusCode).toBe(
      200,
    );
    // Its one call of the hour.
    const p = f.sim.placeInboundCall({ did: capped, callerNumber: '+12125550230' });
    await live(capped, '+12125550230', 'bridged');
    f.sim.hangup(p);
    await f.cdrsOnce(capped);
    const a = f.sim.placeInboundCall({ did: c.did, callerNumber: '+12125550231' });
    await live(c.did, '+12125550231', 'bridged');
    // First in line: a caller on the capped number (the link refused it, full).
    const x = f.sim.placeInboundCall({ did: capped, callerNumber: '+12125550232' });
    await live(capped, '+12125550232', 'queued');
    // Three more arrive at once behind it.
    const callers = ['+12125550233', '+12125550234', '+12125550235'];
    const ys = callers.map((n) => f.sim.placeInboundCall({ did: c.did, callerNumber: n }));
    for (const n of callers) await live(c.did, n, 'queued');
    // (Queued in the call's state before its entry is in Redis.)
    const line = await waitFor(async () => {
      const l = await f.routing.router!.queue.waiting(c.clients[0]!.linkId);
      return l.length === 4 ? l : undefined;
    });
    const callerOf = (id: string) => f.routing.router!.live().find((l) => l.call_id === id)?.caller;
    expect(line.map(callerOf)[0]).toBe('+12125550232');
    const order = line.slice(1).map(callerOf) as string[];
    expect([...order].sort()).toEqual(callers);
    // The slot frees: the head is refused by its DID's cap; the next in line is served, and so on.
    let up = a;
    for (const n of order) {
      f.sim.hangup(up);
      await live(c.did, n, 'bridged');
      expect(
        f.routing
          .router!.live()
          .filter((l) => l.phase === 'bridged')
          .map((l) => l.caller),
      ).toEqual([n]);
      expect(f.routing.router!.live().find((l) => l.caller === '+12125550232')?.phase).toBe('queued');
      up = ys[callers.indexOf(n)]!;
    }
    f.sim.hangup(up);
    f.sim.hangup(x);
    const rows = await f.cdrsOnce(capped, 2);
    expect(rows.map((r) => r.disposition)).toEqual(['answered', 'caller_abandoned']);
    const served = await f.cdrsOnce(c.did, 4);
    expect(served.map((r) => r.disposition)).toEqual(['answered', 'answered', 'answered', 'answered']);
  });

  // Served well before the waiter's own poll (a minute) would come.
  const servedBeforePoll = (did: string, caller: string) =>
    waitFor(
      () =>
        f.routing.router!.live().find((x) => x.did === did && x.caller === caller && x.phase === 'bridged'),
      30_000,
    );

  it("a cap raised while callers wait serves them at once — the link's own or its DID's — not at their next poll", async () => {
    const c = await f.campaign({ queue_s: 600 }, [
      { behaviour: { answerAfterMs: 10 }, link: { concurrency_cap: 1 } },
    ]);
    // The DID counts its calls from the start (a cap set later would not count those already up).
    const dids = await f.api(f.sellerKey, 'GET', `/v1/dids?campaign_id=${c.campaignId}`);
    const didId = dids.json().items[0].id as string;
    expect((await f.api(f.staffKey, 'PATCH', `/v1/dids/${didId}`, { concurrency_cap: 10 })).statusCode).toBe(
      200,
    );
    const a = f.sim.placeInboundCall({ did: c.did, callerNumber: '+12125550260' });
    await live(c.did, '+12125550260', 'bridged');
    // A waiter that has had its look on joining: from now on only a wake-up serves it (the poll
    // is a minute away, and would judge it by the plan it arrived under).
    const joined = await turns('join');
    const b = f.sim.placeInboundCall({ did: c.did, callerNumber: '+12125550261' });
    await live(c.did, '+12125550261', 'queued');
    await waitFor(async () => ((await turns('join')) > joined ? true : undefined));
    const link = c.clients[0]!.linkId;
    expect((await f.api(f.sellerKey, 'PATCH', `/v1/links/${link}`, { concurrency_cap: 2 })).statusCode).toBe(
      200,
    );
    await servedBeforePoll(c.did, '+12125550261');
    // The same for a DID's cap: the link has room, the DID's cap of 2 is full.
    expect((await f.api(f.staffKey, 'PATCH', `/v1/dids/${didId}`, { concurrency_cap: 2 })).statusCode).toBe(
      200,
    );
    expect((await f.api(f.sellerKey, 'PATCH', `/v1/links/${link}`, { concurrency_cap: 5 })).statusCode).toBe(
      200,
    );
    const joined2 = await turns('join');
    const d = f.sim.placeInboundCall({ did: c.did, callerNumber: '+12125550262' });
    await live(c.did, '+12125550262', 'queued');
    await waitFor(async () => ((await turns('join')) > joined2 ? true : undefined));
    expect((await f.api(f.staffKey, 'PATCH', `/v1/dids/${didId}`, { concurrency_cap: 3 })).statusCode).toBe(
      200,
    );
    await servedBeforePoll(c.did, '+12125550262');
    for (const x of [a, b, d]) f.sim.hangup(x);
    const rows = await f.cdrsOnce(c.did, 3);
    expect(rows.map((r) => r.disposition)).toEqual(['answered', 'answered', 'answered']);
  });

  const bridged = (did: string) =>
    f.routing
      .router!.live()
      .filter((l) => l.did === did && l.phase === 'bridged')
      .map((l) => l.caller);

  /**
   * One call up, three arriving at once held by the owner's cap of 1 on both links: each freed
   * slot goes to the next in line, never two calls up at once, and the line is its order.
   */
  async function servedInLine(did: string, linkId: string, prefix: string) {
    const a = f.sim.placeInboundCall({ did, callerNumber: `${prefix}0` });
    await live(did, `${prefix}0`, 'bridged');
    const callers = [1, 2, 3].map((i) => `${prefix}${i}`);
    const calls = new Map(callers.map((n) => [n, f.sim.placeInboundCall({ did, callerNumber: n })]));
    for (const n of callers) await live(did, n, 'queued');
    // Every link refused them for the owner: they wait in the line of each.
    const line = await waitFor(async () => {
      const l = await f.routing.router!.queue.waiting(linkId);
      return l.length === 3 ? l : undefined;
    });
    const order = line.map(
      (id) => f.routing.router!.live().find((l) => l.call_id === id)?.caller,
    ) as string[];
    expect([...order].sort()).toEqual(callers);
    let up = a;
    for (const n of order) {
      f.sim.hangup(up);
      await live(did, n, 'bridged');
      expect(bridged(did)).toEqual([n]);
      up = calls.get(n)!;
    }
    f.sim.hangup(up);
    const rows = await f.cdrsOnce(did, 4);
    expect(rows.map((r) => r.disposition)).toEqual(['answered', 'answered', 'answered', 'answered']);
    // Served in line order: the answers come in that order.
    const answered = order.map((n) =>
      Date.parse(String(rows.find((r) => r.caller_number === n)!.answered_at)),
    );
    expect([...answered].sort((x, y) => x - y)).toEqual(answered);
  }

  it("a DID's concurrency cap puts its callers on hold, and its freed slot goes to them first come first served", async () => {
    const talk = { answerAfterMs: 10 };
    const c = await f.campaign({ queue_s: 600 }, [{ behaviour: talk }, { behaviour: talk }]);
    const dids = await f.api(f.sellerKey, 'GET', `/v1/dids?campaign_id=${c.campaignId}`);
    const didId = dids.json().items[0].id as string;
    expect((await f.api(f.staffKey, 'PATCH', `/v1/dids/${didId}`, { concurrency_cap: 1 })).statusCode).toBe(
      200,
    );
    await servedInLine(c.did, c.clients[0]!.linkId, '+1212555024');
  });

  it("a buyer group's concurrency cap over both clients holds the callers the same way, and their records name it", async () => {
    const talk = { answerAfterMs: 10 };
    const c = await f.campaign({ queue_s: 600 }, [{ behaviour: talk }, { behaviour: talk }]);
    const g = await f.api(f.staffKey, 'POST', '/v1/buyer-groups', { name: 'sites', concurrency_cap: 1 });
    expect(g.statusCode).toBe(201);
    for (const cl of c.clients)
      expect(
        (await f.api(f.staffKey, 'PATCH', `/v1/clients/${cl.clientId}`, { group_id: g.json().id }))
          .statusCode,
      ).toBe(200);
    await servedInLine(c.did, c.clients[1]!.linkId, '+1212555025');
    const r = await f.cdrsOnce(c.did, 4);
    // The waiters' records say what held them: the group's concurrency on each link.
    expect(r.slice(1).every((x) => x.not_routed.some((n) => n.reason === 'group_concurrency'))).toBe(true);
  });

  it("a seller's concurrency cap over two campaigns on two links: callers arriving at once are served in the seller's line order, whichever link, never two up", async () => {
    const talk = { answerAfterMs: 10 };
    const c1 = await f.campaign({ queue_s: 600 }, [{ behaviour: talk }]);
    const c2 = await f.campaign({ queue_s: 600 }, [{ behaviour: talk }]);
    const seller = (cap: number | null) =>
      f.api(f.staffKey, 'PATCH', `/v1/sellers/${f.sellerId}`, { concurrency_cap: cap });
    expect((await seller(1)).statusCode).toBe(200);
    try {
      const a = f.sim.placeInboundCall({ did: c1.did, callerNumber: '+12125550270' });
      await live(c1.did, '+12125550270', 'bridged');
      // Four callers at once, alternating the two campaigns' numbers.
      const callers = [1, 2, 3, 4].map((i) => ({ did: i % 2 ? c2.did : c1.did, n: `+1212555027${i}` }));
      const calls = new Map(
        callers.map((x) => [x.n, f.sim.placeInboundCall({ did: x.did, callerNumber: x.n })]),
      );
      for (const x of callers) await live(x.did, x.n, 'queued');
      const line = await waitFor(async () => {
        const l = await f.routing.router!.queue.waitingFor('seller', f.sellerId);
        return l.length === 4 ? l : undefined;
      });
      const order = line.map((id) => f.routing.router!.live().find((l) => l.call_id === id)!);
      const up = () =>
        f.routing
          .router!.live()
          .filter((l) => (l.did === c1.did || l.did === c2.did) && l.phase === 'bridged')
          .map((l) => l.caller);
      let current = a;
      for (const x of order) {
        f.sim.hangup(current);
        await live(x.did, x.caller, 'bridged');
        expect(up()).toEqual([x.caller]);
        current = calls.get(x.caller)!;
      }
      f.sim.hangup(current);
      const rows = [...(await f.cdrsOnce(c1.did, 3)), ...(await f.cdrsOnce(c2.did, 2))];
      expect(rows.map((r) => r.disposition)).toEqual(Array(5).fill('answered'));
      // Served in the line's order across both campaigns: the answers come in that order.
      const answered = order.map((x) =>
        Date.parse(String(rows.find((r) => r.caller_number === x.caller)!.answered_at)),
      );
      expect([...answered].sort((p, q) => p - q)).toEqual(answered);
      expect(new Set(order.map((x) => x.did))).toEqual(new Set([c1.did, c2.did]));
    } finally {
      expect((await seller(null)).statusCode).toBe(200);
    }
  });
});

describe('hold queue: a wake-up lost', () => {
  let f: Flow;
  const turns = async (by: string) =>
    (await f.d.ctx.metrics.getSingleMetric('capconduit_queue_turns_total')!.get()).values.find(
      (v) => v.labels.by === by,
    )?.value ?? 0;
  beforeAll(async () => {
    f = await startFlow({ HOLD_QUEUE_POLL_MS: '300' });
  });
  afterAll(async () => {
    await f?.stop();
  });

  it('the safety poll serves a waiting caller whose wake-up never came', async () => {
    const c = await f.campaign({ queue_s: 600 }, [
      { behaviour: { answerAfterMs: 10 }, link: { concurrency_cap: 1 } },
    ]);
    const live = (caller: string, phase: string) =>
      waitFor(() => f.routing.router!.live().find((x) => x.caller === caller && x.phase === phase));
    const a = f.sim.placeInboundCall({ did: c.did, callerNumber: '+12125550220' });
    await live('+12125550220', 'bridged');
    const b = f.sim.placeInboundCall({ did: c.did, callerNumber: '+12125550221' });
    await live('+12125550221', 'queued');
    const redis = f.d.ctx.redis;
    const channel = new RedisKeys(f.d.ctx.config.REDIS_KEY_PREFIX).routing.queueWake;
    const subscribers = async () => ((await redis.pubsub('NUMSUB', channel)) as [string, number])[1];
    // In line and listening, and its look on joining is over (it found no slot).
    await waitFor(async () =>
      (await subscribers()) === 1 && (await turns('join')) === 1 ? true : undefined,
    );
    // The subscription goes away (as while its connection reconnects): the release's message is lost.
    await f.routing.router!.queue.unlisten();
    expect(await subscribers()).toBe(0);
    f.sim.hangup(a);
    await live('+12125550221', 'bridged');
    const served = await f.d.ctx.metrics.getSingleMetric('capconduit_queue_served_total')!.get();
    expect(served.values.map((v) => [v.labels.by, v.value])).toEqual([['poll', 1]]);
    f.sim.hangup(b);
    const rows = await f.cdrsOnce(c.did, 2);
    expect(rows.map((r) => r.disposition)).toEqual(['answered', 'answered']);
  });
});
