// The one Redis lock on a real Redis: one holder at a time, only the holder extends or releases it
// (compare-and-delete / compare-and-pexpire scripts), an expired lock can be taken again, the holder
// keeps it alive while it works, and a lost lock stops the work: taken over by another holder, or
// Redis gone for longer than the TTL.
import { once } from 'node:events';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedis } from '../../src/platform/redis/client.ts';
import { LockLostError, RedisLock } from '../../src/platform/redis/lock.ts';
import { redisPrefix } from '../helpers/env.ts';
import { PrivateRedis } from '../helpers/redis-server.ts';
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
    expect(a!.signal.aborted).toBe(true);
    expect(await a!.release()).toBe(false);
    expect(await redis.get(key)).toBe('someone-else');
    await redis.del(key);
    const b = await other.acquire();
    expect(b).not.toBeNull();
    expect(await b!.release()).toBe(true);
    expect(b!.signal.aborted).toBe(false); // released is not lost
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

  it('the holder keeps the lock alive while it works, past its TTL', async () => {
    const k = `${key}:alive`;
    const lock = new RedisLock(redis, k, { ttlMs: 60_000, extendEveryMs: 10 });
    const r = await lock.run(async (signal) => {
      // Its TTL cut short from outside: only the keep-alive brings it back up.
      await redis.pexpire(k, 30_000);
      await waitFor(async () => (await redis.pttl(k)) > 30_000);
      expect(signal.aborted).toBe(false);
      return 'done';
    });
    expect(r).toEqual({ value: 'done' });
    expect(await redis.exists(k)).toBe(0); // released at the end
  });

  it('a lock taken over by another holder is lost: the signal aborts, onLost is told, the work stops', async () => {
    const k = `${key}:lost`;
    const lost: LockLostError[] = [];
    const lock = new RedisLock(redis, k, { ttlMs: 60_000, extendEveryMs: 10, onLost: (e) => lost.push(e) });
    let steps = 0;
    const run = lock.run(async (signal) => {
      // Work in steps, each checking the signal; the lock goes to another holder after the first.
      for (;;) {
        signal.throwIfAborted();
        steps++;
        if (steps === 1) await redis.set(k, 'another-instance', 'PX', 60_000);
        if (!signal.aborted) await once(signal, 'abort');
      }
    });
    await expect(run).rejects.toBeInstanceOf(LockLostError);
    expect(steps).toBe(1);
    expect(lost).toHaveLength(1);
    expect(lost[0]!.key).toBe(k);
    expect(await redis.get(k)).toBe('another-instance'); // not freed by the loser
    await redis.del(k);
  });

  it('a lock whose Redis is gone for longer than its TTL is lost', async () => {
    const server = await PrivateRedis.create();
    const r = createRedis(server.url);
    try {
      await waitFor(() => r.status === 'ready');
      const lock = new RedisLock(r, 'lk', { ttlMs: 300, extendEveryMs: 20 });
      const held = await lock.acquire();
      expect(held).not.toBeNull();
      await server.stop();
      // No extension can be confirmed: once the last confirmed expiry passes, the holder gives up.
      await once(held!.signal, 'abort');
      expect(held!.signal.reason).toBeInstanceOf(LockLostError);
    } finally {
      r.disconnect();
      await server.stop();
    }
  });
});
