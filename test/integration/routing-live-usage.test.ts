// Usage of sellers, DIDs and buyer groups against their own caps, as /v1/calls/live reports it: read
// from the buckets the slot script counted in (whatever the zones and the instant), over real Redis;
// then through a daemon routing simulated calls, with what each role may see.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { createAsteriskModule } from '../../src/asterisk/index.ts';
import { createApiKey } from '../../src/auth/keys.ts';
import { startDaemon } from '../../src/main.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { createRedis } from '../../src/platform/redis/client.ts';
import { RedisKeys } from '../../src/platform/redis/keys.ts';
import type { RouteLink, RoutePlan } from '../../src/routing/catalog.ts';
import { capBuckets, capSources } from '../../src/routing/decide.ts';
import { createRoutingModule, type RoutingModule } from '../../src/routing/index.ts';
import { type LinkCaps, SlotStore } from '../../src/routing/slots.ts';
import { type OwnerRows, ownersUsage } from '../../src/routing/usage.ts';
import { startSimulator } from '../../src/simulator/index.ts';
import { freshDatabase, redisPrefix, testConfig } from '../helpers/env.ts';
import { movableClock } from '../helpers/routing-clock.ts';
import { simEnv } from '../helpers/sim-env.ts';
import { waitFor } from '../helpers/wait.ts';

const log = createLogger({ level: 'silent' });
const none: LinkCaps = { concurrency: null, hourly: null, daily: null, monthly: null, total: null };
const capRow = (id: string, c: Partial<LinkCaps>) => ({
  id,
  concurrencyCap: c.concurrency ?? null,
  hourlyCap: c.hourly ?? null,
  dailyCap: c.daily ?? null,
  monthlyCap: c.monthly ?? null,
  totalCap: c.total ?? null,
});

