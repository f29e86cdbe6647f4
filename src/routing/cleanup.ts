// Requests that must reach Asterisk for a call to leave nothing behind: hanging a channel up and
// destroying a bridge. When one gets no answer (the link cut, the WebSocket closed, a timeout) its
// outcome is unknown, and a channel may be left up in Stasis: Asterisk keeps an app's channels when
// the link goes away, and nothing else ends them. Such a request is tried again, with growing pauses,
// until Asterisk answers anything (done, or 404: already gone). The link slot a client leg holds
// goes back only then: released earlier, the slot would be taken by the next call while the old leg
// is still up, one leg over the link's cap.
import { type AriClient, AriError, AriNoAnswerError } from '../asterisk/index.ts';
import type { Logger } from '../platform/logger.ts';
import type { HangupReason } from './call.ts';
import type { RoutingMetrics } from './metrics.ts';
import type { SlotRef } from './slots.ts';

/** Whether a failed request may still have been carried out by Asterisk (no answer came back). */
export function noAnswer(err: unknown): boolean {
  if (err instanceof AriError) return false;
  // Never sent (it waited in our queue past its bound): nothing happened.
  if (err instanceof AriNoAnswerError) return err.mayHaveHappened;
  // A socket error (reset, refused): the request may have reached Asterisk before it.
  return true;
}

interface Job {
  nodeId: string;
  kind: 'channel' | 'bridge';
  id: string;
  reason: HangupReason;
  /** Slots to release once the channel is known to be gone. */
  slots: SlotRef[];
}

const MAX_DELAY_MS = 2000;

export class AsteriskCleanup {
  private jobs = new Map<string, Job>();
  private timer: NodeJS.Timeout | null = null;
  private delayMs = 100;
  private running = false;

  constructor(
    private d: {
      ari: (nodeId: string) => AriClient | undefined;
      /** Gives a slot back (and keeps trying should Redis refuse). */
      release: (slot: SlotRef) => void;
      log: Logger;
      metrics: RoutingMetrics;
    },
  ) {}

  /** Cleanups still waiting for Asterisk. */
  get size(): number {
    return this.jobs.size;
  }

  /** A hangup of this channel is waiting for Asterisk: whatever depends on it being gone waits too. */
  holds(channelId: string): boolean {
    return this.jobs.has(`channel:${channelId}`);
  }

  /** Hangs the channel up until Asterisk answers. */
  hangup(nodeId: string, channelId: string, reason: HangupReason = 'normal'): void {
    this.add({ nodeId, kind: 'channel', id: channelId, reason, slots: [] });
  }

  destroyBridge(nodeId: string, bridgeId: string): void {
    this.add({ nodeId, kind: 'bridge', id: bridgeId, reason: 'normal', slots: [] });
  }

  /** Releases the slot once the pending hangup of `channelId` is answered (false: none pending). */
  releaseWhenGone(channelId: string, slot: SlotRef): boolean {
    const job = this.jobs.get(`channel:${channelId}`);
    if (!job) return false;
    job.slots.push(slot);
    return true;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private add(job: Job): void {
    const key = `${job.kind}:${job.id}`;
    if (this.jobs.has(key)) return;
    if (!this.jobs.size)
      this.d.log.warn(
        { [job.kind]: job.id, node: job.nodeId },
        'Asterisk did not answer a cleanup request; trying again until it does',
      );
    this.jobs.set(key, job);
    this.d.metrics.cleanups.inc({ kind: job.kind });
    this.schedule();
  }

  private schedule(): void {
    if (this.timer || this.running) return;
    this.timer = setTimeout(() => void this.retry(), this.delayMs);
    this.timer.unref();
  }

  private async retry(): Promise<void> {
    this.timer = null;
    this.running = true;
    let failed = false;
    try {
      for (const [key, job] of [...this.jobs]) {
        const ari = this.d.ari(job.nodeId);
        if (!ari) {
          this.done(key, job); // the node is no longer configured: nothing to clean there
          continue;
        }
        try {
          if (job.kind === 'channel') await ari.channels.hangup(job.id, job.reason);
          else await ari.bridges.destroy(job.id);
          this.done(key, job);
        } catch (err) {
          if (!noAnswer(err)) {
            this.done(key, job); // Asterisk answered: gone already (404) or refused for good
            continue;
          }
          failed = true;
          break; // the link is still down: the others would fail alike
        }
      }
    } finally {
      this.running = false;
    }
    this.delayMs = failed ? Math.min(this.delayMs * 2, MAX_DELAY_MS) : 100;
    if (this.jobs.size) this.schedule();
    else if (!failed) this.d.log.info('pending Asterisk cleanups done');
  }

  private done(key: string, job: Job): void {
    this.jobs.delete(key);
    for (const s of job.slots) this.d.release(s);
  }
}
