// What the effect performers share with the runner (../effects.ts): a call's runtime, the runner's
// dependencies, and the context each performer family is handed. Every performer runs inside its
// call's queue turn, through the runner's one loop; it reads and changes the call's runtime and the
// runner's maps through this context, never by reaching into the runner.
import type { Admission } from '../admission.ts';
import type { RoutingAlerts } from '../alerts.ts';
import type { AsteriskModule } from '../../asterisk/index.ts';
import { AriError } from '../../asterisk/index.ts';
import type { CdrWriter } from '../../cdr/writer.ts';
import type { Logger } from '../../platform/logger.ts';
import type { RecentIds } from '../../platform/recent.ts';
import type { CallEvent, CallState, Effect, HangupReason } from '../call.ts';
import type { CallStore } from '../call-store.ts';
import type { CallerScreen } from '../callers.ts';
import type { AsteriskCleanup } from '../cleanup.ts';
import type { HoldQueue, OwnerId } from '../queue.ts';
import type { AtTimer, QueueWaiters, TurnCause } from '../queue-waiters.ts';
import type { RouteCatalog } from '../catalog.ts';
import type { RoutingMetrics } from '../metrics.ts';
import type { SlotStore } from '../slots.ts';
import type { SlotRetrier } from './slot-retrier.ts';

export interface CallRuntime {
  state: CallState;
  /** What of the state was last written to Redis (call-record.ts recordSig); unset: nothing yet. */
  saved?: string;
  /** The record's fields as the last write left them (the next write sends what differs); unset: write all. */
  written?: Record<string, string>;
  /**
   * The call's record write still unanswered, that the effects of AHEAD_OF_SAVE (effects.ts) do not
   * wait for (their Redis commands travel behind it on the same connection); every other effect does.
   */
  unanswered?: Promise<void>;
  /** Our own ring timer: Asterisk reports a dial timeout only as ChannelDestroyed, if at all. */
  ringTimer?: NodeJS.Timeout;
  /** Hold queue: the end of the wait, the slow poll for a wake-up lost, and why the next turn runs. */
  queueTimer?: NodeJS.Timeout;
  queuePoll?: NodeJS.Timeout;
  turnCause?: TurnCause;
  /** Hold queue: the lines it has yet to join (Redis was away when it began to wait), and as of when. */
  unjoined?: {
    linkIds: readonly string[];
    at: number;
    timeoutS: number;
    owners: readonly OwnerId[];
    /** A join failed already (said once in the log). */
    failed?: boolean;
  };
  /** Maximum call length, only when Asterisk could not be told to enforce it: our own hangup. */
  limitTimer?: NodeJS.Timeout;
  /** Slots (ids) whose answer Redis confirmed counting: what a restore after a data loss puts back as used. */
  counted?: Set<string>;
  /** The caller's ringing asked of Asterisk and not answered yet: later requests to the caller wait for it. */
  ringing?: Promise<void>;
  /** Call recording: segments asked of Asterisk and not ended yet, and what the ended ones add up to. */
  recording?: {
    name: string;
    pending: number;
    finished: number;
    seconds: number;
    settled?: () => void;
    /**
     * Taken over: parts recorded before (their RecordingFinished went to the dead owner) are only
     * known from the stored file, whose length is then the recording's.
     */
    fromFile?: boolean;
  };
}

export interface EffectDeps {
  asterisk: AsteriskModule;
  slots: SlotStore;
  catalog: RouteCatalog;
  screen: CallerScreen;
  queue: HoldQueue;
  cdr: CdrWriter;
  /** Live calls' state in Redis and the instance heartbeat, for a takeover should this instance die. */
  store: CallStore;
  /** Webhook alerts of finished calls (caps reached, calls not routed); none: no alerts. */
  alerts?: RoutingAlerts | undefined;
  log: Logger;
  metrics: RoutingMetrics;
  /** Whether a new call is shed (a node or this process behind). */
  admission: Admission;
  defaultTimezone: string;
  now: () => number;
  /** Runs a function at a moment of the routing clock (the hold queue's hour wake-up); default: a timer. */
  hourTimer?: AtTimer | undefined;
  /** The hold queue's safety poll (ms; default QUEUE_SAFETY_POLL_MS). */
  queuePollMs?: number | undefined;
  /**
   * Of these slots, those whose answer PostgreSQL's totals hold (after Redis lost its data, a live
   * call's answer counted in Redis but not yet there is counted again). None: taken as all held.
   */
  answersApplied?: ((slotIds: string[]) => Promise<Set<string>>) | undefined;
}

/** The runner's state and operations the performers use (the runner builds one and hands it to each). */
export interface EffectContext {
  d: EffectDeps;
  /** Live calls by id, and the call each channel (caller or leg) belongs to. */
  calls: Map<string, CallRuntime>;
  byChannel: Map<string, string>;
  /** Hangups and bridge destructions Asterisk did not answer, tried again until it does. */
  cleanup: AsteriskCleanup;
  /** Slot answers and releases Redis did not answer, tried again until it does. */
  releases: SlotRetrier;
  /** This instance's calls in hold queues, woken when a slot frees anywhere. */
  waiters: QueueWaiters;
  /** Calls by recording name (the call id), kept past the call's end until its recording ended. */
  recordings: Map<string, CallRuntime>;
  /** Calls finished lately, and when. */
  finished: RecentIds<number>;
  /** Caller channels of calls finished lately: a late listing of one is not a caller to route. */
  endedCallers: RecentIds;
  /** Calls finished here because another instance had taken them over: their legs are not ours. */
  lost: RecentIds;
  feed(callId: string, e: CallEvent): Promise<void>;
  feedChannel(channelId: string, e: CallEvent): void;
  queueTurn(callId: string, cause: TurnCause): Promise<void>;
  hangupSurely(nodeId: string, channelId: string, reason: HangupReason): Promise<void>;
  /** A failed write of call state to Redis: counted, and logged once per outage. */
  stateFailed(op: string, err: unknown): void;
}

/** One effect type's shape (what a performer of that type receives). */
export type EffectOf<T extends Effect['type']> = Extract<Effect, { type: T }>;

/** A channel that is gone, or not (or no longer) in our app: the request's purpose is moot. */
export function isGoneOrElsewhere(err: unknown): boolean {
  return err instanceof AriError && (err.status === 404 || err.status === 409 || err.status === 422);
}

/** The ARI client of the node the call is on. */
export function ariOf(ctx: EffectContext, call: CallRuntime) {
  const node = ctx.d.asterisk.nodes.get(call.state.nodeId);
  if (!node) throw new Error(`unknown node ${call.state.nodeId}`);
  return node.ari;
}
