// Runs calls: feeds events to the pure state machine (call.ts) and performs the effects it returns.
// A call's events and effects run through one KeyedQueue entry at a time, in Asterisk's order.
//
// Containment: a failing effect (Redis refusing, ARI answering an error, the WebSocket dropping)
// never skips the rest of the call's effects. Its failure is logged with the call id and counted,
// and where the call must learn of it, it becomes an event (a leg that could not be created is
// `leg_gone`, a pick that failed is `no_candidate`). `finish` therefore always runs and every call
// gets its CDR; a slot's answer or release that fails is retried until Redis answers, in order.
//
// This file keeps the call's runtime and the one loop (`runEffects`, with `onFailure`) that holds
// that containment; the performers sit by family under effects/ (lookups, legs and bridges, slots,
// hold queue, recording, finish) and are reached only through `perform` below. They share the
// runner's state through the EffectContext it builds (effects/runtime.ts).
// Why about 460 lines: the runner's state (calls, their queue, cleanup, slot retries, finished
// calls) and the containment loop are one unit; what could leave (the performers) has left.
import { AriError } from '../asterisk/index.ts';
import { KeyedQueue } from '../asterisk/ordered.ts';
import { RecentIds } from '../platform/recent.ts';
import { type CallEvent, type CallState, type Effect, type HangupReason, step } from './call.ts';
import { recordSig } from './call-record.ts';
import { AsteriskCleanup, noAnswer } from './cleanup.ts';
import { QueueWaiters, type TurnCause } from './queue-waiters.ts';
import { FINISHED_MEMORY, finish } from './effects/finish.ts';
import { performQueue } from './effects/hold-queue.ts';
import { performLeg } from './effects/legs.ts';
import { performLookup } from './effects/lookups.ts';
import { performRecording, recordingEnded as endRecording } from './effects/recording.ts';
import type { CallRuntime, EffectContext, EffectDeps } from './effects/runtime.ts';
import { restoreAfterDataLoss } from './effects/restore.ts';
import { SlotRetrier } from './effects/slot-retrier.ts';
import { convertedOnConversionLink, countsConversions, performSlot } from './effects/slots.ts';

export { QUEUE_SAFETY_POLL_MS } from './effects/hold-queue.ts';
export { ABSOLUTE_TIMEOUT, CALL_ID_VAR, CALLER_VAR, OWNER_VAR } from './effects/legs.ts';
export { RECORDING_FORMAT } from './effects/recording.ts';
export { type CallRuntime, type EffectDeps, isGoneOrElsewhere } from './effects/runtime.ts';

/** Effects that neither touch the caller's channel nor depend on what it hears (run beside its ringing). */
const OFF_THE_CALLER = new Set<Effect['type']>([
  'ring_caller',
  'load_plan',
  'check_duplicate',
  'screen_caller',
  'try_next',
  'create_leg',
  'dial',
  'load_default_campaign',
  'queue_try',
]);

/** Effects that end a call's channels or the call: never held back by its ringing. */
const ENDING = new Set<Effect['type']>(['hangup', 'finish']);

/**
 * Effects that may run while the call's last record write is still unanswered: the ring (a caller
 * found in our app without a record is routed again anyway), the steps that only read or take in
 * Redis and PostgreSQL, and the client leg's create. The write has left before them (or
 * goes out in the same turn): Redis commands travel behind it on the one connection, so Redis runs
 * them after it, as before; and a leg that Asterisk made before Redis answered the write is what a
 * failed write leaves too, which a takeover handles (the leg carries its call id and owner, and the
 * slot it holds is read from Redis). What they save is a Redis round trip on the routing decision's
 * path each: the first write's, and the write that names the new attempt. Every other effect (the
 * dial, an answer, a bridge, a hangup, the end) waits for the write, and a call's task ends only
 * once its writes are answered (the leg's dial comes in the next task, on its StasisStart).
 */
const AHEAD_OF_SAVE = new Set<Effect['type']>([
  'ring_caller',
  'load_plan',
  'load_default_campaign',
  'check_duplicate',
  'screen_caller',
  'try_next',
  'create_leg',
]);

