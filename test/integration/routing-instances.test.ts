// Invariants 1 and 2 across processes: two daemon instances sharing Redis never overshoot a cap, and
// a daemon killed mid-call leaks no slot once it (or any instance) is back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAsteriskModule } from '../../src/asterisk/index.ts';
import { createDatabase } from '../../src/platform/db.ts';
import { dids } from '../../src/db/schema/routing.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { createRedis } from '../../src/platform/redis/client.ts';
import { RedisKeys } from '../../src/platform/redis/keys.ts';
import { createRoutingModule, type RoutingModule } from '../../src/routing/index.ts';
import { SlotStore } from '../../src/routing/slots.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { freshDatabase, redisPrefix, testConfig } from '../helpers/env.ts';
import { appRegistered, daemonEnv, removeDaemonDirs, spawnDaemon } from '../helpers/daemon-process.ts';
import { seedCampaign } from '../helpers/seed.ts';
import { waitFor } from '../helpers/wait.ts';
import { simEnv } from '../helpers/sim-env.ts';

const log = createLogger({ level: 'silent' });

describe('several daemon instances', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  const prefix = redisPrefix();
  let sellerId = '';
  let campaignId = '';
  let linkId = '';
  const did = '+14155557000';
  const endpoint = 'shared-client';

  beforeAll(async () => {
    db = await freshDatabase();
    const seeded = await seedCampaign(db.url, {
      campaign: { maxAttempts: 1 },
      dids: [did],
      clients: [endpoint],
      link: { concurrencyCap: 5 },
    });
    sellerId = seeded.sellerId;
    campaignId = seeded.campaignId;
    linkId = seeded.links[0]!.linkId;
  });
  afterAll(async () => {
    await db?.drop();
    removeDaemonDirs();
  });
  /**
   * A campaign with one DID and one client link of its own, so what one test leaves behind when it
   * fails (a slot its restarted daemon had not freed yet) cannot fail the next test's counts too.
   */
  const ownLink = async (
    name: string,
    number: string,
    client: string,
    caps: { concurrencyCap?: number; totalCap?: number },
  ) => {
    const seeded = await seedCampaign(db.url, {
      sellerId,
      campaign: { name, maxAttempts: 1 },
      dids: [number],
      clients: [client],
      link: caps,
    });
    return seeded.links[0]!.linkId;
  };

  it('two instances on two nodes sharing Redis never exceed the concurrency cap together', async () => {
    const sims = await Promise.all([
      startSimulator({ ariPort: 0, amiPort: 0 }),
      startSimulator({ ariPort: 0, amiPort: 0 }),
    ]);
    const daemons: Daemon[] = [];
    try {
      for (const [i, sim] of sims.entries()) {
        // Answered calls stay up until the test ends them: no slot frees early on a slow machine.
        sim.setEndpoint(endpoint, { answerAfterMs: 30 });
        const config = testConfig({
          DATABASE_URL: db.url,
          REDIS_KEY_PREFIX: prefix,
          INSTANCE_ID: `inst-${i}`,
          ...simEnv(sim, `node-${i}`),
        });
        daemons.push(
          await startDaemon(config, log, [createAsteriskModule, createRoutingModule], { listen: false }),
        );
      }
      for (const d of daemons) await waitFor(async () => (await d.app.inject('/ready')).statusCode === 200);
      let maxLive = 0;
      const legs = () =>
        sims.reduce(
          (n, s) => n + s.liveChannels().filter((c) => c.name.startsWith(`PJSIP/${endpoint}-`)).length,
          0,
        );
      const t = setInterval(() => {
        maxLive = Math.max(maxLive, legs());
      }, 2);
      const callers: Array<[Simulator, string]> = [];
      for (let i = 0; i < 20; i++)
        for (const s of sims)
          callers.push([s, s.placeInboundCall({ did, callerNumber: `+1212555${1000 + i}` })]);
      // Every call is either bridged or refused; then the callers hang up.
      const cdrCount = async () => {
        await Promise.all(daemons.map((d) => (d.ctx.modules.get('routing') as RoutingModule).cdr.flush()));
        const [r] = await daemons[0]!.ctx.database.sql<{ n: number }[]>`
          select count(*)::int as n from call_records where did = ${did}`;
        return r!.n;
      };
      await waitFor(async () => ((await cdrCount()) === 35 && legs() === 5 ? true : undefined));
      for (const [s, id] of callers) s.hangup(id);
      await waitFor(() => sims.every((s) => s.liveChannels().length === 0) || undefined);
      clearInterval(t);
      expect(maxLive).toBe(5);
      const after = await waitFor(async () => {
        await Promise.all(daemons.map((d) => (d.ctx.modules.get('routing') as RoutingModule).cdr.flush()));
        const r = await daemons[0]!.ctx.database.sql<{ disposition: string; n: number }[]>`
          select disposition, count(*)::int as n from call_records where did = ${did} group by 1 order by 1`;
        return r.reduce((n, x) => n + x.n, 0) === 40 ? r : undefined;
      });
      expect(Object.fromEntries(after.map((r) => [r.disposition, r.n]))).toEqual({
        answered: 5,
        no_client: 35,
      });
    } finally {
      for (const d of daemons) await d.stop();
      for (const s of sims) await s.stop();
    }
  });

  /**
   * The environment of a daemon run as its own process (so that it can be killed -9). The restarted
   * process is a new instance: it takes the killed one's calls once that one's heartbeat is
   * INSTANCE_DEAD_AFTER_S old, so the shortest bound the daemon accepts (2 s; 15 by default, which
   * each of these tests would wait out).
   */
  const processEnv = (sim: Simulator, nodeId: string, extra: Record<string, string>) =>
    daemonEnv({
      databaseUrl: db.url,
      redisPrefix: prefix,
      sim,
      nodeId,
      extra: { INSTANCE_DEAD_AFTER_S: '2', ...extra },
    });

  it('a daemon killed mid-call leaks no slot: the restarted instance frees slots of calls that ended', async () => {
    const sim = await startSimulator({ ariPort: 0, amiPort: 0 });
    sim.setEndpoint(endpoint, { answerAfterMs: 20 }); // answers and stays up
    const redis = createRedis(process.env.REDIS_URL!, { enableOfflineQueue: true });
    const slots = new SlotStore(redis, new RedisKeys(prefix), 60_000);
    const env = processEnv(sim, 'node-crash', { RECONCILE_INTERVAL_S: '1' });
    const start = () => spawnDaemon(env);
    let p = start();
    try {
      await appRegistered(sim);
      for (let i = 0; i < 3; i++) sim.placeInboundCall({ did, callerNumber: `+1310555${1000 + i}` });
      await waitFor(() =>
        // 3 calls: each a Local pair (;1 + ;2) and a client leg, all answered.
        sim.liveChannels().filter((c) => c.state === 'Up').length === 9 ? true : undefined,
      );
      expect(await slots.live(linkId)).toBe(3);
      await p.kill();
      // The calls end while no daemon watches them.
      for (const c of sim.liveChannels()) sim.hangup(c.id, 16);
      expect(await slots.live(linkId)).toBe(3); // leaked for now
      p = start();
      await waitFor(async () => ((await slots.live(linkId)) === 0 ? true : undefined));
    } finally {
      await p.kill();
      redis.disconnect();
      await sim.stop();
    }
  }, 180_000);

  it('a daemon killed with calls bridged takes them over when it starts again: they end, get a CDR each, and free their slots', async () => {
    const tdid = '+14155557003';
    const tend = 'takeover-client';
    const own = await ownLink('takeover', tdid, tend, { concurrencyCap: 5 });
    const sim = await startSimulator({ ariPort: 0, amiPort: 0 });
    sim.setEndpoint(tend, { answerAfterMs: 20 }); // answers and stays up
    const redis = createRedis(process.env.REDIS_URL!, { enableOfflineQueue: true });
    const slots = new SlotStore(redis, new RedisKeys(prefix), 60_000);
    const env = processEnv(sim, 'node-takeover', {});
    const start = () => spawnDaemon(env);
    const { sql, close } = createDatabase(db.url, { max: 1 });
    let p = start();
    try {
      await appRegistered(sim);
      const callers = [0, 1, 2].map((i) =>
        sim.placeInboundCall({ did: tdid, callerNumber: `+1310666${1000 + i}` }),
      );
      await waitFor(() =>
        sim.liveChannels().filter((c) => c.state === 'Up').length === 9 ? true : undefined,
      );
      expect(await slots.live(own)).toBe(3);
      await p.kill();
      // Asterisk keeps the app's channels, bridged, with nobody watching them.
      expect(sim.liveChannels()).toHaveLength(9);
      p = start();
      // The restarted instance takes the calls over (bridged, they are resumed) ...
      await waitFor(async () => {
        const m = await (await fetch(`${await p.address}/metrics`)).text();
        return m.includes('capconduit_calls_taken_over_total{as="resumed"') &&
          / 3$/m.test(
            m.split('\n').find((l) => l.startsWith('capconduit_calls_taken_over_total{as="resumed"')) ?? '',
          )
          ? true
          : undefined;
      }, 150_000);
      expect(sim.liveChannels()).toHaveLength(9);
      // ... and when the callers hang up, it ends them as it would its own.
      for (const c of callers) sim.hangup(c, 16);
      await waitFor(() => (sim.liveChannels().length === 0 ? true : undefined));
      await waitFor(async () => ((await slots.live(own)) === 0 ? true : undefined));
      const rows = await waitFor(async () => {
        const r = await sql<{ disposition: string }[]>`
          select disposition from call_records where caller_number like '+1310666%'`;
        return r.length === 3 ? r : undefined;
      });
      expect(rows.map((r) => r.disposition)).toEqual(['answered', 'answered', 'answered']);
    } finally {
      await p.kill();
      redis.disconnect();
      await close();
      await sim.stop();
    }
  }, 300_000);

  it('a daemon killed -9 mid-traffic loses no answered count: the totals equal the answered CDRs', async () => {
    // A link of its own, with a total cap (so Redis' total is seeded from PostgreSQL's).
    const tdid = '+14155557002';
    const tend = 'totals-client';
    const own = await ownLink('totals', tdid, tend, { totalCap: 100_000 });
    const sim = await startSimulator({ ariPort: 0, amiPort: 0 });
    // Client legs and callers stay up until the test hangs the callers up: every call that had a leg
    // when the daemon died is still there to be taken over.
    sim.setEndpoint(tend, { answerAfterMs: 30 });
    const redis = createRedis(process.env.REDIS_URL!, { enableOfflineQueue: true });
    const slots = new SlotStore(redis, new RedisKeys(prefix), 60_000);
    const env = processEnv(sim, 'node-totals', {});
    const start = () => spawnDaemon(env);
    const { sql, close } = createDatabase(db.url, { max: 1 });
    let p = start();
    let placed = 0;
    const callers: string[] = [];
    // Traffic never stops: calls arrive before, during and after the kill and the restart.
    const traffic = setInterval(() => {
      callers.push(sim.placeInboundCall({ did: tdid, callerNumber: `+1310777${1000 + placed++}` }));
    }, 40);
    try {
      await appRegistered(sim);
      // Killed in full flow, a moment after the daemon marked an answer (no batch of counts could
      // follow it), with other calls ringing or being set up.
      const rk = new RedisKeys(prefix).routing;
      const answeredSlots = async () => {
        const ids = await redis.zrangebyscore(rk.link(own, 'live'), '-inf', '+inf');
        const states = await Promise.all(ids.map((id) => redis.hget(rk.link(own, 'slot', id), 'state')));
        return states.filter((x) => x === 'answered').length;
      };
      await waitFor(async () => ((await answeredSlots()) >= 10 ? true : undefined));
      let seen = await answeredSlots();
      await waitFor(async () => {
        const n = await answeredSlots();
        if (n > seen) return true;
        seen = n;
        return undefined;
      });
      await p.kill();
      p = start();
      await appRegistered(sim, 150_000);
      // The restarted daemon routes the traffic that keeps coming.
      const total = async () => (await slots.counters(own, { hour: '', day: '', month: '' })).total;
      const atKill = await total();
      await waitFor(async () => ((await total()) >= atKill + 10 ? true : undefined), 120_000);
      clearInterval(traffic);
      for (const id of callers) sim.hangup(id, 16);
      // Every call over and every slot back.
      await waitFor(() => (sim.liveChannels().length === 0 ? true : undefined), 60_000);
      await waitFor(async () => ((await slots.live(own)) === 0 ? true : undefined), 120_000);
      // Redis counted each answer as it happened; PostgreSQL counts the answered CDRs. Once every
      // call has its CDR the two agree: no count lost to the kill, none counted twice.
      const figures = async () => {
        const [pgTotal] = await sql<{ n: number }[]>`
          select total_answered::int as n from campaign_links where id = ${own}`;
        const [cdrs] = await sql<{ n: number }[]>`
          select count(*)::int as n from call_records, jsonb_array_elements(attempts) a
          where a->>'link_id' = ${own} and a->>'answered_at' is not null`;
        const { total } = await slots.counters(own, { hour: '', day: '', month: '' });
        return { pg: pgTotal!.n, cdrs: cdrs!.n, redis: total };
      };
      const f = await waitFor(async () => {
        const v = await figures();
        return v.pg === v.cdrs && v.cdrs === v.redis ? v : undefined;
      }, 120_000).catch(async (e) => {
        throw new Error(`${(e as Error).message}: ${JSON.stringify(await figures())}`);
      });
      expect(f.pg).toBeGreaterThanOrEqual(5);
    } finally {
      clearInterval(traffic);
      await p.kill();
      redis.disconnect();
      await close();
      await sim.stop();
    }
  }, 400_000);

  it('instances sharing one node take each broadcast call exactly once; with none the dialplan times out', async () => {
    // How long the dialplan waits for an instance to claim a broadcast call: far above what a
    // claim takes even on a loaded machine (the last step waits it out once).
    const sim = await startSimulator({ ariPort: 0, amiPort: 0, broadcastTimeoutMs: 5000 });
    sim.setEndpoint(endpoint, { answerAfterMs: 10, hangupAfterMs: 50 });
    const bdid = '+14155557001';
    const { db: x, close } = createDatabase(db.url, { max: 1 });
    await x.insert(dids).values({ number: bdid, sellerId, campaignId });
    await close();
    const daemons: Daemon[] = [];
    try {
      for (const i of [0, 1]) {
        const config = testConfig({
          DATABASE_URL: db.url,
          REDIS_KEY_PREFIX: prefix,
          INSTANCE_ID: `bc-${i}`,
          STASIS_BROADCAST: 'true',
          ...simEnv(sim, 'shared-node'),
        });
        daemons.push(
          await startDaemon(config, log, [createAsteriskModule, createRoutingModule], { listen: false }),
        );
      }
      for (const d of daemons)
        await waitFor(async () => ((await d.app.inject('/ready')).statusCode === 200 ? true : undefined));
      for (let i = 0; i < 20; i++)
        sim.placeInboundCall({
          did: bdid,
          callerNumber: `+1415555${2000 + i}`,
          context: 'from-carrier-broadcast',
        });
      const rows = await waitFor(async () => {
        await Promise.all(daemons.map((d) => (d.ctx.modules.get('routing') as RoutingModule).cdr.flush()));
        const r = await daemons[0]!.ctx.database.sql<
          { call_id: string; node_id: string }[]
        >`select call_id, node_id from call_records where did = ${bdid}`;
        return r.length >= 20 ? r : undefined;
      });
      expect(rows).toHaveLength(20);
      expect(sim.stats.broadcastTimeouts).toBe(0);
    } finally {
      for (const d of daemons) await d.stop();
    }
    sim.placeInboundCall({ did: bdid, callerNumber: '+14155559999', context: 'from-carrier-broadcast' });
    await waitFor(() => (sim.stats.broadcastTimeouts === 1 ? true : undefined));
    await sim.stop();
  });
});
