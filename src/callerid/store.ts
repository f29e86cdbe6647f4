// The caller-ID hot state in Redis, through the platform's gateway (src/platform/redis): key names
// from CidKeys, scripts registered and typed once, KEYS/ARGV built by the pure functions below,
// replies decoded in codes.ts. Every operation that decides something (pick, place, health) is one
// Lua script. All caller-ID keys share one hash tag ({cid}): a number may serve several pools, and
// its reservation and limits must hold across all of them inside one atomic script, which Redis
// Cluster allows only within one slot.
// Over 400 lines on purpose: each script call's pure KEYS/ARGV builder sits beside the call that uses it.
import type { Redis } from 'ioredis';
import { decodeHealth, decodePick, type HealthOutcome, type PickResult } from '../platform/redis/codes.ts';
import { buildLibrary, callFunction, useLibrary } from '../platform/redis/functions.ts';
import type { CidKeys, RedisKeys } from '../platform/redis/keys.ts';
import {
  corked,
  execPipeline,
  PICK_SCRIPT,
  registerScripts,
  type ScriptCall,
} from '../platform/redis/scripts.ts';
import type { CidBuckets, NumberFacts } from './decide.ts';

export { type PickResult, TIERS, type Tier } from '../platform/redis/codes.ts';

// The pick, the hot path, runs as a Redis Function: its helpers are defined once per server, not
// on every call (platform/redis/functions.ts). The other scripts run rarely or in bulk: EVALSHA.
const PICK = buildLibrary('capconduit_cid', [PICK_SCRIPT]);

/** The usage fields the flush takes, in the order takeDirtyUsage returns them (hash fields, cid-common.lua). */
export const USAGE_COLUMNS = ['hb', 'hc', 'db', 'dc', 'tot', 'last', 'ans', 'unans', 'rest'] as const;

/** The profile of a number as the scripts see it (hash fields). */
export interface NumberProfile {
  active: boolean;
  npa: string | null;
  nxx: string | null;
  state: string | null;
  hourlyLimit: number | null;
  dailyLimit: number | null;
  pools: string[];
}

export interface PoolHealthConfig {
  fallback: string | null;
  window: number;
  minAnswerRate: number;
  restS: number;
}

/** Raw hash of a number in Redis (for stats and the usage flush). */
export type NumberHash = Record<string, string>;

const bucketArgs = (b: CidBuckets) => [b.hour, b.hourEnd, b.day, b.dayEnd];

/** KEYS and ARGV of one pick (pure). */
export function pickCall(
  keys: CidKeys,
  p: {
    pool: string;
    callee: NumberFacts | null;
    agent: string;
    now: number;
    ttlMs: number;
    buckets: CidBuckets;
    ratePerMin: number | null;
    promoteBatch: number;
  },
): ScriptCall {
  const window = Math.floor(p.now / 60_000);
  // An absent tier uses a key that never holds members (the empty-suffix tier).
  const tier = (name: string, v: string | null | undefined) => keys.pool(p.pool, name, v ?? '');
  return {
    keys: [
      keys.ready,
      keys.pool(p.pool, 'cool'),
      tier('nxx', p.callee?.nxx),
      tier('npa', p.callee?.npa),
      tier('st', p.callee?.state),
      keys.pool(p.pool, 'all'),
      keys.dirty,
      keys.rate(p.agent, window),
      keys.pool(p.pool, 'cfg'),
      keys.numberPrefix,
      keys.poolPrefix,
      keys.pool(p.pool, 'ready'),
    ],
    args: [
      p.pool,
      p.now,
      p.ttlMs,
      ...bucketArgs(p.buckets),
      p.promoteBatch,
      p.ratePerMin ?? -1,
      (window + 1) * 60_000,
    ],
  };
}

export function profileFields(p: NumberProfile): string[] {
  return [
    'a',
    p.active ? '1' : '0',
    'npa',
    p.npa ?? '',
    'nxx',
    p.nxx ?? '',
    'st',
    p.state ?? '',
    'hl',
    String(p.hourlyLimit ?? -1),
    'dl',
    String(p.dailyLimit ?? -1),
    'pools',
    p.pools.join(','),
  ];
}

