import type { Logger } from '../../platform/logger.ts';
import type { RoutingMetrics } from '../metrics.ts';
import type { SlotRef, SlotStore } from '../slots.ts';

/**
 * Slot operations that failed (Redis unreachable) are tried again, with growing pauses, until Redis
 * answers, in their order per slot: a slot's answer before its release (a release first would refund
 * the use the CDR counts as answered). A slot left taken would count against the link's cap until its
 * TTL (hours); an answer lost would leave the totals short of the answered CDRs.
 */
export class SlotRetrier {
  private pending = new Map<string, { ref: SlotRef; answer: boolean; release: boolean }>();
  private timer: NodeJS.Timeout | null = null;
  private delayMs = 100;

  constructor(
    private slots: SlotStore,
    private log: Logger,
    private metrics: RoutingMetrics,
  ) {}

  get size(): number {
    return this.pending.size;
  }

  /** Something of this slot waits already: what follows must wait behind it. */
  has(ref: SlotRef): boolean {
    return this.pending.has(`${ref.linkId}/${ref.slotId}`);
  }

  add(ref: SlotRef, op: { answer?: boolean; release?: boolean }): void {
    if (!this.pending.size)
      this.log.warn({ slot: ref.slotId, ...op }, 'slot update failed; retrying until Redis answers');
    const k = `${ref.linkId}/${ref.slotId}`;
    const p = this.pending.get(k) ?? { ref, answer: false, release: false };
    p.answer ||= op.answer ?? false;
    p.release ||= op.release ?? false;
    this.pending.set(k, p);
    this.schedule();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => void this.retry(), this.delayMs);
    this.timer.unref();
  }

  private async retry(): Promise<void> {
    this.timer = null;
    for (const [k, p] of this.pending) {
      try {
        if (p.answer) {
          this.metrics.answerRetries.inc();
          await this.slots.answer(p.ref);
          p.answer = false;
        }
        if (p.release) {
          this.metrics.releaseRetries.inc();
          await this.slots.release(p.ref);
        }
        this.pending.delete(k);
      } catch {
        this.delayMs = Math.min(this.delayMs * 2, 5_000);
        this.schedule();
        return;
      }
    }
    this.delayMs = 100;
    this.log.info('pending slot updates done');
  }
}
