// Redis losing its data under live calls (FLUSHALL, or a restart without persistence): the daemon
// notices (its epoch marker is gone), puts back the slots of the calls it holds before any new call
// takes one, and no cap overshoots. A private redis-server: FLUSHALL would wipe other tests' keys.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis } from '../../src/platform/redis/client.ts';
import { RedisKeys } from '../../src/platform/redis/keys.ts';
import { capBuckets } from '../../src/routing/decide.ts';
import { type Flow, startFlow } from '../helpers/flow.ts';
import { PrivateRedis } from '../helpers/redis-server.ts';
import { waitFor } from '../helpers/wait.ts';

describe('Redis losing its data while calls are live', () => {
  let redisSrv: PrivateRedis;
  let f: Flow;
  beforeAll(async () => {
    redisSrv = await PrivateRedis.create();
    f = await startFlow({ REDIS_URL: redisSrv.url });
  });
  afterAll(async () => {
    await f?.stop();
    await redisSrv?.stop();
  });

  const metric = async (name: string) => {
    const m = (await f.d.app.inject('/metrics')).body;
    return m
      .split('\n')
      .filter((l) => l.startsWith(name))
      .reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
  };

  async function underLoss(lose: () => Promise<void>, callerBase: number) {
    const c = await f.campaign({}, [{ behaviour: { answerAfterMs: 20 }, link: { concurrency_cap: 3 } }]);
    const { linkId, endpoint } = c.clients[0]!;
    const legs = () => f.sim.liveChannels().filter((x) => x.name.startsWith(`PJSIP/${endpoint}-`)).length;
    const answered = [0, 1, 2].map((i) =>
      f.sim.placeInboundCall({ did: c.did, callerNumber: `+1212555${callerBase + i}` }),
    );
    await waitFor(() => (legs() === 3 ? true : undefined));
    expect(await f.routing.slots.live(linkId)).toBe(3);
    const lostBefore = await metric('capconduit_redis_data_lost_total');
    await lose();
    // Calls keep coming: none may take a fourth slot.
    let maxLegs = 0;
    const t = setInterval(() => {
      maxLegs = Math.max(maxLegs, legs());
    }, 2);
    try {
      for (let i = 3; i < 6; i++)
        f.sim.placeInboundCall({ did: c.did, callerNumber: `+1212555${callerBase + i}` });
      const refused = await waitFor(async () => {
        const rows = (await f.cdrs(c.did)).filter((r) => r.disposition === 'no_client');
        return rows.length === 3 ? rows : undefined;
      });
      expect(refused.every((r) => r.not_routed.some((n) => n.reason === 'concurrency'))).toBe(true);
    } finally {
      clearInterval(t);
    }
    expect(maxLegs).toBe(3);
    expect(await f.routing.slots.live(linkId)).toBe(3);
    expect(await metric('capconduit_redis_data_lost_total')).toBeGreaterThan(lostBefore);
    // The calls held end as they would have: their slots go back, one answered CDR each.
    for (const a of answered) f.sim.hangup(a, 16);
    await waitFor(async () => ((await f.routing.slots.live(linkId)) === 0 ? true : undefined));
    const rows = await waitFor(async () => {
      const r = await f.cdrs(c.did);
      return r.length === 6 ? r : undefined;
    });
    expect(rows.filter((r) => r.disposition === 'answered')).toHaveLength(3);
  }

  it('FLUSHALL with calls up: their slots are put back and the concurrency cap holds', async () => {
    const admin = createRedis(redisSrv.url, { enableOfflineQueue: true });
    try {
      await underLoss(async () => {
        await admin.flushall();
      }, 1000);
    } finally {
      admin.disconnect();
    }
  });

  it('FLUSHALL after answered calls: the hour, day and month counts of the ended calls come back from the CDRs', async () => {
    // Links, sellers, DIDs and groups count the same way; the link's and the DID's are checked.
    const c = await f.campaign({}, [
      { behaviour: { answerAfterMs: 20 }, link: { hourly_cap: 2, daily_cap: 10, monthly_cap: 100 } },
    ]);
    const { linkId, endpoint } = c.clients[0]!;
    const [didRow] = await f.d.ctx.database.sql<
      { id: string }[]
    >`select id from dids where number = ${c.did}`;
    await f.d.ctx.database.sql`update dids set daily_cap = 50 where id = ${didRow!.id}`;
    const legUp = () =>
      f.sim.liveChannels().some((x) => x.name.startsWith(`PJSIP/${endpoint}-`) && x.state === 'Up');
    for (const i of [0, 1]) {
      const caller = f.sim.placeInboundCall({ did: c.did, callerNumber: `+1212555${3000 + i}` });
      await waitFor(() => legUp() || undefined);
      f.sim.hangup(caller, 16);
      await f.cdrsOnce(c.did, i + 1);
      await waitFor(async () => ((await f.routing.slots.live(linkId)) === 0 ? true : undefined));
    }
    const buckets = capBuckets('UTC', new Date());
    const admin = createRedis(redisSrv.url, { enableOfflineQueue: true });
    try {
      await admin.flushall();
    } finally {
      admin.disconnect();
    }
    const lostBefore = await metric('capconduit_redis_data_lost_total');
    // The next call finds the data gone, waits for it to be put back, and meets the hourly cap.
    f.sim.placeInboundCall({ did: c.did, callerNumber: '+12125553002' });
    const rows = await f.cdrsOnce(c.did, 3);
    expect(rows[2]!.disposition).toBe('no_client');
    expect(rows[2]!.not_routed.map((n) => n.reason)).toEqual(['hourly']);
    expect(await metric('capconduit_redis_data_lost_total')).toBeGreaterThan(lostBefore);
    expect(await metric('capconduit_cap_usage_rebuilds_total{result="done"')).toBeGreaterThan(0);
    expect(await f.routing.slots.counters(linkId, buckets)).toMatchObject({
      hourly: 2,
      daily: 2,
      monthly: 2,
    });
    expect((await f.routing.slots.countersOf('did', didRow!.id, buckets)).daily).toBe(2);
  });

  it('FLUSHALL at the moment of answer: the answer the slot met gone is counted once its slot is back', async () => {
    const c = await f.campaign({}, [{ behaviour: { answerAfterMs: 20 }, link: { hourly_cap: 100 } }]);
    const { linkId, endpoint } = c.clients[0]!;
    const admin = createRedis(redisSrv.url, { enableOfflineQueue: true });
    let flushed: Promise<unknown> | null = null;
    const onEvent = (_app: string, ev: { type: string; channel?: { name: string; state: string } }) => {
      if (!flushed && ev.type === 'ChannelStateChange' && ev.channel?.state === 'Up')
        if (ev.channel.name.startsWith(`PJSIP/${endpoint}-`)) flushed = admin.flushall();
    };
    f.sim.events.on('ari-event', onEvent);
    try {
      const caller = f.sim.placeInboundCall({ did: c.did, callerNumber: '+12125554000' });
      await waitFor(() => flushed !== null);
      await flushed;
      // Once the daemon has put the live call's slot back (its next epoch check), the call ends.
      await waitFor(async () => ((await f.routing.slots.live(linkId)) === 1 ? true : undefined));
      f.sim.hangup(caller, 16);
      const [row] = await f.cdrsOnce(c.did);
      expect(row!.disposition).toBe('answered');
      await waitFor(async () => ((await f.routing.slots.live(linkId)) === 0 ? true : undefined));
      const sql = f.d.ctx.database.sql;
      // PostgreSQL's answered total agrees with the answered CDR (the answer was not lost with the data).
      const total = await waitFor(async () => {
        const [t] = await sql<
          { n: number }[]
        >`select total_answered::int as n from campaign_links where id = ${linkId}`;
        return t!.n === 1 ? t!.n : undefined;
      });
      expect(total).toBe(1);
      expect(
        (await f.routing.slots.counters(linkId, capBuckets('UTC', new Date(row!.started_at)))).hourly,
      ).toBe(1);
    } finally {
      f.sim.events.off('ari-event', onEvent);
      admin.disconnect();
    }
  });

  it('FLUSHALL while answers wait for PostgreSQL: the totals come back equal to the answered CDRs', async () => {
    const c = await f.campaign({}, [{ behaviour: { answerAfterMs: 20 }, link: { hourly_cap: 100 } }]);
    const { linkId, endpoint } = c.clients[0]!;
    const sql = f.d.ctx.database.sql;
    const total = async () =>
      (
        await sql<{ n: number }[]>`select total_answered::int as n from campaign_links where id = ${linkId}`
      )[0]!.n;
    const upLegs = () =>
      f.sim.liveChannels().filter((x) => x.name.startsWith(`PJSIP/${endpoint}-`) && x.state === 'Up').length;
    // The totals' flush holds its batches back: every answer below waits in Redis when it is lost.
    const totals = f.routing.totals;
    const flush = totals.flush.bind(totals);
    totals.flush = async () => {};
    const admin = createRedis(redisSrv.url, { enableOfflineQueue: true });
    try {
      for (const i of [0, 1, 2]) {
        const caller = f.sim.placeInboundCall({ did: c.did, callerNumber: `+1212555${5000 + i}` });
        await waitFor(() => upLegs() === 1 || undefined);
        f.sim.hangup(caller, 16);
        await f.cdrsOnce(c.did, i + 1);
        await waitFor(() => upLegs() === 0 || undefined);
      }
      // One more answered and still talking when the data goes.
      const live = f.sim.placeInboundCall({ did: c.did, callerNumber: '+12125555003' });
      await waitFor(() => upLegs() === 1 || undefined);
      await waitFor(
        async () =>
          (await admin.hlen(new RedisKeys(f.d.ctx.config.REDIS_KEY_PREFIX).routing.totalsPending)) > 0 ||
          undefined,
      );
      // The live call's answer waits in Redis (above). Those of the ended calls may already be in
      // PostgreSQL: an earlier test's loss is looked for again 15 s and 60 s after it, and such a look
      // counts an ended call's answer from its CDR at once (once: its batch skips it later).
      expect(await total()).toBeLessThanOrEqual(3);
      const lostBefore = await metric('capconduit_redis_data_lost_total');
      await admin.flushall();
      await waitFor(async () => (await metric('capconduit_redis_data_lost_total')) > lostBefore || undefined);
      await waitFor(async () => ((await f.routing.slots.live(linkId)) === 1 ? true : undefined));
      totals.flush = flush;
      f.sim.hangup(live, 16);
      const rows = await f.cdrsOnce(c.did, 4);
      expect(rows.filter((r) => r.disposition === 'answered')).toHaveLength(4);
      // The three ended calls from their CDRs, the live one by its instance: each once.
      await waitFor(async () => (await total()) === 4 || undefined);
      await totals.flush();
      expect(await total()).toBe(4);
    } finally {
      totals.flush = flush;
      admin.disconnect();
    }
  });

  it('a restart without persistence: the same once Redis is back', async () => {
    await underLoss(async () => {
      await redisSrv.stop();
      await redisSrv.start();
      // Routing again (the daemon reconnected) before the new calls come.
      await waitFor(async () => ((await f.d.app.inject('/ready')).statusCode === 200 ? true : undefined));
    }, 2000);
  });
});
