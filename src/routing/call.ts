// One inbound call as an explicit state machine. `step` is pure: (state, event) -> next state and
// the effects to perform. Everything the call decides on is in its state (the plan it is routed by,
// the links tried, the slot each attempt holds, the client a returning caller prefers), so nothing
// outside changes a call but an event. Effects that do I/O answer with the next event (effects.ts
// runs them), which keeps failover a loop of events instead of a recursion through the executor.
// (Over 400 lines: the whole machine is one switch, and its transitions read best side by side.)
import type { DefaultRoute } from '../db/schema/routing.ts';
import type { RoutePlan } from './catalog.ts';
import { isAnonymous, placeAllowed } from './screen.ts';
import type { CapReason, SlotRef } from './slots.ts';

/** `message`: the default route's recorded message is playing to the caller. */
/** `queued`: every eligible link at a concurrency cap (its own or an owner's); the caller waits on hold. */
/** `dialplan`: sent on to a dialplan context (the default route); the call ends when the caller does. */
export type CallPhase =
  | 'routing'
  | 'dialing'
  | 'ringing'
  | 'bridged'
  | 'message'
  | 'queued'
  | 'dialplan'
  | 'ended';

export interface Attempt {
  linkId: string;
  clientId: string;
  legId: string;
  /** The link slot this attempt holds (released exactly once when the attempt ends). */
  slot: SlotRef;
  startedAt: number;
  answeredAt?: number;
  endedAt?: number;
  result?: 'answered' | 'busy' | 'no_answer' | 'congestion' | 'unavailable' | 'failed' | 'cancelled';
  /** Revenue recovery: answered, but the client hung up within the link's window and the caller went on. */
  shortAnswer?: boolean;
}

export interface CallState {
  callId: string;
  /** The caller's channel id (our call id is a different thing). */
  callerChannelId: string;
  nodeId: string;
  app: string;
  did: string;
  callerNumber: string;
  startedAt: number;
  /** undefined until loaded; null for a DID we do not know. */
  plan?: RoutePlan | null;
  phase: CallPhase;
  attempts: Attempt[];
  /** Links already offered this call (taken, or refused by their caps): never offered twice. */
  tried: string[];
  /** Duplicate caller within the campaign window: the client that answered them last. */
  preferClient: string | null;
  /** Links of the plan that took no part, and why (the latest reason per link), for the CDR. */
  refused: Refusal[];
  maxAttempts: number;
  answeredAt?: number;
  endedAt?: number;
  disposition?: Disposition;
  cause?: number;
  /** The client leg is in Stasis (a bridge add before its StasisStart fails with 422). */
  legInStasis: boolean;
  /** The campaign's default route, once taken (`campaign:<id>`, `context:<name>`, `message`): taken once. */
  defaultRoute?: string;
  /** The DID's own campaign, when a default route moved the call to another one. */
  homeCampaignId?: string;
  /** Revenue recovery: how many times the caller was sent on after a short answer. */
  reroutes?: number;
  /** Hold queue: the call waited (once per call). */
  queued?: boolean;
  /**
   * When we answered the caller: the carrier bills the caller's leg from then (hold music, the default
   * route's message, a client's answer; the first of them).
   */
  callerAnsweredAt?: number;
  /** Default route to a dialplan context: when the caller left our app for it. */
  handedOffAt?: number;
  /** Hold queue: the links whose lines it joined (those that refused it for their concurrency). */
  waitLinks?: string[];
  /** How an answered call ended: who hung up, or the campaign's maximum call length cut it. */
  endReason?: EndReason;
}

export type EndReason = 'caller_hangup' | 'client_hangup' | 'max_length';

export type Disposition =
  | 'answered'
  | 'unknown_did'
  | 'inactive_campaign'
  // the DID's seller is archived or switched off, or the DID is switched off: nothing of its plan is
  // considered
  | 'seller_archived'
  | 'seller_inactive'
  | 'did_inactive'
  | 'no_client'
  | 'all_failed'
  | 'caller_abandoned'
  | 'duplicate_rejected'
  // refused by the campaign's caller filters, before any link was considered
  | 'anonymous_rejected'
  | 'region_rejected'
  | 'blocked_rejected'
  | 'repeat_rejected'
  // every link capped, closed or off: the call went to the campaign's dialplan context or message
  | 'default_route'
  // waited in the hold queue for its whole time and no slot freed (and no default route)
  | 'queue_timeout'
  | 'shed' // refused at once: Asterisk had fallen behind our requests (back-pressure)
  // Its instance died (kill -9, crash) and the call ended before another took it over: its
  // channels were gone when found. The CDR is built from the state kept in Redis.
  | 'ended_unattended'
  // Its caller entered our app and hung up while no instance ran, unseen by all: nothing of it was
  // left but Asterisk's own CDR, which it is built from (unseen.ts).
  | 'ended_unseen'
  // Its instance died while the caller waited in our app without a client leg (deciding, queued),
  // and by the time another took it over the caller had waited past the call's ring budget.
  | 'unattended_timeout'
  | 'error';

