import { Redis, type RedisOptions } from 'ioredis';
import { backoffDelay, REDIS_BACKOFF } from '../backoff.ts';

// One factory so every connection gets the same retry policy and never throws on a Redis outage:
// commands fail fast while Redis is down (offline queue off) and the client keeps reconnecting.
/** ioredis `retryStrategy`: the platform's one backoff; ioredis counts attempts from 1. */
export function retryDelay(attempt: number): number {
  return backoffDelay(attempt - 1, REDIS_BACKOFF);
}

/** A `unix:///path.sock?db=N&password=...` URL as ioredis options; null for a TCP URL. */
export function unixSocketOptions(url: string): RedisOptions | null {
  if (!url.startsWith('unix://')) return null;
  const u = new URL(url);
  const db = u.searchParams.get('db');
  const password = u.searchParams.get('password');
  return {
    path: decodeURIComponent(u.pathname),
    ...(db !== null ? { db: Number(db) } : {}),
    ...(password !== null ? { password } : {}),
  };
}

/** What the connection reports about its outages (a pino logger fits). */
export interface RedisOutageLog {
  warn(o: object, msg: string): void;
  info(o: object, msg: string): void;
}

export function createRedis(
  url: string,
  opts: RedisOptions = {},
  log?: RedisOutageLog,
  name = 'redis',
): Redis {
  const base: RedisOptions = {
    lazyConnect: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: retryDelay,
    ...opts,
  };
  const unix = unixSocketOptions(url);
  const r = unix ? new Redis({ ...base, ...unix }) : new Redis(url, base);
  // ioredis emits 'error' on every failed reconnect; an unhandled 'error' would kill the process.
  // Logged once per outage (the first error after being up), and once more when it is back.
  let down = false;
  r.on('error', (err: Error) => {
    if (down) return;
    down = true;
    log?.warn({ connection: name, err: err.message }, 'Redis unreachable; reconnecting');
  });
  r.on('ready', () => {
    if (!down) return;
    down = false;
    log?.info({ connection: name }, 'Redis reachable again');
  });
  return r;
}

/**
 * Resolves when the connection is ready; after `ms` without it, disconnects (no more retries) and
 * rejects with a message that names `what`, never the URL (it may hold a password).
 */
export function waitReady(redis: Redis, ms: number, what: string): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => {
      redis.disconnect();
      reject(new Error(`${what} not ready in ${Math.round(ms / 1000)} s`));
    }, ms);
    redis.once('ready', () => {
      clearTimeout(t);
      resolve();
    });
  });
}