/** KEYS and ARGV of placeCid: set fields of one number (or delete it) and place it (pure). */
export function placeCall(
  keys: CidKeys,
  number: string,
  now: number,
  b: CidBuckets,
  del: boolean,
  fields: string[],
): ScriptCall {
  return {
    keys: [keys.number(number), keys.numberPrefix, keys.poolPrefix],
    args: [number, now, ...bucketArgs(b), del ? '1' : '0', ...fields],
  };
}

/** placeCids calls for many numbers, 100 a call, each number's hash in KEYS (pure). */
export function placeManyCalls(
  keys: CidKeys,
  items: Array<{ number: string; fields: string[] }>,
  now: number,
  b: CidBuckets,
): ScriptCall[] {
  const calls: ScriptCall[] = [];
  for (let i = 0; i < items.length; i += 100) {
    const batch = items.slice(i, i + 100);
    const args: (string | number)[] = [now, ...bucketArgs(b)];
    for (const it of batch) args.push(it.number, it.fields.length, ...it.fields);
    calls.push({
      keys: [keys.numberPrefix, keys.poolPrefix, ...batch.map((it) => keys.number(it.number))],
      args,
    });
  }
  return calls;
}

/**
 * The KEYS of a bulk call that names every key it touches (pure): the numbers' hashes first, in
 * ARGV order, then each set once, which the arguments point at by its 1-based index in KEYS.
 */
class BulkKeys {
  private sets: string[] = [];
  private at = new Map<string, number>();
  constructor(private hashes: string[]) {}
  index(key: string): number {
    let at = this.at.get(key);
    if (at === undefined) {
      at = this.hashes.length + this.sets.push(key);
      this.at.set(key, at);
    }
    return at;
  }
  /** The indexes of a number's tier sets in `pools`: all, then NPA-NXX, NPA and state where known. */
  tiers(keys: CidKeys, pools: string[], nxx: string | null, npa: string | null, state: string | null) {
    const joins: number[] = [];
    for (const pool of pools) {
      joins.push(this.index(keys.pool(pool, 'all')));
      if (nxx) joins.push(this.index(keys.pool(pool, 'nxx', nxx)));
      if (npa) joins.push(this.index(keys.pool(pool, 'npa', npa)));
      if (state) joins.push(this.index(keys.pool(pool, 'st', state)));
    }
    return joins;
  }
  get keys(): string[] {
    return [...this.hashes, ...this.sets];
  }
}

/**
 * placeFresh calls, 500 numbers a call (pure). Every key the script writes is named here: each
 * number's hash, and each tier set of each pool it joins (passed once a call, numbers pointing at it
 * by its index in KEYS, the indexes of one number in one argument).
 */
export function placeFreshCalls(
  keys: CidKeys,
  items: Array<{ number: string; profile: NumberProfile }>,
): ScriptCall[] {
  const calls: ScriptCall[] = [];
  for (let i = 0; i < items.length; i += 500) {
    const batch = items.slice(i, i + 500);
    const k = new BulkKeys(batch.map(({ number }) => keys.number(number)));
    const args: (string | number)[] = [batch.length];
    for (const { number, profile: p } of batch) {
      args.push(
        number,
        p.npa ?? '',
        p.nxx ?? '',
        p.state ?? '',
        p.hourlyLimit ?? -1,
        p.dailyLimit ?? -1,
        p.pools.join(','),
        k.tiers(keys, p.pools, p.nxx, p.npa, p.state).join(','),
      );
    }
    calls.push({ keys: k.keys, args });
  }
  return calls;
}

/** The hash fields of a number the rebuild reads back, in rebuildCids-n.lua's ARGV order. */
export const REBUILD_FIELDS = [
  'a',
  'npa',
  'nxx',
  'st',
  'hl',
  'dl',
  'pools',
  'last',
  'resv',
  'rest',
  'hb',
  'hc',
  'db',
  'dc',
  'tot',
  'ans',
  'unans',
] as const;