/**
 * Why a link was not offered the call: switched off, closed by schedule, a cap reached — the
 * link's own (`concurrency`, `hourly`, ...) or its seller's, DID's or buyer group's
 * (`seller_concurrency`, `did_daily`, `group_hourly`, ...) — or `waiting`: callers who came first
 * wait in its hold queue, and its free slot is theirs.
 */
export interface Refusal {
  linkId: string;
  clientId: string;
  reason: 'inactive' | 'closed' | CapReason | 'duplicate' | 'waiting';
}

export type NoCandidateReason =
  | 'shed' // the node fell behind before a slot was taken: refused as a new call would be
  | 'no_client'
  | 'unknown_did'
  | 'inactive_campaign'
  | 'duplicate_rejected'
  | 'error';

export type CallEvent =
  | { type: 'plan_loaded'; plan: RoutePlan | null; at: number }
  | { type: 'duplicate_checked'; lastClient: string | null; at: number }
  // the caller filters that need I/O: on a blocklist, or calling again within the repeat window
  | { type: 'caller_screened'; refused: 'blocked' | 'repeat' | null; at: number }
  | {
      // a slot was taken for a client
      type: 'attempt';
      linkId: string;
      clientId: string;
      legId: string;
      slot: SlotRef;
      endpoint: string;
      tried: string[];
      refused?: Refusal[];
      /** A waiter served from the hold queue: the plan in force at its turn (caps changed meanwhile). */
      plan?: RoutePlan;
      at: number;
    }
  | { type: 'no_candidate'; at: number; reason: NoCandidateReason; tried?: string[]; refused?: Refusal[] }
  | { type: 'leg_stasis_start'; legId: string; at: number }
  | { type: 'leg_answered'; legId: string; at: number }
  | { type: 'leg_gone'; legId: string; cause: number; at: number } // ChannelDestroyed of a client leg
  // The dial failed but the leg stays up (a Local/ leg whose far side is busy reports it in a Dial event)
  | { type: 'leg_failed'; legId: string; cause: number; at: number }
  | { type: 'ring_timeout'; legId: string; at: number }
  // the caller's channel went Up: answered in the dialplan after a hand-off (the carrier bills from then)
  | { type: 'caller_up'; at: number }
  // caller hung up or left Stasis (`left`: StasisEnd, the channel may live on in the dialplan)
  | { type: 'caller_gone'; cause: number; at: number; left?: boolean }
  | { type: 'default_plan_loaded'; plan: RoutePlan | null; at: number }
  | { type: 'message_done'; at: number } // the default route's message finished (or could not play)
  | { type: 'queue_poll'; at: number } // a queued call's turn to look for a free slot
  | { type: 'queue_timeout'; at: number }
  // Taken over from an instance that died (reconcile.ts), rebuilt from the state kept in Redis,
  // with no client leg left in Asterisk. `callerLive`: the caller is still in our app; `lastSeen`:
  // the last moment the dead instance was known alive (when an unattended call is said to end).
  // `callerUp`: the caller's channel was answered when listed (a dialplan may have answered it while
  // no instance watched)
  | { type: 'resume'; callerLive: boolean; callerUp?: boolean; lastSeen: number; at: number };

export type HangupReason = 'normal' | 'busy' | 'congestion' | 'no_answer';

export interface RememberCaller {
  campaignId: string;
  callerNumber: string;
  clientId: string;
  windowH: number;
}

