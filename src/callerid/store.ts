// The caller-ID hot state in Redis, behind one small typed gateway. Every operation that decides
// something (pick, place, health) is one Lua script; KEYS/ARGV are built by pure functions.
// All caller-ID keys share one hash tag ({cid}): a number may serve several pools, and its
// reservation and limits must hold across all of them inside one atomic script, which Redis
// Cluster allows only within one slot.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../redis/keys.ts';
import { buildLibrary, callFunction, useLibrary } from '../redis/functions.ts';
import { callScript, defineScripts, loadScript } from '../redis/scripts.ts';
import type { CidBuckets, NumberFacts } from './decide.ts';

const here = dirname(fileURLToPath(import.meta.url));
const SCRIPTS = [
  'placeCid-1.lua',
  'placeCids-1.lua',
  'healthCid-2.lua',
  'takeUsage-1.lua',
  'placeFresh-1.lua',
  'promoteCid-1.lua',
].map((f) => loadScript(join(here, 'lua', f)));
// The pick, the hot path, runs as a Redis Function: its helpers are defined once per server, not
// on every call (src/redis/functions.ts). The other scripts run rarely or in bulk: EVALSHA.
const PICK = buildLibrary('capconduit_cid', [loadScript(join(here, 'lua', 'pickCid-8.lua'))]);

/** The usage fields the flush takes, in the order takeDirtyUsage returns them (hash fields, cid-common.lua). */
export const USAGE_COLUMNS = ['hb', 'hc', 'db', 'dc', 'tot', 'last', 'ans', 'unans', 'rest'] as const;

export const TIERS = ['npa_nxx', 'npa', 'state', 'any'] as const;
export type Tier = (typeof TIERS)[number];

export type PickResult =
  | { kind: 'picked'; number: string; expiresAt: number; tier: Tier }
  | { kind: 'exhausted'; nextAt: number | null }
  | { kind: 'rate_limited'; retryAfterMs: number }
  | { kind: 'not_ready' }
  | { kind: 'unknown_pool' };

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

/** Usage carried over from PostgreSQL when the hot state is rebuilt. */
export interface NumberUsage {
  lastUsedMs: number;
  reservedUntilMs: number;
  restedUntilMs: number;
  hourBucket: string | null;
  usesHour: number;
  dayBucket: string | null;
  usesDay: number;
  total: number;
  answered: number;
  unanswered: number;
}

export interface PoolHealthConfig {
  fallback: string | null;
  window: number;
  minAnswerRate: number;
  restS: number;
}

/** Raw hash of a number in Redis (for stats and the usage flush). */
export type NumberHash = Record<string, string>;

