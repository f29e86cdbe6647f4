// Reconcile against Asterisk: after a (re)connect and periodically, calls whose channels vanished
// while we were not looking are settled, and slots whose call no longer exists anywhere are freed.
// Single-flight per node: a reconcile asked for while one runs for that node joins it.
import type { AsteriskModule } from '../asterisk/index.ts';
import type { AriChannel } from '../asterisk/types.ts';
import type { Logger } from '../logger.ts';
import { CALL_ID_VAR, type CallRunner } from './effects.ts';
import type { SlotStore } from './slots.ts';

export class Reconciler {
  private running = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private asterisk: AsteriskModule,
    private runner: CallRunner,
    private slots: SlotStore,
    private log: Logger,
    private now: () => number,
  ) {}

  /** Every `ms`, each connected node's live channels are listed and compared. */
  every(ms: number): void {
    this.timer = setInterval(() => void this.all(), ms);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async all(): Promise<void> {
    for (const node of this.asterisk.nodes.values()) {
      if (!node.ari.connected) continue;
      try {
        const listedAt = Date.now();
        await this.resync(node.id, await node.ari.channels.list(), listedAt);
      } catch (err) {
        this.log.warn({ node: node.id, err: (err as Error).message }, 'slot reconcile skipped');
      }
    }
  }

  /** Never rejects: a failure (Redis down) is logged, and the next pass tries again. */
  resync(nodeId: string, channels: AriChannel[], listedAt: number): Promise<void> {
    const inFlight = this.running.get(nodeId);
    if (inFlight) return inFlight;
    const run = this.compare(nodeId, channels, listedAt)
      .catch((err: unknown) => this.log.warn({ nodeId, err: (err as Error).message }, 'reconcile failed'))
      .finally(() => this.running.delete(nodeId));
    this.running.set(nodeId, run);
    return run;
  }

  /**
   * Only what existed when the list was asked for (`listedAt`) is judged: a call or leg that began
   * during the request is missing from the list without being over.
   */
  private async compare(nodeId: string, channels: AriChannel[], listedAt: number): Promise<void> {
    const live = new Set(channels.map((c) => c.id));
    const at = this.now();
    for (const [callId, call] of this.runner.calls) {
      const s = call.state;
      if (s.nodeId !== nodeId || s.startedAt >= listedAt) continue;
      const current = s.attempts.at(-1);
      // A leg still being created may not be listed yet: judge it only once it reached Stasis.
      for (const a of s.attempts)
        if (!a.endedAt && a.startedAt < listedAt && !live.has(a.legId) && (a !== current || s.legInStasis))
          void this.runner.feed(callId, { type: 'leg_gone', legId: a.legId, cause: 16, at });
      if (!live.has(s.callerChannelId)) void this.runner.feed(callId, { type: 'caller_gone', cause: 16, at });
    }
    await this.runner.drain();
    const liveCalls = new Set(channels.map((c) => c.channelvars?.[CALL_ID_VAR]).filter(Boolean));
    const released = await this.slots.reconcile(
      nodeId,
      (slotId) => {
        if (live.has(slotId)) return true;
        const callId = slotId.replace(/-\d+$/, '');
        return this.runner.calls.has(callId) || liveCalls.has(callId);
      },
      listedAt,
    );
    if (released) this.log.warn({ nodeId, released }, 'released routing slots of calls that no longer exist');
  }
}