export type Effect =
  | { type: 'load_plan'; did: string } // -> plan_loaded
  | { type: 'check_duplicate'; campaignId: string; callerNumber: string } // -> duplicate_checked
  | {
      // -> caller_screened: the blocklist first (a blocked caller does not open a repeat window)
      type: 'screen_caller';
      sellerId: string;
      campaignId: string;
      callerNumber: string;
      blocklist: boolean;
      repeatWindowS: number | null;
    }
  | { type: 'try_next' } // take the next eligible link's slot -> attempt | no_candidate
  | { type: 'create_leg'; legId: string; endpoint: string }
  | { type: 'dial'; legId: string; timeoutS: number }
  | { type: 'hangup'; channelId: string; reason: HangupReason }
  | { type: 'answer_caller' }
  | { type: 'bridge'; legId: string }
  | { type: 'mark_answered'; linkId: string; slot: SlotRef; remember: RememberCaller | null }
  | { type: 'release'; linkId: string; legId: string; slot: SlotRef }
  | { type: 'load_default_campaign'; did: string; campaignId: string } // -> default_plan_loaded
  | {
      type: 'continue_dialplan';
      context: string;
      extension?: string | undefined;
      priority?: number | undefined;
    }
  | { type: 'play_message'; media: string[] } // answer the caller, play; PlaybackFinished -> message_done
  // revenue recovery: the caller leaves the bridge and hears ringing while the next link is tried
  | { type: 'recover_caller' }
  // Ringing for a caller waiting for a client: an indication Asterisk keeps on the channel by itself
  // (the carrier's ringback before the answer, Asterisk's own tone after it), so a caller whose
  // instance dies goes on hearing it until another takes the call over; no event follows
  | { type: 'ring_caller' }
  // hold queue: answer, music on hold, join the lines of these links (Redis, ordered by joining)
  // (`rejoin`: a call taken over while it waited keeps its place — it is still in the lines, or joins
  // them as of its arrival — and waits `leftS` more, already answered)
  | {
      type: 'enqueue';
      campaignId: string;
      timeoutS: number;
      linkIds: string[];
      rejoin?: { since: number; leftS: number };
    }
  // try_next: the slot script serves only the head of a link's line
  | { type: 'queue_try'; campaignId: string }
  | { type: 'dequeue'; campaignId: string; linkIds: string[] } // leave the lines, stop the music
  // Maximum call length: Asterisk hangs each channel up `seconds` from now by itself (0 cancels), so
  // the limit holds if no daemon is left to enforce it
  | { type: 'limit_length'; channels: readonly string[]; seconds: number }
  // Call recording: Asterisk records the bridge under the call's id (appended to after a revenue
  // recovery, so a call has one recording); RecordingFinished tells its length
  | { type: 'record' }
  // A bridged call taken over: its recording goes on in Asterisk and is followed to its end (or,
  // none going on any more, recording starts again, appended)
  | { type: 'track_recording' }
  // Sent on to a dialplan context: the app goes on hearing the caller's channel (its hangup)
  | { type: 'follow_caller' }
  | { type: 'finish' }; // write the CDR, destroy the bridge, forget the call

/**
 * What the caller hears, as the effects leave it: each sound is one Asterisk keeps on the channel
 * without the app (an indication, or a generator: tone, music, playback), so it is also what a
 * caller hears while its instance is dead and until another takes the call over. A caller waiting
 * for a client (phases `routing`, `dialing`, `ringing`, `queued`) hears ringing or music, never
 * silence (a property test holds the machine to it).
 */
export type CallerSound = 'silence' | 'ringing' | 'music' | 'message' | 'client';

export function soundAfter(was: CallerSound, fx: Effect): CallerSound {
  switch (fx.type) {
    case 'ring_caller':
    case 'recover_caller':
      return 'ringing';
    case 'enqueue':
      return 'music';
    case 'dequeue':
      return 'silence';
    case 'play_message':
      return 'message';
    case 'bridge':
      return 'client';
    default:
      return was;
  }
}

/** A failed ARI `Dial` status as the Q.850 cause it stands for (null: not a failure we act on). */
export function causeOfDialStatus(dialstatus: string): number | null {
  switch (dialstatus) {
    case 'BUSY':
      return 17;
    case 'NOANSWER':
      return 19;
    case 'CONGESTION':
      return 34;
    case 'CHANUNAVAIL':
      return 3;
    default:
      return null; // "", RINGING, PROGRESS, ANSWER; CANCEL is ours
  }
}

/** Q.850 cause of a client leg that never answered, as an attempt result. */
export function resultOfCause(cause: number): NonNullable<Attempt['result']> {
  if (cause === 17) return 'busy';
  if (cause === 18 || cause === 19 || cause === 16) return 'no_answer';
  if (cause === 34 || cause === 38 || cause === 42) return 'congestion';
  if (cause === 1 || cause === 3 || cause === 20 || cause === 27) return 'unavailable';
  return 'failed';
}

/** What a call starts from: the part of its state known at StasisStart. */
export type NewCall = Pick<
  CallState,
  'callId' | 'callerChannelId' | 'nodeId' | 'app' | 'did' | 'callerNumber' | 'startedAt'
>;

/**
 * A call that just entered Stasis, and its first effect: load the DID's plan. `shed`: the node is
 * overloaded (requests to it wait too long), so the call is refused with congestion at once rather
 * than queued into timeouts; the caller's carrier can try another route.
 */
export function newCall(c: NewCall, o: { shed?: boolean } = {}): { state: CallState; effects: Effect[] } {
  const state: CallState = {
    ...c,
    phase: 'routing',
    attempts: [],
    tried: [],
    preferClient: null,
    refused: [],
    maxAttempts: 1,
    legInStasis: false,
  };
  if (o.shed) return end(state, 'shed', c.startedAt);
  return { state, effects: [{ type: 'ring_caller' }, { type: 'load_plan', did: c.did }] };
}

