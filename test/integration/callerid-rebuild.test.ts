// The caller-ID rebuild after Redis lost its state, on real PostgreSQL and Redis: every number is
// placed as the one-number placement script places it (tier sets, cool sets, scores, hash); pools
// are served one by one as they are placed, and a number serving a pool placed earlier, picked
// since, keeps its reservation and its count through the later pools' loads; a rebuild whose lock
// is gone sets no marker after that.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallerIdRepository } from '../../src/callerid/repository.ts';
import { CallerIdService } from '../../src/callerid/service.ts';
import { CidStore, REBUILD_FIELDS, type RebuildRow } from '../../src/callerid/store.ts';
import { createDatabase, type Database } from '../../src/platform/db.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { RedisKeys } from '../../src/platform/redis/keys.ts';
import { freshDatabase, redisPrefix } from '../helpers/env.ts';
import { waitFor } from '../helpers/wait.ts';

const log = createLogger({ level: process.env.TEST_LOG ? 'error' : 'silent' });
const TTL = 60_000;

describe('caller-ID rebuild', () => {
  let fresh: Awaited<ReturnType<typeof freshDatabase>>;
  let database: Database;
  let redis: Redis;

  beforeAll(async () => {
    fresh = await freshDatabase();
    database = createDatabase(fresh.url, { max: 4 });
    redis = new Redis(process.env.REDIS_URL!);
  });
  afterAll(async () => {
    redis?.disconnect();
    await database?.close();
    await fresh?.drop();
  });

  const service = (prefix: string, store = new CidStore(redis, new RedisKeys(prefix))) =>
    new CallerIdService({
      sql: database.sql,
      store,
      log,
      instanceId: prefix,
      timezone: 'UTC',
      reservationTtlMs: TTL,
      agentRatePerMin: 0,
      flushEveryMs: 0,
    });

  const addPool = (id: string) => database.sql`insert into cid_pools (id) values (${id})`;
  const addNumber = async (
    number: string,
    pools: string[],
    v: Partial<{
      hourly_limit: number;
      daily_limit: number;
      active: boolean;
      hour_bucket: string;
      uses_hour: number;
      day_bucket: string;
      uses_day: number;
      last_used_at: string;
      rested_until: string;
      total_uses: number;
    }> = {},
  ) => {
    await database.sql`insert into caller_ids ${database.sql({ number, npa: number.slice(2, 5), state: 'CA', ...v })}`;
    for (const p of pools)
      await database.sql`insert into cid_pool_members (pool_id, number) values (${p}, ${number})`;
  };

  /** Every key of the prefix with its content, the hashes without the fields the rebuild leaves unset. */
  const dump = async (prefix: string) => {
    const keys = new RedisKeys(prefix).cid;
    const out: Record<string, unknown> = {};
    for (const k of await redis.keys(`${keys.base}*`)) {
      const name = k.slice(keys.base.length);
      if (/:(ready|rebuild-lock)$/.test(name) || name.endsWith(':cfg')) continue;
      const type = await redis.type(k);
      if (type === 'zset') out[name] = await redis.zrange(k, '0', '-1', 'WITHSCORES');
      else if (type === 'hash') {
        const h = await redis.hgetall(k);
        for (const [f, v] of Object.entries(h)) if (v === '' || (v === '0' && f !== 'a')) delete h[f];
        out[name] = h;
      } else out[name] = type;
    }
    return out;
  };

  it('places every number where placeCid would place it, whatever its limits, rest, reservation and pools', async () => {
    const now = Date.now();
    const hour = new Date(now).toISOString().slice(0, 13).replace(/[-T]/g, '');
    const day = hour.slice(0, 8);
    await addPool('PA');
    await addPool('PB');
    await addNumber('+14155550001', ['PA']);
    await addNumber('+14155550002', ['PA', 'PB'], {
      last_used_at: new Date(now - 10_000).toISOString(),
      total_uses: 3,
    });
    await addNumber('+14155550003', ['PA'], { hourly_limit: 2, hour_bucket: hour, uses_hour: 2 });
    await addNumber('+14155550004', ['PA'], { rested_until: new Date(now + 600_000).toISOString() });
    await addNumber('+14155550005', ['PA'], { active: false });
    await addNumber('+14155550006', ['PB'], { daily_limit: 0 });
    await addNumber('+14155550007', []);
    await addNumber('+14155550008', ['PB'], { hourly_limit: 1, hour_bucket: '2000010100', uses_hour: 5 });
    await addNumber('+14155550009', ['PA', 'PB'], { daily_limit: 3, day_bucket: day, uses_day: 3 });

    const p1 = redisPrefix();
    const svc = service(p1);
    await svc.ensureReady();
    expect(await svc.store.isReady()).toBe(true);

    // The same rows through the one-number script's bulk form (placeCids), as field/value pairs.
    const p2 = redisPrefix();
    const ref = new CidStore(redis, new RedisKeys(p2));
    const repo = new CallerIdRepository(database.sql);
    const rows: RebuildRow[] = [];
    for (const pool of ['PA', 'PB', null])
      for await (const batch of repo.rebuildRows(pool, TTL, 100)) rows.push(...batch);
    const seen = new Set<string>();
    const b = svc.state.clock.at(svc.state.now());
    await ref.placeMany(
      rows
        .filter((r) => !seen.has(r.number) && seen.add(r.number))
        .map((r) => ({ number: r.number, fields: REBUILD_FIELDS.flatMap((f) => [f, r[f]]) })),
      svc.state.now(),
      b,
    );
    expect(seen.size).toBe(9);
    const [got, want] = [await dump(p1), await dump(p2)];
    expect(Object.keys(got).length).toBeGreaterThan(9);
    expect(JSON.stringify(got, Object.keys(got).sort()).replaceAll(p1, '')).toBe(
      JSON.stringify(want, Object.keys(want).sort()).replaceAll(p2, ''),
    );
  });

  it('serves a pool once its numbers are placed; a number it shares with a later pool keeps the use made meanwhile', async () => {
    await addPool('SMALL');
    await addPool('LARGE');
    await addNumber('+13105550001', ['SMALL', 'LARGE'], { hourly_limit: 1, total_uses: 7 });
    await addNumber('+13105550002', ['SMALL']);
    for (let i = 3; i <= 6; i++) await addNumber(`+1310555000${i}`, ['LARGE']);

    const prefix = redisPrefix();
    const store = new CidStore(redis, new RedisKeys(prefix));
    // The load of LARGE waits at its first batch until the test lets it go.
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let atGate = false;
    const real = store.placeRebuilt.bind(store);
    store.placeRebuilt = async (rows, now, b) => {
      if (rows.some((r) => r.number === '+13105550003')) {
        atGate = true;
        await gate;
      }
      return real(rows, now, b);
    };
    const svc = service(prefix, store);
    const rebuilt = svc.ensureReady();
    await waitFor(() => atGate);
    expect(await store.poolsReady(['SMALL', 'LARGE'])).toEqual(['SMALL']);
    expect(await store.isReady()).toBe(false);

    // SMALL is served: both its numbers, the shared one reaching its hourly limit.
    const picked = new Set<string>();
    for (let i = 0; i < 2; i++) {
      const r = await svc.next({ pool: 'SMALL', agent: null });
      expect(r.kind).toBe('picked');
      if (r.kind === 'picked') picked.add(r.number);
    }
    expect(picked).toEqual(new Set(['+13105550001', '+13105550002']));
    // LARGE is not: a request for it waits for the pool (and gets a number once it is placed).
    const now = Date.now();
    const direct = await store.pick({
      pool: 'LARGE',
      callee: null,
      agent: '-',
      now,
      ttlMs: TTL,
      buckets: svc.state.clock.at(now),
      ratePerMin: null,
      promoteBatch: 32,
    });
    expect(direct.kind).toBe('not_ready');
    const waiting = svc.next({ pool: 'LARGE', agent: null });
    release();
    await rebuilt;
    const first = await waiting;
    expect(first.kind).toBe('picked');

    // The shared number kept this hour's use through LARGE's load: LARGE never hands it out.
    const h = await redis.hgetall(store.keys.number('+13105550001'));
    expect([h.hc, h.tot]).toEqual(['1', '8']);
    expect(await redis.zscore(store.keys.pool('LARGE', 'all'), '+13105550001')).toBeNull();
    expect(await redis.zscore(store.keys.pool('LARGE', 'cool'), '+13105550001')).not.toBeNull();
    const large = new Set<string>(first.kind === 'picked' ? [first.number] : []);
    for (;;) {
      const r = await svc.next({ pool: 'LARGE', agent: null });
      if (r.kind !== 'picked') break;
      large.add(r.number);
    }
    expect(large).toEqual(new Set(['+13105550003', '+13105550004', '+13105550005', '+13105550006']));
  });

  it('a rebuild whose lock is gone sets no marker for the pools it places after that', async () => {
    await addPool('LOCK1');
    await addPool('LOCK2');
    await addNumber('+12135550001', ['LOCK1']);
    await addNumber('+12135550002', ['LOCK2']);
    await addNumber('+12135550003', ['LOCK2']);
    const prefix = redisPrefix();
    const store = new CidStore(redis, new RedisKeys(prefix));
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let atGate = false;
    const real = store.placeRebuilt.bind(store);
    store.placeRebuilt = async (rows, now, b) => {
      if (rows.some((r) => r.number === '+12135550002')) {
        atGate = true;
        await gate;
      }
      return real(rows, now, b);
    };
    const svc = service(prefix, store);
    const rebuilt = svc.ensureReady().then(
      () => 'ready',
      (e: Error) => e.name,
    );
    await waitFor(() => atGate);
    // As a FLUSHALL would (it takes the lock with everything placed so far).
    await redis.del(store.keys.rebuildLock);
    release();
    expect(await rebuilt).toBe('LockLostError');
    expect(await store.poolsReady(['LOCK1', 'LOCK2'])).toEqual(['LOCK1']);
    expect(await store.isReady()).toBe(false);
  });
});
