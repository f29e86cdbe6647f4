// Answered totals across a kill -9 of the daemon in the middle of traffic: the answers it had counted
// were still waiting for PostgreSQL (its flush held on a lock the test takes on
// `routing_total_batches`, so a batch was taken and its transaction open when the process died), some
// calls had ended with their CDRs written, others were bridged, more callers were arriving. After a
// restart (another instance id, the same CDR journal folder) takes the calls over and they all end,
// each link's `total_answered` equals the answered attempts of its CDRs and PostgreSQL lists every
// answered slot exactly once (`routing_counted_answers`): none lost, none counted twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase } from '../../src/platform/db.ts';
import { createRedis } from '../../src/platform/redis/client.ts';
import { RedisKeys } from '../../src/platform/redis/keys.ts';
import { startSimulator } from '../../src/simulator/index.ts';
import { appRegistered, daemonEnv, metricValue, spawnDaemon } from '../helpers/daemon-process.ts';
import { freshDatabase, redisPrefix, journalDir } from '../helpers/env.ts';
import { seedCampaign } from '../helpers/seed.ts';
import { tcpProxy } from '../helpers/tcp-proxy.ts';
import { waitFor } from '../helpers/wait.ts';

const did = '+14155557300';
const endpoints = ['totals-kill-a', 'totals-kill-b'];
const node = 'node-totals';
/** Calls that end before the kill (the caller hangs up once bridged) and calls bridged at the kill. */
const ENDED = 8;
const BRIDGED = 8;
/** Callers arriving at the moment of the kill. */
const ARRIVING = 4;

