// The caller-ID pick alone, against Redis: no HTTP, no daemon. Prints, per round, picks/s, Redis CPU
// a pick, the pick function's own time as Redis measures it (`INFO commandstats`, fcall), and the
// commands it ran inside, with their share: what is left of the function's time is Lua itself and
// the crossing between Lua and Redis (arguments in, replies out).
//   npx tsx bench/next-cid/pick.ts [--picks 20000] [--concurrency 20] [--rounds 3] [--pool 20000]
// Needs REDIS_URL (eval "$(bash scripts/services.sh env)"); works under a key prefix of its own and
// deletes it after. Differences of INFO counters, so other clients of the same Redis only add noise.
import { parseArgs } from 'node:util';
import { BucketClock, calleeFacts } from '../../src/callerid/decide.ts';
import { CidStore } from '../../src/callerid/store.ts';
import { createRedis } from '../../src/platform/redis/client.ts';
import { RedisKeys } from '../../src/platform/redis/keys.ts';

const { values } = parseArgs({
  options: {
    picks: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '3' },
    pool: { type: 'string', default: '20000' },
  },
});
const picks = Number(values.picks);
const concurrency = Math.max(1, Number(values.concurrency));
const poolSize = Number(values.pool);
if (!process.env.REDIS_URL) throw new Error('set REDIS_URL (eval "$(bash scripts/services.sh env)")');

const tag = `bp${Date.now().toString(36)}`;
const redis = createRedis(process.env.REDIS_URL, { enableOfflineQueue: true });
const store = new CidStore(redis, new RedisKeys(tag));
const clock = new BucketClock('UTC');

// The next-cid bench's pool: NPA 212, NXX 200.., state NY; limits high enough never to bind.
const numbers = Array.from({ length: poolSize }, (_, i) => {
  const nxx = 200 + Math.floor(i / 10_000);
  return {
    number: `+1212${nxx}${String(i % 10_000).padStart(4, '0')}`,
    profile: {
      active: true,
      npa: '212',
      nxx: `212${nxx}`,
      state: 'NY',
      hourlyLimit: 1_000_000,
      dailyLimit: 10_000_000,
      pools: ['BENCH'],
    },
  };
});
// The pool is placed as an import places fresh numbers; its time is printed (placeFresh's cost).
const placeT0 = performance.now();
for (let i = 0; i < numbers.length; i += 5000) await store.placeFresh(numbers.slice(i, i + 5000));
console.log(`placed ${poolSize} fresh numbers (placeFresh) in ${Math.round(performance.now() - placeT0)} ms`);
await store.markReady(`${tag}-bench`);

type Stat = { calls: number; usec: number };
async function snapshot() {
  const info = await redis.info('all');
  const cmds = new Map<string, Stat>();
  for (const m of info.matchAll(/^cmdstat_([\w|]+):calls=(\d+),usec=(\d+)/gm))
    cmds.set(m[1]!, { calls: Number(m[2]), usec: Number(m[3]) });
  const f = (k: string) => Number(new RegExp(`${k}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return { cmds, cpuUs: (f('used_cpu_user') + f('used_cpu_sys')) * 1e6 };
}

try {
  for (let round = 1; round <= Number(values.rounds); round++) {
    // The previous round's reservations (1 s) run out first: a round must not find the pool taken.
    if (round > 1) await new Promise((r) => setTimeout(r, 1500));
    const s0 = await snapshot();
    const t0 = performance.now();
    let next = 0;
    // Callees as the HTTP bench's: half in the pool's NPA-NXX, half in another area code.
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < picks) {
          const k = next++;
          const now = Date.now();
          const to =
            k % 2
              ? `21220155${String(k % 100).padStart(2, '0')}`
              : `3125550${String(k % 1000).padStart(3, '0')}`;
          const r = await store.pick({
            pool: 'BENCH',
            callee: calleeFacts(to),
            agent: `a${k % 200}`,
            now,
            ttlMs: 1000,
            buckets: clock.at(now),
            ratePerMin: 100_000_000,
            promoteBatch: 32,
          });
          if (r.kind !== 'picked') throw new Error(`pick ${k}: ${r.kind}`);
        }
      }),
    );
    const ms = performance.now() - t0;
    const s1 = await snapshot();
    const delta = (name: string): Stat => {
      const a = s0.cmds.get(name) ?? { calls: 0, usec: 0 };
      const b = s1.cmds.get(name) ?? { calls: 0, usec: 0 };
      return { calls: b.calls - a.calls, usec: b.usec - a.usec };
    };
    const fcall = delta('fcall');
    // Commands run inside the function (Redis counts them too); INFO itself and the like are left out.
    const inner = [...s1.cmds.keys()]
      .filter((n) => !['fcall', 'info', 'ping', 'client|setinfo', 'select'].includes(n))
      .map((n) => [n, delta(n)] as const)
      .filter(([, d]) => d.calls > 0);
    const innerUs = inner.reduce((a, [, d]) => a + d.usec, 0) / picks;
    const fcallUs = fcall.usec / picks;
    console.log(
      [
        `round ${round}: ${picks} picks, ${concurrency} in flight, pool of ${poolSize}: ${Math.round((picks / ms) * 1000)} picks/s`,
        `  redis-server CPU ${((s1.cpuUs - s0.cpuUs) / picks).toFixed(1)} us a pick; the pick function ${fcallUs.toFixed(1)} us, of which commands ${innerUs.toFixed(1)} us and Lua with its crossings ${(fcallUs - innerUs).toFixed(1)} us`,
        `  commands a pick: ${inner
          .sort((a, b) => b[1].usec - a[1].usec)
          .map(([n, d]) => `${n} ${(d.calls / picks).toFixed(2)} x ${(d.usec / d.calls).toFixed(2)} us`)
          .join(', ')}`,
      ].join('\n'),
    );
  }
} finally {
  let cursor = '0';
  do {
    const [n, keys] = await redis.scan(cursor, 'MATCH', `${tag}:*`, 'COUNT', 5000);
    cursor = n;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
  redis.disconnect();
}
