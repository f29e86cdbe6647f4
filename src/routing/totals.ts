// Answered-call totals per link, persisted to `campaign_links.total_answered` in batches. Redis holds
// the authoritative running total (the cap is decided there); PostgreSQL's copy is what Redis is
// seeded from when it has none, so it may lag by one flush interval but must never lose a count.
// One UPDATE per interval replaces one per answered call, which at hundreds of calls a second was
// a large share of the daemon's CPU. Sellers', DIDs' and buyer groups' totals (their caps' durable
// copy) go the same way into `routing_cap_totals`.
import type { Db } from '../platform/db.ts';
import type { Logger } from '../platform/logger.ts';
import { addAnsweredTotals, addCapTotals } from './repository.ts';
import type { SourceRef } from './slots.ts';

export class AnsweredTotals {
  private pending = new Map<string, number>();
  /** `<kind>:<id>` of sellers, DIDs and groups -> answered calls not yet written. */
  private pendingSources = new Map<string, number>();
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
  add(linkId: string, sources: readonly SourceRef[] = []): void {
    this.pending.set(linkId, (this.pending.get(linkId) ?? 0) + 1);
    for (const o of sources) {
      const k = `${o.kind}:${o.id}`;
      this.pendingSources.set(k, (this.pendingSources.get(k) ?? 0) + 1);
    }
  }

  /** Counts not yet written (they stay queued while PostgreSQL is down). */
  get unsaved(): number {
    let n = 0;
    for (const v of this.pending.values()) n += v;
    for (const v of this.pendingSources.values()) n += v;
    return n;
  }

  /** Writes what is pending in one statement; on failure the counts wait for the next flush. */
  async flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (!this.pending.size && !this.pendingSources.size) return;
    const batch = this.pending;
    const sources = this.pendingSources;
    this.pending = new Map();
    this.pendingSources = new Map();
    const requeue = (into: Map<string, number>, from: Map<string, number>) => {
      for (const [id, n] of from) into.set(id, (into.get(id) ?? 0) + n);
    };
    this.flushing = (async () => {
      try {
        if (batch.size) await addAnsweredTotals(this.db, batch);
      } catch (err) {
        requeue(this.pending, batch);
        this.warn(err);
      }
      try {
        if (sources.size) await addCapTotals(this.db, sources);
      } catch (err) {
        requeue(this.pendingSources, sources);
        this.warn(err);
      }
      this.flushing = null;
    })();
    return this.flushing;
  }

  private warn(err: unknown): void {
    this.log.warn({ err: (err as Error).message, unsaved: this.unsaved }, 'cap totals not persisted yet');
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }
}
