import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type CallEvent,
  type CallState,
  causeOfDialStatus,
  type Effect,
  newCall,
  type Refusal,
  resultOfCause,
  step,
} from '../../src/routing/call.ts';
import type { SlotRef } from '../../src/routing/slots.ts';
import { arrival, loaded, planCampaign, planOf } from '../helpers/call-plan.ts';

/** A call in routing with a campaign of `maxAttempts` attempts (its plan loaded, no duplicate rule). */
function callWith(maxAttempts: number): CallState {
  const { state } = arrival({ callerChannelId: 'caller-chan', callerNumber: '+15550002222' });
  return loaded(state, planOf(planCampaign({ maxAttempts }))).state;
}

const slotOf = (linkId: string, legId: string): SlotRef => ({
  linkId,
  slotId: legId,
  buckets: { hour: 'h', day: 'd', month: 'm' },
  nodeId: 'n1',
});

const attempt = (linkId: string, clientId: string, legId: string, at: number): CallEvent => ({
  type: 'attempt',
  linkId,
  clientId,
  legId,
  slot: slotOf(linkId, legId),
  endpoint: clientId,
  tried: [],
  at,
});

// Drives the pure machine with arbitrary interleavings of what Asterisk and the caps can produce.
type Move =
  | { k: 'slot' }
  | { k: 'none' }
  | { k: 'stasis' }
  | { k: 'answer' }
  | { k: 'gone'; cause: number }
  | { k: 'stale_gone'; cause: number }
  | { k: 'timeout' }
  | { k: 'dial_failed'; cause: number }
  | { k: 'caller' };

const move: fc.Arbitrary<Move> = fc.oneof(
  fc.constant({ k: 'slot' } as const),
  fc.constant({ k: 'none' } as const),
  fc.constant({ k: 'stasis' } as const),
  fc.constant({ k: 'answer' } as const),
  fc.constantFrom(16, 17, 19, 34, 3).map((cause) => ({ k: 'gone', cause }) as const),
  fc.constantFrom(16, 17).map((cause) => ({ k: 'stale_gone', cause }) as const),
  fc.constant({ k: 'timeout' } as const),
  fc.constantFrom(17, 34, 3, 19).map((cause) => ({ k: 'dial_failed', cause }) as const),
  fc.constant({ k: 'caller' } as const),
);

function run(maxAttempts: number, moves: Move[]) {
  let s: CallState = callWith(maxAttempts);
  const effects: Effect[] = [];
  let n = 0;
  const apply = (e: CallEvent) => {
    const r = step(s, e);
    s = r.state;
    effects.push(...r.effects);
  };
  for (const m of moves) {
    const leg = s.attempts[s.attempts.length - 1]?.legId ?? 'none';
    const at = ++n;
    if (m.k === 'slot') apply(attempt(`link-${n % 3}`, 'c', `leg-${n}`, at));
    else if (m.k === 'none') apply({ type: 'no_candidate', reason: 'no_client', at });
    else if (m.k === 'stasis') apply({ type: 'leg_stasis_start', legId: leg, at });
    else if (m.k === 'answer') apply({ type: 'leg_answered', legId: leg, at });
    else if (m.k === 'gone') apply({ type: 'leg_gone', legId: leg, cause: m.cause, at });
    else if (m.k === 'stale_gone')
      apply({ type: 'leg_gone', legId: s.attempts[0]?.legId ?? 'none', cause: m.cause, at });
    else if (m.k === 'timeout') apply({ type: 'ring_timeout', legId: leg, at });
    else if (m.k === 'dial_failed') apply({ type: 'leg_failed', legId: leg, cause: m.cause, at });
    else apply({ type: 'caller_gone', cause: 16, at });
  }
  // Whatever happened, the caller eventually hangs up.
  apply({ type: 'caller_gone', cause: 16, at: ++n });
  return { s, effects };
}

