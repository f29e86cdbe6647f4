// Caller filters: the pure checks (anonymous, where a number is from) and how the call state
// machine applies a campaign's filters before any link is considered.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CallState, type Effect, step } from '../../src/routing/call.ts';
import { isAnonymous, placeAllowed, placeOf } from '../../src/routing/screen.ts';
import {
  arrival,
  type PlanCampaign,
  loaded as planLoaded,
  planCampaign,
  planOf,
} from '../helpers/call-plan.ts';

function loaded(callerNumber: string, c: Partial<PlanCampaign>): { state: CallState; effects: Effect[] } {
  const { state } = arrival({ callerChannelId: 'caller-chan', callerNumber });
  const filtersOff = {
    rejectAnonymous: false,
    repeatWindowS: null,
    useBlocklist: false,
    callerRegions: null,
  };
  return planLoaded(state, planOf(planCampaign({ ...filtersOff, ...c })), 1);
}

const nanp = fc
  .tuple(
    fc.constantFrom('212', '415', '416', '604', '305', '907'),
    fc.integer({ min: 200, max: 999 }),
    fc.integer({ min: 0, max: 9999 }),
  )
  .map(([a, b, c]) => `${a}${b}${String(c).padStart(4, '0')}`);
const spelled = fc.constantFrom(
  (n: string) => `+1${n}`,
  (n: string) => `1${n}`,
  (n: string) => n,
  (n: string) => `+1 (${n.slice(0, 3)}) ${n.slice(3, 6)}-${n.slice(6)}`,
);

describe('caller filters (pure)', () => {
  it('knows anonymous callers, and never takes a real number for one', () => {
    for (const a of ['', '  ', 'anonymous', 'Anonymous', 'RESTRICTED', '<unknown>', 'private', 'x1'])
      expect(isAnonymous(a)).toBe(true);
    fc.assert(
      fc.property(nanp, spelled, (n, f) => !isAnonymous(f(n))),
      { numRuns: 300 },
    );
  });

  it('places a NANP number by area code however it is written', () => {
    expect(placeOf('+12125550100')).toEqual({ country: 'US', region: 'US-NY' });
    expect(placeOf('4165550100')).toEqual({ country: 'CA', region: 'CA-ON' });
    expect(placeOf('+442079460000')).toEqual({ country: 'GB', region: null });
    expect(placeOf('anonymous')).toEqual({ country: null, region: null });
    fc.assert(
      fc.property(nanp, spelled, (n, f) => {
        expect(placeOf(f(n))).toEqual(placeOf(`+1${n}`));
      }),
      { numRuns: 300 },
    );
  });

  it('a country allows each of its regions; a region allows only itself; an unplaceable number nothing', () => {
    fc.assert(
      fc.property(nanp, (n) => {
        const p = placeOf(`+1${n}`);
        expect(placeAllowed([p.country!], n)).toBe(true);
        expect(placeAllowed([p.region!], n)).toBe(true);
        expect(placeAllowed(['ZZ', 'US-ZZ'], n)).toBe(false);
      }),
      { numRuns: 300 },
    );
    expect(placeAllowed(['US', 'CA', 'GB'], 'anonymous')).toBe(false);
  });
});

describe('caller filters in the call state machine', () => {
  it('filters off: every caller goes on to the links, nothing screened', () => {
    fc.assert(
      fc.property(fc.oneof(nanp, fc.constantFrom('', 'anonymous')), (n) => {
        const r = loaded(n, {});
        expect(r.effects).toEqual([{ type: 'try_next' }]);
      }),
      { numRuns: 100 },
    );
  });

  it('refuses an anonymous caller when asked to, with its reason, and hangs up', () => {
    const r = loaded('anonymous', { rejectAnonymous: true, useBlocklist: true, repeatWindowS: 60 });
    expect(r.state).toMatchObject({ phase: 'ended', disposition: 'anonymous_rejected' });
    expect(r.effects.map((e) => e.type)).toEqual(['hangup', 'finish']);
  });

  it('refuses a caller from outside the allowed places, lets the others on', () => {
    fc.assert(
      fc.property(nanp, fc.constantFrom<string[]>(['US-NY'], ['CA'], ['US-FL', 'US-AK']), (n, allowed) => {
        const r = loaded(`+1${n}`, { callerRegions: allowed });
        if (placeAllowed(allowed, n)) expect(r.effects).toEqual([{ type: 'try_next' }]);
        else expect(r.state.disposition).toBe('region_rejected');
      }),
      { numRuns: 200 },
    );
  });

  it('asks for the blocklist and the repeat window only when on, then ends or routes by the answer', () => {
    const r = loaded('+12125550100', { useBlocklist: true, repeatWindowS: 30 });
    expect(r.effects).toEqual([
      {
        type: 'screen_caller',
        sellerId: 's1',
        campaignId: 'camp',
        callerNumber: '+12125550100',
        blocklist: true,
        repeatWindowS: 30,
      },
    ]);
    for (const [refused, disposition] of [
      ['blocked', 'blocked_rejected'],
      ['repeat', 'repeat_rejected'],
    ] as const) {
      const e = step(r.state, { type: 'caller_screened', refused, at: 2 });
      expect(e.state).toMatchObject({ phase: 'ended', disposition });
      expect(e.effects.map((x) => x.type)).toEqual(['hangup', 'finish']);
    }
    const ok = step(r.state, { type: 'caller_screened', refused: null, at: 2 });
    expect(ok.effects).toEqual([{ type: 'try_next' }]);
    // The duplicate-caller memory still comes after the filters.
    const dup = loaded('+12125550100', { repeatWindowS: 30, dupWindowH: 24 });
    expect(step(dup.state, { type: 'caller_screened', refused: null, at: 2 }).effects).toEqual([
      { type: 'check_duplicate', campaignId: 'camp', callerNumber: '+12125550100' },
    ]);
  });
});