describe('answered totals across a kill -9', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let dir = '';

  beforeAll(async () => {
    db = await freshDatabase();
    dir = journalDir();
    await seedCampaign(db.url, {
      campaign: { strategy: 'round_robin', maxAttempts: 1 },
      dids: [did],
      clients: endpoints,
    });
  });
  afterAll(async () => {
    await db?.drop();
  });

  /**
   * The simulator (clients answer, never hang up), a Redis reader, the database, a connection that
   * holds the flush's table, and the daemon's start as `instance`; `stop` ends all but the daemon.
   */
  async function world(redisUrl: string, daemonRedisUrl = redisUrl) {
    const prefix = redisPrefix();
    const keys = new RedisKeys(prefix).routing;
    const sim = await startSimulator({ ariPort: 0, amiPort: 0 });
    for (const e of endpoints) sim.setEndpoint(e, { answerAfterMs: 20 });
    const redis = createRedis(redisUrl, { enableOfflineQueue: true });
    const { sql, close } = createDatabase(db.url, { max: 3 });
    const startMarks = async () =>
      (
        await sql<
          { n: number }[]
        >`select count(*)::int as n from routing_total_batches where id like 'start:%'`
      )[0]!.n;
    const marks = await startMarks();
    const sum = async () =>
      (await sql<{ n: number }[]>`select sum(total_answered)::int as n from campaign_links`)[0]!.n;
    const total0 = await sum();
    const holder = await sql.reserve();
    let locked = false;
    /**
     * Answers counted in Redis and not yet in PostgreSQL: in the pending hash and the batches taken
     * (only those with `taken`).
     */
    const waiting = async (taken = false) => {
      let n = 0;
      const hashes = [
        ...(taken ? [] : [keys.totalsPending]),
        ...(await redis.smembers(keys.totalsBatches)).map((b) => keys.totalsBatch(b)),
      ];
      for (const h of hashes)
        for (const [k, v] of Object.entries(await redis.hgetall(h)))
          if (k.startsWith('link:')) n += Number(v);
      return n;
    };
    const legsUp = () =>
      sim
        .liveChannels()
        .filter((c) => endpoints.some((e) => c.name.startsWith(`PJSIP/${e}-`)) && c.state === 'Up').length;
    const w = {
      sim,
      sql,
      keys,
      redis,
      waiting,
      legsUp,
      /** The links' answered totals in PostgreSQL, counted from this test's start. */
      total: async () => (await sum()) - total0,
      start: (instance: string, viaUrl = daemonRedisUrl) =>
        spawnDaemon(
          {
            ...daemonEnv({
              databaseUrl: db.url,
              redisPrefix: prefix,
              sim,
              nodeId: node,
              cdrDir: dir,
              extra: { INSTANCE_ID: instance, INSTANCE_DEAD_AFTER_S: '2', RECONCILE_INTERVAL_S: '1' },
            }),
            REDIS_URL: viaUrl,
          },
          instance,
        ),
      /** From here the flush waits inside its transaction (its batch taken from Redis, its insert held). */
      async lockFlush() {
        // Not before the daemon's start mark is written (the same insert): the waiter is the flush.
        await waitFor(async () => (await startMarks()) > marks);
        await holder`begin`;
        await holder`lock table routing_total_batches in exclusive mode`;
        locked = true;
      },
      async unlockFlush() {
        if (!locked) return;
        locked = false;
        await holder`commit`;
      },
      /** The flush took a batch from Redis and waits for the test's lock to write it. */
      flushHeld: async () =>
        (await redis.scard(keys.totalsBatches)) > 0 &&
        (
          await sql<{ n: number }[]>`
            select count(*)::int as n from pg_locks where relation = 'routing_total_batches'::regclass and not granted`
        )[0]!.n > 0,
      /** `n` callers bridged to a client, and their answers counted in Redis. */
      async bridge(n: number, numbers: string) {
        const before = legsUp();
        const callers: string[] = [];
        for (let i = 0; i < n; i++)
          callers.push(sim.placeInboundCall({ did, callerNumber: `${numbers}${1000 + i}` }));
        await waitFor(() => legsUp() === before + n);
        return callers;
      },
      /** The restarted daemon resumed `bridged` calls; the callers hang up and everything settles. */
      async endAll(address: string, bridged: number) {
        await waitFor(async () => {
          const page = await (await fetch(`${address}/metrics`)).text();
          return (metricValue(page, 'capconduit_calls_taken_over_total{as="resumed"') ?? 0) >= bridged;
        }, 120_000);
        for (const c of sim.liveChannels()) if (c.name.startsWith('Local/')) sim.hangup(c.id);
        await waitFor(() => sim.liveChannels().length === 0, 120_000);
        // No call left in Redis, every answer out of Redis, every CDR in PostgreSQL.
        await waitFor(
          async () =>
            (await redis.zcard(keys.callsOf(node))) === 0 &&
            (await waiting()) === 0 &&
            (await redis.exists(keys.totalsPending, keys.totalsBatches)) === 0,
          120_000,
        );
        await waitFor(async () => {
          const page = await (await fetch(`${address}/metrics`)).text();
          return metricValue(page, 'capconduit_cdr_pending') === 0;
        });
      },
      /** Each link's total is its answered attempts; PostgreSQL lists each answered slot once. */
      async expectTotalsExact(atLeast: number) {
        const answered = await sql<{ link_id: string; slot: string }[]>`
          select x->>'link_id' as link_id, x->>'leg_id' as slot
            from call_records r cross join lateral jsonb_array_elements(r.attempts) x
            where r.did = ${did} and x->>'answered_at' is not null`;
        expect(answered.length).toBeGreaterThanOrEqual(atLeast);
        const totals = await sql<{ id: string; total_answered: number }[]>`
          select id, total_answered::int as total_answered from campaign_links`;
        for (const t of totals)
          expect({ link: t.id, total: t.total_answered }).toEqual({
            link: t.id,
            total: answered.filter((a) => a.link_id === t.id).length,
          });
        const counted = await sql<{ slot_id: string }[]>`select slot_id from routing_counted_answers`;
        expect(counted.map((r) => r.slot_id).sort()).toEqual(answered.map((a) => a.slot).sort());
      },
      async stop() {
        await w.unlockFlush().catch(() => {});
        holder.release();
        redis.disconnect();
        await close();
        await sim.stop();
      },
    };
    return w;
  }

  it('each answer counted once: none lost with the process, none counted again by the restart', async () => {
    const w = await world(process.env.REDIS_URL!);
    const { sim, sql, redis, keys } = w;
    let p = w.start('totals-a');
    try {
      await appRegistered(sim);
      await p.address; // started: its totals flush runs
      await w.lockFlush();
      // Calls that are bridged and then end while the daemon runs: their CDRs are written.
      for (let i = 0; i < ENDED; i++) {
        const [caller] = await w.bridge(1, `+1310555${i}`);
        // Its answer counted (the call's record says so) before the caller leaves.
        await waitFor(async () => {
          for (const id of await redis.zrange(keys.callsOf(node), '0', '-1'))
            if ((await redis.hget(keys.call(id), 'ans')) !== null) return true;
          return false;
        });
        sim.hangup(caller!);
        await waitFor(() => w.legsUp() === 0);
      }
      await waitFor(async () => {
        const [r] = await sql<
          { n: number }[]
        >`select count(*)::int as n from call_records where did = ${did}`;
        return r!.n === ENDED;
      });
      // Calls bridged at the kill.
      await w.bridge(BRIDGED, '+1212555');
      // Every answer counted in Redis and none in PostgreSQL: the flush is held.
      await waitFor(async () => (await w.waiting()) === ENDED + BRIDGED);
      await waitFor(w.flushHeld);
      expect(await w.total()).toBe(0);

      for (let i = 0; i < ARRIVING; i++) sim.placeInboundCall({ did, callerNumber: `+1646555${1000 + i}` });
      await p.kill();
      await w.unlockFlush();

      p = w.start('totals-b');
      await w.endAll(await p.address, BRIDGED);
      await w.expectTotalsExact(ENDED + BRIDGED);
    } finally {
      await p.kill();
      await w.stop();
    }
  }, 400_000);

  it('a batch PostgreSQL applied whose deletion from Redis died with the process is not counted again', async () => {
    // The daemon reaches Redis through a relay that can stop every byte of its connections.
    const relay = await tcpProxy(Number(new URL(process.env.REDIS_URL!).port));
    const w = await world(process.env.REDIS_URL!, `redis://127.0.0.1:${relay.port}`);
    const { sim } = w;
    let p = w.start('applied-a');
    try {
      await appRegistered(sim);
      await p.address; // started: its totals flush runs
      await w.lockFlush();
      await w.bridge(BRIDGED, '+1415666');
      await waitFor(async () => (await w.waiting()) === BRIDGED);
      await waitFor(w.flushHeld);
      // The batch the held flush took (the answers counted before it), the others still pending.
      const held = await w.waiting(true);
      expect(held).toBeGreaterThan(0);
      // Redis is cut off, then the flush's transaction goes through: the batch is applied in
      // PostgreSQL and its deletion never reaches Redis before the process dies.
      relay.freeze();
      await w.unlockFlush();
      await waitFor(async () => (await w.total()) === held);
      await p.kill();
      await relay.close();
      expect(await w.waiting()).toBe(BRIDGED); // still in Redis, as if never applied

      p = w.start('applied-b', process.env.REDIS_URL!);
      await w.endAll(await p.address, BRIDGED);
      await w.expectTotalsExact(BRIDGED);
    } finally {
      await p.kill();
      await relay.close();
      await w.stop();
    }
  }, 400_000);
});