export class CallRunner {
  readonly calls = new Map<string, CallRuntime>(); // callId -> call
  readonly byChannel = new Map<string, string>(); // channel id (caller or leg) -> callId
  private queue: KeyedQueue;
  private releases: SlotRetrier;
  /** Hangups and bridge destructions Asterisk did not answer, tried again until it does. */
  readonly cleanup: AsteriskCleanup;
  /** Calls finished lately, and when. */
  private finished = new RecentIds<number>(FINISHED_MEMORY);
  /** Caller channels of calls finished lately: a late listing of one is not a caller to route. */
  private endedCallers = new RecentIds(FINISHED_MEMORY);
  /** Calls finished here because another instance had taken them over: their legs are not ours. */
  private lost = new RecentIds(FINISHED_MEMORY);
  /** Calls by recording name (the call id), kept past the call's end until its recording ended. */
  private recordings = new Map<string, CallRuntime>();
  /** This instance's calls in hold queues, woken when a slot frees anywhere. */
  private waiters: QueueWaiters;
  /** What the performers (effects/) are handed: these maps and the runner's operations they use. */
  private ctx: EffectContext;

  constructor(private d: EffectDeps) {
    this.queue = new KeyedQueue((key, err) => d.log.error({ err, callId: key }, 'call handler failed'));
    this.releases = new SlotRetrier(d.slots, d.log, d.metrics);
    this.cleanup = new AsteriskCleanup({
      ari: (nodeId) => d.asterisk.nodes.get(nodeId)?.ari,
      // Behind an answer of the same slot still waiting for Redis, as any release.
      release: (slot) => {
        if (this.releases.has(slot)) return this.releases.add(slot, { release: true });
        void d.slots.release(slot).catch(() => this.releases.add(slot, { release: true }));
      },
      log: d.log,
      metrics: d.metrics,
    });
    d.metrics.cleanupPending = () => this.cleanup.size;
    this.waiters = new QueueWaiters(
      (callId, cause) => this.queueTurn(callId, cause),
      (on) => {
        if (!on) return void d.queue.unlisten();
        d.queue
          .listen((w) => this.waiters.wake(w))
          .catch((err: Error) =>
            d.log.warn({ err: err.message }, 'hold queue wake-ups not heard; waiters poll meanwhile'),
          );
      },
      d.now,
      {
        at: d.hourTimer,
        claim: (at) =>
          d.queue.claimHour(at).then(
            (here) => {
              d.metrics.queueHours.inc({ claimed: here ? 'here' : 'elsewhere' });
              return here;
            },
            (err: unknown) => {
              d.metrics.queueHours.inc({ claimed: 'unknown' });
              throw err;
            },
          ),
      },
    );
    this.ctx = {
      d,
      calls: this.calls,
      byChannel: this.byChannel,
      cleanup: this.cleanup,
      releases: this.releases,
      waiters: this.waiters,
      recordings: this.recordings,
      finished: this.finished,
      endedCallers: this.endedCallers,
      lost: this.lost,
      feed: (callId, e) => this.feed(callId, e),
      feedChannel: (channelId, e) => this.feedChannel(channelId, e),
      queueTurn: (callId, cause) => this.queueTurn(callId, cause),
      hangupSurely: (nodeId, channelId, reason) => this.hangupSurely(nodeId, channelId, reason),
      stateFailed: (op, err) => this.stateFailed(op, err),
    };
  }

  /** The routing plans changed: every waiting call here looks again, under the plans as they are now. */
  planChanged(): void {
    // A new round first: a mark made under the old plans holds nobody back until its waiter's turn
    // of this round, on whichever instance, has judged it by the new ones (queue.ts).
    void this.d.queue
      .newRound()
      .catch(() => {})
      .finally(() => this.waiters.everyone());
  }

  /** A waiting call's turn to look for a free slot (a wake-up, its poll). */
  private queueTurn(callId: string, cause: TurnCause): Promise<void> {
    const call = this.calls.get(callId);
    if (call?.state.phase !== 'queued') return Promise.resolve();
    return this.queue
      .run(callId, () => {
        call.turnCause = cause;
        return this.apply(callId, { type: 'queue_poll', at: this.d.now() });
      })
      .catch(() => {});
  }

  /** Whether a new call on this node is shed now (counted when it is). */
  shedNow(nodeId: string): boolean {
    return this.d.admission.shedNow(nodeId) !== null;
  }