describe('usage of the other cap owners, read where the slot script counted', () => {
  const keys = new RedisKeys(redisPrefix());
  const redis = createRedis(process.env.REDIS_URL!, { enableOfflineQueue: true });
  const slots = new SlotStore(redis, keys, 60_000);
  afterAll(async () => {
    const left = await redis.keys(`${keys.prefix}:*`);
    if (left.length) await redis.del(...left);
    redis.disconnect();
  });

  // Zones whose day or month differs from UTC's at many instants, half- and quarter-hour ones included.
  const zones = [
    'UTC',
    'Asia/Kolkata',
    'Asia/Kathmandu',
    'Pacific/Chatham',
    'America/St_Johns',
    'Pacific/Kiritimati',
  ];

  it('for any instant, default zone and group zone, a slot taken shows once in every bucket of seller, DID and group', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.date({
          min: new Date('2020-01-01T00:00:00Z'),
          max: new Date('2035-12-31T23:59:59Z'),
          noInvalidDate: true,
        }),
        fc.constantFrom(...zones),
        fc.constantFrom(...zones),
        fc.integer({ min: 0, max: 1000 }),
        async (at, defaultTz, groupTz, persisted) => {
          const [link, seller, did, group] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
          const caps = { ...none, concurrency: 10, hourly: 10, daily: 10, monthly: 10, total: 5000 };
          const plan = {
            sources: [
              { kind: 'seller', id: seller, caps, totalAnswered: 0 },
              { kind: 'did', id: did, caps, totalAnswered: 0 },
            ],
          } as unknown as RoutePlan;
          const l = {
            group: { id: group, caps, totalAnswered: persisted, timezone: groupTz },
          } as unknown as RouteLink;
          const { refs, limits } = capSources(plan, l, at, defaultTz);
          const ref = { linkId: link, slotId: randomUUID(), buckets: capBuckets('UTC', at), sources: refs };
          expect(await slots.take(ref, none, at.getTime(), 0, limits)).toBe('taken');
          const rows: OwnerRows = {
            sellers: [{ row: { ...capRow(seller, caps), name: 's' }, persisted: null }],
            dids: [
              {
                row: { ...capRow(did, caps), number: '+1', sellerId: seller, campaignId: null },
                seller: 's',
                persisted: null,
              },
            ],
            groups: [{ row: { ...capRow(group, caps), name: 'g', timezone: groupTz }, persisted }],
          };
          const u = await ownersUsage(rows, slots, defaultTz, at);
          const once = {
            live: { used: 1, cap: 10 },
            hourly: { used: 1, cap: 10 },
            daily: { used: 1, cap: 10 },
            monthly: { used: 1, cap: 10 },
            total: { used: 1, cap: 5000 },
          };
          expect(u.sellers).toEqual([{ seller_id: seller, seller: 's', ...once }]);
          expect(u.dids).toEqual([
            { did_id: did, did: '+1', seller_id: seller, seller: 's', campaign_id: null, ...once },
          ]);
          // The group's total was seeded from PostgreSQL's count, then counted this slot.
          expect(u.groups).toEqual([
            {
              group_id: group,
              group: 'g',
              timezone: groupTz,
              ...once,
              total: { used: persisted + 1, cap: 5000 },
            },
          ]);
          // Once its slot is given back unanswered, nothing is counted anywhere.
          expect(await slots.release(ref)).toBe('refunded');
          const after = await ownersUsage(rows, slots, defaultTz, at);
          for (const o of [...after.sellers, ...after.dids])
            expect([o.live.used, o.hourly.used, o.daily.used, o.monthly.used, o.total.used]).toEqual([
              0, 0, 0, 0, 0,
            ]);
          // PostgreSQL's total stands when Redis counts fewer.
          expect(after.groups[0]!.total.used).toBe(persisted);
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('GET /v1/calls/live with sellers, DIDs and buyer groups', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  afterAll(async () => {
    await db?.drop();
  });

  it('lists each owner with caps against them while calls are up and after; a seller key sees its own seller and DIDs, no group', async () => {
    db = await freshDatabase();
    const sim = await startSimulator({ ariPort: 0, amiPort: 0 });
    // The routing clock a quarter past the nearest hour: the hour (UTC), the day (Asia/Kolkata, whose
    // days start at half past an hour UTC) and the month cannot turn between the calls and the looks
    // after them, however slowly the test runs (the machine's clock crossed an hour here once).
    const clock = movableClock(Math.round(Date.now() / 3_600_000) * 3_600_000 + 900_000);
    const d = await startDaemon(
      testConfig({ DATABASE_URL: db.url, ...simEnv(sim, 'node-u') }),
      log,
      [createAsteriskModule, (ctx) => createRoutingModule(ctx, { now: clock.now, hourTimer: clock.at })],
      { listen: false },
    );
    try {
      await waitFor(async () => (await d.app.inject('/ready')).statusCode === 200);
      const staff = (await createApiKey(d.ctx.database.db, { role: 'staff' })).key;
      const api = async (key: string, method: 'POST' | 'GET', url: string, payload?: object) => {
        const r = await d.app.inject({
          method,
          url,
          headers: { 'x-api-key': key },
          ...(payload ? { payload } : {}),
        });
        expect(r.statusCode, r.body).toBeLessThan(300);
        return r.json();
      };
      const seller = await api(staff, 'POST', '/v1/sellers', {
        name: 'capped',
        concurrency_cap: 5,
        hourly_cap: 50,
      });
      const plain = await api(staff, 'POST', '/v1/sellers', { name: 'plain' });
      const group = await api(staff, 'POST', '/v1/buyer-groups', {
        name: 'Acme Calls',
        daily_cap: 20,
        timezone: 'Asia/Kolkata',
      });
      const camp = await api(staff, 'POST', '/v1/campaigns', { seller_id: seller.id, name: 'c' });
      const cappedDid = await api(staff, 'POST', '/v1/dids', {
        number: '+14155557300',
        seller_id: seller.id,
        campaign_id: camp.id,
        concurrency_cap: 3,
        monthly_cap: 100,
      });
      await api(staff, 'POST', '/v1/dids', {
        number: '+14155557301',
        seller_id: seller.id,
        campaign_id: camp.id,
      });
      sim.setEndpoint('site-1', { answerAfterMs: 20 }); // answers and stays up
      const client = await api(staff, 'POST', '/v1/clients', {
        name: 'site-1',
        endpoint: 'site-1',
        group_id: group.id,
      });
      await api(staff, 'POST', `/v1/campaigns/${camp.id}/links`, {
        client_id: client.id,
        concurrency_cap: 10,
      });
      const own = (await createApiKey(d.ctx.database.db, { role: 'seller', sellerId: seller.id })).key;
      const stranger = (await createApiKey(d.ctx.database.db, { role: 'seller', sellerId: plain.id })).key;

      const calls = [0, 1].map((i) =>
        sim.placeInboundCall({ did: '+14155557300', callerNumber: `+1212555000${i}` }),
      );
      const live = await waitFor(async () => {
        const r = await api(staff, 'GET', '/v1/calls/live');
        return r.calls.filter((c: { phase: string }) => c.phase === 'bridged').length === 2 ? r : undefined;
      });
      const two = (cap: Partial<Record<'live' | 'hourly' | 'daily' | 'monthly' | 'total', number>>) => ({
        live: { used: 2, cap: cap.live ?? null },
        hourly: { used: 2, cap: cap.hourly ?? null },
        daily: { used: 2, cap: cap.daily ?? null },
        monthly: { used: 2, cap: cap.monthly ?? null },
        total: { used: 2, cap: cap.total ?? null },
      });
      // Only owners that carry a cap: not `plain`, not the DID without caps.
      expect(live.sellers).toEqual([
        { seller_id: seller.id, seller: 'capped', ...two({ live: 5, hourly: 50 }) },
      ]);
      expect(live.dids).toEqual([
        {
          did_id: cappedDid.id,
          did: '+14155557300',
          seller_id: seller.id,
          seller: 'capped',
          campaign_id: camp.id,
          ...two({ live: 3, monthly: 100 }),
        },
      ]);
      expect(live.groups).toEqual([
        { group_id: group.id, group: 'Acme Calls', timezone: 'Asia/Kolkata', ...two({ daily: 20 }) },
      ]);

      // A seller key: its own seller and DIDs, never a group (its clients serve other sellers too).
      const mine = await api(own, 'GET', '/v1/calls/live');
      expect(mine.sellers).toEqual(live.sellers);
      expect(mine.dids).toEqual(live.dids);
      expect(mine.groups).toEqual([]);
      const theirs = await api(stranger, 'GET', '/v1/calls/live');
      expect([theirs.calls, theirs.links, theirs.sellers, theirs.dids, theirs.groups]).toEqual([
        [],
        [],
        [],
        [],
        [],
      ]);

      // The calls end: the places are free, the answered calls stay counted.
      for (const c of calls) sim.hangup(c);
      const after = await waitFor(async () => {
        const r = await api(staff, 'GET', '/v1/calls/live');
        return r.sellers[0].live.used === 0 && r.dids[0].live.used === 0 && r.groups[0].live.used === 0
          ? r
          : undefined;
      });
      expect(after.sellers[0].hourly.used).toBe(2);
      expect(after.dids[0].monthly.used).toBe(2);
      expect(after.groups[0].daily.used).toBe(2);
      const slots = (d.ctx.modules.get('routing') as RoutingModule).slots;
      expect(await slots.liveOf('group', group.id)).toBe(0);
    } finally {
      await d.stop();
      await sim.stop();
    }
  }, 120_000);
});
