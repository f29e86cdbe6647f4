// Caps of the other owners a slot counts against (seller, DID, buyer group), on real Redis: checked in
// the same script as the link's, so no combination overshoots under simultaneous arrivals from two
// connections ("two daemon instances"); released, refunded and reconciled exactly as link slots are.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAsteriskModule } from '../../src/asterisk/index.ts';
import { createApiKey } from '../../src/auth/keys.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { createRedis } from '../../src/platform/redis/client.ts';
import { RedisKeys } from '../../src/platform/redis/keys.ts';
import type { HourlyConcurrency } from '../../src/db/schema/routing.ts';
import { concurrencyAt } from '../../src/routing/decide.ts';
import { createRoutingModule, type RoutingModule } from '../../src/routing/index.ts';
import { type LinkCaps, type SlotRef, SlotStore, type SourceRef } from '../../src/routing/slots.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { freshDatabase, redisPrefix, testConfig } from '../helpers/env.ts';
import { simEnv } from '../helpers/sim-env.ts';
import { seedCampaign } from '../helpers/seed.ts';
import { waitFor } from '../helpers/wait.ts';

const log = createLogger({ level: 'silent' });

const none: LinkCaps = { concurrency: null, hourly: null, daily: null, monthly: null, total: null };
const buckets = { hour: '2026112305', day: '20261123', month: '202611' };

