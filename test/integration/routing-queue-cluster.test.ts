// The hold queue as one line for the cluster: two daemon instances on one Asterisk node (each its
// own Stasis app, as with STASIS_BROADCAST) and one Redis. Callers arriving on both instances in
// turn are answered in the order they arrived as slots free one by one; a new hour on the routing
// clock (moved by the test, not waited for) serves the waiters an hourly cap held back, woken once
// for the whole cluster; a Redis restart while callers wait loses none and serves none twice; and an
// instance stopped while its caller waits leaves it to the other, which moves it into its own app.
// The safety poll is set far beyond the tests' waits, so only wake-ups can serve anyone here.
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAsteriskModule } from '../../src/asterisk/index.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { createRedis } from '../../src/platform/redis/client.ts';
import { RedisKeys } from '../../src/platform/redis/keys.ts';
import { createRoutingModule, type RoutingModule } from '../../src/routing/index.ts';
import { nextHourStart } from '../../src/routing/queue-line.ts';
import { DEFAULT_DIALPLAN, type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { freshDatabase, redisPrefix, testConfig } from '../helpers/env.ts';
import { PrivateRedis } from '../helpers/redis-server.ts';
import { type MovableClock, movableClock } from '../helpers/routing-clock.ts';
import { livePhases } from '../helpers/live-calls.ts';
import { seedCampaign, seedSeller } from '../helpers/seed.ts';
import { simEnv } from '../helpers/sim-env.ts';
import { waitFor } from '../helpers/wait.ts';

const log = createLogger({ level: 'silent' });
const INSTANCES = ['inst-0', 'inst-1'];

/**
 * The project's dialplan with one context per instance, so a test says which instance a call
 * reaches (a StasisBroadcast offer goes to whichever claims first).
 */
function dialplanDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cc-dialplan-'));
  const from = dirname(DEFAULT_DIALPLAN);
  for (const f of readdirSync(from)) copyFileSync(join(from, f), join(dir, f));
  const own = INSTANCES.map(
    (i) => `\n[to-${i}]\nexten => _+X.,1,Stasis(capconduit-${i},inbound)\n same => n,Hangup()\n`,
  ).join('');
  writeFileSync(join(dir, 'extensions.conf'), readFileSync(DEFAULT_DIALPLAN, 'utf8') + own);
  return dir;
}

let db: Awaited<ReturnType<typeof freshDatabase>>;
let redis: PrivateRedis;
let sim: Simulator;
let clock: MovableClock;
const prefix = redisPrefix();
const dirs: string[] = [];
const daemons: Daemon[] = [];
let sellerId = '';
let n = 0;

/**
 * Two daemon instances on one simulated node and one Redis (its own, kept on disk), on one routing
 * clock; `env` adds to their configuration.
 */
