// Runs calls: feeds events to the pure state machine (call.ts) and performs the effects it returns.
// A call's events and effects run through one KeyedQueue entry at a time, in Asterisk's order.
//
// Containment: a failing effect (Redis refusing, ARI answering an error, the WebSocket dropping)
// never skips the rest of the call's effects. Its failure is logged with the call id and counted,
// and where the call must learn of it, it becomes an event (a leg that could not be created is
// `leg_gone`, a pick that failed is `no_candidate`). `finish` therefore always runs and every call
// gets its CDR; a slot's answer or release that fails is retried until Redis answers, in order.
//
// Why one file of about a thousand lines: every performer below reads and changes the same
// CallRuntime (its timers, recording, counted answers) inside the call's queue turn, and the
// containment above holds only because they all run through `runEffects`. Splitting the performers
// by family (legs and bridges, slots, hold queue, recording, finish) behind that one loop is the
// next step for this file; until then it is kept in that order.
import type { RoutingAlerts } from './alerts.ts';
import type { AsteriskModule } from '../asterisk/index.ts';
import { AriError } from '../asterisk/index.ts';
import { KeyedQueue } from '../asterisk/ordered.ts';
import { converts, wholeSeconds } from '../cdr/money.ts';
import { cdrOf } from '../cdr/record.ts';
import type { CdrWriter } from '../cdr/writer.ts';
import type { Logger } from '../platform/logger.ts';
import {
  type CallEvent,
  type CallState,
  type Effect,
  type HangupReason,
  type Refusal,
  step,
} from './call.ts';
import { recordSig } from './call-record.ts';
import type { CallStore } from './call-store.ts';
import type { CallerScreen } from './callers.ts';
import { AsteriskCleanup, noAnswer } from './cleanup.ts';
import type { HoldQueue } from './queue.ts';
import { QueueWaiters, type TurnCause } from './queue-waiters.ts';
import { dialString, type RouteCatalog } from './catalog.ts';
import { capBuckets, capSources, concurrencyAt, nextCandidates, unavailableLinks } from './decide.ts';
import type { RoutingMetrics } from './metrics.ts';
import { outcomeOf } from './outcome.ts';
import type { SlotRef, SlotStore } from './slots.ts';

/**
 * Channel variables every client leg is created with (list them in ari.conf `channelvars` so they
 * show in events and `GET /channels`): the call it belongs to, the Stasis app that owns that call,
 * and the caller's channel. With them an instance restarted after a crash finds the calls it left
 * in Asterisk and takes them over (reconcile.ts); Asterisk keeps an app's channels when its
 * WebSocket goes away.
 */
export const CALL_ID_VAR = 'CAPCONDUIT_CALL_ID';
export const OWNER_VAR = 'CAPCONDUIT_OWNER';
export const CALLER_VAR = 'CAPCONDUIT_CALLER';
/** How many finished call ids are remembered, so a late listing of their channels is not taken for orphans. */
const FINISHED_MEMORY = 10_000;

export interface CallRuntime {
  state: CallState;
  /** What of the state was last written to Redis (call-record.ts recordSig); unset: nothing yet. */
  saved?: string;
  /** The record's fields as the last write left them (the next write sends what differs); unset: write all. */
  written?: Record<string, string>;
  /** Our own ring timer: Asterisk reports a dial timeout only as ChannelDestroyed, if at all. */
  ringTimer?: NodeJS.Timeout;
  /** Hold queue: the end of the wait, the slow poll for a wake-up lost, and why the next turn runs. */
  queueTimer?: NodeJS.Timeout;
  queuePoll?: NodeJS.Timeout;
  turnCause?: TurnCause;
  /** Maximum call length, only when Asterisk could not be told to enforce it: our own hangup. */
  limitTimer?: NodeJS.Timeout;
  /** Slots (ids) whose answer Redis confirmed counting: what a restore after a data loss puts back as used. */
  counted?: Set<string>;
  /** The caller's ringing asked of Asterisk and not answered yet: later requests to the caller wait for it. */
  ringing?: Promise<void>;
  /** Call recording: segments asked of Asterisk and not ended yet, and what the ended ones add up to. */
  recording?: { name: string; pending: number; finished: number; seconds: number; settled?: () => void };
}

