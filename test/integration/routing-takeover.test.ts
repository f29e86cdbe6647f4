// A daemon killed -9 with callers in every state: a restarted one (or two racing) takes each over
// from Asterisk and from the call's state in Redis. A caller still in the app is routed again or,
// past its ring budget, ended; a call that ended while no daemon ran gets exactly one CDR
// (ended_unattended); no slot is left taken and no record is left behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase } from '../../src/platform/db.ts';
import { createRedis } from '../../src/platform/redis/client.ts';
import { RedisKeys } from '../../src/platform/redis/keys.ts';
import { SlotStore } from '../../src/routing/slots.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { freshDatabase, redisPrefix } from '../helpers/env.ts';
import {
  appRegistered,
  type DaemonProcess,
  daemonEnv,
  metricValue,
  removeDaemonDirs,
  spawnDaemon,
} from '../helpers/daemon-process.ts';
import { type CampaignFields, seedCampaign, seedSeller } from '../helpers/seed.ts';
import { waitFor } from '../helpers/wait.ts';

describe('takeover of a killed daemon’s calls from their state in Redis', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  const prefix = redisPrefix();
  const keys = new RedisKeys(prefix).routing;
  const redis = createRedis(process.env.REDIS_URL!, { enableOfflineQueue: true });
  const slots = new SlotStore(redis, new RedisKeys(prefix), 60_000);
  let sellerId = '';

  beforeAll(async () => {
    db = await freshDatabase();
    sellerId = await seedSeller(db.url);
  });
  afterAll(async () => {
    redis.disconnect();
    await db?.drop();
    removeDaemonDirs();
  });

  /** A campaign with one DID and a link per endpoint (in priority order). */
  async function campaign(
    name: string,
    did: string,
    fields: CampaignFields,
    endpoints: Array<{ endpoint: string; concurrencyCap?: number }>,
  ): Promise<string[]> {
    const seeded = await seedCampaign(db.url, {
      sellerId,
      campaign: { name, maxAttempts: 1, ...fields },
      dids: [did],
      clients: endpoints.map((e, i) => ({
        endpoint: e.endpoint,
        name: `${name}-${e.endpoint}`,
        link: { priority: i, concurrencyCap: e.concurrencyCap ?? null },
      })),
    });
    return seeded.links.map((l) => l.linkId);
  }

  const env = (sim: Simulator, extra: Record<string, string>) =>
    daemonEnv({
      databaseUrl: db.url,
      redisPrefix: prefix,
      sim,
      nodeId: 'node-t',
      extra: { INSTANCE_DEAD_AFTER_S: '4', RECONCILE_INTERVAL_S: '1', ...extra },
    });
  const killed = (p: DaemonProcess) => p.kill();
  /** The phase a call's record in Redis gives (by its caller channel). */
  const recordOf = async (caller: string): Promise<Record<string, string> | undefined> => {
    const ids = await redis.zrange(keys.callsOf('node-t'), '0', '-1');
    for (const id of ids) {
      const h = await redis.hgetall(keys.call(id));
      if (h.ch === caller) return h;
    }
    return undefined;
  };
  const phaseIs = (caller: string, phase: string) =>
    waitFor(async () => ((await recordOf(caller))?.ph === phase ? true : undefined));
  /** Hangs up a call entirely: its caller and every client leg of it. */
  const endWholeCall = (sim: Simulator, caller: string) => {
    for (const c of sim.liveChannels()) {
      const vars = (c.channelvars ?? {}) as Record<string, string>;
      if (c.id === caller || vars.CAPCONDUIT_CALLER === caller) sim.hangup(c.id, 16);
    }
  };
  const cdrsOf = async (numbers: string[]) => {
    const { sql, close } = createDatabase(db.url, { max: 1 });
    try {
      return await sql<{ caller_number: string; disposition: string; answered_at: Date | null }[]>`
        select caller_number, disposition, answered_at from call_records
        where caller_number = any(${numbers}) order by caller_number`;
    } finally {
      await close();
    }
  };
  const metric = async (d: DaemonProcess, line: string) =>
    metricValue(await (await fetch(`${await d.address}/metrics`)).text(), line) ?? 0;

  it('callers in every state at a kill -9: each is routed again or ended, with exactly one CDR, and no slot leaks', async () => {
    // hold: one slot (X1 holds it), callers queue for 600 s. ring: a client that never answers,
    // then one that does. short: one slot (X2), and a budget of 1 s ring + 8 s queue.
    const [la] = await campaign('hold', '+14155558001', { queueS: 600 }, [
      { endpoint: 'keep-a', concurrencyCap: 1 },
    ]);
    const lb = await campaign('ring', '+14155558002', { ringTimeoutS: 600, maxAttempts: 2 }, [
      { endpoint: 'never' },
      { endpoint: 'keep-b' },
    ]);
    const [lc] = await campaign('short', '+14155558003', { queueS: 8, ringTimeoutS: 1 }, [
      { endpoint: 'keep-c', concurrencyCap: 1 },
    ]);
    // ctx: no link, every caller sent on to a dialplan context that answers it; the carrier bills
    // a minute at 0.06 from that answer.
    await campaign(
      'ctx',
      '+14155558005',
      { defaultRoute: { kind: 'context', context: 'capconduit-test', extension: 'answer', priority: 1 } },
      [],
    );
    {
      const { sql, close } = createDatabase(db.url, { max: 1 });
      await sql`update dids set rate_per_min_micros = 60000 where number = '+14155558005'`;
      await close();
    }
    const sim = await startSimulator({ ariPort: 0, amiPort: 0 });
    for (const e of ['keep-a', 'keep-b', 'keep-c']) sim.setEndpoint(e, { answerAfterMs: 20 });
    sim.setEndpoint('never', { result: 'noanswer' });
    let p = spawnDaemon(env(sim, {}));
    const n = {
      x1: '+13105550001',
      q1: '+13105550002',
      e1: '+13105550003',
      x2: '+13105550004',
      q3: '+13105550005',
      r: '+13105550006',
      dp: '+13105550007',
    };
    try {
      await appRegistered(sim);
      const call = (did: string, callerNumber: string) => sim.placeInboundCall({ did, callerNumber });
      const x1 = call('+14155558001', n.x1);
      await phaseIs(x1, 'bridged');
      const q1 = call('+14155558001', n.q1);
      const e1 = call('+14155558001', n.e1);
      const x2 = call('+14155558003', n.x2);
      await phaseIs(x2, 'bridged');
      const q3 = call('+14155558003', n.q3);
      const r = call('+14155558002', n.r);
      // DP is answered in the dialplan; its record says when (the carrier bills from then).
      const dp = call('+14155558005', n.dp);
      await phaseIs(dp, 'dialplan');
      await waitFor(async () => ((await recordOf(dp))?.cans ? true : undefined));
      const dpUpSeen = Date.now();
      await Promise.all([phaseIs(q1, 'queued'), phaseIs(e1, 'queued'), phaseIs(q3, 'queued')]);
      await phaseIs(r, 'dialing');
      await waitFor(() =>
        sim.liveChannels().some((c) => c.name.startsWith('PJSIP/never-')) ? true : undefined,
      );
      // Callers waiting for a client hear ringing (indicated at their arrival) or music on hold.
      await waitFor(() => sim.hears(r) === 'ringing' && sim.hears(q1) === 'music');
      await killed(p);
      // With no daemon left, Asterisk keeps each sound on its channel: nobody waits in silence.
      expect([x1, q1, e1, x2, q3, r].map((c) => sim.hears(c))).toEqual([
        'bridge',
        'music',
        'music',
        'bridge',
        'music',
        'ringing',
      ]);
      // While no daemon runs: E1's caller hangs up, X2 ends on both sides.
      const q3started = Number((await recordOf(q3))!.t0);
      sim.hangup(e1, 16);
      endWholeCall(sim, x2);
      // Q3 has waited past its budget (1 s ring + 8 s queue) by the time anyone takes it over.
      await waitFor(() => (Date.now() - q3started > 10_000 ? true : undefined), 30_000);
      p = spawnDaemon(env(sim, {}));
      // R fails over to the client that answers; Q3 is hung up; the ended calls get their CDRs.
      await waitFor(
        () =>
          sim.liveChannels().some((c) => c.name.startsWith('PJSIP/keep-b-') && c.state === 'Up') || undefined,
        120_000,
      );
      await waitFor(() => (sim.liveChannels().some((c) => c.id === q3) ? undefined : true), 60_000);
      const early = await waitFor(async () => {
        const rows = await cdrsOf([n.e1, n.x2, n.q3]);
        return rows.length === 3 ? rows : undefined;
      }, 60_000);
      expect(early.map((x) => [x.caller_number, x.disposition, Boolean(x.answered_at)])).toEqual([
        [n.e1, 'ended_unattended', false],
        [n.x2, 'ended_unattended', true],
        [n.q3, 'unattended_timeout', false],
      ]);
      // Q1 waits in the queue again (X1 still holds the slot), with its music, and gets it when X1 ends.
      await phaseIs(q1, 'queued');
      await waitFor(() => sim.hears(q1) === 'music');
      sim.hangup(x1, 16);
      await phaseIs(q1, 'bridged');
      // DP is followed again by the new daemon: its hangup in the dialplan ends its record.
      const dpEnd = Date.now();
      for (const c of [q1, r, dp]) sim.hangup(c, 16);
      await waitFor(() => (sim.liveChannels().length === 0 ? true : undefined), 60_000);
      const all = await waitFor(async () => {
        const rows = await cdrsOf(Object.values(n));
        return rows.length === 7 ? rows : undefined;
      }, 60_000);
      expect(Object.fromEntries(all.map((x) => [x.caller_number, x.disposition]))).toEqual({
        [n.x1]: 'answered',
        [n.q1]: 'answered',
        [n.e1]: 'ended_unattended',
        [n.x2]: 'ended_unattended',
        [n.q3]: 'unattended_timeout',
        [n.r]: 'answered',
        [n.dp]: 'default_route',
      });
      // Billed from the dialplan's answer before the kill, across the takeover, to its hangup.
      {
        const { sql, close } = createDatabase(db.url, { max: 1 });
        const [row] = await sql<{ cost_micros: string; handed_off_at: Date | null }[]>`
          select cost_micros, handed_off_at from call_records where caller_number = ${n.dp}`;
        await close();
        expect(row!.handed_off_at).not.toBeNull();
        expect(Number(row!.cost_micros)).toBeGreaterThanOrEqual(Math.floor((dpEnd - dpUpSeen) / 1000) * 1000);
      }
      // Every slot back, and no call's state left in Redis.
      for (const l of [la!, ...lb, lc!])
        await waitFor(async () => ((await slots.live(l)) === 0 ? true : undefined), 60_000);
      await waitFor(async () => ((await redis.zcard(keys.callsOf('node-t'))) === 0 ? true : undefined));
    } finally {
      await killed(p);
      await sim.stop();
    }
  }, 400_000);

  it('two daemons racing to take over the calls a killed one left: one CDR each, taken over once', async () => {
    const [ld] = await campaign('race', '+14155558004', { queueS: 600 }, [
      { endpoint: 'keep-d', concurrencyCap: 1 },
    ]);
    const sim = await startSimulator({ ariPort: 0, amiPort: 0 });
    sim.setEndpoint('keep-d', { answerAfterMs: 20 });
    const first = spawnDaemon(env(sim, {}));
    const numbers = [0, 1, 2, 3, 4].map((i) => `+1310555100${i}`);
    const racers: DaemonProcess[] = [];
    try {
      await appRegistered(sim);
      const callers = [];
      for (const [i, num] of numbers.entries()) {
        const c = sim.placeInboundCall({ did: '+14155558004', callerNumber: num });
        callers.push(c);
        await phaseIs(c, i === 0 ? 'bridged' : 'queued');
      }
      // Two more instances with their own apps on the same node, up before the first dies: both
      // find its calls when its heartbeat runs out, at the same moment.
      for (const i of [0, 1])
        racers.push(spawnDaemon(env(sim, { INSTANCE_ID: `racer-${i}`, STASIS_BROADCAST: 'true' })));
      // Each connected to the node (its ARI link up), so each is reconciling it.
      for (const racer of racers)
        await waitFor(
          async () =>
            (await metric(racer, 'capconduit_asterisk_link_up{node="node-t",link="ari"')) === 1
              ? true
              : undefined,
          120_000,
        );
      await killed(first);
      for (const c of callers) endWholeCall(sim, c);
      await waitFor(() => (sim.liveChannels().length === 0 ? true : undefined));
      const rows = await waitFor(async () => {
        const r = await cdrsOf(numbers);
        return r.length === 5 ? r : undefined;
      }, 120_000);
      expect(rows.map((x) => x.disposition)).toEqual(Array(5).fill('ended_unattended'));
      expect(rows[0]!.answered_at).not.toBeNull();
      await waitFor(async () => ((await slots.live(ld!)) === 0 ? true : undefined), 60_000);
      await waitFor(async () => ((await redis.zcard(keys.callsOf('node-t'))) === 0 ? true : undefined));
      // Each call was taken over by one of them only, and neither lost one to the other.
      const taken = async () =>
        (
          await Promise.all(
            racers.map((racer) => metric(racer, 'capconduit_calls_taken_over_total{as="ended_unattended"')),
          )
        ).reduce((a, b) => a + b, 0);
      expect(await taken()).toBe(5);
      for (const racer of racers)
        expect(await metric(racer, 'capconduit_calls_taken_over_total{as="lost_to_another"')).toBe(0);
    } finally {
      for (const r of racers) await killed(r);
      await killed(first);
      await sim.stop();
    }
  }, 400_000);
});