export class CidKeys {
  // Built by concatenation from prefixes made once, not with RedisKeys.tagged's array join: a pick
  // names eight keys, thousands of times a second. The names are the same (`<base>:<part>...`).
  readonly base: string;
  readonly ready: string;
  readonly dirty: string;
  readonly rebuildLock: string;
  private poolPrefix: string;
  constructor(private k: RedisKeys) {
    this.base = k.tagged('cid', 'cid');
    this.ready = `${this.base}:ready`;
    this.dirty = `${this.base}:dirty`;
    this.rebuildLock = `${this.base}:rebuild-lock`;
    this.poolPrefix = `${this.base}:p:`;
  }
  number(n: string) {
    return `${this.base}:n:${n}`;
  }
  pool(pool: string, ...parts: string[]) {
    let key = this.poolPrefix + pool;
    for (const part of parts) key += `:${part}`;
    return key;
  }
  rate(agent: string, window: number) {
    return `${this.base}:rl:${agent}:${window}`;
  }
  callSeen(id: string) {
    return this.k.tagged('cid', 'cid', 'seen', id);
  }
}

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
): { keys: string[]; args: (string | number)[] } {
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
    ],
    args: [
      keys.base,
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

export function usageFields(u: NumberUsage): string[] {
  return [
    'last',
    String(u.lastUsedMs),
    'resv',
    String(u.reservedUntilMs),
    'rest',
    String(u.restedUntilMs),
    'hb',
    u.hourBucket ?? '',
    'hc',
    String(u.usesHour),
    'db',
    u.dayBucket ?? '',
    'dc',
    String(u.usesDay),
    'tot',
    String(u.total),
    'ans',
    String(u.answered),
    'unans',
    String(u.unanswered),
  ];
}

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
    this.keys = new CidKeys(k);
    defineScripts(redis, SCRIPTS);
    useLibrary(redis, PICK);
  }

  async pick(p: Omit<Parameters<typeof pickCall>[1], never>): Promise<PickResult> {
    const c = pickCall(this.keys, p);
    // A pick goes to Redis at once when none is in flight: Redis works on it (on the other core)
    // while this process parses the next request. While picks are in flight, the next ones are held
    // and leave together, PICKS_PER_WRITE at a time or at the turn's end: under load, one write for
    // several picks, and Redis already working on a batch while this process makes the next. Never
    // held, every pick paid its own write and wake-up; all held to the turn's end, the two processes
    // took turns, each idle while the other worked on the whole batch.
    const coalesce = this.picksInFlight > 0;
    this.picksInFlight++;
    let r: Array<number | string>;
    try {
      r = await callFunction<Array<number | string>>(this.redis, PICK, 'pickCid', c.keys, c.args, {
        coalesce,
        maxHeld: PICKS_PER_WRITE,
      });
    } finally {
      this.picksInFlight--;
    }
    switch (Number(r[0])) {
      case 1:
        return {
          kind: 'picked',
          number: String(r[1]),
          expiresAt: Number(r[2]),
          tier: TIERS[Number(r[3]) - 1] ?? 'any',
        };
      case 0:
        return { kind: 'exhausted', nextAt: Number(r[1]) >= 0 ? Number(r[1]) : null };
      case -1:
        return { kind: 'rate_limited', retryAfterMs: Number(r[1]) };
      case -3:
        return { kind: 'unknown_pool' };
      default:
        return { kind: 'not_ready' };
    }
  }

  private placeArgs(number: string, now: number, b: CidBuckets, del: boolean, fields: string[]) {
    return [this.keys.base, number, now, ...bucketArgs(b), del ? '1' : '0', ...fields];
  }

  /** Sets a number's fields and places it in its pools' sets; returns when it is usable (-1 inactive). */
  async place(number: string, fields: string[], now: number, b: CidBuckets): Promise<number> {
    return callScript<number>(
      this.redis,
      'placeCid',
      [this.keys.number(number)],
      this.placeArgs(number, now, b, false, fields),
    );
  }

  /**
   * Places numbers that did not exist before (an import's fresh inserts) with a lean script: no
   * state to read or take out of sets (see placeFresh-1.lua). Only for numbers usable at once:
   * active, no zero limit, never used; any other goes through place()/placeMany().
   */
  async placeFresh(items: Array<{ number: string; profile: NumberProfile }>): Promise<void> {
    if (!items.length) return;
    const pipe = this.redis.pipeline();
    const fn = (pipe as unknown as Record<string, (...a: (string | number)[]) => unknown>).placeFresh!;
    for (let i = 0; i < items.length; i += 500) {
      const args: (string | number)[] = [this.keys.base];
      for (const { number, profile: p } of items.slice(i, i + 500))
        args.push(
          number,
          p.npa ?? '',
          p.nxx ?? '',
          p.state ?? '',
          p.hourlyLimit ?? -1,
          p.dailyLimit ?? -1,
          p.pools.join(','),
        );
      fn.call(pipe, this.keys.ready, ...args);
    }
    const res = await pipe.exec();
    for (const [err] of res ?? []) if (err) throw err;
  }

  /** Many places: batches of numbers per script call, the batches pipelined (import, rebuild). */
  async placeMany(items: Array<{ number: string; fields: string[] }>, now: number, b: CidBuckets) {
    if (!items.length) return;
    const pipe = this.redis.pipeline();
    const fn = (pipe as unknown as Record<string, (...a: (string | number)[]) => unknown>).placeCids!;
    for (let i = 0; i < items.length; i += 100) {
      const args: (string | number)[] = [this.keys.base, now, ...bucketArgs(b)];
      for (const it of items.slice(i, i + 100)) args.push(it.number, it.fields.length, ...it.fields);
      fn.call(pipe, this.keys.ready, ...args);
    }
    const res = await pipe.exec();
    for (const [err] of res ?? []) if (err) throw err;
  }

  async remove(number: string, now: number, b: CidBuckets): Promise<void> {
    await callScript<number>(
      this.redis,
      'placeCid',
      [this.keys.number(number)],
      this.placeArgs(number, now, b, true, []),
    );
  }

  /**
   * Brings back into each pool's tier sets up to `limit` numbers whose limit window or rest has
   * ended (promoteCid-1.lua, one call a pool, pipelined); answers, per pool in order, how many it
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
    const fn = (pipe as unknown as Record<string, (...a: (string | number)[]) => unknown>).promoteCid!;
    for (const pool of pools)
      fn.call(pipe, this.keys.pool(pool, 'cool'), this.keys.base, pool, now, ...bucketArgs(b), limit);
    const res = (await pipe.exec()) ?? [];
    return res.map(([err, r]) => {
      if (err) throw err;
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
    b: CidBuckets,
    defaults: { window: number; minAnswerRate: number; restS: number },
  ): Promise<{ ours: boolean; counted: boolean; restedUntil: number | null }> {
    const r = await callScript<number[]>(
      this.redis,
      'healthCid',
      [this.keys.number(number), this.keys.callSeen(callId)],
      [
        this.keys.base,
        number,
        now,
        answered ? '1' : '0',
        ...bucketArgs(b),
        6 * 3600,
        defaults.window,
        defaults.minAnswerRate,
        defaults.restS,
      ],
    );
    return { ours: r[0] !== -1, counted: r[0]! > 0, restedUntil: r[0] === 2 ? Number(r[1]) : null };
  }

  async isReady(): Promise<boolean> {
    return (await this.redis.exists(this.keys.ready)) === 1;
  }
  async markReady(instance: string): Promise<void> {
    await this.redis.set(this.keys.ready, `${instance} ${new Date().toISOString()}`);
  }
  async lock(instance: string, ms: number): Promise<boolean> {
    return (await this.redis.set(this.keys.rebuildLock, instance, 'PX', ms, 'NX')) === 'OK';
  }
  async unlock(instance: string): Promise<void> {
    if ((await this.redis.get(this.keys.rebuildLock)) === instance)
      await this.redis.del(this.keys.rebuildLock);
  }

  /**
   * Takes up to `n` numbers whose usage changed, with that usage, as a JSON object built by Redis:
   * number -> [...USAGE_COLUMNS] ('' where a field is unset). The flush hands it to PostgreSQL as
   * it is, so the daemon never decodes the rows one string at a time.
   */
  async takeDirtyUsage(n: number): Promise<{ count: number; json: string }> {
    const [count, json] = await callScript<[number, string]>(
      this.redis,
      'takeUsage',
      [this.keys.dirty],
      [this.keys.base, n, ...USAGE_COLUMNS],
    );
    return { count, json };
  }
  async markDirty(numbers: string[]): Promise<void> {
    if (numbers.length) await this.redis.sadd(this.keys.dirty, ...numbers);
  }

  async hashes(numbers: string[]): Promise<Map<string, NumberHash>> {
    const out = new Map<string, NumberHash>();
    if (!numbers.length) return out;
    const pipe = this.redis.pipeline();
    for (const n of numbers) pipe.hgetall(this.keys.number(n));
    const res = (await pipe.exec()) ?? [];
    res.forEach(([err, h], i) => {
      if (err) throw err;
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