/** A number as PostgreSQL gives it back to the rebuild: each hash field as text ('' unset), pools comma-separated. */
export type RebuildRow = { number: string } & Record<(typeof REBUILD_FIELDS)[number], string>;

/** Numbers a rebuildCids call: ~1,000 arguments, a few milliseconds of Redis (other pools' picks wait that out). */
export const REBUILD_BATCH = 500;

/**
 * rebuildCids calls, REBUILD_BATCH numbers a call (pure): every key named, as in placeFreshCalls,
 * each number pointing at its tier sets and at its pools' cool sets.
 */
export function rebuildCalls(keys: CidKeys, rows: RebuildRow[], now: number, b: CidBuckets): ScriptCall[] {
  const calls: ScriptCall[] = [];
  for (let i = 0; i < rows.length; i += REBUILD_BATCH) {
    const batch = rows.slice(i, i + REBUILD_BATCH);
    const k = new BulkKeys(batch.map((r) => keys.number(r.number)));
    const args: (string | number)[] = [now, ...bucketArgs(b), batch.length];
    for (const r of batch) {
      const pools = r.pools ? r.pools.split(',') : [];
      args.push(r.number);
      for (const f of REBUILD_FIELDS) args.push(r[f]);
      args.push(
        k.tiers(keys, pools, r.nxx || null, r.npa || null, r.st || null).join(','),
        pools.map((p) => k.index(keys.pool(p, 'cool'))).join(','),
      );
    }
    calls.push({ keys: k.keys, args });
  }
  return calls;
}

/** KEYS and ARGV of promoteCid for one pool (pure). */
export function promoteCall(
  keys: CidKeys,
  pool: string,
  now: number,
  b: CidBuckets,
  limit: number,
): ScriptCall {
  return {
    keys: [keys.pool(pool, 'cool'), keys.numberPrefix, keys.poolPrefix],
    args: [pool, now, ...bucketArgs(b), limit],
  };
}

/** KEYS and ARGV of healthCid: one outbound call outcome of a number (pure). */
export function healthCall(
  keys: CidKeys,
  o: {
    number: string;
    callId: string;
    answered: boolean;
    now: number;
    buckets: CidBuckets;
    defaults: { window: number; minAnswerRate: number; restS: number };
  },
): ScriptCall {
  return {
    keys: [keys.number(o.number), keys.callSeen(o.callId), keys.dirty, keys.numberPrefix, keys.poolPrefix],
    args: [
      o.number,
      o.now,
      o.answered ? '1' : '0',
      ...bucketArgs(o.buckets),
      6 * 3600,
      o.defaults.window,
      o.defaults.minAnswerRate,
      o.defaults.restS,
    ],
  };
}

/** KEYS and ARGV of takeUsage (pure). */
export function takeUsageCall(keys: CidKeys, n: number, now = 0, leaseMs = USAGE_LEASE_MS): ScriptCall {
  return {
    keys: [keys.dirty, keys.dirtyLeased, keys.numberPrefix],
    args: [now, leaseMs, n, ...USAGE_COLUMNS],
  };
}

/** How long a flush holds the numbers it took before another flush may take them again. */
export const USAGE_LEASE_MS = 60_000;

// Picks held back at most before they leave in one write (see pick). 2, 4, 8 and 16 measured alike
// (bench/next-cid, BENCHMARKS.md, session of 2026-12-03, third); the whole turn in one write was
// 10-20% slower.
const PICKS_PER_WRITE = 8;

export class CidStore {
  readonly keys: CidKeys;
  private picksInFlight = 0;
  constructor(
    readonly redis: Redis,
    k: RedisKeys,
  ) {
    this.keys = k.cid;
    registerScripts(redis);
    useLibrary(redis, PICK);
  }