/** Refusals a hold queue waits out: a concurrency cap (anyone's frees when a call ends), or a line. */
const WAITS_FOR: ReadonlySet<Refusal['reason']> = new Set<Refusal['reason']>([
  'concurrency',
  'seller_concurrency',
  'did_concurrency',
  'group_concurrency',
  'waiting',
]);

/** The latest reason per link: a link refused twice (capped, then closed) shows how it ended. */
function withRefusals(had: Refusal[], more: Refusal[] | undefined): Refusal[] {
  if (!more?.length) return had;
  const byLink = new Map(had.map((r) => [r.linkId, r]));
  for (const r of more) byLink.set(r.linkId, r);
  return [...byLink.values()];
}

const current = (s: CallState) => s.attempts[s.attempts.length - 1];

function endAttempt(s: CallState, legId: string, at: number, result: Attempt['result']): CallState {
  const attempts = s.attempts.map((a) =>
    a.legId === legId && !a.endedAt ? { ...a, endedAt: at, result } : a,
  );
  return { ...s, attempts };
}

function release(a: Attempt): Effect {
  return { type: 'release', linkId: a.linkId, legId: a.legId, slot: a.slot };
}

export function step(s: CallState, e: CallEvent): { state: CallState; effects: Effect[] } {
  if (s.phase === 'ended') {
    // Late events change nothing, but a slot handed to an ended call must still go back.
    if (e.type === 'attempt') return { state: s, effects: [release({ ...e, startedAt: e.at })] };
    return { state: s, effects: [] };
  }
  switch (e.type) {
    case 'plan_loaded': {
      if (s.phase !== 'routing' || s.plan !== undefined) return { state: s, effects: [] };
      const plan = e.plan;
      const camp = plan?.campaign;
      if (plan?.off) return end({ ...s, plan }, plan.off, e.at);
      if (!plan || !camp) return end({ ...s, plan }, 'unknown_did', e.at);
      if (!camp.active) return end({ ...s, plan }, 'inactive_campaign', e.at);
      const next: CallState = { ...s, plan, maxAttempts: camp.maxAttempts };
      const anonymous = isAnonymous(s.callerNumber);
      if (camp.rejectAnonymous && anonymous) return end(next, 'anonymous_rejected', e.at);
      if (camp.callerRegions && !placeAllowed(camp.callerRegions, s.callerNumber))
        return end(next, 'region_rejected', e.at);
      if (!anonymous && (camp.useBlocklist || camp.repeatWindowS))
        return {
          state: next,
          effects: [
            {
              type: 'screen_caller',
              sellerId: plan.sellerId,
              campaignId: camp.id,
              callerNumber: s.callerNumber,
              blocklist: camp.useBlocklist ?? false,
              repeatWindowS: camp.repeatWindowS ?? null,
            },
          ],
        };
      return screened(next);
    }
    case 'caller_screened': {
      if (s.phase !== 'routing' || !s.plan?.campaign || s.attempts.length) return { state: s, effects: [] };
      if (e.refused === 'blocked') return end(s, 'blocked_rejected', e.at);
      if (e.refused === 'repeat') return end(s, 'repeat_rejected', e.at);
      return screened(s);
    }
    case 'duplicate_checked': {
      if (s.phase !== 'routing' || !s.plan?.campaign) return { state: s, effects: [] };
      if (e.lastClient && s.plan.campaign.dupPolicy === 'reject') return end(s, 'duplicate_rejected', e.at);
      return { state: { ...s, preferClient: e.lastClient }, effects: [{ type: 'try_next' }] };
    }
    case 'attempt': {
      const tried = [...new Set([...s.tried, ...e.tried, e.linkId])];
      const a: Attempt = {
        linkId: e.linkId,
        clientId: e.clientId,
        legId: e.legId,
        slot: e.slot,
        startedAt: e.at,
      };
      const refused = withRefusals(s.refused, e.refused);
      if (s.phase === 'queued') {
        // A slot freed and this call was first in line.
        const plan = e.plan ?? s.plan;
        return {
          state: {
            ...s,
            plan,
            phase: 'dialing',
            legInStasis: false,
            tried,
            refused,
            attempts: [...s.attempts, a],
          },
          // Out of the music, ringing (answered: Asterisk's tone) while the client is called.
          effects: [
            leaveQueue(s),
            { type: 'ring_caller' },
            { type: 'create_leg', legId: e.legId, endpoint: e.endpoint },
          ],
        };
      }
      if (s.phase !== 'routing') return { state: { ...s, tried, refused }, effects: [release(a)] };
      return {
        state: { ...s, phase: 'dialing', legInStasis: false, tried, refused, attempts: [...s.attempts, a] },
        effects: [{ type: 'create_leg', legId: e.legId, endpoint: e.endpoint }],
      };
    }
    case 'no_candidate': {
      if (s.phase !== 'routing') return { state: s, effects: [] };
      const disposition = s.attempts.length && e.reason === 'no_client' ? 'all_failed' : e.reason;
      const tried = e.tried ? [...new Set([...s.tried, ...e.tried])] : s.tried;
      const next = { ...s, tried, refused: withRefusals(s.refused, e.refused) };
      const camp = s.plan?.campaign;
      // Only a concurrency slot frees by itself — the link's, or its seller's, DID's or buyer
      // group's: those links, and those whose freed slots are kept for callers who waited first,
      // are offered again from the queue.
      const capped = [
        ...new Set((e.refused ?? []).filter((r) => WAITS_FOR.has(r.reason)).map((r) => r.linkId)),
      ];
      if (e.reason === 'no_client' && camp?.queueS && !s.queued && capped.length) {
        const retry = new Set(capped);
        return {
          state: {
            ...next,
            phase: 'queued',
            queued: true,
            // Answered to hear the music: billed by the carrier from now.
            callerAnsweredAt: s.callerAnsweredAt ?? e.at,
            waitLinks: capped,
            tried: next.tried.filter((l) => !retry.has(l)),
          },
          effects: [{ type: 'enqueue', campaignId: camp.id, timeoutS: camp.queueS, linkIds: capped }],
        };
      }
      const route = camp?.defaultRoute;
      if (e.reason === 'no_client' && route && !s.defaultRoute) return takeDefault(next, route, e.at);
      return end(next, disposition, e.at);
    }
    case 'default_plan_loaded': {
      if (s.phase !== 'routing' || !s.homeCampaignId || !s.plan) return { state: s, effects: [] };
      const camp = e.plan?.campaign;
      if (!e.plan || !camp?.active) return end(s, s.attempts.length ? 'all_failed' : 'no_client', e.at);
      // The other campaign's links, with as many attempts as it allows; its own filters, duplicate
      // rule and default route do not apply (the caller was screened once, and a route is taken once).
      return {
        state: { ...s, plan: e.plan, maxAttempts: s.attempts.length + camp.maxAttempts },
        effects: [{ type: 'try_next' }],
      };
    }
    case 'queue_poll': {
      if (s.phase !== 'queued') return { state: s, effects: [] };
      return { state: s, effects: [{ type: 'queue_try', campaignId: s.plan?.campaign?.id ?? '' }] };
    }
    case 'queue_timeout': {
      if (s.phase !== 'queued') return { state: s, effects: [] };
      const out: Effect = leaveQueue(s);
      const back: CallState = { ...s, phase: 'routing' };
      const route = s.plan?.campaign?.defaultRoute;
      const r = route && !s.defaultRoute ? takeDefault(back, route, e.at) : end(back, 'queue_timeout', e.at);
      // Sent on to another campaign: out of the music, ringing while its clients are tried.
      const ring: Effect[] = r.state.phase === 'routing' ? [{ type: 'ring_caller' }] : [];
      return { state: r.state, effects: [out, ...ring, ...r.effects] };
    }
    case 'message_done': {
      if (s.phase !== 'message') return { state: s, effects: [] };
      return {
        state: { ...s, phase: 'ended', endedAt: e.at, disposition: 'default_route' },
        effects: [{ type: 'hangup', channelId: s.callerChannelId, reason: 'normal' }, { type: 'finish' }],
      };
    }
    case 'leg_stasis_start': {
      const a = current(s);
      if (s.phase !== 'dialing' || a?.legId !== e.legId) return { state: s, effects: [] };
      return {
        state: { ...s, phase: 'ringing', legInStasis: true },
        effects: [{ type: 'dial', legId: e.legId, timeoutS: s.plan?.campaign?.ringTimeoutS ?? 30 }],
      };
    }
    case 'leg_answered': {
      const a = current(s);
      if ((s.phase !== 'ringing' && s.phase !== 'dialing') || a?.legId !== e.legId)
        return { state: s, effects: [] };
      const attempts = s.attempts.map((x) =>
        x.legId === e.legId ? { ...x, answeredAt: e.at, result: 'answered' as const } : x,
      );
      const camp = s.plan?.campaign;
      const remember =
        camp?.dupWindowH && s.callerNumber
          ? {
              campaignId: camp.id,
              callerNumber: s.callerNumber,
              clientId: a.clientId,
              windowH: camp.dupWindowH,
            }
          : null;
      return {
        state: {
          ...s,
          phase: 'bridged',
          answeredAt: e.at,
          callerAnsweredAt: s.callerAnsweredAt ?? e.at,
          attempts,
        },
        // Media first: the bookkeeping (Redis, PostgreSQL) must not keep two answered parties apart.
        effects: [
          { type: 'answer_caller' },
          { type: 'bridge', legId: e.legId },
          ...limitLength([s.callerChannelId, e.legId], camp?.maxCallS),
          ...(camp?.recordCalls ? [{ type: 'record' } as const] : []),
          { type: 'mark_answered', linkId: a.linkId, slot: a.slot, remember },
        ],
      };
    }
    case 'ring_timeout': {
      const a = current(s);
      if ((s.phase !== 'ringing' && s.phase !== 'dialing') || a?.legId !== e.legId)
        return { state: s, effects: [] };
      // Hang the leg up; its ChannelDestroyed (leg_gone) then releases and fails over.
      return { state: s, effects: [{ type: 'hangup', channelId: e.legId, reason: 'no_answer' }] };
    }
    case 'leg_gone': {
      const a = s.attempts.find((x) => x.legId === e.legId);
      if (!a || a.endedAt) return { state: s, effects: [] };
      if (s.phase === 'bridged' && a.result === 'answered' && a === current(s) && recovers(s, a, e.at)) {
        const s2 = endAttempt(s, e.legId, e.at, 'answered');
        const attempts = s2.attempts.map((x) => (x.legId === e.legId ? { ...x, shortAnswer: true } : x));
        const camp = s.plan?.campaign;
        return {
          state: {
            ...s2,
            attempts,
            phase: 'routing',
            reroutes: (s.reroutes ?? 0) + 1,
            // The next links get the campaign's attempts afresh: the short answer used none of them.
            maxAttempts: attempts.length + (camp?.maxAttempts ?? 1),
          },
          effects: [
            release(a),
            { type: 'recover_caller' },
            // The caller's limit ran from the short answer: the next client's answer sets it afresh.
            ...limitLength([s.callerChannelId], camp?.maxCallS ? 0 : undefined),
            { type: 'try_next' },
          ],
        };
      }
      if (s.phase === 'bridged' && a.result === 'answered') {
        const s2 = endAttempt(s, e.legId, e.at, 'answered');
        const endReason: EndReason = atLimit(s, a, e.at) ? 'max_length' : 'client_hangup';
        return {
          state: { ...s2, phase: 'ended', endedAt: e.at, disposition: 'answered', cause: e.cause, endReason },
          effects: [
            release(a),
            { type: 'hangup', channelId: s.callerChannelId, reason: 'normal' },
            { type: 'finish' },
          ],
        };
      }
      const s2 = endAttempt(s, e.legId, e.at, resultOfCause(e.cause));
      if (s2.attempts.length >= s2.maxAttempts)
        return {
          state: { ...s2, phase: 'ended', endedAt: e.at, disposition: 'all_failed', cause: e.cause },
          effects: [
            release(a),
            { type: 'hangup', channelId: s.callerChannelId, reason: 'congestion' },
            { type: 'finish' },
          ],
        };
      return { state: { ...s2, phase: 'routing' }, effects: [release(a), { type: 'try_next' }] };
    }
    case 'leg_failed': {
      const a = s.attempts.find((x) => x.legId === e.legId);
      if (!a || a.endedAt || a.result === 'answered') return { state: s, effects: [] };
      // As if it were gone, and hang it up so it is: its ChannelDestroyed then finds the attempt ended.
      const r = step(s, { type: 'leg_gone', legId: e.legId, cause: e.cause, at: e.at });
      return {
        state: r.state,
        effects: [{ type: 'hangup', channelId: e.legId, reason: 'normal' }, ...r.effects],
      };
    }
    case 'resume':
      return resume(s, e);
    case 'caller_up':
      if (s.phase !== 'dialplan' || s.callerAnsweredAt) return { state: s, effects: [] };
      return { state: { ...s, callerAnsweredAt: e.at }, effects: [] };
    case 'caller_gone': {
      if (s.phase === 'dialplan') {
        // Out of our app in the dialplan: the call goes on until the caller's channel is gone.
        if (e.left) return { state: s, effects: [] };
        return {
          state: { ...s, phase: 'ended', endedAt: e.at, disposition: 'default_route', cause: e.cause },
          effects: [{ type: 'finish' }],
        };
      }
      const a = current(s);
      const live = a && !a.endedAt ? a : undefined;
      const effects: Effect[] = [];
      let next = s;
      if (s.phase === 'queued') effects.push(leaveQueue(s));
      if (live) {
        effects.push({ type: 'hangup', channelId: live.legId, reason: 'normal' });
        effects.push(release(live));
        next = endAttempt(s, live.legId, e.at, s.phase === 'bridged' ? 'answered' : 'cancelled');
      }
      const disposition: Disposition =
        s.phase === 'bridged' || s.attempts.some((x) => x.shortAnswer)
          ? 'answered' // a caller sent on after a short answer had been answered
          : s.phase === 'message'
            ? 'default_route'
            : 'caller_abandoned';
      effects.push({ type: 'finish' });
      const endReason: EndReason | undefined =
        s.phase !== 'bridged' || !live ? undefined : atLimit(s, live, e.at) ? 'max_length' : 'caller_hangup';
      return {
        state: {
          ...next,
          phase: 'ended',
          endedAt: e.at,
          disposition,
          cause: e.cause,
          ...(endReason ? { endReason } : {}),
        },
        effects,
      };
    }
  }
}