function cluster(env: Record<string, string> = {}) {
  beforeAll(async () => {
    daemons.length = 0;
    db = await freshDatabase();
    const dataDir = mkdtempSync(join(tmpdir(), 'cc-redis-'));
    dirs.push(dataDir);
    // Its own Redis, kept on disk: the fault test restarts it.
    redis = await PrivateRedis.create({ persistDir: dataDir });
    sellerId = await seedSeller(db.url);
    const dialplan = dialplanDir();
    dirs.push(dialplan);
    sim = await startSimulator({ ariPort: 0, amiPort: 0, dialplanPath: join(dialplan, 'extensions.conf') });
    // The routing clock: five minutes before an hour's start (the nearest such moment, so it is
    // never far from the machine's clock); the hour test moves it past that start.
    const t = Date.now();
    const top = t - (t % 3_600_000);
    const hour = t - top < 1_800_000 ? top : top + 3_600_000;
    clock = movableClock(hour - 300_000);
    for (const id of INSTANCES) {
      const config = testConfig({
        DATABASE_URL: db.url,
        REDIS_URL: redis.url,
        REDIS_KEY_PREFIX: prefix,
        INSTANCE_ID: id,
        STASIS_BROADCAST: 'true',
        HOLD_QUEUE_POLL_MS: '600000',
        ...simEnv(sim, 'node-a'),
        ...env,
      });
      daemons.push(
        await startDaemon(
          config,
          log,
          [createAsteriskModule, (ctx) => createRoutingModule(ctx, { now: clock.now, hourTimer: clock.at })],
          { listen: false },
        ),
      );
    }
    for (const d of daemons) await waitFor(async () => (await d.app.inject('/ready')).statusCode === 200);
  }, 120_000);
  afterAll(async () => {
    for (const d of daemons) await d.stop();
    await sim?.stop();
    await redis?.stop();
    await db?.drop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
}

const routing = (i: number) => daemons[i]!.ctx.modules.get('routing') as RoutingModule;

/** A campaign with a hold queue and one link; its endpoint answers and stays up. */
async function campaignLink(caps: { concurrencyCap: number; hourlyCap?: number }) {
  const k = ++n;
  const did = `+1415557${String(1000 + k)}`;
  const endpoint = `cluster-client-${k}`;
  sim.setEndpoint(endpoint, { answerAfterMs: 10 });
  const c = await seedCampaign(db.url, {
    sellerId,
    campaign: { name: `q${k}`, maxAttempts: 1, queueS: 3600 },
    dids: [did],
    clients: [{ endpoint, client: { timezone: 'UTC' }, link: caps }],
  });
  return { did, linkId: c.links[0]!.linkId };
}

/** Places a call on instance `i` and waits until that instance has it in `phase`. */
const placed = async (i: number, did: string, caller: string, phase: 'bridged' | 'queued') => {
  const id = sim.placeInboundCall({ did, callerNumber: caller, context: `to-${INSTANCES[i]}` });
  await phaseOf(i, caller, phase).catch(async (err: unknown) => {
    // Say how the call went instead (its record, if it ended; calls shed), for a failure to read.
    await routing(i).cdr.flush();
    const [row] = await daemons[i]!.ctx.database.sql<{ disposition: string; not_routed: unknown }[]>`
      select disposition, not_routed from call_records where caller_number = ${caller}`;
    const shed = (await daemons[i]!.ctx.metrics.getSingleMetric('capconduit_calls_shed_total')?.get())
      ?.values;
    throw new Error(
      `${caller} never ${phase} on ${INSTANCES[i]}: ${JSON.stringify({ row, shed, phase: phaseNow(i, caller) })}`,
      { cause: err },
    );
  });
  return id;
};
const { phaseOf, phaseNow } = livePhases(routing);
const gone = (i: number, caller: string) =>
  waitFor(() => (phaseNow(i, caller) === undefined ? true : undefined));

/** Every CDR of the DID once `count` are there, first answered first. */
const records = async (did: string, count: number) =>
  waitFor(async () => {
    await Promise.all([0, 1].map((i) => routing(i).cdr.flush()));
    const rows = await daemons[0]!.ctx.database.sql<
      { caller_number: string; disposition: string; answered_at: Date | null }[]
    >`
      select caller_number, disposition, answered_at from call_records where did = ${did}
      order by answered_at nulls last`;
    return rows.length >= count ? rows : undefined;
  });

const metric = async (i: number, name: string, by: string, label = 'by') =>
  (await daemons[i]!.ctx.metrics.getSingleMetric(name)!.get()).values.find((v) => v.labels[label] === by)
    ?.value ?? 0;
const hourClaims = async () => {
  const out: Record<string, number> = {};
  for (const claimed of ['here', 'elsewhere', 'unknown'])
    out[claimed] =
      (await metric(0, 'capconduit_queue_hour_wakes_total', claimed, 'claimed')) +
      (await metric(1, 'capconduit_queue_hour_wakes_total', claimed, 'claimed'));
  return out;
};

/**
 * Waits until `count` callers stand in the link's line in Redis (a caller's phase is queued a moment
 * before it has joined there) and `listeners` connections hear the wake-up channel (an instance
 * subscribes when its first caller waits): from then on a freed slot's wake-up reaches them. Read
 * through instance `via`'s connection.
 */
async function inLine(linkId: string, count: number, listeners: number, via = 0) {
  const keys = new RedisKeys(prefix).routing;
  await waitFor(async () =>
    (await routing(via).router!.queue.waiting(linkId)).length === count ? true : undefined,
  );
  const r = createRedis(redis.url, { enableOfflineQueue: true });
  r.on('error', () => {});
  try {
    await waitFor(async () => {
      const [, n] = (await r.pubsub('NUMSUB', keys.queueWake)) as [string, number];
      return n >= listeners ? true : undefined;
    });
  } finally {
    r.disconnect();
  }
}

/**
 * Callers arriving in turn on the two instances while the link is full, then its slots freeing one
 * by one: each freed slot goes to the caller who arrived first, wherever it waits.
 */
async function inArrivalOrder(
  { did, linkId }: { did: string; linkId: string },
  base: number,
  waiters: number,
  between?: () => Promise<void>,
) {
  const first = await placed(0, did, `+1212555${base}`, 'bridged');
  const callers = Array.from({ length: waiters }, (_, k) => `+1212555${base + 1 + k}`);
  const on = (k: number) => (k + 1) % 2; // the first waiter on instance 1, then 0, 1, ...
  const ids: string[] = [];
  for (const [k, caller] of callers.entries()) ids.push(await placed(on(k), did, caller, 'queued'));
  await inLine(linkId, waiters, 2);
  await between?.();
  sim.hangup(first);
  for (const [k, caller] of callers.entries()) {
    await phaseOf(on(k), caller, 'bridged');
    // Nobody behind it was served meanwhile.
    for (const [j, later] of callers.entries()) if (j > k) expect(phaseNow(on(j), later)).toBe('queued');
    sim.hangup(ids[k]!);
    await gone(on(k), caller);
  }
  const rows = await records(did, waiters + 1);
  expect(rows.map((r) => [r.caller_number, r.disposition])).toEqual(
    [`+1212555${base}`, ...callers].map((c) => [c, 'answered']),
  );
}

describe('hold queue: one line for two instances on one node', () => {
  cluster();

  it('callers arriving in turn on both instances are answered in arrival order as slots free one by one', async () => {
    await inArrivalOrder(await campaignLink({ concurrencyCap: 1 }), 1000, 6);
  }, 180_000);

  it('a new hour on the routing clock serves the waiters an hourly cap held back, on both instances, woken once', async () => {
    const keys = new RedisKeys(prefix).routing;
    const sub = createRedis(redis.url, { enableOfflineQueue: true });
    sub.on('error', () => {});
    const heard: string[] = [];
    sub.on('message', (_c: string, m: string) => heard.push(m));
    await sub.subscribe(keys.queueWake);
    try {
      // Two links, each at its hourly cap of 1 with the one call it took this hour up.
      const a = await campaignLink({ concurrencyCap: 1, hourlyCap: 1 });
      const b = await campaignLink({ concurrencyCap: 1, hourlyCap: 1 });
      const upA = await placed(0, a.did, '+12125552000', 'bridged');
      const upB = await placed(1, b.did, '+12125552100', 'bridged');
      // A waiter for each, on the other instance: full, so each waits (its concurrency).
      const wA = await placed(1, a.did, '+12125552001', 'queued');
      const wB = await placed(0, b.did, '+12125552101', 'queued');
      // Both instances and this test hear the wake-ups.
      await inLine(a.linkId, 1, 3);
      await inLine(b.linkId, 1, 3);
      const turns = [
        await metric(1, 'capconduit_queue_turns_total', 'wake'),
        await metric(0, 'capconduit_queue_turns_total', 'wake'),
      ];
      const served = [
        await metric(1, 'capconduit_queue_served_total', 'wake'),
        await metric(0, 'capconduit_queue_served_total', 'wake'),
      ];
      // The calls up end: the freed slots wake the waiters, whose hourly cap refuses them now.
      sim.hangup(upA);
      sim.hangup(upB);
      await gone(0, '+12125552000');
      await gone(1, '+12125552100');
      await waitFor(async () =>
        (await metric(1, 'capconduit_queue_turns_total', 'wake')) > turns[0]! ? true : undefined,
      );
      await waitFor(async () =>
        (await metric(0, 'capconduit_queue_turns_total', 'wake')) > turns[1]! ? true : undefined,
      );
      expect(phaseNow(1, '+12125552001')).toBe('queued');
      expect(phaseNow(0, '+12125552101')).toBe('queued');
      expect(await routing(0).slots.live(a.linkId)).toBe(0);
      expect(await metric(1, 'capconduit_queue_served_total', 'wake')).toBe(served[0]);
      expect(await metric(0, 'capconduit_queue_served_total', 'wake')).toBe(served[1]);
      // The next hour begins on the routing clock: both waiters are served by its wake-up.
      const hour = nextHourStart('UTC', clock.now());
      const claims = await hourClaims();
      clock.moveTo(hour + 20);
      await phaseOf(1, '+12125552001', 'bridged');
      await phaseOf(0, '+12125552101', 'bridged');
      expect(await metric(1, 'capconduit_queue_served_total', 'wake')).toBe(served[0]! + 1);
      expect(await metric(0, 'capconduit_queue_served_total', 'wake')).toBe(served[1]! + 1);
      // Both instances had waiters under that hour and claimed it: one won, one wake-up was published.
      await waitFor(() => heard.includes(`h:${hour}`));
      await waitFor(async () =>
        (await hourClaims()).elsewhere === claims.elsewhere! + 1 ? true : undefined,
      );
      expect(await hourClaims()).toEqual({
        ...claims,
        here: claims.here! + 1,
        elsewhere: claims.elsewhere! + 1,
      });
      expect(heard.filter((m) => m === `h:${hour}`)).toHaveLength(1);
      sim.hangup(wA);
      sim.hangup(wB);
      const rows = [...(await records(a.did, 2)), ...(await records(b.did, 2))];
      expect(rows.map((r) => r.disposition)).toEqual(['answered', 'answered', 'answered', 'answered']);
    } finally {
      sub.disconnect();
    }
  }, 180_000);

  it('Redis restarting while callers wait: none lost, none answered twice, still in arrival order', async () => {
    await inArrivalOrder(await campaignLink({ concurrencyCap: 1 }), 3000, 4, async () => {
      await redis.stop();
      await redis.start();
      // Both instances back on Redis; their wake-up subscriptions subscribe again by themselves.
      for (const d of daemons) await waitFor(async () => (await d.app.inject('/ready')).statusCode === 200);
    });
  }, 180_000);
});

describe('hold queue: an instance stopped while its caller waits', () => {
  // A stopped instance says goodbye, so the other may take its calls over at its next pass.
  cluster({ INSTANCE_DEAD_AFTER_S: '2', RECONCILE_INTERVAL_S: '1' });

  it('the other instance takes the waiter over into its own app, keeps its place, and serves it at the new hour', async () => {
    const { did, linkId } = await campaignLink({ concurrencyCap: 1, hourlyCap: 1 });
    const taken = () => metric(1, 'capconduit_calls_taken_over_total', 'rerouted', 'as');
    const before = await taken();
    const up = await placed(1, did, '+12125554000', 'bridged');
    const waiter = await placed(0, did, '+12125554001', 'queued');
    await inLine(linkId, 1, 1);
    // (The music starts a moment after the caller joins its line.)
    await waitFor(() => sim.hears(waiter) === 'music');
    const turns = await metric(0, 'capconduit_queue_turns_total', 'wake');
    // The call up ends: the waiter's turn finds the link's hourly cap used up, so it waits on.
    sim.hangup(up);
    await gone(1, '+12125554000');
    await waitFor(async () =>
      (await metric(0, 'capconduit_queue_turns_total', 'wake')) > turns ? true : undefined,
    );
    expect(phaseNow(0, '+12125554001')).toBe('queued');
    // Its instance stops before the hour; the caller stays in Asterisk, hearing the music.
    await daemons[0]!.stop();
    expect(sim.hears(waiter)).toBe('music');
    // Taken over by the other instance: its events now come there, and it keeps its place in line.
    await phaseOf(1, '+12125554001', 'queued');
    expect(await taken()).toBe(before + 1);
    expect(await routing(1).router!.queue.waiting(linkId)).toHaveLength(1);
    await inLine(linkId, 1, 1, 1);
    // The new hour is claimed by the instance left, and serves the waiter there.
    clock.moveTo(nextHourStart('UTC', clock.now()) + 20);
    await phaseOf(1, '+12125554001', 'bridged');
    // Hung up by the caller: heard by the instance it was moved to, which writes the one CDR.
    sim.hangup(waiter);
    await gone(1, '+12125554001');
    const rows = await waitFor(async () => {
      await routing(1).cdr.flush();
      const r = await daemons[1]!.ctx.database.sql<{ caller_number: string; disposition: string }[]>`
        select caller_number, disposition from call_records where did = ${did} order by started_at`;
      return r.length >= 2 ? r : undefined;
    });
    expect(rows.map((r) => [r.caller_number, r.disposition])).toEqual([
      ['+12125554000', 'answered'],
      ['+12125554001', 'answered'],
    ]);
    expect(await routing(1).slots.live(linkId)).toBe(0);
  }, 180_000);
});