  async pick(p: Parameters<typeof pickCall>[1]): Promise<PickResult> {
    const c = pickCall(this.keys, p);
    // A pick goes to Redis at once when none is in flight: Redis works on it (on the other core)
    // while this process parses the next request. While picks are in flight, the next ones are held
    // and leave together, PICKS_PER_WRITE at a time or at the turn's end: under load, one write for
    // several picks, and Redis already working on a batch while this process makes the next. Never
    // held, every pick paid its own write and wake-up; all held to the turn's end, the two processes
    // took turns, each idle while the other worked on the whole batch.
    const coalesce = this.picksInFlight > 0;
    this.picksInFlight++;
    try {
      return decodePick(
        await callFunction<Array<number | string>>(this.redis, PICK, 'pickCid', c.keys, c.args, {
          coalesce,
          maxHeld: PICKS_PER_WRITE,
        }),
      );
    } finally {
      this.picksInFlight--;
    }
  }

  /** Sets a number's fields and places it in its pools' sets; returns when it is usable (-1 inactive). */
  async place(number: string, fields: string[], now: number, b: CidBuckets): Promise<number> {
    const c = placeCall(this.keys, number, now, b, false, fields);
    return corked(this.redis).placeCid(...c.keys, ...c.args);
  }

  /**
   * Places numbers that did not exist before (an import's fresh inserts) with a lean script: no
   * state to read or take out of sets (see placeFresh-n.lua). Only for numbers usable at once:
   * active, no zero limit, never used; any other goes through place()/placeMany().
   */
  async placeFresh(items: Array<{ number: string; profile: NumberProfile }>): Promise<void> {
    if (!items.length) return;
    const pipe = this.redis.pipeline();
    for (const c of placeFreshCalls(this.keys, items)) pipe.placeFresh(c.keys.length, ...c.keys, ...c.args);
    await execPipeline(pipe);
  }

  /**
   * Places numbers read back by the rebuild (rebuildCids-n.lua), the calls pipelined; a number
   * whose hash exists is left as it is. Answers how many were placed and how many left.
   */
  async placeRebuilt(
    rows: RebuildRow[],
    now: number,
    b: CidBuckets,
  ): Promise<{ placed: number; kept: number }> {
    const out = { placed: 0, kept: 0 };
    if (!rows.length) return out;
    const pipe = this.redis.pipeline();
    for (const c of rebuildCalls(this.keys, rows, now, b))
      pipe.rebuildCids(c.keys.length, ...c.keys, ...c.args);
    for (const r of await execPipeline(pipe)) {
      const [placed, kept] = r as [number, number];
      out.placed += placed;
      out.kept += kept;
    }
    return out;
  }

  /** Many places: batches of numbers per script call, the batches pipelined (import, CRUD sync). */
  async placeMany(items: Array<{ number: string; fields: string[] }>, now: number, b: CidBuckets) {
    if (!items.length) return;
    const pipe = this.redis.pipeline();
    for (const c of placeManyCalls(this.keys, items, now, b))
      pipe.placeCids(c.keys.length, ...c.keys, ...c.args);
    await execPipeline(pipe);
  }

  async remove(number: string, now: number, b: CidBuckets): Promise<void> {
    const c = placeCall(this.keys, number, now, b, true, []);
    await corked(this.redis).placeCid(...c.keys, ...c.args);
  }

  /**
   * Brings back into each pool's tier sets up to `limit` numbers whose limit window or rest has
   * ended (promoteCid-3.lua, one call a pool, pipelined); answers, per pool in order, how many it
   * looked at and how many are still due.
   */
  async promoteDue(
    pools: string[],
    now: number,
    b: CidBuckets,
    limit: number,
  ): Promise<Array<{ looked: number; due: number }>> {
    if (!pools.length) return [];
    const pipe = this.redis.pipeline();
    for (const pool of pools) {
      const c = promoteCall(this.keys, pool, now, b, limit);
      pipe.promoteCid(...c.keys, ...c.args);
    }
    return (await execPipeline(pipe)).map((r) => {
      const [looked, due] = r as [number, number];
      return { looked, due };
    });
  }

  async setPoolConfig(pool: string, c: PoolHealthConfig): Promise<void> {
    await this.redis.hset(this.keys.pool(pool, 'cfg'), {
      fb: c.fallback ?? '',
      hw: c.window,
      hr: c.minAnswerRate,
      hs: c.restS,
    });
  }

