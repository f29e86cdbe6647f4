// Maximum call length in the call state machine and the CDR: the answer hands the limit to Asterisk
// (TIMEOUT(absolute) on both channels), a call that ends at the limit says so and is billed up to it,
// a call that ends before it says who hung up, and a cut at the limit is never a revenue recovery.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cdrOf } from '../../src/cdr/record.ts';
import { type CallEvent, type CallState, type Effect, step } from '../../src/routing/call.ts';
import { outcomeOf } from '../../src/routing/outcome.ts';
import { arrival, loaded, planCampaign, planLink, planOf } from '../helpers/call-plan.ts';

function routing(maxCallS: number | null, recoveryS: number | null = null, maxReroutes = 0): CallState {
  const money = { convertAfterS: 10, payoutMicros: 1, revenueMicros: 2, increment: { first: 1, next: 1 } };
  const links = [0, 1].map((i) => planLink(i, { recoveryS, money }));
  return loaded(arrival().state, planOf(planCampaign({ maxReroutes, maxCallS }), links)).state;
}

/** Routes to link 0, answered at 1000 ms; `end` ends the call; returns the final state and every effect. */
function answered(s0: CallState, end: (s: CallState) => CallEvent) {
  let s = s0;
  const effects: Effect[] = [];
  const apply = (e: CallEvent) => {
    const r = step(s, e);
    s = r.state;
    effects.push(...r.effects);
  };
  apply({
    type: 'attempt',
    linkId: 'l0',
    clientId: 'c0',
    legId: 'leg-1',
    slot: { linkId: 'l0', slotId: 'leg-1', buckets: { hour: 'h', day: 'd', month: 'm' } },
    endpoint: 'e0',
    tried: [],
    at: 10,
  });
  apply({ type: 'leg_stasis_start', legId: 'leg-1', at: 20 });
  apply({ type: 'leg_answered', legId: 'leg-1', at: 1000 });
  apply(end(s));
  return { s, effects };
}

describe('maximum call length', () => {
  it('the answer sets TIMEOUT(absolute) on the caller and the client leg; none without a limit', () => {
    const { effects } = answered(routing(60), () => ({ type: 'caller_gone', cause: 16, at: 5000 }));
    expect(effects.filter((e) => e.type === 'limit_length')).toEqual([
      { type: 'limit_length', channels: ['caller', 'leg-1'], seconds: 60 },
    ]);
    // After the bridge: media first.
    const kinds = effects.map((e) => e.type);
    expect(kinds.indexOf('limit_length')).toBeGreaterThan(kinds.indexOf('bridge'));
    const off = answered(routing(null), () => ({ type: 'caller_gone', cause: 16, at: 5000 }));
    expect(off.effects.some((e) => e.type === 'limit_length')).toBe(false);
  });

  it('a call ended by Asterisk at the limit is max_length, billed to the limit; earlier, who hung up', () => {
    // The leg destroyed (cause 0: the absolute timeout sets none) 60.3 s after the answer.
    const cut = answered(routing(60), () => ({ type: 'leg_gone', legId: 'leg-1', cause: 0, at: 61_300 }));
    expect(cut.s).toMatchObject({ disposition: 'answered', endReason: 'max_length' });
    const cdr = cdrOf(outcomeOf(cut.s), 70_000);
    expect(cdr).toMatchObject({ end_reason: 'max_length', talk_s: 60, billable_s: 60, converted: true });
    // The caller's side first (its StasisEnd) is the same cut.
    const callerFirst = answered(routing(60), () => ({ type: 'caller_gone', cause: 16, at: 61_000 }));
    expect(callerFirst.s.endReason).toBe('max_length');
    const client = answered(routing(60), () => ({ type: 'leg_gone', legId: 'leg-1', cause: 16, at: 30_000 }));
    expect(client.s.endReason).toBe('client_hangup');
    expect(cdrOf(outcomeOf(client.s), 40_000).talk_s).toBe(29);
    const caller = answered(routing(60), () => ({ type: 'caller_gone', cause: 16, at: 30_000 }));
    expect(caller.s.endReason).toBe('caller_hangup');
    // No limit: never max_length, however long.
    const long = answered(routing(null), () => ({
      type: 'leg_gone',
      legId: 'leg-1',
      cause: 16,
      at: 9_000_000,
    }));
    expect(long.s.endReason).toBe('client_hangup');
    expect(cdrOf(outcomeOf(long.s), 9_000_000).talk_s).toBe(8999);
  });

  it('a cut at the limit is never rerouted by revenue recovery, even inside the recovery window', () => {
    const cut = answered(routing(5, 300, 5), () => ({
      type: 'leg_gone',
      legId: 'leg-1',
      cause: 0,
      at: 6_100,
    }));
    expect(cut.s).toMatchObject({ phase: 'ended', endReason: 'max_length' });
    expect(cut.effects.some((e) => e.type === 'recover_caller')).toBe(false);
    // A short answer before the limit is rerouted, and the caller's limit is cancelled meanwhile.
    const short = answered(routing(60, 300, 5), () => ({
      type: 'leg_gone',
      legId: 'leg-1',
      cause: 16,
      at: 3_000,
    }));
    expect(short.s.phase).toBe('routing');
    expect(short.effects.filter((e) => e.type === 'limit_length').at(-1)).toEqual({
      type: 'limit_length',
      channels: ['caller'],
      seconds: 0,
    });
  });

  it('billed talk never exceeds the limit, whatever the timing (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 7200 }),
        fc.integer({ min: 1001, max: 10_000_000 }),
        fc.boolean(),
        (limitS, endAt, legFirst) => {
          const { s } = answered(routing(limitS), () =>
            legFirst
              ? { type: 'leg_gone', legId: 'leg-1', cause: 0, at: endAt }
              : { type: 'caller_gone', cause: 16, at: endAt },
          );
          const cdr = cdrOf(outcomeOf(s), endAt);
          expect(cdr.talk_s).toBeLessThanOrEqual(limitS);
          expect(cdr.end_reason === 'max_length').toBe(endAt - 1000 >= limitS * 1000 - 500);
        },
      ),
      { numRuns: 300 },
    );
  });
});