describe('call state machine', () => {
  it('releases every slot it was given exactly once and finishes exactly once', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.array(move, { maxLength: 40, size: 'max' }),
        (maxAttempts, moves) => {
          const { s, effects } = run(maxAttempts, moves);
          expect(s.phase).toBe('ended');
          expect(effects.filter((e) => e.type === 'finish')).toHaveLength(1);
          const releases = effects.filter(
            (e): e is Extract<Effect, { type: 'release' }> => e.type === 'release',
          );
          const byLeg = new Map<string, number>();
          for (const r of releases) byLeg.set(r.legId, (byLeg.get(r.legId) ?? 0) + 1);
          // Every accepted attempt is released once; slots offered after the call moved on are released at once.
          for (const a of s.attempts) expect(byLeg.get(a.legId)).toBe(1);
          for (const n of byLeg.values()) expect(n).toBe(1);
          expect(s.attempts.length).toBeLessThanOrEqual(maxAttempts);
          // A bridged call is the only way to be 'answered', and only with an answered attempt.
          if (s.disposition === 'answered')
            expect(s.attempts.some((a) => a.result === 'answered')).toBe(true);
        },
      ),
    );
  });

  it('a call the node cannot serve any more before a slot is taken is shed: congestion, no queue, no default route', () => {
    const base = callWith(2);
    const s: CallState = {
      ...base,
      plan: {
        ...base.plan!,
        campaign: {
          ...base.plan!.campaign!,
          queueS: 30,
          defaultRoute: { kind: 'context', context: 'overflow' },
        },
      },
    };
    const r = step(s, { type: 'no_candidate', reason: 'shed', at: 5 });
    expect(r.state).toMatchObject({ phase: 'ended', disposition: 'shed', endedAt: 5 });
    expect(r.effects).toEqual([
      { type: 'hangup', channelId: 'caller-chan', reason: 'congestion' },
      { type: 'finish' },
    ]);
  });

  it("a hold queue waits out any concurrency cap — the link's, its seller's, DID's or group's — and no other", () => {
    const base = callWith(2);
    const s: CallState = {
      ...base,
      plan: { ...base.plan!, campaign: { ...base.plan!.campaign!, queueS: 30 } },
    };
    const refusedBy = (reason: Refusal['reason']) =>
      step(s, {
        type: 'no_candidate',
        reason: 'no_client',
        refused: [
          { linkId: 'L1', clientId: 'A', reason },
          { linkId: 'L2', clientId: 'B', reason: 'hourly' },
        ],
        at: 5,
      });
    for (const reason of [
      'concurrency',
      'seller_concurrency',
      'did_concurrency',
      'group_concurrency',
      'waiting',
    ] as const) {
      const r = refusedBy(reason);
      expect(r.state.phase).toBe('queued');
      expect(r.effects).toEqual([
        { type: 'enqueue', campaignId: s.plan!.campaign!.id, timeoutS: 30, linkIds: ['L1'] },
      ]);
    }
    for (const reason of ['hourly', 'seller_daily', 'did_total', 'group_monthly', 'closed'] as const)
      expect(refusedBy(reason).state).toMatchObject({ phase: 'ended', disposition: 'no_client' });
  });

  it('fails over on busy, answers and bridges the next client, and hangs the caller up after', () => {
    let s = callWith(3);
    const go = (e: CallEvent) => {
      const r = step(s, e);
      s = r.state;
      return r.effects.map((x) => x.type);
    };
    expect(go(attempt('L1', 'A', 'leg1', 1))).toEqual(['create_leg']);
    expect(go({ type: 'leg_stasis_start', legId: 'leg1', at: 2 })).toEqual(['dial']);
    expect(go({ type: 'leg_gone', legId: 'leg1', cause: 17, at: 3 })).toEqual(['release', 'try_next']);
    expect(s.attempts[0]!.result).toBe('busy');
    go(attempt('L2', 'B', 'leg2', 4));
    go({ type: 'leg_stasis_start', legId: 'leg2', at: 5 });
    expect(go({ type: 'leg_answered', legId: 'leg2', at: 6 })).toEqual([
      'answer_caller',
      'bridge',
      'mark_answered',
    ]);
    expect(go({ type: 'leg_gone', legId: 'leg2', cause: 16, at: 9 })).toEqual([
      'release',
      'hangup',
      'finish',
    ]);
    expect(s).toMatchObject({ phase: 'ended', disposition: 'answered', answeredAt: 6 });
  });

  it('cancels the client leg when the caller hangs up while it rings', () => {
    let s = callWith(3);
    s = step(s, attempt('L1', 'A', 'leg1', 1)).state;
    s = step(s, { type: 'leg_stasis_start', legId: 'leg1', at: 2 }).state;
    const r = step(s, { type: 'caller_gone', cause: 16, at: 3 });
    expect(r.effects).toEqual([
      { type: 'hangup', channelId: 'leg1', reason: 'normal' },
      { type: 'release', linkId: 'L1', legId: 'leg1', slot: slotOf('L1', 'leg1') },
      { type: 'finish' },
    ]);
    expect(r.state.disposition).toBe('caller_abandoned');
    expect(r.state.attempts[0]!.result).toBe('cancelled');
  });

  it('a Local/ leg reporting busy in a Dial event is hung up and failed over at once; its later end changes nothing', () => {
    let s = callWith(3);
    s = step(s, attempt('L1', 'A', 'leg1', 1)).state;
    s = step(s, { type: 'leg_stasis_start', legId: 'leg1', at: 2 }).state;
    const r = step(s, { type: 'leg_failed', legId: 'leg1', cause: 17, at: 3 });
    expect(r.effects.map((x) => x.type)).toEqual(['hangup', 'release', 'try_next']);
    expect(r.state.attempts[0]!.result).toBe('busy');
    expect(step(r.state, { type: 'leg_gone', legId: 'leg1', cause: 16, at: 4 }).effects).toEqual([]);
    expect(causeOfDialStatus('CONGESTION')).toBe(34);
    expect(causeOfDialStatus('ANSWER')).toBeNull();
  });

  it('a call arriving while its node is overloaded is refused with congestion at once, and recorded as shed', () => {
    const r = newCall(
      {
        callId: 'x',
        callerChannelId: 'ch',
        nodeId: 'n',
        app: 'a',
        did: '+1',
        callerNumber: '',
        startedAt: 5,
      },
      { shed: true },
    );
    expect(r.state).toMatchObject({ phase: 'ended', disposition: 'shed', endedAt: 5 });
    expect(r.effects).toEqual([
      { type: 'hangup', channelId: 'ch', reason: 'congestion' },
      { type: 'finish' },
    ]);
  });

  it('maps Q.850 causes to attempt results', () => {
    expect([17, 19, 34, 3, 99].map(resultOfCause)).toEqual([
      'busy',
      'no_answer',
      'congestion',
      'unavailable',
      'failed',
    ]);
  });
});

describe('a number that takes no call', () => {
  it('ends at its plan, whatever the campaign and links, with the reason as the disposition', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('seller_archived', 'seller_inactive', 'did_inactive') as fc.Arbitrary<
          'seller_archived' | 'seller_inactive' | 'did_inactive'
        >,
        fc.boolean(),
        fc.boolean(),
        fc.integer({ min: 1, max: 5 }),
        (off, hasCampaign, active, maxAttempts) => {
          const { state } = arrival({ callerChannelId: 'caller-chan', callerNumber: '+15550002222' });
          const plan = { ...planOf(hasCampaign ? planCampaign({ active, maxAttempts }) : null), off };
          const r = loaded(state, plan);
          expect(r.state.phase).toBe('ended');
          expect(r.state.disposition).toBe(off);
          // Nothing is dialled nor any slot asked for: the caller is hung up and the call finished.
          expect(r.effects.map((e) => e.type)).toEqual(['hangup', 'finish']);
        },
      ),
      { numRuns: 200 },
    );
  });
});