  async poolFallback(pool: string): Promise<string | null> {
    return (await this.redis.hget(this.keys.pool(pool, 'cfg'), 'fb')) || null;
  }

  async deletePoolConfig(pool: string): Promise<void> {
    await this.redis.del(this.keys.pool(pool, 'cfg'));
  }

  /** One outbound call outcome; `callId` dedupes reports of the same call. */
  async recordOutcome(
    number: string,
    callId: string,
    answered: boolean,
    now: number,
    buckets: CidBuckets,
    defaults: { window: number; minAnswerRate: number; restS: number },
  ): Promise<HealthOutcome> {
    const c = healthCall(this.keys, { number, callId, answered, now, buckets, defaults });
    return decodeHealth(await corked(this.redis).healthCid(...c.keys, ...c.args));
  }

  async isReady(): Promise<boolean> {
    return (await this.redis.exists(this.keys.ready)) === 1;
  }
  async markReady(instance: string): Promise<void> {
    await this.redis.set(this.keys.ready, `${instance} ${new Date().toISOString()}`);
  }
  /** During a rebuild: every number of the pool is placed, picks from it may go on (pickCid-12.lua). */
  async markPoolReady(pool: string, instance: string): Promise<void> {
    await this.redis.set(this.keys.pool(pool, 'ready'), `${instance} ${new Date().toISOString()}`);
  }
  /** The pools of `pools` that are served while the state is rebuilt. */
  async poolsReady(pools: string[]): Promise<string[]> {
    if (!pools.length) return [];
    const v = await this.redis.mget(...pools.map((p) => this.keys.pool(p, 'ready')));
    return pools.filter((_, i) => v[i] !== null);
  }

  /**
   * Takes up to `n` numbers whose usage changed, with that usage, as a JSON object built by Redis:
   * number -> [...USAGE_COLUMNS] ('' where a field is unset). The flush hands it to PostgreSQL as
   * it is, so the daemon never decodes the rows one string at a time.
   */
  async takeDirtyUsage(n: number, now = Date.now()): Promise<{ count: number; json: string }> {
    const c = takeUsageCall(this.keys, n, now);
    const [count, json] = await corked(this.redis).takeUsage(...c.keys, ...c.args);
    return { count, json };
  }
  async markDirty(numbers: string[]): Promise<void> {
    if (numbers.length) await this.redis.sadd(this.keys.dirty, ...numbers);
  }

  /** The numbers a flush took are written: their lease ends. */
  async usageWritten(numbers: string[]): Promise<void> {
    if (numbers.length) await this.redis.zrem(this.keys.dirtyLeased, ...numbers);
  }

  /** The numbers a flush took are not written: dirty again at once, their lease ended (one step). */
  async usageNotWritten(numbers: string[]): Promise<void> {
    if (numbers.length)
      await this.redis
        .multi()
        .sadd(this.keys.dirty, ...numbers)
        .zrem(this.keys.dirtyLeased, ...numbers)
        .exec();
  }

  async hashes(numbers: string[]): Promise<Map<string, NumberHash>> {
    const out = new Map<string, NumberHash>();
    if (!numbers.length) return out;
    const pipe = this.redis.pipeline();
    for (const n of numbers) pipe.hgetall(this.keys.number(n));
    (await execPipeline(pipe)).forEach((h, i) => {
      if (h && Object.keys(h as object).length) out.set(numbers[i]!, h as NumberHash);
    });
    return out;
  }

  // Available: in the pool's 'all' tier set with its reservation over (score <= now). Cooling:
  // reserved (still in the tier sets, scored by the reservation's end) plus held back by a limit
  // or a rest (the cool set).
  async poolSizes(pool: string, now: number): Promise<{ available: number; cooling: number }> {
    const all = this.keys.pool(pool, 'all');
    const [a, r, c] = await Promise.all([
      this.redis.zcount(all, '-inf', now),
      this.redis.zcount(all, `(${now}`, '+inf'),
      this.redis.zcard(this.keys.pool(pool, 'cool')),
    ]);
    return { available: a, cooling: r + c };
  }
}
