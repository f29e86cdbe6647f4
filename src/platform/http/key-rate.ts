// Per-API-key request limits, shared by every instance through Redis, without a Redis round trip
// per request: the /next-cid hot path answers thousands of requests a second and must not wait on
// one more call. Each instance counts a key's requests in fixed windows locally and, every
// `syncMs`, adds its count to the key's window counter in Redis (INCRBY) and reads back the total of
// every instance. A request is refused when the total last seen plus this instance's unsynced
// count reaches the limit. So one instance limits exactly; N instances may let through at most what
// the others took in one sync period beyond the limit. Only requests let through are counted, and
// only the key's own counter decides: a key at its limit never refuses another key. Redis
// unreachable: each instance goes on limiting what it sees itself (logged once per outage).
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.ts';

interface Window {
  /** Window number (time / windowMs). */
  w: number;
  /** Requests let through here and not yet added to Redis. */
  local: number;
  /** The key's total in this window as Redis last answered (every instance's synced requests). */
  seen: number;
}

export type RateDecision = { ok: true } | { ok: false; retryAfterS: number };

export class KeyRateLimiter {
  private windows = new Map<string, Window>();
  private timer: NodeJS.Timeout | null = null;
  private syncing: Promise<void> | null = null;
  private redisDown = false;

  constructor(
    private redis: Redis,
    /** Redis key of a key id's counter in a window. */
    private counterKey: (keyId: string, window: number) => string,
    private log: Logger,
    private o: { windowMs?: number; syncMs?: number; maxTracked?: number; now?: () => number } = {},
  ) {}

  private get windowMs() {
    return this.o.windowMs ?? 60_000;
  }
  private now() {
    return this.o.now?.() ?? Date.now();
  }

  /** Counts one request of `keyId` against `limit` per window (0: no limit), or refuses it. */
  take(keyId: string, limit: number): RateDecision {
    if (limit <= 0) return { ok: true };
    const now = this.now();
    const w = Math.floor(now / this.windowMs);
    let e = this.windows.get(keyId);
    if (!e || e.w !== w) {
      if (!e && this.windows.size >= (this.o.maxTracked ?? 100_000)) this.windows.clear();
      e = { w, local: 0, seen: 0 };
      this.windows.set(keyId, e);
    }
    if (e.seen + e.local >= limit)
      return { ok: false, retryAfterS: Math.max(1, Math.ceil(((w + 1) * this.windowMs - now) / 1000)) };
    e.local++;
    this.schedule();
    return { ok: true };
  }

  private schedule() {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.sync();
    }, this.o.syncMs ?? 100);
    this.timer.unref();
  }

  /** Adds this instance's counts to Redis and reads every key's total back (one pipeline). */
  sync(): Promise<void> {
    this.syncing ??= this.syncNow().finally(() => {
      this.syncing = null;
    });
    return this.syncing;
  }

  private async syncNow(): Promise<void> {
    const w = Math.floor(this.now() / this.windowMs);
    const due = [...this.windows.entries()].filter(([, e]) => e.w === w);
    for (const [id, e] of this.windows) if (e.w !== w) this.windows.delete(id);
    if (!due.length) return;
    const pipe = this.redis.pipeline();
    const sent = due.map(([id, e]) => {
      const n = e.local;
      const key = this.counterKey(id, w);
      pipe.incrby(key, n);
      pipe.pexpire(key, this.windowMs * 2);
      return { e, n };
    });
    try {
      const res = (await pipe.exec()) ?? [];
      sent.forEach(({ e, n }, i) => {
        const [err, total] = res[i * 2] ?? [new Error('no reply'), null];
        if (err) throw err;
        e.local -= n;
        e.seen = Number(total);
      });
      if (this.redisDown) this.log.info('API key rate limits shared through Redis again');
      this.redisDown = false;
    } catch (err) {
      // The counts stay local and go with the next sync.
      if (!this.redisDown)
        this.log.warn({ err: (err as Error).message }, 'API key rate limits not shared: Redis unreachable');
      this.redisDown = true;
      this.schedule();
    }
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
