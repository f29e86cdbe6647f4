// The pick script against a reference model, on real Redis: random runs of picks (two pools sharing
// numbers, callees of every local-presence tier), clock jumps across reservations, hours and days,
// limit and pool changes and health outcomes. Each answer must be the one the rules of docs/caller-id.md
// give (best tier, then least recently used, ties by lowest number; never reserved, resting or at
// a limit), an exhausted pool must say when the first number frees up, and after every step each
// number must sit in exactly the sets its state calls for (tier sets or cooling, never both).
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { cidBuckets, factsOf, type NumberFacts } from '../../src/callerid/decide.ts';
import { CidStore, profileFields, type PickResult } from '../../src/callerid/store.ts';
import { RedisKeys } from '../../src/platform/redis/keys.ts';
import { redisPrefix } from '../helpers/env.ts';

const TTL = 60_000;
const POOLS = ['A', 'B'] as const;
// Two share an NPA-NXX, one more shares the NPA, one is in the same state (CA) under another NPA,
// one elsewhere, one not NANP (only ever 'any').
const NUMBERS = [
  '+14155550101',
  '+14155550102',
  '+14157770103',
  '+16505550104',
  '+12125550105',
  '+442071230106',
];
const CALLEES: Array<NumberFacts | null> = [
  factsOf('+14155550999'),
  factsOf('+14158880000'),
  factsOf('+16505559999'),
  factsOf('+13125550000'),
  null,
];
const HEALTH = { window: 3, minAnswerRate: 0.5, restS: 600 };

interface Model {
  active: boolean;
  hl: number | null;
  dl: number | null;
  pools: string[];
  last: number;
  resv: number;
  rest: number;
  hb: string;
  hc: number;
  db: string;
  dc: number;
  hw: string;
}

type Op =
  | { op: 'pick'; pool: number; callee: number }
  | { op: 'advance'; ms: number }
  | { op: 'profile'; n: number; active: boolean; hl: number | null; dl: number | null; pools: number }
  | { op: 'outcome'; n: number; answered: boolean }
  | { op: 'sweep'; pool: number; limit: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('pick' as const),
      // Mostly A: the runs must reach picks in one pool of a number the other pool still cools.
      pool: fc.constantFrom(0, 0, 0, 1),
      callee: fc.nat(4),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('advance' as const),
      ms: fc.constantFrom(0, 1_000, 30_000, 59_999, 60_000, 61_000, 600_000, 3_600_000, 86_400_000),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('profile' as const),
      n: fc.nat(NUMBERS.length - 1),
      active: fc.boolean(),
      hl: fc.constantFrom(null, 0, 1, 2, 3),
      dl: fc.constantFrom(null, 0, 2, 5),
      pools: fc.integer({ min: 1, max: 3 }), // bit mask over POOLS
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      // The daemon's sweep (promoteCid-3.lua), a little at a time or all at once.
      op: fc.constant('sweep' as const),
      pool: fc.constantFrom(0, 1),
      limit: fc.constantFrom(1, 100),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('outcome' as const),
      n: fc.nat(NUMBERS.length - 1),
      answered: fc.boolean(),
    }),
  },
);

const T0 = Date.UTC(2026, 2, 2, 22, 50, 0); // ten minutes before an hour and a bit over a day's end

function heldUntil(m: Model, now: number): number {
  if (!m.active) return -1;
  const b = cidBuckets(now, 'UTC');
  let u = m.rest;
  if (m.hl === 0 || (m.hl !== null && m.hl > 0 && m.hb === b.hour && m.hc >= m.hl))
    u = Math.max(u, b.hourEnd);
  if (m.dl === 0 || (m.dl !== null && m.dl > 0 && m.db === b.day && m.dc >= m.dl)) u = Math.max(u, b.dayEnd);
  return u;
}
const usableAt = (m: Model, now: number) => {
  const h = heldUntil(m, now);
  return h < 0 ? h : Math.max(h, m.resv);
};

