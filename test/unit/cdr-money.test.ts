import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  billableSeconds,
  callMoney,
  carrierCost,
  converts,
  type Increment,
  type LinkMoney,
  parseIncrement,
} from '../../src/cdr/money.ts';

const inc: fc.Arbitrary<Increment> = fc.record({
  first: fc.integer({ min: 1, max: 3600 }),
  next: fc.integer({ min: 1, max: 3600 }),
});
const talk = fc.integer({ min: 0, max: 6 * 3600 });
const micros = fc.integer({ min: 0, max: 1_000_000_000_000 });
const link: fc.Arbitrary<LinkMoney> = fc.record({
  convertAfterS: fc.option(fc.integer({ min: 0, max: 3600 }), { nil: null }),
  payoutMicros: micros,
  revenueMicros: micros,
  increment: inc,
});

describe('billing increments', () => {
  it('parses first/next and refuses anything else', () => {
    expect(parseIncrement('1/1')).toEqual({ first: 1, next: 1 });
    expect(parseIncrement('6/6')).toEqual({ first: 6, next: 6 });
    expect(parseIncrement('60/60')).toEqual({ first: 60, next: 60 });
    expect(parseIncrement('30/6')).toEqual({ first: 30, next: 6 });
    for (const bad of ['', '0/1', '6', '6/0', '1.5/1', '3601/1', '1/3601', ' 6/6', '-1/1', '6/6/6'])
      expect(parseIncrement(bad), bad).toBeNull();
  });

  it('known cases: 6/6 and 60/60 round up, per second bills what was talked', () => {
    const six = { first: 6, next: 6 };
    const min = { first: 60, next: 60 };
    expect([0, 1, 6, 7, 12, 13].map((t) => billableSeconds(t, six))).toEqual([0, 6, 6, 12, 12, 18]);
    expect([0, 1, 60, 61, 125].map((t) => billableSeconds(t, min))).toEqual([0, 60, 60, 120, 180]);
    expect(billableSeconds(61, { first: 30, next: 6 })).toBe(66);
  });

  it('bills at least the talk, less than one increment more, on the increment grid', () => {
    fc.assert(
      fc.property(talk, inc, (t, i) => {
        const b = billableSeconds(t, i);
        if (t === 0) {
          expect(b).toBe(0);
          return;
        }
        expect(b).toBeGreaterThanOrEqual(t);
        expect(b).toBeGreaterThanOrEqual(i.first);
        expect(b - t).toBeLessThan(Math.max(i.first, i.next));
        expect((b - i.first) % i.next).toBe(0);
        expect(Number.isInteger(b)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('never bills a longer call less (monotone), and per second is the identity', () => {
    fc.assert(
      fc.property(talk, talk, inc, (a, b, i) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        expect(billableSeconds(lo, i)).toBeLessThanOrEqual(billableSeconds(hi, i));
        expect(billableSeconds(a, { first: 1, next: 1 })).toBe(a);
      }),
      { numRuns: 300 },
    );
  });
});

describe('conversion and money', () => {
  it('converts exactly when answered with a rule and talk >= the rule', () => {
    fc.assert(
      fc.property(
        talk,
        fc.boolean(),
        fc.option(fc.integer({ min: 0, max: 3600 }), { nil: null }),
        (t, a, n) => {
          expect(converts(t, a, n)).toBe(a && n !== null && t >= n);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a converted call carries the link payout and revenue, any other none; all integers', () => {
    fc.assert(
      fc.property(
        talk,
        talk,
        fc.option(link, { nil: null }),
        fc.integer({ min: 0, max: 10_000_000 }),
        (t, c, l, rate) => {
          const m = callMoney(t, c, l, { ratePerMinMicros: rate });
          const conv = l !== null && l.convertAfterS !== null && t >= l.convertAfterS;
          expect(m.converted).toBe(conv);
          expect(m.payoutMicros).toBe(conv ? l!.payoutMicros : 0);
          expect(m.revenueMicros).toBe(conv ? l!.revenueMicros : 0);
          expect(m.billableS).toBe(l ? billableSeconds(t, l.increment) : 0);
          expect(m.talkS).toBe(l ? t : 0);
          for (const v of Object.values(m))
            if (typeof v === 'number') expect(Number.isSafeInteger(v)).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('carrier cost: rate per minute charged per second, rounded up to a micro, never below the exact cost', () => {
    expect(carrierCost(60, 8_500)).toBe(8_500); // $0.0085 a minute for a minute
    expect(carrierCost(1, 8_500)).toBe(142); // 141.67 rounded up
    expect(carrierCost(0, 8_500)).toBe(0);
    fc.assert(
      fc.property(talk, fc.integer({ min: 0, max: 100_000_000 }), (s, r) => {
        const c = carrierCost(s, r);
        expect(Number.isSafeInteger(c)).toBe(true);
        // Exact in integers: c is the least integer with 60c >= s*r.
        expect(60 * c).toBeGreaterThanOrEqual(s * r);
        expect(60 * (c - 1)).toBeLessThan(s * r === 0 ? 1 : s * r);
      }),
      { numRuns: 500 },
    );
  });
});
