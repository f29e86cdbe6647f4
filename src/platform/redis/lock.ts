// The one Redis lock of the daemon, shared by every instance: SET NX PX with a random token, kept
// alive by its holder (compare-and-pexpire, extendLock-1.lua) and released by compare-and-delete
// (releaseLock-1.lua), so an instance never extends or frees a lock that expired and went to
// another. While held, the lock is extended every `extendEveryMs`; when an extension finds the lock
// gone, or Redis has not confirmed it for a whole TTL (it may have expired meanwhile), the lock is
// *lost*: its `signal` aborts with a LockLostError and `onLost` is called. Work done under a lock
// checks the signal before each step that must not run twice at once, and stops.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { decodeDone, LockLostError } from './codes.ts';
import { corked, registerScripts } from './scripts.ts';

export { LockLostError } from './codes.ts';

export interface LockOptions {
  ttlMs: number;
  /** How often the holder extends the lock (default a third of the TTL). */
  extendEveryMs?: number;
  /** Called once when a held lock is lost (besides the signal aborting). */
  onLost?: (err: LockLostError) => void;
}

export interface HeldLock {
  token: string;
  /** Aborts (reason: LockLostError) when the lock is lost; never when it is released. */
  signal: AbortSignal;
  /** Pushes the expiry out by the TTL again; false when the lock is no longer ours (it is then lost). */
  extend(): Promise<boolean>;
  /** Stops extending and frees the lock if it is still ours; true when it was. */
  release(): Promise<boolean>;
}

/** The keep-alive's decision after an extension attempt (pure): still held, or lost. */
export function lockState(o: {
  extended: boolean | null;
  confirmedUntil: number;
  now: number;
}): 'held' | 'lost' {
  if (o.extended === false) return 'lost'; // Redis says the lock is not ours any more
  // No answer (Redis away): held only while the last confirmed expiry has not passed.
  if (o.extended === null && o.now >= o.confirmedUntil) return 'lost';
  return 'held';
}

export class RedisLock {
  private o: LockOptions;
  constructor(
    private redis: Redis,
    readonly key: string,
    o: number | LockOptions,
  ) {
    this.o = typeof o === 'number' ? { ttlMs: o } : o;
    registerScripts(redis);
  }

  /** The lock, or null when another holder has it. */
  async acquire(): Promise<HeldLock | null> {
    const { ttlMs } = this.o;
    const token = randomUUID();
    const asked = Date.now();
    if ((await this.redis.set(this.key, token, 'PX', ttlMs, 'NX')) !== 'OK') return null;
    let confirmedUntil = asked + ttlMs;
    const ac = new AbortController();
    let timer: NodeJS.Timeout | null = null;
    const stop = () => {
      if (timer) clearInterval(timer);
      timer = null;
    };
    const lost = () => {
      stop();
      if (ac.signal.aborted) return;
      const err = new LockLostError(this.key);
      ac.abort(err);
      this.o.onLost?.(err);
    };
    const extend = async (): Promise<boolean> => {
      const at = Date.now();
      const ok = decodeDone('extendLock', await corked(this.redis).extendLock(this.key, token, ttlMs));
      if (ok) confirmedUntil = at + ttlMs;
      else lost();
      return ok;
    };
    let extending = false;
    timer = setInterval(
      () => {
        if (extending) return;
        extending = true;
        extend()
          .then(
            () => undefined,
            () => {
              if (lockState({ extended: null, confirmedUntil, now: Date.now() }) === 'lost') lost();
            },
          )
          .finally(() => {
            extending = false;
          });
      },
      this.o.extendEveryMs ?? Math.max(10, Math.floor(ttlMs / 3)),
    );
    timer.unref();
    return {
      token,
      signal: ac.signal,
      extend,
      release: async () => {
        stop();
        return decodeDone('releaseLock', await corked(this.redis).releaseLock(this.key, token));
      },
    };
  }

  /**
   * Runs `work` under the lock: null when another holder has it. The lock is released however the
   * work ends; if it was lost meanwhile, the work's result is not trusted and LockLostError is
   * thrown (the work should have stopped at the signal already).
   */
  async run<T>(work: (signal: AbortSignal, held: HeldLock) => Promise<T>): Promise<{ value: T } | null> {
    const held = await this.acquire();
    if (!held) return null;
    try {
      const value = await work(held.signal, held);
      held.signal.throwIfAborted();
      return { value };
    } finally {
      // Redis away: the lock expires by its TTL, which is all a release could have done.
      await held.release().catch(() => false);
    }
  }
}