  /** Takes a new call in hand and runs its first effects. */
  start(state: CallState, effects: Effect[]): void {
    const callId = state.callId;
    const call: CallRuntime = { state };
    this.calls.set(callId, call);
    this.byChannel.set(state.callerChannelId, callId);
    void this.queue
      .run(callId, async () => {
        // Not waited for here: see AHEAD_OF_SAVE (runEffects waits where it must).
        this.leaveUnanswered(call, this.save(call));
        await this.runEffects(callId, effects);
        await this.answered(call);
      })
      .catch(() => {});
  }

  /**
   * Goes on without the write's answer. Forgotten as soon as it is answered, so that the next write,
   * made before anything waited for this one, still leaves at once (ahead of a leg's create).
   */
  private leaveUnanswered(call: CallRuntime, write: Promise<void>): void {
    call.unanswered = write;
    void write.then(() => {
      if (call.unanswered === write) call.unanswered = undefined;
    });
  }

  /** Waits for the call's record write if one is still unanswered (save never rejects). */
  private async answered(call: CallRuntime): Promise<void> {
    const write = call.unanswered;
    if (!write) return;
    await write;
    // A later write may have taken its place meanwhile: that one is still to wait for.
    if (call.unanswered === write) call.unanswered = undefined;
  }

  /**
   * Takes in hand a call this instance did not start (found in Asterisk after a restart): its state
   * as rebuilt from Asterisk and Redis, effects to run first, then the event that settles it.
   * Resolves once those have run; never rejects.
   */
  adopt(state: CallState, effects: Effect[], then: CallEvent | null): Promise<void> {
    const callId = state.callId;
    const call: CallRuntime = { state };
    this.calls.set(callId, call);
    if (state.callerChannelId) this.byChannel.set(state.callerChannelId, callId);
    for (const a of state.attempts) this.byChannel.set(a.legId, callId);
    return this.queue
      .run(callId, async () => {
        await this.save(call);
        await this.runEffects(callId, effects);
        if (then) await this.apply(callId, then);
      })
      .catch(() => {});
  }

  /**
   * RecordingFinished (with its length in seconds) or RecordingFailed (null) for a recording of ours.
   * Not queued behind the call's work: a finishing call waits for it.
   */
  recordingEnded(name: string, durationS: number | null): void {
    endRecording(this.ctx, name, durationS);
  }

  /** This instance finished that call lately (its channels may still be listed for a moment). */
  wasFinished(callId: string): boolean {
    return this.finished.has(callId);
  }

  /** When this instance ended the call itself (not handed to another that took it over), if it did lately. */
  endedHere(callId: string): number | undefined {
    return this.lost.has(callId) ? undefined : this.finished.get(callId);
  }

  /** The caller's call was finished here lately (the channel may still be listed for a moment). */
  callerEnded(channelId: string): boolean {
    return this.endedCallers.has(channelId);
  }

  /** Never rejects: a task that throws is reported by the queue (and is a bug: effects are contained). */
  feed(callId: string, e: CallEvent): Promise<void> {
    return this.queue.run(callId, () => this.apply(callId, e)).catch(() => {});
  }

  feedChannel(channelId: string, e: CallEvent): void {
    const callId = this.byChannel.get(channelId);
    if (callId) void this.feed(callId, e);
  }

  /** Resolves when every queued call task has run (tests, reconcile, shutdown). */
  drain(): Promise<void> {
    return this.queue.drain();
  }

  stop(): void {
    this.releases.stop();
    this.cleanup.stop();
    this.d.queue.close();
    this.waiters.close();
  }

  /**
   * Hangs a channel up on the cleanup lane; until Asterisk confirms it, the cleanup keeps trying.
   * Never rejects.
   */
  async hangupSurely(nodeId: string, channelId: string, reason: HangupReason): Promise<void> {
    await this.cleanup.hangup(nodeId, channelId, reason);
  }

  /**
   * A client leg entered Stasis. A leg its call still waits for goes on to be dialled; one whose
   * attempt is over (its create got no answer in time, and Asterisk made it late) or whose call
   * ended is hung up at once: it would hold a channel, and count against the client's cap, for nothing.
   */
  legEntered(nodeId: string, legId: string, at: number): void {
    const callId = this.byChannel.get(legId) ?? legId.replace(/-\d+$/, '');
    const call = this.calls.get(callId);
    const attempt = call?.state.attempts.find((a) => a.legId === legId);
    if (call && attempt && !attempt.endedAt) {
      void this.feed(callId, { type: 'leg_stasis_start', legId, at });
      return;
    }
    if ((call && attempt) || this.cleanup.holds(legId) || this.endedHere(callId))
      void this.cleanup.hangup(nodeId, legId, 'normal', { exists: true });
  }