/** What the rules say a pick must answer. */
function expected(models: Map<string, Model>, pool: string, callee: NumberFacts | null, now: number) {
  const inPool = [...models].filter(([, m]) => m.active && m.pools.includes(pool));
  const usable = inPool.filter(([, m]) => usableAt(m, now) <= now);
  const tiers: Array<(n: string) => boolean> = [
    (n) => !!callee?.nxx && factsOf(n).nxx === callee.nxx,
    (n) => !!callee?.npa && factsOf(n).npa === callee.npa,
    (n) => !!callee?.state && factsOf(n).state === callee.state,
    () => true,
  ];
  for (let t = 0; t < tiers.length; t++) {
    const c = usable.filter(([n]) => tiers[t]!(n));
    if (!c.length) continue;
    c.sort(([a, ma], [b, mb]) => ma.last - mb.last || (a < b ? -1 : 1));
    return { kind: 'picked' as const, number: c[0]![0], tier: t };
  }
  const next = inPool.map(([, m]) => usableAt(m, now));
  return { kind: 'exhausted' as const, nextAt: next.length ? Math.min(...next) : null };
}

describe('the pick script against a reference model', () => {
  const redis = new Redis(process.env.REDIS_URL!);
  afterAll(() => redis.quit());

  it('a Redis that lost the pick function library (FUNCTION DELETE, a restart) gets it again at the next pick', async () => {
    const store = new CidStore(redis, new RedisKeys(redisPrefix()));
    const now = T0;
    const f = factsOf(NUMBERS[0]!);
    await store.setPoolConfig('A', { fallback: null, ...HEALTH });
    await store.place(
      NUMBERS[0]!,
      profileFields({
        active: true,
        npa: f.npa,
        nxx: f.nxx,
        state: f.state,
        hourlyLimit: null,
        dailyLimit: null,
        pools: ['A'],
      }),
      now,
      cidBuckets(now, 'UTC'),
    );
    await store.markReady('model');
    const pick = (t: number) =>
      store.pick({
        pool: 'A',
        callee: null,
        agent: 'x',
        now: t,
        ttlMs: TTL,
        buckets: cidBuckets(t, 'UTC'),
        ratePerMin: null,
        promoteBatch: 100,
      });
    expect((await pick(now)).kind).toBe('picked');
    const libs = ((await redis.call('FUNCTION', 'LIST')) as unknown[][]).filter((l) =>
      String(l[1]).startsWith('capconduit_cid_'),
    );
    expect(libs.length).toBeGreaterThan(0);
    for (const l of libs) await redis.call('FUNCTION', 'DELETE', String(l[1]));
    expect(await pick(now + TTL)).toMatchObject({ kind: 'picked', number: NUMBERS[0] });
  });

  it('answers what the rules say and keeps every number in the right sets, over random runs', async () => {
    await fc.assert(
      fc.asyncProperty(
        // Each number's hourly limit to begin with (none, or small enough to be reached in a run).
        fc.array(fc.constantFrom(null, 1, 2, 3), { minLength: NUMBERS.length, maxLength: NUMBERS.length }),
        fc.array(opArb, { minLength: 1, maxLength: 80, size: 'max' }),
        async (limits, ops) => {
          const store = new CidStore(redis, new RedisKeys(redisPrefix()));
          let now = T0;
          const b = () => cidBuckets(now, 'UTC');
          const models = new Map<string, Model>();
          for (const p of POOLS) await store.setPoolConfig(p, { fallback: null, ...HEALTH });
          const profile = async (n: string, m: Model) => {
            const f = factsOf(n);
            await store.place(
              n,
              profileFields({
                active: m.active,
                npa: f.npa,
                nxx: f.nxx,
                state: f.state,
                hourlyLimit: m.hl,
                dailyLimit: m.dl,
                pools: m.pools,
              }),
              now,
              b(),
            );
          };
          for (const [i, n] of NUMBERS.entries()) {
            const m: Model = {
              active: true,
              hl: limits[i] ?? null,
              dl: null,
              pools: i % 3 === 2 ? ['A', 'B'] : [POOLS[i % 2]!],
              last: 0,
              resv: 0,
              rest: 0,
              hb: '',
              hc: 0,
              db: '',
              dc: 0,
              hw: '',
            };
            models.set(n, m);
            await profile(n, m);
          }
          await store.markReady('model');
          let call = 0;
          for (const o of ops) {
            if (o.op === 'advance') now += o.ms;
            else if (o.op === 'profile') {
              const n = NUMBERS[o.n]!;
              const m = models.get(n)!;
              Object.assign(m, {
                active: o.active,
                hl: o.hl,
                dl: o.dl,
                pools: POOLS.filter((_, i) => o.pools & (1 << i)),
              });
              await profile(n, m);
            } else if (o.op === 'sweep') {
              const [r] = await store.promoteDue([POOLS[o.pool]!], now, b(), o.limit);
              // All at once: nothing due is left behind in the cooling set.
              if (o.limit >= NUMBERS.length) expect(r!.due).toBe(0);
            } else if (o.op === 'outcome') {
              const n = NUMBERS[o.n]!;
              const m = models.get(n)!;
              const r = await store.recordOutcome(n, `c${++call}`, o.answered, now, b(), HEALTH);
              m.hw = (m.hw + (o.answered ? '1' : '0')).slice(-HEALTH.window);
              const rate = [...m.hw].filter((c) => c === '1').length / m.hw.length;
              if (m.hw.length >= HEALTH.window && rate < HEALTH.minAnswerRate) {
                m.rest = now + HEALTH.restS * 1000;
                m.hw = '';
                expect(r.restedUntil).toBe(m.rest);
              } else expect(r.restedUntil).toBeNull();
            } else {
              const pool = POOLS[o.pool]!;
              const callee = CALLEES[o.callee]!;
              const want = expected(models, pool, callee, now);
              const got: PickResult = await store.pick({
                pool,
                callee,
                agent: 'model',
                now,
                ttlMs: TTL,
                buckets: b(),
                ratePerMin: null,
                promoteBatch: 100,
              });
              if (want.kind === 'picked') {
                expect(got).toEqual({
                  kind: 'picked',
                  number: want.number,
                  expiresAt: now + TTL,
                  tier: ['npa_nxx', 'npa', 'state', 'any'][want.tier],
                });
                const m = models.get(want.number)!;
                const bk = b();
                m.hc = m.hb === bk.hour ? m.hc + 1 : 1;
                m.dc = m.db === bk.day ? m.dc + 1 : 1;
                Object.assign(m, { hb: bk.hour, db: bk.day, last: now, resv: now + TTL });
              } else expect(got).toEqual(want);
            }
            // Where each number sits: in a pool it serves while active, either its tier sets (all of
            // them) or the cooling set; in no set of a pool it does not serve.
            const pipe = redis.pipeline();
            for (const n of NUMBERS) {
              const f = factsOf(n);
              for (const p of POOLS) {
                pipe.zscore(store.keys.pool(p, 'all'), n);
                pipe.zscore(store.keys.pool(p, 'cool'), n);
                pipe.zscore(store.keys.pool(p, 'nxx', f.nxx ?? ''), n);
                pipe.zscore(store.keys.pool(p, 'npa', f.npa ?? ''), n);
                pipe.zscore(store.keys.pool(p, 'st', f.state ?? ''), n);
              }
            }
            const res = ((await pipe.exec()) ?? []).map(([, v]) => v !== null);
            let i = 0;
            for (const n of NUMBERS) {
              const m = models.get(n)!;
              const f = factsOf(n);
              for (const p of POOLS) {
                const [all, cool, nxx, npa, st] = res.slice(i, i + 5);
                i += 5;
                const where = `${n} in ${p} after ${JSON.stringify(o)} at ${now - T0}`;
                if (!m.active || !m.pools.includes(p)) {
                  expect([all, cool, nxx, npa, st], where).toEqual([false, false, false, false, false]);
                  continue;
                }
                expect(all !== cool, where).toBe(true);
                expect([nxx, npa, st], where).toEqual([all && !!f.nxx, all && !!f.npa, all && !!f.state]);
              }
            }
          }
        },
      ),
      {
        // Sized by count: ~0.3 s a run on an idle machine (every set of every number is read back
        // after each operation), so 60 runs take ~20 s idle and fit the budget below several times
        // over on a loaded one.
        numRuns: 60,
        examples: [
          // A number of both pools reaches its hourly limit through A (cooling in both), comes back
          // in A at the next hour and is picked there again: B must have it back in its tier sets
          // only, not in both them and its cooling set.
          [
            NUMBERS.map(() => null),
            [
              { op: 'profile', n: 2, active: true, hl: 2, dl: null, pools: 3 },
              ...Array.from({ length: 4 }, () => ({ op: 'pick' as const, pool: 0, callee: 4 })),
              { op: 'advance', ms: 61_000 },
              ...Array.from({ length: 4 }, () => ({ op: 'pick' as const, pool: 0, callee: 4 })),
              { op: 'advance', ms: 3_600_000 },
              ...Array.from({ length: 3 }, () => ({ op: 'pick' as const, pool: 0, callee: 4 })),
            ],
          ],
        ],
      },
    );
  }, 300_000);
});
