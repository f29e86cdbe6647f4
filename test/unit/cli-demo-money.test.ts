// The demo's money: every call centre of the demo pays and charges something, the DIDs cost
// something, and the closing report prints each client's and the total money figures as the call
// report API answers them.
import { describe, expect, it } from 'vitest';
import {
  DEMO_DID_COST,
  DEMO_LINK_MONEY,
  demoLinkMoney,
  dollars,
  reportLines,
} from '../../src/cli/demo-money.ts';
import { parseIncrement } from '../../src/cdr/money.ts';
import type { ReportOut } from '../../src/reports/schemas.ts';

describe('demo money', () => {
  it('gives each call centre a conversion rule, a payout below its revenue and a billing increment; the DIDs a rate and rent', () => {
    for (const c of ['demo-alpha', 'demo-bravo', 'demo-busy']) {
      const m = demoLinkMoney(c);
      expect(DEMO_LINK_MONEY[c]).toBeDefined();
      expect(m.convertAfterS).toBeGreaterThan(0);
      expect(m.payoutMicros).toBeGreaterThan(0);
      expect(m.revenueMicros).toBeGreaterThan(m.payoutMicros);
      expect(parseIncrement(m.billingIncrement)).not.toBeNull();
    }
    expect(DEMO_DID_COST.ratePerMinMicros).toBeGreaterThan(0);
    expect(DEMO_DID_COST.monthlyRentMicros).toBeGreaterThan(0);
  });

  it('prints money in units, fractions of a cent with four decimals, and what a key may not see as -', () => {
    expect(dollars(25_000_000)).toBe('$25.00');
    expect(dollars(12_000)).toBe('$0.0120');
    expect(dollars(-1_500_000)).toBe('-$1.50');
    expect(dollars(null)).toBe('-');
  });

  it("prints one line per client and the totals with the report's money figures", () => {
    const f = {
      calls: 10,
      answered: 8,
      answer_rate: 0.8,
      aht_s: 2.5,
      billable_minutes: 1.2,
      conversions: 5,
      payout_micros: 60_000_000,
      revenue_micros: 125_000_000,
      cost_micros: 14_400,
      rent_micros: null,
      margin_micros: 64_985_600,
    };
    const r: ReportOut = {
      group_by: 'client',
      tz: 'UTC',
      from: 'a',
      to: 'b',
      items: [{ key: 'k', name: 'demo-alpha', ...f }],
      totals: { ...f, rent_micros: 3_000_000, margin_micros: 61_985_600 },
    };
    expect(reportLines(r)).toEqual([
      '  demo-alpha  calls=10 answered=8 converted=5 payout=$60.00 revenue=$125.00 carrier=$0.0144 rent=- margin=$64.9856',
      '  total       calls=10 answered=8 converted=5 payout=$60.00 revenue=$125.00 carrier=$0.0144 rent=$3.00 margin=$61.9856',
    ]);
  });
});
