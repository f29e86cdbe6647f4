// Caller-ID rotation with its own Redis (so FLUSHALL is real) and the Asterisk simulator: the hot
// state is rebuilt from PostgreSQL after Redis loses it, outbound calls sent to
// Stasis(capconduit,outbound,<campaign>) get a rotated CALLERID(num) and continue in the dialplan,
// and AMI Hangup events rest a number after a run of unanswered calls.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import type { Redis } from 'ioredis';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallerIdModule } from '../../src/callerid/index.ts';
import { importCallerIds } from '../../src/callerid/import.ts';
import { CallerIdService } from '../../src/callerid/service.ts';
import { CidStore, USAGE_LEASE_MS } from '../../src/callerid/store.ts';
import { RedisKeys } from '../../src/platform/redis/keys.ts';
import { createLogger } from '../../src/platform/logger.ts';
import type { Daemon } from '../../src/main.ts';
import type { Simulator } from '../../src/simulator/index.ts';
import { TEST_MASTER_KEY } from '../helpers/env.ts';
import type { PrivateRedis } from '../helpers/redis-server.ts';
import { type CidDaemon, startCidDaemon } from '../helpers/cid-daemon.ts';
import { waitFor } from '../helpers/wait.ts';

const log = createLogger({ level: process.env.TEST_LOG ? 'error' : 'silent' });

