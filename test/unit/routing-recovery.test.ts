// Revenue recovery in the call state machine: a client hanging up within its link's window sends
// the caller on to the next link, at most the campaign's reroutes per call; the short attempt stays
// answered (it counted for the link's caps) and is flagged; every slot goes back exactly once.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CallEvent, type CallState, type Effect, step } from '../../src/routing/call.ts';
import { arrival, loaded, planCampaign, planLink, planOf } from '../helpers/call-plan.ts';

function routing(maxReroutes: number, recoveryS: number | null): CallState {
  const links = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => planLink(i, { recoveryS }));
  return loaded(arrival().state, planOf(planCampaign({ maxReroutes }), links)).state;
}

/** Each client answers at `at`, then hangs up `talkMs` later; returns the call and its effects. */
function run(maxReroutes: number, recoveryS: number | null, talks: number[]) {
  let s = routing(maxReroutes, recoveryS);
  const effects: Effect[] = [];
  let at = 1000;
  const apply = (e: CallEvent) => {
    const r = step(s, e);
    s = r.state;
    effects.push(...r.effects);
    return r.effects;
  };
  for (const [i, talk] of talks.entries()) {
    if (s.phase !== 'routing') break;
    const leg = `leg-${i}`;
    apply({
      type: 'attempt',
      linkId: `l${i}`,
      clientId: `c${i}`,
      legId: leg,
      slot: { linkId: `l${i}`, slotId: leg, buckets: { hour: 'h', day: 'd', month: 'm' } },
      endpoint: `e${i}`,
      tried: [],
      at: at++,
    });
    apply({ type: 'leg_stasis_start', legId: leg, at: at++ });
    apply({ type: 'leg_answered', legId: leg, at });
    at += talk;
    apply({ type: 'leg_gone', legId: leg, cause: 16, at });
  }
  apply({ type: 'caller_gone', cause: 16, at: at + 1 });
  return { s, effects };
}

describe('revenue recovery', () => {
  it('reroutes only short answers, at most maxReroutes times; flags them; releases every slot once', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5 }),
        fc.option(fc.integer({ min: 1, max: 60 }), { nil: null }),
        fc.array(fc.integer({ min: 0, max: 120_000 }), { minLength: 1, maxLength: 8 }),
        (m, windowS, talks) => {
          const { s, effects } = run(m, windowS, talks);
          const short = s.attempts.filter((a) => a.shortAnswer);
          expect(short.length).toBeLessThanOrEqual(m);
          expect(effects.filter((e) => e.type === 'recover_caller')).toHaveLength(short.length);
          for (const a of short) {
            expect(a.result).toBe('answered');
            expect(a.endedAt! - a.answeredAt!).toBeLessThan(windowS! * 1000);
          }
          // Every attempt but the last ended because it was short and a reroute was left (the last
          // too when the caller hung up while being sent on).
          expect(s.attempts.slice(0, -1).every((a) => a.shortAnswer)).toBe(true);
          const released = effects
            .filter((e) => e.type === 'release')
            .map((e) => (e as { legId: string }).legId);
          expect(released.sort()).toEqual(s.attempts.map((a) => a.legId).sort());
          expect(effects.filter((e) => e.type === 'finish')).toHaveLength(1);
          expect(s.disposition).toBe('answered');
        },
      ),
      { numRuns: 500 },
    );
  });

  it('off by default: a client hanging up at once ends the call', () => {
    const { s } = run(5, null, [0, 0]);
    expect(s.attempts).toHaveLength(1);
    expect(s.attempts[0]!.shortAnswer).toBeUndefined();
  });
});
