import { Redis, type RedisOptions } from 'ioredis';
import { Counter, type Registry } from 'prom-client';
import { backoffDelay, REDIS_BACKOFF } from '../backoff.ts';
import { type StopLog, stopPart } from '../stop.ts';

// One factory so every connection gets the same retry policy and never throws on a Redis outage:
// commands fail fast while Redis is down (offline queue off) and the client keeps reconnecting.
//
// Fail fast alone is not bounded: with the offline queue off, ioredis refuses a command only while
// it knows the connection is down. A command already written when Redis stops answering without
// closing the socket (paused, swapping, a network partition, a failover) waits for as long as that
// lasts, and is then sent again after the reconnect, behind the back of a caller that may have given
// up. So every fail-fast connection also gets a command timeout (REDIS_COMMAND_TIMEOUT_MS): a
// command answers within it or fails, and a command that failed is never sent again by the client
// (no resend of unanswered commands after a reconnect). What a caller must assume of a failure is
// therefore the same in every case: the command may or may not have run (routing's slot scripts
// answer and release a slot once whatever the retries, and the reconcile frees a slot taken for a
// call that never learnt of it).

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

/**
 * How long a command may take before it fails. A healthy Redis answers in well under a millisecond
 * and the longest script the daemon runs holds it ~4 ms: this only bounds an outage (a caller waits
 * at most this long), with room for an event-loop stall of the process itself.
 */
export const REDIS_COMMAND_TIMEOUT_MS = 3_000;

/** What a fail-fast connection adds to ioredis' options (see the top of this file). */
export const FAIL_WITHIN_BOUND: RedisOptions = {
  commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
  autoResendUnfulfilledCommands: false,
};

/** What a queueing connection made from a fail-fast one (`redis.duplicate(...)`) must undo. */
export const QUEUEING: RedisOptions = {
  enableOfflineQueue: true,
  commandTimeout: undefined,
  autoResendUnfulfilledCommands: true,
};

/** What the connection reports about its outages (a pino logger fits). */
export interface RedisOutageLog {
  warn(o: object, msg: string): void;
  info(o: object, msg: string): void;
}

/**
 * A connection. The default fails fast and within REDIS_COMMAND_TIMEOUT_MS (above). A connection
 * asked to queue while Redis is away (`enableOfflineQueue: true`: BullMQ's, whose blocking commands
 * wait by design, and a pub/sub subscriber) keeps ioredis' own behaviour: no bound, commands resent
 * after a reconnect.
 */
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
    ...(opts.enableOfflineQueue ? {} : FAIL_WITHIN_BOUND),
    ...opts,
  };
  const unix = unixSocketOptions(url);
  const r = unix ? new Redis({ ...base, ...unix }) : new Redis(url, base);
  reportOutages(r, log, name);
  return r;
}

/**
 * The one 'error' listener a connection needs: ioredis emits 'error' on every failed reconnect, and
 * an unhandled 'error' would kill the process. Logged once per outage (the first error after being
 * up), and once more when it is back.
 */
function reportOutages(r: Redis, log: RedisOutageLog | undefined, name: string): void {
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
}

const ERRORS_METRIC = 'capconduit_redis_errors_total';

/**
 * `capconduit_redis_errors_total{connection}`: every error a connection reports (each failed
 * reconnect while Redis is away) and every error of what BullMQ runs on it. One per registry,
 * shared by the modules that count into it.
 */
export function redisErrorCounter(metrics: Registry): Counter<'connection'> {
  return (
    (metrics.getSingleMetric(ERRORS_METRIC) as Counter<'connection'> | undefined) ??
    new Counter({
      name: ERRORS_METRIC,
      help: 'Errors of Redis connections (each failed reconnect) and of the BullMQ queues and workers on them',
      labelNames: ['connection'],
      registers: [metrics],
    })
  );
}

/** Counts a connection's errors (its outages are logged by createRedis' own listener). */
export function countRedisErrors(r: Redis, metrics: Registry, name: string): void {
  const counter = redisErrorCounter(metrics);
  r.on('error', () => counter.inc({ connection: name }));
}

/**
 * A pub/sub subscriber beside `r` (ioredis' duplicate of it, which carries none of its listeners):
 * a connection of its own, as a subscribed one can do nothing else, that queues while Redis is away
 * and subscribes again by itself after a reconnect. Like every connection, its outages are logged
 * once each way and its errors counted in `capconduit_redis_errors_total{connection: name}`.
 */
export function subscriberOf(
  r: Redis,
  o: { name: string; log?: RedisOutageLog | undefined; metrics?: Registry | undefined },
): Redis {
  const sub = r.duplicate({ ...QUEUEING, lazyConnect: false });
  reportOutages(sub, o.log, o.name);
  if (o.metrics) countRedisErrors(sub, o.metrics, o.name);
  return sub;
}

/** What a connection error looks like: the socket refused, reset, gone or not answering. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOENT', // a Unix socket that is not there (Redis stopped)
]);

/** Whether `e` is the connection failing (Redis away) rather than a command or a job going wrong. */
export function isRedisConnectionError(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const code = (e as NodeJS.ErrnoException).code;
  return (code !== undefined && CONNECTION_CODES.has(code)) || isRedisUnavailable(e);
}

/**
 * The 'error' listeners of what BullMQ builds on one connection (queues, flow producers, workers).
 * Each needs one: without it BullMQ prints every error of the connection raw on stderr
 * (console.error, with its stack). Every error is counted; the connection failing (Redis away) is
 * logged once per outage by the connection's own listener (createRedis), so here only at debug;
 * anything else is a real error of that queue or worker and is logged each time.
 */
export class BullErrors {
  private counter: Counter<'connection'>;
  constructor(
    private log: { warn(o: object, msg: string): void; debug(o: object, msg: string): void },
    metrics: Registry,
    readonly connection: string,
  ) {
    this.counter = redisErrorCounter(metrics);
  }

  /** The listener for the queue, flow producer or worker named `what`. */
  listener(what: string): (err: Error) => void {
    return (err) => {
      this.counter.inc({ connection: this.connection });
      if (isRedisConnectionError(err))
        this.log.debug({ what, err: err.message }, 'BullMQ: Redis unreachable');
      else this.log.warn({ what, err }, 'BullMQ error');
    };
  }
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

/** What ioredis rejects a command with when Redis is not there (see the top of this file). */
const UNAVAILABLE_MESSAGES = [
  "Stream isn't writeable", // the connection is down and the command was not queued
  'Command timed out', // REDIS_COMMAND_TIMEOUT_MS: Redis stopped answering (paused, partitioned)
  'Connection is closed', // the connection went away with the command on it
];

/**
 * Whether `e` says Redis is not answering (down, restarting, loading its data, out of reach) rather
 * than refusing what was asked: a moment later the same request may work.
 */
export function isRedisUnavailable(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  if (e.name === 'MaxRetriesPerRequestError') return true;
  // A server that is starting answers LOADING until its data is read back.
  if (/^(LOADING|MASTERDOWN|TRYAGAIN)\b/.test(e.message)) return true;
  return UNAVAILABLE_MESSAGES.some((m) => e.message.startsWith(m));
}

/**
 * Quits the connection when it is up (its replies awaited), else disconnects it: a quit on a
 * connection that queues while Redis is away would wait in its offline queue for Redis to return,
 * and one that fails fast would fail.
 */
export async function quitOrDisconnect(r: Redis, log: StopLog, part: string, ms: number): Promise<void> {
  if (r.status === 'ready' && (await stopPart(log, part, () => r.quit(), ms)) === 'done') return;
  r.disconnect();
}
