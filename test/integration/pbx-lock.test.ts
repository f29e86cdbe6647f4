// The apply lock on a real Redis: one holder at a time, only the holder extends or releases it
// (compare-and-delete / compare-and-pexpire scripts), and an expired lock can be taken again.
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisLock } from '../../src/pbx/lock.ts';
import { redisPrefix } from '../helpers/env.ts';
import { waitFor } from '../helpers/wait.ts';

describe('RedisLock', () => {
  const redis = new Redis(process.env.REDIS_URL!);
  const key = `${redisPrefix()}:pbx:apply-lock`;
  afterAll(() => redis.quit());

  it('one holder at a time; only the holder extends and releases', async () => {
    const lock = new RedisLock(redis, key, 60_000);
    const a = await lock.acquire();
    expect(a).not.toBeNull();
    expect(await lock.acquire()).toBeNull();
    expect(await redis.get(key)).toBe(a!.token);
    await redis.pexpire(key, 5_000);
    expect(await a!.extend()).toBe(true);
    expect(await redis.pttl(key)).toBeGreaterThan(5_000);
    const other = new RedisLock(redis, key, 60_000);
    // The lock expired and another instance took it: the old holder can neither extend nor free it.
    await redis.set(key, 'someone-else', 'PX', 60_000);
    expect(await a!.extend()).toBe(false);
    expect(await a!.release()).toBe(false);
    expect(await redis.get(key)).toBe('someone-else');
    await redis.del(key);
    const b = await other.acquire();
    expect(b).not.toBeNull();
    expect(await b!.release()).toBe(true);
    expect(await redis.exists(key)).toBe(0);
    expect(await b!.release()).toBe(false);
  });

  it('an expired lock can be taken again', async () => {
    const lock = new RedisLock(redis, `${key}:2`, 1_000);
    const a = await lock.acquire();
    await redis.pexpire(`${key}:2`, 1); // as if its holder died
    await waitFor(async () => (await redis.exists(`${key}:2`)) === 0);
    const b = await lock.acquire();
    expect(b).not.toBeNull();
    expect(await a!.release()).toBe(false);
    expect(await b!.release()).toBe(true);
  });
});