/** Recordings are WAV (8 kHz signed linear in Asterisk): what any player and browser can play. */
export const RECORDING_FORMAT = 'wav';
/** How long a finishing call waits for Asterisk to say its recording ended (its length goes on the CDR). */
const RECORDING_WAIT_MS = 3000;

/** The dialplan function whose `absolute` timeout makes Asterisk hang a channel up by itself. */
export const ABSOLUTE_TIMEOUT = 'TIMEOUT(absolute)';

/**
 * How often a waiting call looks for a free slot by itself (one Redis round trip): only for a
 * wake-up lost (a subscription reconnecting), or a slot that freed without a release (a cap raised,
 * an hour whose concurrency is higher). Wake-ups serve the rest (queue.ts).
 */
export const QUEUE_SAFETY_POLL_MS = 2000;

export interface EffectDeps {
  asterisk: AsteriskModule;
  slots: SlotStore;
  catalog: RouteCatalog;
  screen: CallerScreen;
  queue: HoldQueue;
  cdr: CdrWriter;
  /** Live calls' state in Redis, for a takeover should this instance die. */
  store: CallStore;
  alerts?: RoutingAlerts | undefined;
  log: Logger;
  metrics: RoutingMetrics;
  defaultTimezone: string;
  now: () => number;
  /** The hold queue's safety poll (ms; default QUEUE_SAFETY_POLL_MS). */
  queuePollMs?: number | undefined;
}

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

/** A channel that is gone, or not (or no longer) in our app: the request's purpose is moot. */
export function isGoneOrElsewhere(err: unknown): boolean {
  return err instanceof AriError && (err.status === 404 || err.status === 409 || err.status === 422);
}

/** Notes that Redis counted this slot's answer (in the caps and the totals). */
function countedAnswer(call: CallRuntime, slotId: string): void {
  call.counted ??= new Set();
  call.counted.add(slotId);
}