  /** A channel's ChannelDestroyed: a hangup of it not confirmed yet is done. */
  channelGone(channelId: string): void {
    this.cleanup.channelGone(channelId);
  }

  /**
   * Redis lost its data: puts back what this instance's live calls hold there — the slot of each
   * attempt in progress (answered or not), each call's record, each waiting call's place in its
   * hold queue (at its arrival time). Runs before any new slot is taken (slots.ts).
   */
  async restoreAfterDataLoss(): Promise<{ calls: number; slots: number }> {
    return restoreAfterDataLoss(this.ctx, (call) => this.save(call));
  }

  /** Slot answers and releases still waiting for Redis. */
  get pendingReleases(): number {
    return this.releases.size;
  }

  private async apply(callId: string, e: CallEvent): Promise<void> {
    const call = this.calls.get(callId);
    if (!call) return;
    const { state, effects } = step(call.state, e);
    call.state = state;
    await this.save(call);
    await this.runEffects(callId, effects);
    // The task ends once its writes are answered (the next event's effects, drain(), a stop).
    await this.answered(call);
  }

  /**
   * Writes the call's state to Redis when something a takeover acts on changed, before the effects
   * that follow from it run (a crash then finds the record at least as far as Asterisk is). A failed
   * write is counted and the call goes on: routing must not stop for its insurance.
   */
  private async save(call: CallRuntime): Promise<void> {
    if (call.state.phase === 'ended') return;
    const sig = recordSig(call.state);
    if (sig === call.saved) return;
    call.saved = sig;
    // Behind the write still under way, if any (the next write sends what differs from it). Only
    // then: a write with none before it must leave at once, ahead of the commands that follow it.
    if (call.unanswered) await this.answered(call);
    try {
      call.written = await this.d.store.save(call.state, this.d.now(), call.written);
    } catch (err) {
      // Not known what reached Redis: the next write sends every field.
      call.saved = undefined;
      call.written = undefined;
      this.stateFailed('save', err);
    }
  }

  private stateFailing = false;
  private stateFailed(op: string, err: unknown): void {
    this.d.metrics.callState.inc({ op });
    // Once per outage, not once a call.
    if (!this.stateFailing)
      this.d.log.warn({ op, err: (err as Error).message }, 'call state not written to Redis');
    this.stateFailing = true;
    clearTimeout(this.stateQuiet);
    this.stateQuiet = setTimeout(() => {
      this.stateFailing = false;
    }, 10_000);
    this.stateQuiet.unref();
  }
  private stateQuiet?: NodeJS.Timeout;

  /** Effects in order; each one's follow-up event is applied after the list (a loop, not a recursion). */
  private async runEffects(callId: string, first: Effect[]): Promise<void> {
    let effects = first;
    while (effects.length) {
      const events: CallEvent[] = [];
      for (const fx of effects) {
        const call = this.calls.get(callId);
        // `finish` forgets the call; whatever follows it (nothing, by construction) has no call.
        if (!call) break;
        try {
          // Asterisk runs requests in the order it reads them, but over HTTP two may overtake
          // each other: whatever follows on the caller's channel goes after its ringing.
          // Not a hangup nor the end, though: a ring served after the hangup finds no channel
          // (404), and under overload the ring may sit in the very line a hangup must not wait in.
          if (call.ringing && !OFF_THE_CALLER.has(fx.type) && !ENDING.has(fx.type)) await call.ringing;
          if (call.unanswered && !AHEAD_OF_SAVE.has(fx.type)) await this.answered(call);
          const next = await this.perform(call, fx);
          if (next) events.push(next);
        } catch (err) {
          this.d.metrics.effectFailures.inc({ effect: fx.type });
          this.d.log.error({ callId, effect: fx.type, err: (err as Error).message }, 'call step failed');
          const next = this.onFailure(call, fx, err);
          if (next) events.push(next);
        }
      }
      effects = [];
      for (const e of events) {
        const call = this.calls.get(callId);
        if (!call) break;
        const r = step(call.state, e);
        call.state = r.state;
        effects.push(...r.effects);
      }
      const call = this.calls.get(callId);
      if (call && effects.length) {
        const write = this.save(call);
        // Sent now; waited for here only if an effect that must not go ahead of it comes next.
        if (effects.every((fx) => AHEAD_OF_SAVE.has(fx.type))) this.leaveUnanswered(call, write);
        else await write;
      }
    }
  }

