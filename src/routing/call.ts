// One inbound call as an explicit state machine. `step` is pure: (state, event) -> next state and
// the effects to perform (REST calls, slot operations, CDR). The Stasis handler performs effects and
// feeds the resulting events back, one call at a time through a KeyedQueue.

export type CallPhase = 'routing' | 'dialing' | 'ringing' | 'bridged' | 'ended';

export interface Attempt {
  linkId: string;
  clientId: string;
  legId: string;
  startedAt: number;
  answeredAt?: number;
  endedAt?: number;
  result?: 'answered' | 'busy' | 'no_answer' | 'congestion' | 'unavailable' | 'failed' | 'cancelled';
}

export interface CallState {
  callId: string;
  callerId: string; // the caller's channel id
  phase: CallPhase;
  attempts: Attempt[];
  maxAttempts: number;
  answeredAt?: number;
  endedAt?: number;
  disposition?: Disposition;
  cause?: number;
  /** The client leg is in Stasis (a bridge add before its StasisStart fails with 422). */
  legInStasis: boolean;
}

export type Disposition =
  | 'answered'
  | 'unknown_did'
  | 'inactive_campaign'
  | 'no_client'
  | 'all_failed'
  | 'caller_abandoned'
  | 'duplicate_rejected'
  | 'error';

export type CallEvent =
  | { type: 'attempt'; linkId: string; clientId: string; legId: string; at: number } // a slot was taken for a client
  | {
      type: 'no_candidate';
      at: number;
      reason: 'no_client' | 'unknown_did' | 'inactive_campaign' | 'duplicate_rejected' | 'error';
    }
  | { type: 'leg_stasis_start'; legId: string; at: number }
  | { type: 'leg_answered'; legId: string; at: number }
  | { type: 'leg_gone'; legId: string; cause: number; at: number } // ChannelDestroyed of a client leg
  | { type: 'ring_timeout'; legId: string; at: number }
  | { type: 'caller_gone'; cause: number; at: number }; // caller hung up or left Stasis

export type Effect =
  | { type: 'dial'; legId: string }
  | { type: 'hangup'; channelId: string; reason: 'normal' | 'busy' | 'congestion' | 'no_answer' }
  | { type: 'answer_caller' }
  | { type: 'bridge'; legId: string }
  | { type: 'mark_answered'; linkId: string }
  | { type: 'release'; linkId: string; legId: string }
  | { type: 'try_next' } // take the next eligible link (I/O), which yields `attempt` or `no_candidate`
  | { type: 'finish' }; // write the CDR, destroy the bridge, forget the call

/** Q.850 cause of a client leg that never answered, as an attempt result. */
export function resultOfCause(cause: number): NonNullable<Attempt['result']> {
  if (cause === 17) return 'busy';
  if (cause === 18 || cause === 19 || cause === 16) return 'no_answer';
  if (cause === 34 || cause === 38 || cause === 42) return 'congestion';
  if (cause === 1 || cause === 3 || cause === 20 || cause === 27) return 'unavailable';
  return 'failed';
}

export function newCall(callId: string, callerId: string, maxAttempts: number): CallState {
  return { callId, callerId, phase: 'routing', attempts: [], maxAttempts, legInStasis: false };
}

const current = (s: CallState) => s.attempts[s.attempts.length - 1];

function endAttempt(
  s: CallState,
  legId: string,
  at: number,
  result: Attempt['result'],
): { s: CallState; a?: Attempt } {
  const attempts = s.attempts.map((a) =>
    a.legId === legId && !a.endedAt ? { ...a, endedAt: at, result } : a,
  );
  return { s: { ...s, attempts }, a: attempts.find((a) => a.legId === legId) };
}