/**
 * How long a caller may wait in our app for a client to answer: every attempt's ring time, plus
 * the hold queue's wait. A call taken over later than this after it began is ended, not routed.
 */
export function ringBudgetMs(s: CallState): number {
  const camp = s.plan?.campaign;
  if (!camp) return 0;
  return (camp.ringTimeoutS * Math.max(s.maxAttempts, camp.maxAttempts, 1) + (camp.queueS ?? 0)) * 1000;
}

/**
 * A call taken over with no client leg in Asterisk. Attempts still open in its recorded state have
 * lost their legs: each is released (and its leg hung up, should it linger). Then: gone entirely ->
 * `ended_unattended` at the last moment its owner was seen; a message playing -> ended as its
 * default route; answered -> ended answered (the client side is gone); past its ring budget ->
 * `unattended_timeout`; else routed again from where it was, with the attempts it has left.
 */
function resume(
  s: CallState,
  e: Extract<CallEvent, { type: 'resume' }>,
): { state: CallState; effects: Effect[] } {
  const effects: Effect[] = [];
  const camp = s.plan?.campaign;
  const leftMs = s.startedAt + ringBudgetMs(s) - e.at;
  // A caller waiting on hold keeps its place in the lines (first come first served across a
  // takeover, and across an upgrade: legacy-keys.ts) for what is left of its wait.
  const keepsPlace =
    s.phase === 'queued' &&
    e.callerLive &&
    Boolean(camp?.queueS) &&
    leftMs >= 1000 &&
    !s.answeredAt &&
    s.attempts.length < s.maxAttempts;
  if ((s.phase === 'queued' || s.queued) && !keepsPlace) effects.push(leaveQueue(s));
  const endAt = e.callerLive ? e.at : Math.max(e.lastSeen, s.startedAt);
  // Sent on to a dialplan context, nothing of ours left to settle: followed again while the caller
  // is there, else ended as last seen.
  if (s.phase === 'dialplan')
    return e.callerLive
      ? {
          // Its answer there, if the record has none, came while no instance watched: the
          // carrier bills from then at the latest, so from the takeover (a lower bound).
          state: !s.callerAnsweredAt && e.callerUp ? { ...s, callerAnsweredAt: e.at } : s,
          effects: [{ type: 'follow_caller' }],
        }
      : {
          state: { ...s, phase: 'ended', endedAt: endAt, disposition: 'default_route' },
          effects: [{ type: 'finish' }],
        };
  const attempts = s.attempts.map((a) => {
    if (a.endedAt) return a;
    effects.push({ type: 'hangup', channelId: a.legId, reason: 'normal' }, release(a));
    const result: Attempt['result'] = a.answeredAt ? 'answered' : e.callerLive ? 'failed' : 'cancelled';
    return { ...a, endedAt: Math.max(endAt, a.startedAt), result };
  });
  const next: CallState = { ...s, attempts, queued: false };
  const with_ = (r: { state: CallState; effects: Effect[] }) => ({
    state: r.state,
    effects: [...effects, ...r.effects],
  });
  if (!e.callerLive)
    return {
      state: { ...next, phase: 'ended', endedAt: endAt, disposition: 'ended_unattended' },
      effects: [...effects, { type: 'finish' }],
    };
  if (keepsPlace && camp?.queueS) {
    const rejoin = { since: s.startedAt, leftS: Math.min(camp.queueS, Math.floor(leftMs / 1000)) };
    const linkIds = queueLinks(s);
    return {
      state: { ...next, phase: 'queued', queued: true, waitLinks: linkIds },
      effects: [...effects, { type: 'enqueue', campaignId: camp.id, timeoutS: camp.queueS, linkIds, rejoin }],
    };
  }
  if (s.phase === 'message') return with_(end(next, 'default_route', e.at));
  if (s.answeredAt) return with_(end(next, 'answered', e.at));
  if (s.plan === null || (s.plan && !s.plan.campaign)) return with_(end(next, 'unknown_did', e.at));
  if (e.at - s.startedAt >= ringBudgetMs(s)) return with_(end(next, 'unattended_timeout', e.at));
  if (attempts.length >= s.maxAttempts) return with_(end(next, 'all_failed', e.at));
  // Out of the music, the caller rings while it is routed again (the ringing it had from its start
  // goes on by itself otherwise).
  const ring: Effect[] = s.phase === 'queued' || s.queued ? [{ type: 'ring_caller' }] : [];
  return { state: { ...next, phase: 'routing' }, effects: [...effects, ...ring, { type: 'try_next' }] };
}

