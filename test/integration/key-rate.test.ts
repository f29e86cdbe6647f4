// Per-API-key limits shared through Redis: two limiters stand for two instances (same Redis, same
// counters), with an injected clock and syncs made by the test, so nothing depends on timing.
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { KeyRateLimiter } from '../../src/platform/http/key-rate.ts';
import { RedisKeys } from '../../src/platform/redis/keys.ts';
import { redisPrefix } from '../helpers/env.ts';
import { capturingLogger } from '../helpers/log.ts';

describe('per-key request limits', () => {
  const redis = new Redis(process.env.REDIS_URL!);
  const keys = new RedisKeys(redisPrefix());
  const { log } = capturingLogger();
  let now = Date.UTC(2026, 0, 1, 10, 0, 0);
  const limiter = (r: Redis = redis) =>
    new KeyRateLimiter(r, (id, w) => keys.apiKeyRate(id, w), log, { syncMs: 3_600_000, now: () => now });
  afterAll(() => redis.quit());

  const takeN = (l: KeyRateLimiter, id: string, limit: number, n: number) =>
    Array.from({ length: n }, () => l.take(id, limit).ok).filter(Boolean).length;

  it('one instance lets exactly the limit through, then refuses until the window ends', async () => {
    const a = limiter();
    expect(takeN(a, 'k1', 5, 8)).toBe(5);
    const r = a.take('k1', 5);
    expect(r).toEqual({ ok: false, retryAfterS: 60 });
    now += 45_000;
    expect(a.take('k1', 5)).toEqual({ ok: false, retryAfterS: 15 });
    // Another key is never refused for this one's use.
    expect(takeN(a, 'k2', 5, 5)).toBe(5);
    // No limit: never refused.
    expect(takeN(a, 'k3', 0, 10_000)).toBe(10_000);
    now += 15_000; // next window
    expect(takeN(a, 'k1', 5, 8)).toBe(5);
    a.stop();
  });

  it('instances share each key’s count through Redis', async () => {
    now = Date.UTC(2026, 0, 1, 11, 0, 0);
    const a = limiter();
    const b = limiter();
    expect(takeN(a, 'shared', 10, 6)).toBe(6);
    await a.sync();
    // b learns the total at its first sync, and from then on counts the others' requests too.
    expect(takeN(b, 'shared', 10, 1)).toBe(1);
    await b.sync();
    expect(takeN(b, 'shared', 10, 10)).toBe(3);
    await b.sync();
    await a.sync();
    expect(a.take('shared', 10).ok).toBe(false);
    expect(Number(await redis.get(keys.apiKeyRate('shared', Math.floor(now / 60_000))))).toBe(10);
    // The counter expires after its window is over.
    expect(await redis.pttl(keys.apiKeyRate('shared', Math.floor(now / 60_000)))).toBeGreaterThan(60_000);
    a.stop();
    b.stop();
  });

  it('with Redis unreachable each instance still limits what it sees, and shares again later', async () => {
    now = Date.UTC(2026, 0, 1, 12, 0, 0);
    const down = new Redis({
      port: 1,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
    });
    const a = limiter(down);
    expect(takeN(a, 'k-down', 3, 5)).toBe(3);
    await a.sync(); // refused by the client: counts stay local
    expect(a.take('k-down', 3).ok).toBe(false);
    a.stop();
    down.disconnect();
  });
});