  /** What the call learns when an effect failed (nothing: the failure is only logged and counted). */
  private onFailure(call: CallRuntime, fx: Effect, err: unknown): CallEvent | null {
    const at = this.d.now();
    switch (fx.type) {
      case 'load_plan':
      case 'check_duplicate':
      case 'screen_caller':
      case 'try_next':
        // Routing needs PostgreSQL (plans) and Redis (caps): if either fails, the caller is told.
        return { type: 'no_candidate', reason: 'error', at };
      case 'create_leg':
        // Allocation failed, Asterisk refused, or no answer came (a timeout, the link cut). A create
        // with no answer may have made the leg anyway (we chose its id): it is hung up until Asterisk
        // answers, and the attempt's slot goes back only then (cleanup.ts).
        // The create may still sit in Asterisk's line: the hangup goes behind it (`ordered`).
        if (noAnswer(err)) void this.cleanup.hangup(call.state.nodeId, fx.legId, 'normal', { ordered: true });
        return { type: 'leg_gone', legId: fx.legId, cause: err instanceof AriError ? 3 : 34, at };
      case 'release':
        // A conversion's use is counted before the release (answering twice counts once).
        this.releases.add(fx.slot, {
          answer: convertedOnConversionLink(call.state, fx.legId, at),
          release: true,
        });
        return null;
      case 'mark_answered':
        // The answer is counted once Redis answers (the CDR says answered; the totals must agree).
        if (!countsConversions(call.state, fx.linkId)) this.releases.add(fx.slot, { answer: true });
        return null;
      case 'load_default_campaign':
        return { type: 'no_candidate', reason: 'error', at };
      case 'continue_dialplan':
        // The caller must not stay in our app with nobody routing it.
        void this.hangupSurely(call.state.nodeId, call.state.callerChannelId, 'congestion');
        return null;
      case 'play_message':
        return { type: 'message_done', at };
      case 'enqueue':
        // Could not wait (the caller went, or Asterisk would not answer it or play it the music):
        // the wait ends now, the way a timeout does. Redis away at the join is not this: the caller
        // waits on and joins at a later turn (effects/hold-queue.ts).
        return { type: 'queue_timeout', at };
      case 'limit_length':
        // Asterisk was not told (a channel already gone, or ARI failing): the limit is kept by this
        // process instead, which then holds only while it lives.
        clearTimeout(call.limitTimer);
        if (fx.seconds > 0) {
          call.limitTimer = setTimeout(() => {
            for (const id of fx.channels) void this.hangupSurely(call.state.nodeId, id, 'normal');
          }, fx.seconds * 1000);
          call.limitTimer.unref();
        }
        return null;
      default:
        return null;
    }
  }

  /** The effect's performer, by family (effects/). */
  private perform(call: CallRuntime, fx: Effect): Promise<CallEvent | null> {
    const ctx = this.ctx;
    switch (fx.type) {
      case 'load_plan':
      case 'load_default_campaign':
      case 'check_duplicate':
      case 'screen_caller':
        return performLookup(ctx, fx);
      case 'try_next':
      case 'mark_answered':
      case 'release':
        return performSlot(ctx, call, fx);
      case 'create_leg':
      case 'dial':
      case 'hangup':
      case 'answer_caller':
      case 'bridge':
      case 'continue_dialplan':
      case 'follow_caller':
      case 'play_message':
      case 'ring_caller':
      case 'recover_caller':
      case 'limit_length':
        return performLeg(ctx, call, fx);
      case 'enqueue':
      case 'queue_try':
      case 'dequeue':
        return performQueue(ctx, call, fx);
      case 'record':
      case 'track_recording':
        return performRecording(ctx, call, fx);
      case 'finish':
        return finish(ctx, call).then(() => null);
    }
  }
}
