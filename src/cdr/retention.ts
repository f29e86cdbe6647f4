// Retention of call records: records older than CDR_RETENTION_DAYS are deleted, and the caller's
// number (personal data) is cleared from records older than CALLER_NUMBER_RETENTION_DAYS, which may
// be shorter. Call recordings are deleted from Asterisk (ARI DELETE /recordings/stored/{name}) after
// RECORDING_RETENTION_DAYS, and always before their record goes: a record keeps its row until its
// recording is known deleted, so nothing is left in Asterisk that no record names. A timer of the daemon runs the purge every RETENTION_SWEEP_MIN; the Redis lock lets one
// instance at a time run it (the others skip that round), and it works in batches, one bounded
// statement each, so it never holds a long transaction or many row locks. 0 days keeps forever.
import type { Redis } from 'ioredis';
import type { Db } from '../platform/db.ts';
import type { Logger } from '../platform/logger.ts';
import { RedisLock } from '../platform/redis/lock.ts';
import {
  deleteCallsBefore,
  forgetCallersBefore,
  markRecordingsDeleted,
  recordingsBefore,
} from './repository.ts';

const DAY_MS = 86_400_000;

export interface RetentionPolicy {
  cdrDays: number;
  callerNumberDays: number;
  /** Days a call's recording is kept (0: as long as its record). */
  recordingDays?: number;
  /** Rows a statement touches at most. */
  batch: number;
}

export interface PurgeResult {
  deleted: number;
  callersCleared: number;
  recordingsDeleted: number;
}

/**
 * Deletes a stored recording on an Asterisk node: true once it is gone there (deleted now, or not
 * found); false when the node cannot be asked (unknown here, or not answering): tried again next run.
 */
export type RecordingDeleter = (nodeId: string, name: string) => Promise<boolean>;

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
    private deleteRecording: RecordingDeleter | null = null,
  ) {
    this.lock = new RedisLock(redis, lockKey, { ttlMs: 60_000 });
  }

  /**
   * One purge, if this instance gets the lock (null when another instance holds it). Stops between
   * batches when the lock is lost, so two instances never purge at once for long.
   */
  async runOnce(now = Date.now()): Promise<PurgeResult | null> {
    const { cdrDays, callerNumberDays, batch } = this.policy;
    const recordingDays = this.policy.recordingDays ?? 0;
    if (cdrDays <= 0 && callerNumberDays <= 0 && recordingDays <= 0)
      return { deleted: 0, callersCleared: 0, recordingsDeleted: 0 };
    const held = await this.lock.acquire();
    if (!held) return null;
    const r: PurgeResult = { deleted: 0, callersCleared: 0, recordingsDeleted: 0 };
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
      // Recordings first: past their own retention, and those of records about to be deleted.
      const keepDays = Math.min(...[recordingDays, cdrDays].filter((d) => d > 0));
      if (Number.isFinite(keepDays) && this.deleteRecording) {
        const before = new Date(now - keepDays * DAY_MS);
        await loop(async () => {
          const due = await recordingsBefore(this.db, before, batch);
          const gone: string[] = [];
          for (const x of due) if (await this.deleteRecording!(x.nodeId, x.name)) gone.push(x.callId);
          await markRecordingsDeleted(this.db, gone, new Date(now));
          r.recordingsDeleted += gone.length;
          // A node that could not be asked keeps its recordings for the next run (no endless loop here).
          return gone.length < due.length ? 0 : due.length;
        });
      }
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
      if (r.deleted || r.callersCleared || r.recordingsDeleted)
        this.log.info(r, 'call records purged by the retention policy');
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
