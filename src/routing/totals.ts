// Answered-call totals per link, persisted to `campaign_links.total_answered` in batches. Redis holds
// the authoritative running total (the cap is decided there); PostgreSQL's copy is what Redis is
// seeded from when it has none, so it may lag by one flush interval but must never lose a count.
// One UPDATE per interval replaces one per answered call, which at hundreds of calls a second was
// a large share of the daemon's CPU.
import type { Db } from '../platform/db.ts';
import type { Logger } from '../platform/logger.ts';
import { addAnsweredTotals } from './repository.ts';

export class AnsweredTotals {
  private pending = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;

  constructor(
    private db: Db,
    private log: Logger,
    private everyMs = 500,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), this.everyMs);
    this.timer.unref();
  }

  /** Counts one answered call on a link. */
  add(linkId: string): void {
    this.pending.set(linkId, (this.pending.get(linkId) ?? 0) + 1);
  }

  /** Counts not yet written (they stay queued while PostgreSQL is down). */
  get unsaved(): number {
    let n = 0;
    for (const v of this.pending.values()) n += v;
    return n;
  }

  /** Writes what is pending in one statement; on failure the counts wait for the next flush. */
  async flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (!this.pending.size) return;
    const batch = this.pending;
    this.pending = new Map();
    this.flushing = (async () => {
      try {
        await addAnsweredTotals(this.db, batch);
      } catch (err) {
        for (const [id, n] of batch) this.pending.set(id, (this.pending.get(id) ?? 0) + n);
        this.log.warn(
          { err: (err as Error).message, unsaved: this.unsaved },
          'link totals not persisted yet',
        );
      } finally {
        this.flushing = null;
      }
    })();
    return this.flushing;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }
}