describe('cap owners beside the link', () => {
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
  const src = (kind: SourceRef['kind'], id: string): SourceRef => ({ kind, id, buckets });
  const ref = (linkId: string, sources: SourceRef[]): SlotRef => ({
    linkId,
    slotId: randomUUID(),
    buckets,
    sources,
  });

  it('200 arrivals at once over two links and two instances: the seller cap and the link caps hold together', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 120 }),
        fc.integer({ min: 0, max: 120 }),
        fc.integer({ min: 0, max: 200 }),
        async (capA, capB, capSeller) => {
          const [la, lb, seller] = [randomUUID(), randomUUID(), randomUUID()];
          const s = src('seller', seller);
          const refs = Array.from({ length: 200 }, (_, i) => ref(i % 2 ? la : lb, [s]));
          const results = await Promise.all(
            refs.map((x, i) =>
              (i % 3 ? a : b).take(
                x,
                { ...none, concurrency: x.linkId === la ? capA : capB },
                Date.now(),
                0,
                [{ caps: { ...none, concurrency: capSeller } }],
              ),
            ),
          );
          const taken = refs.filter((_, i) => results[i] === 'taken');
          const onA = taken.filter((x) => x.linkId === la).length;
          const onB = taken.length - onA;
          expect(onA).toBeLessThanOrEqual(capA);
          expect(onB).toBeLessThanOrEqual(capB);
          // Exactly as many as the tighter of the two allows: nothing overshoots, nothing is lost.
          expect(taken.length).toBe(Math.min(capSeller, Math.min(capA, 100) + Math.min(capB, 100)));
          expect(await a.liveOf('seller', seller)).toBe(taken.length);
          for (const r of results) expect(['taken', 'concurrency', 'seller_concurrency']).toContain(r);
          // The seller's cap is what refused whenever it is tighter than the links' together.
          if (capSeller < Math.min(capA, 100) + Math.min(capB, 100))
            expect(results).toContain('seller_concurrency');
        },
      ),
      { numRuns: 8 },
    );
  });

  it('the refusal names the owner and the kind; a release frees the seller, DID and group places too', async () => {
    const [link, seller, did, group] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    const sources = [src('seller', seller), src('did', did), src('group', group)];
    const limits = (c: Partial<Record<'seller' | 'did' | 'group', Partial<LinkCaps>>>) => [
      { caps: { ...none, ...c.seller } },
      { caps: { ...none, ...c.did } },
      { caps: { ...none, ...c.group } },
    ];
    const x = ref(link, sources);
    expect(await a.take(x, none, Date.now(), 0, limits({ did: { concurrency: 1 } }))).toBe('taken');
    expect(await a.take(ref(link, sources), none, Date.now(), 0, limits({ did: { concurrency: 1 } }))).toBe(
      'did_concurrency',
    );
    expect(await a.take(ref(link, sources), none, Date.now(), 0, limits({ group: { hourly: 1 } }))).toBe(
      'group_hourly',
    );
    expect(await a.take(ref(link, sources), none, Date.now(), 0, limits({ seller: { daily: 1 } }))).toBe(
      'seller_daily',
    );
    expect(await a.take(ref(link, sources), { ...none, total: 1 }, Date.now(), 0, limits({}))).toBe('total');
    for (const [kind, id] of [
      ['seller', seller],
      ['did', did],
      ['group', group],
    ] as const) {
      expect(await a.liveOf(kind, id)).toBe(1);
      expect(await a.countersOf(kind, id, buckets)).toEqual({ hourly: 1, daily: 1, monthly: 1, total: 1 });
    }
    // Not answered: every owner gets its reservation back and its place.
    expect(await b.release(x)).toBe('refunded');
    for (const [kind, id] of [
      ['seller', seller],
      ['did', did],
      ['group', group],
    ] as const) {
      expect(await a.liveOf(kind, id)).toBe(0);
      expect(await a.countersOf(kind, id, buckets)).toEqual({ hourly: 0, daily: 0, monthly: 0, total: 0 });
    }
    // Answered: the place is freed, the use stays counted.
    const y = ref(link, sources);
    expect(await a.take(y, none, Date.now(), 0, limits({ did: { concurrency: 1 } }))).toBe('taken');
    expect(await a.answer(y)).toBe(true);
    expect(await a.release(y)).toBe('answered');
    expect(await a.release(y)).toBe('already');
    expect(await a.liveOf('did', did)).toBe(0);
    expect(await a.countersOf('group', group, buckets)).toEqual({
      hourly: 1,
      daily: 1,
      monthly: 1,
      total: 1,
    });
    expect(await a.take(ref(link, sources), none, Date.now(), 0, limits({ group: { hourly: 1 } }))).toBe(
      'group_hourly',
    );
  });

  it('a total cap on a seller is seeded from PostgreSQL when Redis has none, never overwritten', async () => {
    const [link, seller] = [randomUUID(), randomUUID()];
    const s = [src('seller', seller)];
    const caps = [{ caps: { ...none, total: 5 }, totalAnswered: 4 }];
    expect(await a.take(ref(link, s), none, Date.now(), 0, caps)).toBe('taken');
    expect((await a.countersOf('seller', seller, buckets)).total).toBe(5);
    expect(await a.take(ref(link, s), none, Date.now(), 0, [{ caps: caps[0]!.caps, totalAnswered: 1 }])).toBe(
      'seller_total',
    );
  });

  it('reconcile and takeover find the owners on the slot: they free exactly the seller and group places of gone calls', async () => {
    const [link, seller, group] = [randomUUID(), randomUUID(), randomUUID()];
    const sources = [src('seller', seller), src('group', group)];
    const limits = [
      { caps: { ...none, concurrency: 10 } },
      { caps: { ...none, concurrency: 10, daily: 10 } },
    ];
    const alive = { ...ref(link, sources), nodeId: 'n1' };
    const dead = { ...ref(link, sources), nodeId: 'n1' };
    const adopted = { ...ref(link, sources), nodeId: 'n1' };
    for (const x of [alive, dead, adopted])
      expect(await a.take(x, none, Date.now(), 0, limits)).toBe('taken');
    // A takeover rebuilds the refs of the legs it adopts from the slots' hashes, owners included.
    const found = await b.slotsOf([adopted.slotId]);
    expect(found.get(adopted.slotId)).toEqual(adopted);
    expect(await b.release(found.get(adopted.slotId)!)).toBe('refunded');
    const listedAt = Date.now() + 1;
    expect(await b.reconcile('n1', (id) => id === alive.slotId, listedAt)).toBe(1);
    expect(await a.liveOf('seller', seller)).toBe(1);
    expect(await a.liveOf('group', group)).toBe(1);
    expect((await a.countersOf('group', group, buckets)).daily).toBe(1); // the live call's reservation
  });
});