/** A caller the filters let through: the duplicate-caller memory next (when on), then the links. */
function screened(s: CallState): { state: CallState; effects: Effect[] } {
  const camp = s.plan?.campaign;
  if (camp?.dupWindowH && s.callerNumber)
    return {
      state: s,
      effects: [{ type: 'check_duplicate', campaignId: camp.id, callerNumber: s.callerNumber }],
    };
  return { state: s, effects: [{ type: 'try_next' }] };
}

/**
 * Revenue recovery: the answering client hung up within its link's window (`recoveryS`) and the call
 * has reroutes left (the campaign's `maxReroutes`).
 */
export function recovers(s: CallState, a: Attempt, at: number): boolean {
  const windowS = s.plan?.links.find((l) => l.linkId === a.linkId)?.recoveryS;
  // A call cut at the campaign's maximum length is over, however short the limit.
  if (!windowS || a.answeredAt === undefined || atLimit(s, a, at)) return false;
  return at - a.answeredAt < windowS * 1000 && (s.reroutes ?? 0) < (s.plan?.campaign?.maxReroutes ?? 0);
}

/** The maximum call length set (seconds) or cancelled (0) on channels; nothing when the campaign has none. */
function limitLength(channels: string[], seconds: number | null | undefined): Effect[] {
  return seconds === undefined || seconds === null ? [] : [{ type: 'limit_length', channels, seconds }];
}

