import { Redis, type RedisOptions } from 'ioredis';

// One factory so every connection gets the same retry policy and never throws on a Redis outage:
// commands fail fast while Redis is down (offline queue off) and the client keeps reconnecting.
export function retryDelay(attempt: number): number {
  return Math.min(2000, 50 * 2 ** Math.min(attempt, 6)) + Math.floor(Math.random() * 50);
}

export function createRedis(url: string, opts: RedisOptions = {}): Redis {
  const r = new Redis(url, {
    lazyConnect: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: retryDelay,
    ...opts,
  });
  // ioredis emits 'error' on every failed reconnect; an unhandled 'error' would kill the process.
  r.on('error', () => {});
  return r;
}