describe('concurrency by hour on real Redis', () => {
  const keys = new RedisKeys(redisPrefix());
  const r = createRedis(process.env.REDIS_URL!, { enableOfflineQueue: true });
  afterAll(async () => {
    const left = await r.keys(`${keys.prefix}:*`);
    if (left.length) await r.del(...left);
    r.disconnect();
  });

  it('as the hour changes the cap, a take succeeds exactly while live < the cap of that hour; a lower cap never ends a live call', async () => {
    // Slots outlive the day the test walks through (a slot past its TTL would stop counting).
    const slots = new SlotStore(r, keys, 48 * 3_600_000);
    const monday = Date.parse('2026-01-05T00:00:00Z');
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.nat(6), { minLength: 24, maxLength: 24 }),
        fc.array(fc.record({ hour: fc.nat(23), op: fc.constantFrom('take', 'take', 'end') }), {
          maxLength: 40,
        }),
        async (day, ops) => {
          const link = randomUUID();
          const schedule: HourlyConcurrency = { '1': day };
          const live: SlotRef[] = [];
          let hour = 0;
          for (const o of ops) {
            // Time only moves forward through Monday (UTC client).
            hour = Math.max(hour, o.hour);
            const at = new Date(monday + hour * 3_600_000);
            if (o.op === 'end') {
              const x = live.shift();
              if (x) expect(await slots.release(x)).toBe('refunded');
              continue;
            }
            const cap = concurrencyAt(99, schedule, 'UTC', at);
            const x: SlotRef = { linkId: link, slotId: randomUUID(), buckets };
            const got = await slots.take(x, { ...none, concurrency: cap }, at.getTime());
            expect(got).toBe(live.length < cap! ? 'taken' : 'concurrency');
            if (got === 'taken') live.push(x);
            // Calls above a lowered cap stay live: only an end removes one.
            expect(await slots.live(link, at.getTime())).toBe(live.length);
          }
        },
      ),
      { numRuns: 30 },
    );
  });
});

