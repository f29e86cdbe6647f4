// Requests that must reach Asterisk for a call to leave nothing behind: hanging a channel up and
// destroying a bridge. Each is tried until Asterisk confirms it: a 2xx, a 404 (already gone), or the
// channel's ChannelDestroyed. A request that got no answer (the link cut, the WebSocket closed, a
// timeout) may still have been done, or may still be done later; one that never left our queue was
// not done at all: either way it is tried again, with growing pauses. The link slot a client leg
// holds goes back only once the leg is confirmed gone: released earlier, the slot would be taken by
// the next call while the old leg is still up, one leg over the link's cap.
//
// Two ways to Asterisk. By default the ARI client's cleanup lane (its own HTTP connections, ari.ts):
// under overload a hangup must not wait behind the very backlog that made the node shed calls.
// `ordered`: the request that made the thing got no answer and may still sit in Asterisk's line on
// the events WebSocket (served one at a time, in order); the cleanup then takes the same way, behind
// it, so that a 404 means it will not appear later (over the lane it could overtake the create).
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
  ordered: boolean;
  tries: number;
  /** Slots to release once the channel is known to be gone. */
  slots: SlotRef[];
  timer?: NodeJS.Timeout;
}

const FIRST_DELAY_MS = 200;
const MAX_DELAY_MS = 5000;

export class AsteriskCleanup {
  private jobs = new Map<string, Job>();
  private failing = false;
  private stopped = false;

  constructor(
    private d: {
      ari: (nodeId: string) => AriClient | undefined;
      /** Gives a slot back (and keeps trying should Redis refuse). */
      release: (slot: SlotRef) => void;
      log: Logger;
      metrics: RoutingMetrics;
    },
  ) {}

  /** Cleanups not confirmed yet. */
  get size(): number {
    return this.jobs.size;
  }

  /** A hangup of this channel is not confirmed: whatever depends on it being gone waits too. */
  holds(channelId: string): boolean {
    return this.jobs.has(`channel:${channelId}`);
  }

  /**
   * Hangs the channel up, at once, and again until Asterisk confirms it. Resolves true once
   * confirmed, false when left to the retries (`holds` is then true). Never rejects. `exists`: the
   * channel is known to be there (its StasisStart came), so an `ordered` hangup of it goes now.
   */
  hangup(
    nodeId: string,
    channelId: string,
    reason: HangupReason = 'normal',
    o: { ordered?: boolean; exists?: boolean } = {},
  ): Promise<boolean> {
    const key = `channel:${channelId}`;
    const had = this.jobs.get(key);
    if (had && o.exists && had.ordered) {
      had.ordered = false;
      clearTimeout(had.timer);
      return this.attempt(key, had);
    }
    return this.begin({ nodeId, kind: 'channel', id: channelId, reason, ordered: o.ordered ?? false });
  }

  destroyBridge(nodeId: string, bridgeId: string, o: { ordered?: boolean } = {}): Promise<boolean> {
    return this.begin({
      nodeId,
      kind: 'bridge',
      id: bridgeId,
      reason: 'normal',
      ordered: o.ordered ?? false,
    });
  }

  /** Releases the slot once the pending hangup of `channelId` is confirmed (false: none pending). */
  releaseWhenGone(channelId: string, slot: SlotRef): boolean {
    const job = this.jobs.get(`channel:${channelId}`);
    if (!job) return false;
    job.slots.push(slot);
    return true;
  }

  /** Asterisk said the channel is gone (ChannelDestroyed): a pending hangup of it is done. */
  channelGone(channelId: string): void {
    this.done(`channel:${channelId}`);
  }

  stop(): void {
    this.stopped = true;
    for (const j of this.jobs.values()) clearTimeout(j.timer);
  }

  private begin(j: Omit<Job, 'tries' | 'slots'>): Promise<boolean> {
    const key = `${j.kind}:${j.id}`;
    const had = this.jobs.get(key);
    if (had) {
      // Asked again while one is pending: that one goes on (on the stricter way).
      had.ordered ||= j.ordered;
      return Promise.resolve(false);
    }
    // Registered before any await: a release asked for right after sees the channel held.
    const job: Job = { ...j, tries: 0, slots: [] };
    this.jobs.set(key, job);
    return this.attempt(key, job);
  }

  private async attempt(key: string, job: Job): Promise<boolean> {
    if (this.jobs.get(key) !== job) return true;
    const ari = this.d.ari(job.nodeId);
    if (!ari) {
      this.done(key); // the node is no longer configured: nothing to clean there
      return true;
    }
    job.tries++;
    try {
      if (job.kind === 'channel')
        await (job.ordered
          ? ari.channels.hangup(job.id, job.reason)
          : ari.cleanup.hangup(job.id, job.reason));
      else await (job.ordered ? ari.bridges.destroy(job.id) : ari.cleanup.destroyBridge(job.id));
    } catch (err) {
      // 404: gone already. Another 4xx: a request Asterisk will never take (a bug, not load), given
      // up. Anything else (no answer, never sent, a 5xx, a refused connection) is tried again.
      if (!(err instanceof AriError && err.status >= 400 && err.status < 500)) {
        this.retryLater(key, job, err);
        return this.jobs.get(key) !== job;
      }
      if (err.status !== 404)
        this.d.log.error({ [job.kind]: job.id, err: err.message }, 'Asterisk refused a cleanup request');
    }
    this.done(key);
    return true;
  }

  private retryLater(key: string, job: Job, err: unknown): void {
    if (this.jobs.get(key) !== job || this.stopped) return;
    this.d.metrics.cleanups.inc({ kind: job.kind });
    if (!this.failing)
      this.d.log.warn(
        { [job.kind]: job.id, node: job.nodeId, err: (err as Error).message },
        'Asterisk did not confirm a cleanup request; trying each again until it does',
      );
    this.failing = true;
    clearTimeout(job.timer);
    job.timer = setTimeout(
      () => void this.attempt(key, job),
      Math.min(FIRST_DELAY_MS * 2 ** (job.tries - 1), MAX_DELAY_MS),
    );
    job.timer.unref();
  }

  private done(key: string): void {
    const job = this.jobs.get(key);
    if (!job) return;
    clearTimeout(job.timer);
    this.jobs.delete(key);
    if (this.failing && !this.jobs.size) {
      this.failing = false;
      this.d.log.info('pending Asterisk cleanups done');
    }
    for (const s of job.slots) this.d.release(s);
  }
}