describe('caller-ID rebuild, outbound Stasis flow and number health', () => {
  let h: CidDaemon;
  let db: CidDaemon['db'];
  let redisSrv: PrivateRedis;
  let redis: Redis;
  let sim: Simulator;
  let d: Daemon;
  let admin: string;
  let cid: CallerIdModule;

  beforeAll(async () => {
    h = await startCidDaemon();
    ({ db, redisSrv, redis, sim, d, admin } = h);
    cid = d.ctx.modules.get('callerid') as CallerIdModule;
  });
  afterAll(() => h?.stop());

  const api = (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object) =>
    h.api(method, url, payload);

  it('rebuilds the hot state from PostgreSQL after FLUSHALL before /next-cid answers', async () => {
    expect((await api('POST', '/v1/cid-pools', { id: 'RB' })).statusCode).toBe(201);
    for (const n of ['+13125550100', '+13125550101', '+13125550102'])
      expect(
        (await api('POST', '/v1/caller-ids', { number: n, campaigns: ['RB'], hourly_limit: 1 })).statusCode,
      ).toBe(201);
    const first = (await api('GET', '/next-cid?campaign=RB&agent=a')).json().caller_id as string;
    await cid.service.flush(); // usage reaches PostgreSQL
    await redis.flushall();
    // /ready says so (and starts the rebuild); /next-cid waits for it.
    const ready = await d.app.inject('/ready');
    const seen = new Set<string>();
    for (let i = 0; i < 2; i++) {
      const r = await api('GET', '/next-cid?campaign=RB&agent=b');
      expect(r.statusCode, r.body).toBe(200);
      seen.add(r.json().caller_id);
    }
    // The number used before the loss is still at its hourly limit (and reserved): never handed out.
    expect(seen.has(first)).toBe(false);
    expect(seen.size).toBe(2);
    expect((await api('GET', '/next-cid?campaign=RB&agent=b')).statusCode).toBe(503);
    // It looked before the rebuild it started: degraded (the pools already placed are served), not 503.
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'degraded', degraded: ['callerid'] });
    expect((await d.app.inject('/ready')).json().status).toBe('ready');
    expect(await redis.exists(cid.service.store.keys.ready)).toBe(1);
  });

  it('an outbound call through Stasis(capconduit,outbound,<campaign>) gets a rotated CALLERID(num) and continues to Dial', async () => {
    expect((await api('POST', '/v1/cid-pools', { id: 'SALES01' })).statusCode).toBe(201);
    for (const n of ['+14155550100', '+12125550100'])
      expect((await api('POST', '/v1/caller-ids', { number: n, campaigns: ['SALES01'] })).statusCode).toBe(
        201,
      );
    sim.setEndpoint('outbound-trunk', { result: 'answer', answerAfterMs: 10, hangupAfterMs: 20 });
    const callerIds: string[] = [];
    const onEv = (_app: string, ev: { type: string; channel?: { caller: { number: string } } }) => {
      if (ev.type === 'ChannelCallerId') callerIds.push(ev.channel!.caller.number);
    };
    sim.events.on('ari-event', onEv);
    const before = cid.outbound!.handled;
    sim.placeInboundCall({ did: '4155551234', callerNumber: '100', context: 'outbound-rotated' });
    await waitFor(() => cid.outbound!.handled === before + 1);
    await waitFor(() => sim.liveChannels().length === 0);
    sim.events.off('ari-event', onEv);
    expect(callerIds).toEqual(['+14155550100']); // local presence for 415-555
    // The call went back to the dialplan and was dialled and answered: the health counts it.
    await waitFor(async () => {
      const s = (await api('GET', '/v1/caller-ids/stats?campaign=SALES01')).json();
      const n = s.numbers.items.find((x: { number: string }) => x.number === '+14155550100');
      return n.answered === 1 && n.unanswered === 0;
    });
  });

  it('number health: AMI Hangup events of unanswered outbound calls rest the number, and the stats show it', async () => {
    // The sample context serves campaign SALES01: tighten its health settings and keep one number.
    expect(
      (
        await api('PATCH', '/v1/cid-pools/SALES01', {
          health_window: 4,
          health_min_answer_rate: 0.5,
          health_rest_s: 1800,
        })
      ).statusCode,
    ).toBe(200);
    expect((await api('PATCH', '/v1/caller-ids/+12125550100', { active: false })).statusCode).toBe(200);
    sim.setEndpoint('outbound-trunk', { result: 'busy', answerAfterMs: 5 });
    const n = '+14155550100';
    const stat = async () =>
      (await api('GET', '/v1/caller-ids/stats?campaign=SALES01'))
        .json()
        .numbers.items.find((x: { number: string }) => x.number === n);
    let calls = 0;
    while (!(await stat()).rested_until && calls < 6) {
      // Time passes between calls: the previous reservation is over.
      await redis.hset(cid.service.store.keys.number(n), 'resv', '0');
      await cid.service.store.place(n, [], Date.now(), cid.service.buckets());
      const before = (await stat()).unanswered;
      const handled = cid.outbound!.handled;
      sim.placeInboundCall({ did: '6175551234', callerNumber: '100', context: 'outbound-rotated' });
      await waitFor(() => cid.outbound!.handled === handled + 1);
      await waitFor(() => sim.liveChannels().length === 0);
      await waitFor(async () => (await stat()).unanswered === before + 1);
      calls++;
    }
    // Window of 4 after one answered call: 1,0,0,0 is 25% < 50% -> rested at the third busy call.
    expect(calls).toBe(3);
    const st = await stat();
    expect(st).toMatchObject({ answered: 1, unanswered: 3 });
    expect(new Date(st.rested_until).getTime()).toBeGreaterThan(Date.now() + 1700_000);
    // The counts and the rest reach PostgreSQL with the usage flush.
    await cid.service.flush();
    const [row] = await d.ctx.database.sql<{ a: number; u: number; rested: string | null }[]>`
      select answered::int as a, unanswered::int as u, rested_until as rested from caller_ids where number = ${n}`;
    expect(row).toMatchObject({ a: 1, u: 3 });
    expect(new Date(row!.rested!).getTime()).toBe(new Date(st.rested_until).getTime());
    const s = (await api('GET', '/v1/caller-ids/stats?campaign=SALES01')).json();
    expect(s.campaigns[0]).toMatchObject({ resting: 1, available: 0 });
    // A rested number is not handed out, even once its reservation is over.
    await redis.hset(cid.service.store.keys.number(n), 'resv', '0');
    expect((await cid.service.next({ pool: 'SALES01', agent: null })).kind).toBe('exhausted');
    // The same call reported again (the other Local half, or another instance) counts once.
    const again = await cid.service.store.recordOutcome(
      n,
      'h:dup-test',
      false,
      Date.now(),
      cid.service.buckets(),
      {
        window: 4,
        minAnswerRate: 0.5,
        restS: 1,
      },
    );
    const twice = await cid.service.store.recordOutcome(
      n,
      'h:dup-test',
      false,
      Date.now(),
      cid.service.buckets(),
      {
        window: 4,
        minAnswerRate: 0.5,
        restS: 1,
      },
    );
    expect([again.counted, twice.counted]).toEqual([true, false]);
    expect([again.ours, twice.ours]).toEqual([true, true]);
    // A number that is not ours says so (the tracker then skips it for a while).
    const other = await cid.service.store.recordOutcome(
      '+19995550000',
      'h:other',
      true,
      Date.now(),
      cid.service.buckets(),
      { window: 4, minAnswerRate: 0.5, restS: 1 },
    );
    expect(other).toEqual({ ours: false, counted: false, restedUntil: null });
  });

  it('capconduit import-cids <file.csv> --campaign X imports like the API, and the pool serves the numbers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cc-cids-'));
    try {
      const file = join(dir, 'cids.csv');
      writeFileSync(
        file,
        'caller_id,carrier,area_code,daily_limit,hourly_limit\n+13055550100,acme,305,10,5\n305-555-0101,acme,,10,5\nnope,acme,,1,1\n',
      );
      const run = promisify(execFile);
      const r = await run('node', ['bin/capconduit.js', 'import-cids', file, '--campaign', 'CLI', '--json'], {
        env: {
          PATH: process.env.PATH!,
          HOME: process.env.HOME ?? '/tmp',
          DATABASE_URL: db.url,
          REDIS_URL: redisSrv.url,
          REDIS_KEY_PREFIX: d.ctx.config.REDIS_KEY_PREFIX,
          MASTER_KEY: TEST_MASTER_KEY,
        },
      }).catch((e: { code: number; stdout: string }) => e);
      expect((r as { code?: number }).code).toBe(3); // one line rejected
      const out = JSON.parse((r as { stdout: string }).stdout);
      expect(out).toMatchObject({ lines: 3, imported: 2, rejected: [{ line: 4 }], pools_created: ['CLI'] });
      const got = new Set<string>();
      for (let i = 0; i < 2; i++)
        got.add((await api('GET', '/next-cid?campaign=CLI&to=3055551234')).json().caller_id);
      expect(got).toEqual(new Set(['+13055550100', '+13055550101']));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('Redis down: /next-cid answers 503 DEPENDENCY_UNAVAILABLE; Redis back empty: rebuilt, answers again', async () => {
    await redisSrv.stop();
    const r = await api('GET', '/next-cid?campaign=RB&agent=down');
    expect(r.statusCode).toBe(503);
    expect(r.json().error.code).toBe('DEPENDENCY_UNAVAILABLE');
    // A write reaches PostgreSQL but cannot reach Redis: said so, not a silent 200.
    const w = await api('PATCH', '/v1/caller-ids/+13055550100', { hourly_limit: 7 });
    expect(w.statusCode).toBe(503);
    expect(w.json().error.code).toBe('DEPENDENCY_UNAVAILABLE');
    // So does an import: its rows reach PostgreSQL, the answer says Redis was not updated.
    const imp = await d.app.inject({
      method: 'POST',
      url: '/v1/caller-ids/import?campaign=DOWNIMP',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'text/csv' },
      payload:
        'caller_id,carrier,area_code,daily_limit,hourly_limit\n+17185550100,acme,718,,\n+17185550101,acme,718,,\n',
    });
    expect(imp.statusCode, imp.body).toBe(503);
    expect(imp.json().error.code).toBe('DEPENDENCY_UNAVAILABLE');
    await redisSrv.start(); // no persistence: it comes back empty
    await waitFor(async () => (await api('GET', '/next-cid?campaign=CLI&agent=up')).statusCode === 200);
    // The daemon's other Redis connection reconnects on its own back-off.
    await waitFor(async () => (await d.app.inject('/ready')).statusCode === 200);
    // Rebuilt from PostgreSQL, so the write made while Redis was down holds.
    const st = (await api('GET', '/v1/caller-ids/stats?campaign=CLI')).json();
    expect(st.numbers.items.find((x: { number: string }) => x.number === '+13055550100').hourly_limit).toBe(
      7,
    );
    // The import made while Redis was down is served from the rebuilt state.
    const got = await api('GET', '/next-cid?campaign=DOWNIMP&to=7185551234');
    expect(got.statusCode, got.body).toBe(200);
    expect(['+17185550100', '+17185550101']).toContain(got.json().caller_id);
  });

  it('a usage flush that PostgreSQL refuses puts the numbers back, and the next flush writes them whole (flush and import on a plain postgres.js client)', async () => {
    expect((await api('POST', '/v1/cid-pools', { id: 'FL' })).statusCode).toBe(201);
    const nums = ['+16175550100', '+16175550101', '+16175550102'];
    for (const n of nums)
      expect((await api('POST', '/v1/caller-ids', { number: n, campaigns: ['FL'] })).statusCode).toBe(201);
    await cid.service.flush(); // nothing of this pool is dirty before the picks
    // A plain postgres.js client, not the daemon's (which drizzle has also set up): the flush's
    // statement must not depend on what drizzle changes on its client.
    const real = postgres(db.url, { max: 1, onnotice: () => {} });
    let refuse = true;
    // The flush's one statement fails while `refuse` holds: a PostgreSQL outage for that write.
    const sql = ((...a: Parameters<typeof real>) => {
      if (refuse) return Promise.reject(new Error('connection refused'));
      return (real as (...x: unknown[]) => unknown)(...a);
    }) as unknown as typeof real;
    const svc = new CallerIdService({
      sql,
      store: cid.service.store,
      log,
      instanceId: 'flush-test',
      timezone: 'UTC',
      reservationTtlMs: 60_000,
      agentRatePerMin: 0,
      flushEveryMs: 0,
    });
    const picked: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await api('GET', '/next-cid?campaign=FL&agent=fl');
      expect(r.statusCode, r.body).toBe(200);
      picked.push(r.json().caller_id);
    }
    expect(new Set(picked)).toEqual(new Set(nums));
    const uses = async () =>
      (
        await real<{ n: string; t: string }[]>`
        select number as n, total_uses::text as t from caller_ids where number = any(${nums}) order by 1`
      ).map((r) => `${r.n}=${r.t}`);
    await svc.flush();
    expect(svc.lastFlushError).toBe('connection refused');
    expect(await uses()).toEqual(nums.map((n) => `${n}=0`));
    for (const n of nums) expect(await redis.sismember(cid.service.store.keys.dirty, n)).toBe(1);
    refuse = false;
    await svc.flush();
    expect(svc.lastFlushError).toBeNull();
    expect(await uses()).toEqual(nums.map((n) => `${n}=1`));
    expect(await redis.sismember(cid.service.store.keys.dirty, nums[0]!)).toBe(0);
    // Redis refusing mid-flush: PostgreSQL refuses the write, then the put-back fails too. The
    // numbers are not lost: they stay leased, and the first flush after the lease takes them again.
    // (Their usage changes in Redis as a pick would change it: a second use each.)
    for (const n of nums) await redis.hincrby(cid.service.store.keys.number(n), 'tot', 1);
    await redis.sadd(cid.service.store.keys.dirty, ...nums);
    let clock = Date.now();
    const store = cid.service.store;
    const failing = Object.create(store) as typeof store;
    failing.usageNotWritten = () => Promise.reject(new Error('Redis refused'));
    const svc2 = new CallerIdService({
      sql,
      store: failing,
      log,
      instanceId: 'flush-test-2',
      timezone: 'UTC',
      reservationTtlMs: 60_000,
      agentRatePerMin: 0,
      flushEveryMs: 0,
      now: () => clock,
    });
    refuse = true;
    await svc2.flush();
    expect(svc2.lastFlushError).toBe('connection refused');
    for (const n of nums) expect(await redis.sismember(store.keys.dirty, n)).toBe(0);
    expect(await redis.zcard(store.keys.dirtyLeased)).toBe(3);
    refuse = false;
    await svc2.flush(); // the lease holds: nothing to take yet
    expect(await uses()).toEqual(nums.map((n) => `${n}=1`));
    clock += USAGE_LEASE_MS + 1;
    await svc2.flush();
    expect(svc2.lastFlushError).toBeNull();
    expect(await uses()).toEqual(nums.map((n) => `${n}=2`));
    expect(await redis.zcard(store.keys.dirtyLeased)).toBe(0);
    // The import's statement on the plain client too.
    const csv = 'caller_id,carrier,area_code,daily_limit,hourly_limit\n+16175550199,acme,617,5,\n';
    const imp = await importCallerIds(real, cid.service, Readable.from([csv]), { defaultPool: 'FL' });
    expect(imp).toMatchObject({ imported: 1, rejected_total: 0 });
    const [row] = await real<
      { d: number }[]
    >`select daily_limit as d from caller_ids where number = '+16175550199'`;
    expect(row!.d).toBe(5);
    await real.end();
  });

  it('on an empty Redis, instances starting together rebuild once: one takes the lock, the others wait', async () => {
    const prefix = `rb${Date.now().toString(36)}`;
    let rebuilds = 0;
    const services = ['i1', 'i2', 'i3'].map((instanceId) => {
      const svc = new CallerIdService({
        sql: d.ctx.database.sql,
        store: new CidStore(redis, new RedisKeys(prefix)),
        log,
        instanceId,
        timezone: 'UTC',
        reservationTtlMs: 60_000,
        agentRatePerMin: 100,
        flushEveryMs: 0,
      });
      const real = svc.state.rebuild.bind(svc.state);
      svc.state.rebuild = async () => {
        rebuilds++;
        return real();
      };
      return svc;
    });
    await Promise.all(services.map((x) => x.ensureReady()));
    expect(rebuilds).toBe(1);
    for (const x of services) expect(await x.store.isReady()).toBe(true);
    const r = await services[2]!.next({ pool: 'CLI', agent: null });
    expect(r.kind).toBe('picked');
  });
});