/**
 * Whether an answered attempt ending at `at` reached the campaign's maximum call length, which
 * Asterisk enforces (TIMEOUT(absolute), set once the daemon saw the answer, so never before
 * `answeredAt + limit` by the daemon's clock). Half a second of slack: a call that ends there rounds
 * to the limit in whole seconds anyway.
 */
export function atLimit(s: CallState, a: Attempt, at: number): boolean {
  const limitS = s.plan?.campaign?.maxCallS;
  return Boolean(limitS && a.answeredAt !== undefined && at - a.answeredAt >= limitS * 1000 - 500);
}

/** Every link capped, closed or off: the campaign's default route, taken once per call. */
function takeDefault(s: CallState, route: DefaultRoute, at: number): { state: CallState; effects: Effect[] } {
  switch (route.kind) {
    case 'campaign':
      return {
        state: { ...s, defaultRoute: `campaign:${route.campaign_id}`, homeCampaignId: s.plan?.campaign?.id },
        effects: [{ type: 'load_default_campaign', did: s.did, campaignId: route.campaign_id }],
      };
    case 'context':
      // The call leaves our app for the dialplan; its record ends when the caller hangs up there
      // (its channel is followed: `continue_dialplan` subscribes to it first).
      return {
        state: { ...s, defaultRoute: `context:${route.context}`, phase: 'dialplan', handedOffAt: at },
        effects: [
          {
            type: 'continue_dialplan',
            context: route.context,
            extension: route.extension,
            priority: route.priority,
          },
        ],
      };
    case 'message':
      return {
        state: {
          ...s,
          defaultRoute: 'message',
          phase: 'message',
          callerAnsweredAt: s.callerAnsweredAt ?? at,
        },
        effects: [{ type: 'play_message', media: route.media }],
      };
  }
}

/** Ends a call that never reached a client: the caller hears congestion when we failed them. */
function end(s: CallState, disposition: Disposition, at: number): { state: CallState; effects: Effect[] } {
  const reason: HangupReason =
    disposition === 'all_failed' ||
    disposition === 'no_client' ||
    disposition === 'error' ||
    disposition === 'shed' ||
    disposition === 'queue_timeout' ||
    disposition === 'unattended_timeout'
      ? 'congestion'
      : 'normal';
  return {
    state: { ...s, phase: 'ended', endedAt: at, disposition },
    effects: [{ type: 'hangup', channelId: s.callerChannelId, reason }, { type: 'finish' }],
  };
}

/**
 * Out of the hold queue: the lines the call joined; a call rebuilt by a takeover does not know them
 * and leaves every link of its plan's (leaving a line it is not in changes nothing).
 */
function leaveQueue(s: CallState): Effect {
  return { type: 'dequeue', campaignId: s.plan?.campaign?.id ?? '', linkIds: queueLinks(s) };
}

/** The lines a queued call is in: those it joined, or (rebuilt by a takeover) every link of its plan. */
function queueLinks(s: CallState): string[] {
  return s.waitLinks ?? (s.plan?.links ?? []).map((l) => l.linkId);
}
