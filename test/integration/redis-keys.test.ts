// The caller-ID scripts name the keys of data they read (a number found in a set, the sets of the
// other pools it serves) from the prefixes they receive in KEYS; this checks, on a real Redis, that
// the Lua spelling (cid-common.lua) and the key builder (CidKeys) give the same names.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisKeys } from '../../src/platform/redis/keys.ts';
import { redisPrefix } from '../helpers/env.ts';

const common = readFileSync(join(import.meta.dirname, '../../src/callerid/lua/cid-common.lua'), 'utf8');
const probe = `${common}
local K = cid_keys(KEYS[1], KEYS[2])
local h = { nxx = ARGV[3], npa = ARGV[4], st = ARGV[5] }
local out = { number_key(K, ARGV[1]), pool_key(K, ARGV[2], 'cfg'), pool_keys(K, ARGV[2]).cool }
for _, k in ipairs(tier_keys(K, ARGV[2], h)) do out[#out + 1] = k end
return out`;

describe('caller-ID key names: Lua and TypeScript agree', () => {
  const redis = new Redis(process.env.REDIS_URL!);
  afterAll(() => redis.quit());

  it('for any number, pool and tier values', async () => {
    const k = new RedisKeys(redisPrefix()).cid;
    await fc.assert(
      fc.asyncProperty(
        fc.stringMatching(/^\+[1-9]\d{6,14}$/),
        fc.stringMatching(/^[A-Za-z0-9_.-]{1,64}$/),
        fc.stringMatching(/^\d{6}$/),
        fc.stringMatching(/^\d{3}$/),
        fc.stringMatching(/^[A-Z]{2}$/),
        async (number, pool, nxx, npa, st) => {
          const got = await redis.eval(probe, 2, k.numberPrefix, k.poolPrefix, number, pool, nxx, npa, st);
          expect(got).toEqual([
            k.number(number),
            k.pool(pool, 'cfg'),
            k.pool(pool, 'cool'),
            k.pool(pool, 'all'),
            k.pool(pool, 'nxx', nxx),
            k.pool(pool, 'npa', npa),
            k.pool(pool, 'st', st),
          ]);
        },
      ),
      { numRuns: 50 },
    );
  });
});