export class CallRunner {
  readonly calls = new Map<string, CallRuntime>(); // callId -> call
  readonly byChannel = new Map<string, string>(); // channel id (caller or leg) -> callId
  private queue: KeyedQueue;
  private releases: SlotRetrier;
  /** Hangups and bridge destructions Asterisk did not answer, tried again until it does. */
  readonly cleanup: AsteriskCleanup;
  /** Calls finished lately, and when. */
  private finished = new Map<string, number>();
  /** Caller channels of calls finished lately: a late listing of one is not a caller to route. */
  private endedCallers = new Set<string>();
  /** Calls finished here because another instance had taken them over: their legs are not ours. */
  private lost = new Set<string>();
  /** Calls by recording name (the call id), kept past the call's end until its recording ended. */
  private recordings = new Map<string, CallRuntime>();
  /** This instance's calls in hold queues, woken when a slot frees anywhere. */
  private waiters: QueueWaiters;

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
    );
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

  /** Takes a new call in hand and runs its first effects. */
  start(state: CallState, effects: Effect[]): void {
    const callId = state.callId;
    const call: CallRuntime = { state };
    this.calls.set(callId, call);
    this.byChannel.set(state.callerChannelId, callId);
    void this.queue
      .run(callId, async () => {
        await this.save(call);
        await this.runEffects(callId, effects);
      })
      .catch(() => {});
  }

  /**
   * Takes in hand a call this instance did not start (found in Asterisk after a restart): its state
   * as rebuilt from Asterisk and Redis, effects to run first, then the event that settles it.
   */
  adopt(state: CallState, effects: Effect[], then: CallEvent | null): void {
    const callId = state.callId;
    const call: CallRuntime = { state };
    this.calls.set(callId, call);
    if (state.callerChannelId) this.byChannel.set(state.callerChannelId, callId);
    for (const a of state.attempts) this.byChannel.set(a.legId, callId);
    void this.queue
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
    const rec = this.recordings.get(name)?.recording;
    if (!rec || rec.pending <= 0) return;
    rec.pending--;
    if (durationS !== null) {
      rec.finished++;
      rec.seconds += Math.max(0, Math.round(durationS));
    }
    if (!rec.pending) rec.settled?.();
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
    let slots = 0;
    let calls = 0;
    // Alive first: a record put back without its owner's heartbeat would look like a dead one's.
    await this.d.store.beat();
    for (const call of this.calls.values()) {
      const s = call.state;
      if (s.phase === 'ended') continue;
      calls++;
      for (const a of s.attempts) {
        if (a.endedAt || !a.slot.linkId) continue;
        try {
          // An answer Redis counted (in the caps and the totals) comes back as a use. One it has
          // not (still to come, or met the slot gone with the data) comes back taken and is counted
          // now, once (answering is once only, whoever comes first). A link counting conversions
          // decides at the release, as ever.
          const counted = call.counted?.has(a.slot.slotId) ?? false;
          const state = a.answeredAt && counted ? 'answered' : 'taken';
          if (await this.d.slots.restore(a.slot, state)) slots++;
          if (
            a.answeredAt &&
            !counted &&
            !countsConversions(s, a.linkId) &&
            (await this.d.slots.answer(a.slot))
          )
            countedAnswer(call, a.slot.slotId);
        } catch (err) {
          this.d.log.error({ callId: s.callId, err: (err as Error).message }, 'slot not put back');
        }
      }
      call.saved = undefined;
      call.written = undefined;
      await this.save(call);
      const camp = s.plan?.campaign;
      if (s.phase === 'queued' && camp?.queueS) {
        await this.d.queue.join(camp.id, s.callId, s.startedAt, camp.queueS).catch(() => {});
        this.waiters.add(camp.id, s.callId, waitedLinks(s));
      }
    }
    return { calls, slots };
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
      if (call && effects.length) await this.save(call);
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
        // Could not wait (Redis, or the caller went): the wait ends now, the way a timeout does.
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

  private ari(call: CallRuntime) {
    const node = this.d.asterisk.nodes.get(call.state.nodeId);
    if (!node) throw new Error(`unknown node ${call.state.nodeId}`);
    return node.ari;
  }

  private async perform(call: CallRuntime, fx: Effect): Promise<CallEvent | null> {
    const s = call.state;
    const callId = s.callId;
    switch (fx.type) {
      case 'load_plan':
        return { type: 'plan_loaded', plan: await this.d.catalog.plan(fx.did), at: this.d.now() };
      case 'check_duplicate':
        return {
          type: 'duplicate_checked',
          lastClient: await this.d.slots.lastClientOf(fx.campaignId, fx.callerNumber),
          at: this.d.now(),
        };
      case 'screen_caller': {
        const blocked = fx.blocklist && (await this.d.screen.blocked(fx.sellerId, fx.callerNumber));
        const refused = blocked
          ? 'blocked'
          : fx.repeatWindowS &&
              (await this.d.screen.repeated(fx.campaignId, fx.callerNumber, fx.repeatWindowS))
            ? 'repeat'
            : null;
        return { type: 'caller_screened', refused, at: this.d.now() };
      }
      case 'try_next':
        return this.takeNextSlot(s);
      case 'create_leg': {
        // Before the REST call: the leg's events may beat the response.
        this.byChannel.set(fx.legId, callId);
        await this.ari(call).channels.create({
          endpoint: dialString(fx.endpoint),
          app: s.app,
          channelId: fx.legId,
          appArgs: `leg,${callId}`,
          variables: { [CALL_ID_VAR]: callId, [OWNER_VAR]: s.app, [CALLER_VAR]: s.callerChannelId },
        });
        return null;
      }
      case 'dial': {
        this.d.metrics.decision.observe((this.d.now() - s.startedAt) / 1000);
        clearTimeout(call.ringTimer);
        call.ringTimer = setTimeout(
          () => this.feedChannel(fx.legId, { type: 'ring_timeout', legId: fx.legId, at: this.d.now() }),
          fx.timeoutS * 1000,
        );
        call.ringTimer.unref();
        const ari = this.ari(call);
        try {
          await ari.channels.dial(fx.legId, { timeout: fx.timeoutS, caller: s.callerChannelId });
        } catch (err) {
          this.d.log.warn({ callId, err: (err as Error).message }, 'dial failed');
          // Its ChannelDestroyed ends the attempt (and frees the slot) as any leg's end does.
          await this.cleanup.hangup(s.nodeId, fx.legId, 'congestion');
        }
        return null;
      }
      case 'hangup':
        if (fx.channelId !== s.callerChannelId) clearTimeout(call.ringTimer);
        // On the cleanup lane, and tried until Asterisk confirms it: a shed caller's hangup must
        // not wait behind the backlog that made us shed, and no channel is left up when it fails.
        await this.cleanup.hangup(s.nodeId, fx.channelId, fx.reason);
        return null;
      case 'answer_caller':
        clearTimeout(call.ringTimer);
        await this.ari(call)
          .channels.answer(s.callerChannelId)
          .catch((e: unknown) => {
            if (!isGoneOrElsewhere(e)) throw e;
          });
        return null;
      case 'bridge': {
        const ari = this.ari(call);
        // A caller sent on by revenue recovery or out of the hold queue hears Asterisk's ring tone
        // until now (answered: the tone is in-band).
        if (s.reroutes || s.queued) await ari.channels.ringStop(s.callerChannelId).catch(() => {});
        try {
          await ari.bridges.create({ bridgeId: callId, type: 'mixing' });
          await ari.bridges.addChannel(callId, [s.callerChannelId, fx.legId]);
        } catch (err) {
          // Either party may hang up before the bridge is made (Asterisk answers 400 for a channel
          // that no longer exists); its ChannelDestroyed is queued behind us and ends the call. Any
          // other failure leaves two answered parties apart: hang both up rather than leave them.
          if (err instanceof AriError && [400, 404, 409, 422].includes(err.status)) return null;
          this.d.log.error({ callId, err: (err as Error).message }, 'bridge failed; hanging up the call');
          // A create with no answer may have made the bridge: destroyed once Asterisk answers.
          if (noAnswer(err)) void this.cleanup.destroyBridge(s.nodeId, callId, { ordered: true });
          await this.hangupSurely(s.nodeId, fx.legId, 'normal');
          await this.hangupSurely(s.nodeId, s.callerChannelId, 'normal');
        }
        return null;
      }
      case 'mark_answered': {
        // The use first: the CDR will say answered, and the caps and totals must count it (a failure
        // is retried until Redis answers, see onFailure). A link whose caps count conversions keeps
        // the slot's reservation as it is (refunded on release unless the call converted, see
        // `release`); others count the answer now.
        if (!countsConversions(s, fx.linkId) && (await this.d.slots.answer(fx.slot)))
          countedAnswer(call, fx.slot.slotId);
        if (fx.remember)
          await this.d.slots.rememberCaller(
            fx.remember.campaignId,
            fx.remember.callerNumber,
            fx.remember.clientId,
            fx.remember.windowH,
          );
        return null;
      }
      case 'release': {
        // Its leg's hangup got no answer: the slot goes back once Asterisk says the leg is gone
        // (released now, the next call could take it while this leg is still up).
        const legUp = this.cleanup.holds(fx.legId);
        if (this.releases.has(fx.slot)) {
          // Its answer still waits for Redis: the release goes after it, never before.
          this.releases.add(fx.slot, {
            answer: convertedOnConversionLink(s, fx.legId, this.d.now()),
            release: !legUp,
          });
          if (legUp) this.cleanup.releaseWhenGone(fx.legId, fx.slot);
          return null;
        }
        if (convertedOnConversionLink(s, fx.legId, this.d.now())) {
          // The conversion becomes a use of the caps before the slot goes back (no refund).
          await this.d.slots.answer(fx.slot);
        }
        if (this.cleanup.releaseWhenGone(fx.legId, fx.slot)) return null;
        await this.d.slots.release(fx.slot);
        return null;
      }
      case 'load_default_campaign':
        return {
          type: 'default_plan_loaded',
          plan: await this.d.catalog.planVia(fx.did, fx.campaignId),
          at: this.d.now(),
        };
      case 'continue_dialplan':
        await this.ari(call).channels.continueInDialplan(s.callerChannelId, {
          context: fx.context,
          extension: fx.extension,
          priority: fx.priority,
        });
        return null;
      case 'play_message': {
        // Answered first (a message to an unanswered caller is early media at best); the
        // playback's PlaybackFinished (stasis.ts) says when to hang up.
        const ari = this.ari(call);
        await ari.channels.answer(s.callerChannelId);
        await ari.channels.play(s.callerChannelId, `${callId}-message`, fx.media);
        return null;
      }
      case 'enqueue': {
        const ari = this.ari(call);
        // Heard before joining: a slot that frees once the call is in line wakes it.
        this.waiters.add(fx.campaignId, callId, waitedLinks(s));
        await this.d.queue.join(fx.campaignId, callId, this.d.now(), fx.timeoutS);
        call.queueTimer = setTimeout(
          () => void this.feed(callId, { type: 'queue_timeout', at: this.d.now() }),
          fx.timeoutS * 1000,
        );
        call.queueTimer.unref();
        call.queuePoll = setInterval(
          () => void this.queueTurn(callId, 'poll'),
          this.d.queuePollMs ?? QUEUE_SAFETY_POLL_MS,
        );
        call.queuePoll.unref();
        await ari.channels.answer(s.callerChannelId);
        await ari.channels.startMoh(s.callerChannelId);
        // A slot that freed between the refusal and the join was announced before anyone here
        // waited for it: one look now.
        call.turnCause = 'join';
        return { type: 'queue_poll', at: this.d.now() };
      }
      case 'queue_try': {
        const by = call.turnCause ?? 'poll';
        const wait = s.plan?.campaign?.queueS ?? 0;
        const first = await this.d.queue.isFirst(fx.campaignId, callId, this.d.now(), wait);
        const next = first ? await this.takeNextSlot(s) : null;
        this.d.metrics.queueTurns.inc({ by });
        if (next?.type !== 'attempt') return null; // none free yet: the next turn tries again
        this.d.metrics.queueServed.inc({ by });
        return next;
      }
      case 'dequeue': {
        this.stopQueueTimers(call);
        this.waiters.remove(fx.campaignId, callId);
        await this.d.queue.leave(fx.campaignId, callId);
        await this.ari(call)
          .channels.stopMoh(s.callerChannelId)
          .catch((e: unknown) => {
            if (!isGoneOrElsewhere(e)) throw e;
          });
        return null;
      }
      case 'ring_caller': {
        // Not waited for: the routing decision goes on meanwhile (see runEffects for the order).
        // Over HTTP: on the events WebSocket, which Asterisk serves one request at a time, it would
        // sit ahead of the decision's leg create and dial and delay every call by one request.
        const ringing: Promise<void> = this.ari(call)
          .channels.ring(s.callerChannelId, { lane: 'http' })
          .catch((err: unknown) => {
            if (isGoneOrElsewhere(err)) return;
            this.d.metrics.effectFailures.inc({ effect: 'ring_caller' });
            this.d.log.warn({ callId, err: (err as Error).message }, 'caller not rung');
          })
          .finally(() => {
            if (call.ringing === ringing) call.ringing = undefined;
          });
        call.ringing = ringing;
        return null;
      }
      case 'recover_caller': {
        // Out of the bridge (it is made again for the next client), then ringback: the caller, still
        // answered, hears ringing (Asterisk plays the indication's tone in-band on an answered channel).
        const ari = this.ari(call);
        await ari.bridges.destroy(callId).catch((e: unknown) => {
          if (!isGoneOrElsewhere(e)) throw e;
        });
        await ari.channels.ring(s.callerChannelId).catch((e: unknown) => {
          if (!isGoneOrElsewhere(e)) throw e;
        });
        return null;
      }
      case 'record': {
        // Appended to the call's one recording: a revenue recovery records the next client's
        // bridge under the same name.
        await this.ari(call).bridges.record(callId, {
          name: callId,
          format: RECORDING_FORMAT,
          ifExists: 'append',
        });
        call.recording ??= { name: callId, pending: 0, finished: 0, seconds: 0 };
        call.recording.pending++;
        this.recordings.set(callId, call);
        return null;
      }
      case 'track_recording': {
        const live = await this.ari(call)
          .recordings.getLive(callId)
          .then(
            () => true,
            (e: unknown) => {
              if (isGoneOrElsewhere(e)) return false;
              throw e;
            },
          );
        if (!live) return this.perform(call, { type: 'record' });
        call.recording ??= { name: callId, pending: 0, finished: 0, seconds: 0 };
        call.recording.pending++;
        this.recordings.set(callId, call);
        return null;
      }
      case 'limit_length': {
        const ari = this.ari(call);
        // One request per channel: Asterisk hangs each up by itself when its time comes.
        // A channel gone meanwhile needs no limit (its call is ending); other failures fall back below.
        await Promise.all(
          fx.channels.map((id) =>
            ari.channels.setVariable(id, ABSOLUTE_TIMEOUT, String(fx.seconds)).catch((e: unknown) => {
              if (!isGoneOrElsewhere(e)) throw e;
            }),
          ),
        );
        return null;
      }
      case 'finish':
        await this.finish(call);
        return null;
    }
  }

  /** Takes the next eligible link's slot (atomic in Redis): `attempt`, or `no_candidate` when none is left. */
  private async takeNextSlot(s: CallState): Promise<CallEvent> {
    const plan = s.plan;
    const now = this.d.now();
    // The node fell behind since the call arrived: no slot is taken for a leg whose create would
    // only join the line of requests Asterisk has not served (shed, as a new call would be).
    if (this.d.asterisk.nodes.get(s.nodeId)?.overloaded())
      return { type: 'no_candidate', reason: 'shed', at: now };
    if (!plan?.campaign) return { type: 'no_candidate', reason: 'no_client', at: now };
    const at = new Date(now);
    const strategy = plan.campaign.strategy;
    const eligible = nextCandidates(s, at, this.d.defaultTimezone, 0);
    const rr =
      strategy === 'round_robin' && eligible.length > 1
        ? await this.d.slots.nextRoundRobin(plan.campaign.id)
        : 0;
    const ordered = rr ? nextCandidates(s, at, this.d.defaultTimezone, rr) : eligible;
    const tried: string[] = [];
    // Links that could not take the call, and why: switched off, closed now, or capped (below).
    const refused: Refusal[] = unavailableLinks(plan, at, this.d.defaultTimezone);
    // A seller's, DID's or group's cap refuses every link counted against it: the links after the
    // first refusal are refused without a script call each.
    const blocked = new Map<string, Refusal['reason']>();
    for (const l of ordered) {
      tried.push(l.linkId);
      const legId = `${s.callId}-${s.attempts.length + 1}`;
      const tz = l.timezone ?? this.d.defaultTimezone;
      const src = capSources(plan, l, at, this.d.defaultTimezone);
      const gone = src.refs.find((o) => blocked.has(`${o.kind}:${o.id}`));
      if (gone) {
        refused.push({
          linkId: l.linkId,
          clientId: l.clientId,
          reason: blocked.get(`${gone.kind}:${gone.id}`)!,
        });
        continue;
      }
      const slot: SlotRef = {
        linkId: l.linkId,
        slotId: legId,
        buckets: capBuckets(tz, at),
        nodeId: s.nodeId,
        ...(src.refs.length ? { sources: src.refs } : {}),
      };
      const caps = l.concurrencySchedule
        ? { ...l.caps, concurrency: concurrencyAt(l.caps.concurrency, l.concurrencySchedule, tz, at) }
        : l.caps;
      const r = await this.d.slots.take(slot, caps, now, l.totalAnswered, src.limits);
      if (r !== 'taken') {
        refused.push({ linkId: l.linkId, clientId: l.clientId, reason: r });
        const owner = src.refs.find((o) => r.startsWith(`${o.kind}_`));
        if (owner) blocked.set(`${owner.kind}:${owner.id}`, r);
        continue;
      }
      return {
        type: 'attempt',
        linkId: l.linkId,
        clientId: l.clientId,
        legId,
        slot,
        endpoint: l.endpoint,
        tried,
        refused,
        at: this.d.now(),
      };
    }
    return { type: 'no_candidate', reason: 'no_client', tried, refused, at: this.d.now() };
  }

  /**
   * The call's recording once Asterisk says it ended (the bridge is gone by now, which ends it), or
   * after RECORDING_WAIT_MS at most; null when nothing was recorded (no recording, or every part failed).
   */
  private async recordingOf(call: CallRuntime): Promise<{ name: string; durationS: number } | null> {
    const rec = call.recording;
    if (!rec) return null;
    if (rec.pending > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        rec.settled = resolve;
        timer = setTimeout(resolve, RECORDING_WAIT_MS);
      });
      clearTimeout(timer);
      if (rec.pending > 0)
        this.d.log.warn({ callId: call.state.callId }, 'recording not ended in time; its length is unknown');
    }
    this.recordings.delete(rec.name);
    return rec.finished || rec.pending ? { name: rec.name, durationS: rec.seconds } : null;
  }

  /** The call no longer waits here (left the queue, or finished). */
  private stopQueueTimers(call: CallRuntime): void {
    clearTimeout(call.queueTimer);
    clearInterval(call.queuePoll);
    const campaignId = call.state.plan?.campaign?.id;
    if (campaignId) this.waiters.remove(campaignId, call.state.callId);
  }

  private async finish(call: CallRuntime): Promise<void> {
    const s = call.state;
    clearTimeout(call.ringTimer);
    clearTimeout(call.limitTimer);
    this.stopQueueTimers(call);
    // Forget the call first: whatever fails below, nothing is left to count its slots as live.
    this.calls.delete(s.callId);
    remember(this.finished, s.callId, Date.now());
    if (s.callerChannelId) remember(this.endedCallers, s.callerChannelId);
    this.byChannel.delete(s.callerChannelId);
    for (const a of s.attempts) this.byChannel.delete(a.legId);
    // Redis unreachable: write the CDR anyway (a call must get one; its id keeps it from counting twice).
    const ours = await this.d.store.ending(s.callId).catch((err: unknown) => {
      this.stateFailed('end', err);
      return true;
    });
    if (!ours) {
      // This instance stalled past its heartbeat and another took the call over: the CDR is theirs.
      this.d.metrics.takenOver.inc({ as: 'lost_to_another' });
      remember(this.lost, s.callId);
      this.d.log.warn({ callId: s.callId }, 'call was taken over by another instance; not writing its CDR');
      if (call.recording) this.recordings.delete(call.recording.name);
      return;
    }
    const disposition = s.disposition ?? 'error';
    this.d.metrics.routed.inc({ disposition });
    if (disposition !== 'answered') this.d.metrics.rejected.inc({ reason: disposition });
    // On the cleanup lane, tried until Asterisk confirms it (a bridge whose create got no answer is
    // pending already, behind its create).
    if (s.answeredAt) await this.cleanup.destroyBridge(s.nodeId, s.callId);
    const rec = await this.recordingOf(call);
    await this.d.cdr.write(cdrOf({ ...outcomeOf(s), recording: rec }, this.d.now()));
    await this.d.store.forget(s.callId, s.nodeId).catch((err: unknown) => this.stateFailed('forget', err));
    this.d.alerts?.callFinished(s, new Date(this.d.now()));
  }
}

