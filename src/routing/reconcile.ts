// Reconcile against Asterisk: after a (re)connect and periodically, calls whose channels vanished
// while we were not looking are settled, and slots whose call no longer exists anywhere are freed.
// Single-flight per node: a reconcile asked for while one runs for that node joins it.
import type { AsteriskModule } from '../asterisk/index.ts';
import type { AriChannel } from '../asterisk/types.ts';
import type { Logger } from '../platform/logger.ts';
import { Slicer } from '../platform/slices.ts';
import type { CallEvent } from './call.ts';
import type { CallRecord } from './call-record.ts';
import type { CallStore } from './call-store.ts';
import type { RouteCatalog } from './catalog.ts';
import { CALL_ID_VAR, type CallRunner } from './effects.ts';
import type { RoutingMetrics } from './metrics.ts';
import type { SlotStore } from './slots.ts';
import { startInbound } from './stasis.ts';
import { strayChannels } from './strays.ts';
import { resume, type TakeoverContext, takeOver } from './takeover.ts';
import type { UnseenCalls } from './unseen.ts';

export class Reconciler {
  private running = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  /** A pass per node due when the owner of calls found there is past its heartbeat bound. */
  private rechecks = new Map<string, NodeJS.Timeout>();
  /** The takeovers' view of this reconciler (takeover.ts). */
  private takeovers: TakeoverContext;

  constructor(
    private asterisk: AsteriskModule,
    private runner: CallRunner,
    private slots: SlotStore,
    private store: CallStore,
    catalog: RouteCatalog,
    private metrics: RoutingMetrics,
    private log: Logger,
    private now: () => number,
    /** Reads back Asterisk's CDRs of callers nobody saw (none: not done). */
    private unseen: UnseenCalls | null = null,
  ) {
    this.takeovers = {
      asterisk,
      runner,
      slots,
      store,
      catalog,
      metrics,
      log,
      now,
      later: (nodeId, lastBeat) => this.later(nodeId, lastBeat),
    };
  }

