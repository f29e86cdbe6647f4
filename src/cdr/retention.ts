// Retention of call records: records older than CDR_RETENTION_DAYS are deleted, and the caller's
// number (personal data) is cleared from records older than CALLER_NUMBER_RETENTION_DAYS, which may
// be shorter. A timer of the daemon runs the purge every RETENTION_SWEEP_MIN; the Redis lock lets one
// instance at a time run it (the others skip that round), and it works in batches, one bounded
// statement each, so it never holds a long transaction or many row locks. 0 days keeps forever.
import type { Redis } from 'ioredis';
import type { Db } from '../platform/db.ts';
import type { Logger } from '../platform/logger.ts';
import { RedisLock } from '../platform/redis/lock.ts';
import { deleteCallsBefore, forgetCallersBefore } from './repository.ts';

const DAY_MS = 86_400_000;

export interface RetentionPolicy {
  cdrDays: number;
  callerNumberDays: number;
  /** Rows a statement touches at most. */
  batch: number;
}

export interface PurgeResult {
  deleted: number;
  callersCleared: number;
}

export class CdrRetention {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;
  private lock: RedisLock;

  constructor(
    private db: Db,
    redis: Redis,
    lockKey: string,
    private policy: RetentionPolicy,
    private log: Logger,
  ) {
    this.lock = new RedisLock(redis, lockKey, { ttlMs: 60_000 });
  }

  /**
   * One purge, if this instance gets the lock (null when another instance holds it). Stops between
   * batches when the lock is lost, so two instances never purge at once for long.
   */
  async runOnce(now = Date.now()): Promise<PurgeResult | null> {
    const { cdrDays, callerNumberDays, batch } = this.policy;
    if (cdrDays <= 0 && callerNumberDays <= 0) return { deleted: 0, callersCleared: 0 };
    const held = await this.lock.acquire();
    if (!held) return null;
    const r: PurgeResult = { deleted: 0, callersCleared: 0 };
    try {
      const loop = async (step: () => Promise<number>) => {
        for (;;) {
          if (held.signal.aborted) return false;
          const n = await step();
          if (n < batch) return true;
          // Let the daemon's other work run between batches.
          await new Promise((res) => setImmediate(res));
        }
      };
      if (cdrDays > 0) {
        const before = new Date(now - cdrDays * DAY_MS);
        await loop(async () => {
          const n = await deleteCallsBefore(this.db, before, batch);
          r.deleted += n;
          return n;
        });
      }
      if (callerNumberDays > 0) {
        const before = new Date(now - callerNumberDays * DAY_MS);
        await loop(async () => {
          const n = await forgetCallersBefore(this.db, before, batch);
          r.callersCleared += n;
          return n;
        });
      }
      if (r.deleted || r.callersCleared) this.log.info(r, 'call records purged by the retention policy');
      return r;
    } finally {
      await held.release().catch(() => false);
    }
  }

  start(everyMs: number): void {
    const tick = () => {
      this.running = this.runOnce()
        .catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'retention purge failed'))
        .finally(() => {
          this.running = null;
        });
    };
    this.timer = setInterval(tick, everyMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