/**
 * Slot operations that failed (Redis unreachable) are tried again, with growing pauses, until Redis
 * answers, in their order per slot: a slot's answer before its release (a release first would refund
 * the use the CDR counts as answered). A slot left taken would count against the link's cap until its
 * TTL (hours); an answer lost would leave the totals short of the answered CDRs.
 */
class SlotRetrier {
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

/** Adds to a bounded memory of recent ids (the oldest goes first). */
function remember(set: Set<string>, id: string): void;
function remember(map: Map<string, number>, id: string, at: number): void;
function remember(m: Set<string> | Map<string, number>, id: string, at?: number): void {
  if (m instanceof Map) m.set(id, at ?? 0);
  else m.add(id);
  if (m.size > FINISHED_MEMORY) m.delete(m.keys().next().value!);
}

/** The links a waiting call may still be offered (those it has not tried: the capped ones). */
function waitedLinks(s: CallState): string[] {
  const tried = new Set(s.tried);
  return (s.plan?.links ?? []).map((l) => l.linkId).filter((l) => !tried.has(l));
}

/** Whether the link's hourly/daily/monthly/total caps count converted calls rather than answered ones. */
function countsConversions(s: CallState, linkId: string): boolean {
  return s.plan?.links.find((l) => l.linkId === linkId)?.capsCount === 'converted';
}

/** An attempt (by leg) on a link counting conversions that answered and talked long enough to convert. */
function convertedOnConversionLink(s: CallState, legId: string, now: number): boolean {
  const a = s.attempts.find((x) => x.legId === legId);
  if (!a?.answeredAt || a.result !== 'answered' || a.shortAnswer) return false;
  const link = s.plan?.links.find((l) => l.linkId === a.linkId);
  if (link?.capsCount !== 'converted' || !link.money) return false;
  return converts(wholeSeconds((a.endedAt ?? now) - a.answeredAt), true, link.money.convertAfterS);
}