  /** Every `ms`, each connected node's live channels are listed and compared. */
  every(ms: number): void {
    this.timer = setInterval(() => void this.all(), ms);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const t of this.rechecks.values()) clearTimeout(t);
    this.rechecks.clear();
  }

  async all(): Promise<void> {
    for (const node of this.asterisk.nodes.values()) await this.one(node.id);
  }

  private async one(nodeId: string): Promise<void> {
    const node = this.asterisk.nodes.get(nodeId);
    if (!node?.ari.connected) return;
    try {
      // On the routing clock, as the calls' and slots' times it is compared with (a clock a test
      // moves ahead of the machine's would leave every call "begun after the listing").
      const listedAt = this.now();
      await this.resync(node.id, await node.ari.channels.list(), listedAt);
    } catch (err) {
      this.log.warn({ node: node.id, err: (err as Error).message }, 'slot reconcile skipped');
    }
  }

  /** Another pass on this node once an owner still thought alive is past its bound (if it never beats again). */
  private later(nodeId: string, lastBeat: number): void {
    if (this.rechecks.has(nodeId)) return;
    const wait = Math.max(lastBeat + this.store.opts.deadAfterMs - Date.now() + 100, 100);
    const t = setTimeout(() => {
      this.rechecks.delete(nodeId);
      void this.one(nodeId);
    }, wait);
    t.unref();
    this.rechecks.set(nodeId, t);
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
   *
   * Bounded: the slots are judged once the events and takeovers this pass handed to calls have run
   * (their releases and ends done), not once every call is idle. Under steady traffic some call
   * always has work queued, and a pass that waited for none left never ended; the next one,
   * single-flight per node, then never began. Calls this pass did not touch need no waiting: a slot
   * of theirs is judged by whether the call is still held here, and one taken after the listing is
   * not judged at all.
   *
   * Sliced (platform/slices.ts): at thousands of calls the loops below, like the listing itself, would
   * otherwise hold the event loop for every call at once. Calls that begin during a pause started
   * after the listing and are not judged; one that ends during a pause is no longer visited.
   */
  private async compare(nodeId: string, channels: AriChannel[], listedAt: number): Promise<void> {
    const live = new Map(channels.map((c) => [c.id, c]));
    const at = this.now();
    /** What this pass handed to calls (each never rejects). */
    const handed: Array<Promise<void>> = [];
    const feed = (callId: string, e: CallEvent) => handed.push(this.runner.feed(callId, e));
    const slicer = new Slicer();
    for (const [callId, call] of this.runner.calls) {
      await slicer.due();
      const s = call.state;
      if (s.nodeId !== nodeId || s.startedAt >= listedAt) continue;
      const current = s.attempts.at(-1);
      // A leg still being created may not be listed yet: judge it only once it reached Stasis.
      for (const a of s.attempts)
        if (!a.endedAt && a.startedAt < listedAt && !live.has(a.legId) && (a !== current || s.legInStasis))
          feed(callId, { type: 'leg_gone', legId: a.legId, cause: 16, at });
      // A leg that answered while the link was down (its ChannelStateChange was lost with it).
      if (
        current &&
        !current.endedAt &&
        !current.answeredAt &&
        (s.phase === 'ringing' || s.phase === 'dialing') &&
        live.get(current.legId)?.state === 'Up'
      )
        feed(callId, { type: 'leg_answered', legId: current.legId, at });
      if (!live.has(s.callerChannelId)) feed(callId, { type: 'caller_gone', cause: 16, at });
    }
    // Records of calls on this node that no call of ours is (a dead instance's, or ours from before a restart).
    const records = new Map(
      (await this.store.ofNode(nodeId, (id) => this.runner.calls.has(id) || this.runner.wasFinished(id))).map(
        (r) => [r.callId, r],
      ),
    );
    await takeOver(this.takeovers, nodeId, channels, records, handed);
    await resume(this.takeovers, nodeId, channels, listedAt, records, handed);
    await this.strays(nodeId, channels, listedAt, records, slicer);
    await Promise.all(handed);
    const liveCalls = new Set(channels.map((c) => c.channelvars?.[CALL_ID_VAR]).filter(Boolean));
    const released = await this.slots.reconcile(
      nodeId,
      (slotId) => {
        // A leg whose hangup is not confirmed may still be made (its create got no answer).
        if (live.has(slotId) || this.runner.cleanup.holds(slotId)) return true;
        const callId = slotId.replace(/-\d+$/, '');
        return this.runner.calls.has(callId) || liveCalls.has(callId);
      },
      listedAt,
    );
    if (released) this.log.warn({ nodeId, released }, 'released routing slots of calls that no longer exist');
    await this.sweepUnseen(nodeId, records);
  }

  /**
   * Callers that entered our app and hung up while no instance ran: known only from Asterisk's own
   * CDRs (unseen.ts). A caller of a call in progress or lately ended here, or recorded in Redis (its
   * owner alive, or a takeover due), is not one of them. A failure is logged; the next pass reads the same window.
   */
  private async sweepUnseen(nodeId: string, records: Map<string, CallRecord>): Promise<void> {
    if (!this.unseen) return;
    const recorded = new Set([...records.values()].map((r) => r.callerChannelId));
    // A caller whose call ended here lately: its CDR may still wait in our journal for the next flush.
    const known = (ch: string) =>
      this.runner.byChannel.has(ch) || recorded.has(ch) || this.runner.callerEnded(ch);
    await this.unseen.sweep(nodeId, known).catch((err: unknown) => {
      this.log.warn({ nodeId, err: (err as Error).message }, "reading Asterisk's CDRs back failed");
    });
  }

  /** Routes the callers whose StasisStart was lost and hangs up the legs nobody holds (strayChannels). */
  private async strays(
    nodeId: string,
    channels: AriChannel[],
    listedAt: number,
    records: Map<string, CallRecord>,
    slicer: Slicer,
  ): Promise<void> {
    const found = strayChannels(
      { apps: this.asterisk.apps, runner: this.runner },
      channels,
      listedAt,
      records,
    );
    for (const { ch, app, args } of found.callers) {
      await slicer.due();
      this.metrics.strays.inc({ as: 'caller_routed' });
      this.log.warn(
        { nodeId, channel: ch.id },
        'found a caller in our app whose StasisStart never arrived; routing it now',
      );
      startInbound(this.runner, nodeId, ch, app, args, this.now);
    }
    for (const ch of found.legs) {
      await slicer.due();
      this.metrics.strays.inc({ as: 'leg_hung_up' });
      this.log.warn(
        { nodeId, channel: ch.id, callId: ch.channelvars?.[CALL_ID_VAR] },
        'hanging up a client leg of a call that is over',
      );
      void this.runner.hangupSurely(nodeId, ch.id, 'normal');
    }
  }
}