export function step(s: CallState, e: CallEvent): { state: CallState; effects: Effect[] } {
  if (s.phase === 'ended') return { state: s, effects: [] }; // late events change nothing
  switch (e.type) {
    case 'attempt': {
      if (s.phase !== 'routing')
        return { state: s, effects: [{ type: 'release', linkId: e.linkId, legId: e.legId }] };
      const a: Attempt = { linkId: e.linkId, clientId: e.clientId, legId: e.legId, startedAt: e.at };
      return {
        state: { ...s, phase: 'dialing', legInStasis: false, attempts: [...s.attempts, a] },
        effects: [],
      };
    }
    case 'no_candidate': {
      if (s.phase !== 'routing') return { state: s, effects: [] };
      const disposition = s.attempts.length && e.reason === 'no_client' ? 'all_failed' : e.reason;
      const reason =
        disposition === 'all_failed' || disposition === 'no_client' || disposition === 'error'
          ? 'congestion'
          : 'normal';
      return {
        state: { ...s, phase: 'ended', endedAt: e.at, disposition },
        effects: [{ type: 'hangup', channelId: s.callerId, reason }, { type: 'finish' }],
      };
    }
    case 'leg_stasis_start': {
      const a = current(s);
      if (s.phase !== 'dialing' || a?.legId !== e.legId) return { state: s, effects: [] };
      return {
        state: { ...s, phase: 'ringing', legInStasis: true },
        effects: [{ type: 'dial', legId: e.legId }],
      };
    }
    case 'leg_answered': {
      const a = current(s);
      if ((s.phase !== 'ringing' && s.phase !== 'dialing') || a?.legId !== e.legId)
        return { state: s, effects: [] };
      const attempts = s.attempts.map((x) =>
        x.legId === e.legId ? { ...x, answeredAt: e.at, result: 'answered' as const } : x,
      );
      return {
        state: { ...s, phase: 'bridged', answeredAt: e.at, attempts },
        // Media first: the bookkeeping (Redis, PostgreSQL) must not keep two answered parties apart.
        effects: [
          { type: 'answer_caller' },
          { type: 'bridge', legId: e.legId },
          { type: 'mark_answered', linkId: a.linkId },
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
      const release: Effect = { type: 'release', linkId: a.linkId, legId: a.legId };
      if (s.phase === 'bridged' && a.result === 'answered') {
        const { s: s2 } = endAttempt(s, e.legId, e.at, 'answered');
        return {
          state: { ...s2, phase: 'ended', endedAt: e.at, disposition: 'answered', cause: e.cause },
          effects: [release, { type: 'hangup', channelId: s.callerId, reason: 'normal' }, { type: 'finish' }],
        };
      }
      const { s: s2 } = endAttempt(s, e.legId, e.at, resultOfCause(e.cause));
      if (s2.attempts.length >= s2.maxAttempts)
        return {
          state: { ...s2, phase: 'ended', endedAt: e.at, disposition: 'all_failed', cause: e.cause },
          effects: [
            release,
            { type: 'hangup', channelId: s.callerId, reason: 'congestion' },
            { type: 'finish' },
          ],
        };
      return { state: { ...s2, phase: 'routing' }, effects: [release, { type: 'try_next' }] };
    }
    case 'caller_gone': {
      const a = current(s);
      const live = a && !a.endedAt ? a : undefined;
      const effects: Effect[] = [];
      let attempts = s.attempts;
      if (live) {
        effects.push({ type: 'hangup', channelId: live.legId, reason: 'normal' });
        effects.push({ type: 'release', linkId: live.linkId, legId: live.legId });
        const result = s.phase === 'bridged' ? 'answered' : 'cancelled';
        attempts = endAttempt(s, live.legId, e.at, result).s.attempts;
      }
      const disposition: Disposition = s.phase === 'bridged' ? 'answered' : 'caller_abandoned';
      effects.push({ type: 'finish' });
      return {
        state: { ...s, attempts, phase: 'ended', endedAt: e.at, disposition, cause: e.cause },
        effects,
      };
    }
  }
}