describe('source caps through two daemon instances', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  const prefix = redisPrefix();
  const did = '+14155557100';
  const didCapped = '+14155557101';
  const endpoints = ['src-client-a', 'src-client-b'];
  let sellerId = '';
  let didCappedId = '';

  beforeAll(async () => {
    db = await freshDatabase();
    const seeded = await seedCampaign(db.url, {
      seller: 'src',
      // Two attempts: a call the first link refuses (its cap) fails over to the second.
      campaign: { maxAttempts: 2 },
      dids: [did, didCapped],
      clients: endpoints,
      link: { concurrencyCap: 5 },
    });
    sellerId = seeded.sellerId;
    didCappedId = seeded.didIds[1]!;
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('caps are set by the API (a DID cap by staff only); 200 simultaneous arrivals on two instances never overshoot the seller cap or a link cap, and each refusal names the cap', async () => {
    const sims = await Promise.all([
      startSimulator({ ariPort: 0, amiPort: 0 }),
      startSimulator({ ariPort: 0, amiPort: 0 }),
    ]);
    const daemons: Daemon[] = [];
    try {
      for (const [i, sim] of sims.entries()) {
        // Answered calls stay up until the test ends them: every slot taken is a leg still up.
        for (const ep of endpoints) sim.setEndpoint(ep, { answerAfterMs: 30 });
        const config = testConfig({
          DATABASE_URL: db.url,
          REDIS_KEY_PREFIX: prefix,
          INSTANCE_ID: `src-${i}`,
          ...simEnv(sim, `node-${i}`),
        });
        daemons.push(
          await startDaemon(config, log, [createAsteriskModule, createRoutingModule], { listen: false }),
        );
      }
      for (const d of daemons) await waitFor(async () => (await d.app.inject('/ready')).statusCode === 200);
      const d0 = daemons[0]!;
      const staff = (await createApiKey(d0.ctx.database.db, { role: 'staff' })).key;
      const sellerKey = (await createApiKey(d0.ctx.database.db, { role: 'seller', sellerId })).key;
      const api = (key: string, method: 'PATCH' | 'GET', url: string, payload?: object) =>
        d0.app.inject({ method, url, headers: { 'x-api-key': key }, ...(payload ? { payload } : {}) });
      // Seller caps are staff's (the sellers resource is); a seller key may not set its DIDs' caps.
      const set = await api(staff, 'PATCH', `/v1/sellers/${sellerId}`, { concurrency_cap: 7 });
      expect(set.statusCode, set.body).toBe(200);
      expect(set.json()).toMatchObject({ concurrency_cap: 7, hourly_cap: null });
      const refused = await api(sellerKey, 'PATCH', `/v1/dids/${didCappedId}`, { concurrency_cap: 9 });
      expect(refused.statusCode).toBe(403);
      expect(refused.json().error.code).toBe('FORBIDDEN_ROLE');
      const bad = await api(staff, 'PATCH', `/v1/dids/${didCappedId}`, { concurrency_cap: -1 });
      expect(bad.statusCode).toBe(400);
      const didSet = await api(staff, 'PATCH', `/v1/dids/${didCappedId}`, { concurrency_cap: 2 });
      expect(didSet.statusCode, didSet.body).toBe(200);
      expect((await api(sellerKey, 'GET', `/v1/dids/${didCappedId}`)).json().concurrency_cap).toBe(2);

      const legs = (ep?: string) =>
        sims.reduce(
          (n, s) =>
            n +
            s
              .liveChannels()
              .filter((c) => (ep ? [ep] : endpoints).some((e) => c.name.startsWith(`PJSIP/${e}-`))).length,
          0,
        );
      const callers: Array<[Simulator, string]> = [];
      for (let i = 0; i < 100; i++)
        for (const s of sims)
          callers.push([s, s.placeInboundCall({ did, callerNumber: `+1212555${1000 + i}` })]);
      const flush = () =>
        Promise.all(daemons.map((d) => (d.ctx.modules.get('routing') as RoutingModule).cdr.flush()));
      const cdrs = async (number: string) => {
        await flush();
        return d0.ctx.database.sql<{ disposition: string; not_routed: Array<{ reason: string }> }[]>`
          select disposition, not_routed from call_records where did = ${number}`;
      };
      // Every call is either bridged (its leg stays up) or refused; 7 legs up = the seller's cap.
      const refusedRows = await waitFor(async () => {
        const r = await cdrs(did);
        return r.length === 193 && legs() === 7 ? r : undefined;
      }, 150_000);
      expect(legs(endpoints[0])).toBeLessThanOrEqual(5);
      expect(legs(endpoints[1])).toBeLessThanOrEqual(5);
      expect(refusedRows.every((r) => r.disposition === 'no_client')).toBe(true);
      // Each refused call says why each link took no part: the seller's cap (or a link's own).
      const reasons = new Set(refusedRows.flatMap((r) => r.not_routed.map((x) => x.reason)));
      expect(reasons.has('seller_concurrency')).toBe(true);
      for (const r of reasons) expect(['seller_concurrency', 'concurrency']).toContain(r);
      expect(await (d0.ctx.modules.get('routing') as RoutingModule).slots.liveOf('seller', sellerId)).toBe(7);
      for (const [s, id] of callers) s.hangup(id);
      await waitFor(() => (legs() === 0 ? true : undefined));
      // Released with the calls: the seller's places are free again.
      const slots = (d0.ctx.modules.get('routing') as RoutingModule).slots;
      await waitFor(async () => ((await slots.liveOf('seller', sellerId)) === 0 ? true : undefined));

      // The DID's cap (2) is tighter than the seller's (7): 2 legs, the rest refused as `did_concurrency`.
      const more: Array<[Simulator, string]> = [];
      for (let i = 0; i < 5; i++)
        for (const s of sims)
          more.push([s, s.placeInboundCall({ did: didCapped, callerNumber: `+1313555${1000 + i}` })]);
      const didRows = await waitFor(async () => {
        const r = await cdrs(didCapped);
        return r.length === 8 && legs() === 2 ? r : undefined;
      }, 150_000);
      expect(new Set(didRows.flatMap((r) => r.not_routed.map((x) => x.reason)))).toEqual(
        new Set(['did_concurrency']),
      );
      for (const [s, id] of more) s.hangup(id);
      await waitFor(async () => ((await slots.liveOf('did', didCappedId)) === 0 ? true : undefined));
    } finally {
      for (const d of daemons) await d.stop();
      for (const s of sims) await s.stop();
    }
  }, 300_000);
});

describe('buyer groups', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  afterAll(async () => {
    await db?.drop();
  });

  it('a group cap is shared by its clients on top of their own; the clients outside it are not held back; a refusal says group_<kind>', async () => {
    db = await freshDatabase();
    const sim = await startSimulator({ ariPort: 0, amiPort: 0 });
    const d = await startDaemon(
      testConfig({ DATABASE_URL: db.url, ...simEnv(sim, 'node-g') }),
      log,
      [createAsteriskModule, createRoutingModule],
      { listen: false },
    );
    try {
      await waitFor(async () => (await d.app.inject('/ready')).statusCode === 200);
      const staff = (await createApiKey(d.ctx.database.db, { role: 'staff' })).key;
      const api = async (method: 'POST' | 'PATCH' | 'GET' | 'DELETE', url: string, payload?: object) => {
        const r = await d.app.inject({
          method,
          url,
          headers: { 'x-api-key': staff },
          ...(payload ? { payload } : {}),
        });
        return { status: r.statusCode, body: r.body ? r.json() : null };
      };
      const g = await api('POST', '/v1/buyer-groups', {
        name: 'Acme Calls',
        concurrency_cap: 3,
        timezone: 'Europe/Berlin',
      });
      expect(g.status, JSON.stringify(g.body)).toBe(201);
      expect(g.body).toMatchObject({
        name: 'Acme Calls',
        concurrency_cap: 3,
        hourly_cap: null,
        timezone: 'Europe/Berlin',
      });
      expect((await api('POST', '/v1/buyer-groups', { name: 'x', daily_cap: 1.5 })).status).toBe(400);
      expect((await api('POST', '/v1/buyer-groups', { name: 'x', timezone: 'Mars/Base' })).status).toBe(400);
      const missing = await api('POST', '/v1/clients', { name: 'y', endpoint: 'y', group_id: randomUUID() });
      expect(missing.status).toBe(404);
      const s = await api('POST', '/v1/sellers', { name: 'grp-seller' });
      const camp = await api('POST', '/v1/campaigns', { seller_id: s.body.id, name: 'c', max_attempts: 3 });
      const did = '+14155557200';
      expect(
        (await api('POST', '/v1/dids', { number: did, seller_id: s.body.id, campaign_id: camp.body.id }))
          .status,
      ).toBe(201);
      // Two sites of one company (5 calls each on their own) and an independent client (2).
      const eps = ['grp-site-1', 'grp-site-2', 'independent'];
      const ids: string[] = [];
      for (const [i, ep] of eps.entries()) {
        sim.setEndpoint(ep, { answerAfterMs: 20 }); // answers and stays up
        const c = await api('POST', '/v1/clients', {
          name: ep,
          endpoint: ep,
          ...(i < 2 ? { group_id: g.body.id } : {}),
        });
        expect(c.status).toBe(201);
        expect(c.body.group_id).toBe(i < 2 ? g.body.id : null);
        ids.push(c.body.id);
        const l = await api('POST', `/v1/campaigns/${camp.body.id}/links`, {
          client_id: c.body.id,
          concurrency_cap: i < 2 ? 5 : 2,
          priority: i,
        });
        expect(l.status).toBe(201);
      }
      // A group with clients is deleted only with cascade.
      expect((await api('DELETE', `/v1/buyer-groups/${g.body.id}`)).status).toBe(409);
      const legs = (ep: string) => sim.liveChannels().filter((c) => c.name.startsWith(`PJSIP/${ep}-`)).length;
      const callers = Array.from({ length: 10 }, (_, i) =>
        sim.placeInboundCall({ did, callerNumber: `+1415666${1000 + i}` }),
      );
      const cdr = (d.ctx.modules.get('routing') as RoutingModule).cdr;
      const rows = await waitFor(async () => {
        await cdr.flush();
        const r = await d.ctx.database.sql<{ not_routed: Array<{ client_id: string; reason: string }> }[]>`
          select not_routed from call_records where did = ${did}`;
        return r.length === 5 && legs(eps[0]!) + legs(eps[1]!) === 3 && legs(eps[2]!) === 2 ? r : undefined;
      }, 150_000);
      // The refused calls: both sites refused by the group's cap, the independent client by its own.
      for (const r of rows) {
        const why = Object.fromEntries(r.not_routed.map((x) => [x.client_id, x.reason]));
        expect(why).toEqual({
          [ids[0]!]: 'group_concurrency',
          [ids[1]!]: 'group_concurrency',
          [ids[2]!]: 'concurrency',
        });
      }
      const slots = (d.ctx.modules.get('routing') as RoutingModule).slots;
      expect(await slots.liveOf('group', g.body.id)).toBe(3);
      for (const c of callers) sim.hangup(c);
      await waitFor(async () => ((await slots.liveOf('group', g.body.id)) === 0 ? true : undefined));
      // An hourly schedule on the independent link: 1 at once in every hour of the week (its cap says 2;
      // the same whichever hour the test runs in).
      const sched = Object.fromEntries(
        ['0', '1', '2', '3', '4', '5', '6'].map((k) => [k, Array.from({ length: 24 }, () => 1)]),
      );
      const links = await api('GET', `/v1/campaigns/${camp.body.id}/links`);
      const ind = links.body.items.find((l: { client_id: string }) => l.client_id === ids[2]);
      expect(
        (await api('PATCH', `/v1/links/${ind.id}`, { concurrency_schedule: { '1': [1, 2] } })).status,
      ).toBe(400);
      const ps = await api('PATCH', `/v1/links/${ind.id}`, { concurrency_schedule: sched, priority: 0 });
      expect(ps.status, JSON.stringify(ps.body)).toBe(200);
      expect(ps.body.concurrency_schedule['3']).toHaveLength(24);
      // Group capped to 0 meanwhile so only the independent link takes calls.
      expect((await api('PATCH', `/v1/buyer-groups/${g.body.id}`, { concurrency_cap: 0 })).status).toBe(200);
      const did2 = '+14155557201';
      expect(
        (await api('POST', '/v1/dids', { number: did2, seller_id: s.body.id, campaign_id: camp.body.id }))
          .status,
      ).toBe(201);
      const hourly = Array.from({ length: 3 }, (_, i) =>
        sim.placeInboundCall({ did: did2, callerNumber: `+1415777${1000 + i}` }),
      );
      const rows2 = await waitFor(async () => {
        await cdr.flush();
        const r = await d.ctx.database.sql<{ not_routed: Array<{ client_id: string; reason: string }> }[]>`
          select not_routed from call_records where did = ${did2}`;
        return r.length === 2 && legs(eps[2]!) === 1 ? r : undefined;
      }, 150_000);
      for (const r of rows2)
        expect(r.not_routed.find((x) => x.client_id === ids[2])?.reason).toBe('concurrency');
      for (const c of hourly) sim.hangup(c);
      await waitFor(async () => ((await slots.live(ind.id)) === 0 ? true : undefined));
      // Ungrouped by a cascade delete, the sites are held back by their own caps only.
      expect((await api('DELETE', `/v1/buyer-groups/${g.body.id}?cascade=true`)).status).toBe(204);
      expect((await api('GET', `/v1/clients/${ids[0]}`)).body.group_id).toBeNull();
    } finally {
      await d.stop();
      await sim.stop();
    }
  }, 300_000);
});
