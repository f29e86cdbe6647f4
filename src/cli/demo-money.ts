// The demo's money: what its links pay and charge, what its DIDs cost, and the report it prints at
// the end (read from the call report API, as an operator would read it).
import type { ReportOut } from '../reports/schemas.ts';

/** One dollar (or any currency unit) in the micro-units money is kept in (src/cdr/money.ts). */
const UNIT = 1_000_000;

/**
 * Per call centre: a call converts after 2 talk seconds (the demo's callers talk 1-4 s, so about two
 * in three of the answered ones do), owing the seller the payout and charging the client the revenue,
 * billed in 6-second increments.
 */
export const DEMO_LINK_MONEY: Record<string, { payout: number; revenue: number }> = {
  'demo-alpha': { payout: 12, revenue: 25 },
  'demo-bravo': { payout: 10, revenue: 20 },
  'demo-busy': { payout: 8, revenue: 15 },
};

/** The link columns of a call centre's money. */
export function demoLinkMoney(client: string) {
  const m = DEMO_LINK_MONEY[client] ?? { payout: 0, revenue: 0 };
  return {
    convertAfterS: 2,
    payoutMicros: m.payout * UNIT,
    revenueMicros: m.revenue * UNIT,
    billingIncrement: '6/6',
  };
}

/** The DIDs' carrier cost: 1.2 cents a minute of answered call, 1.00 of rent a month. */
export const DEMO_DID_COST = { ratePerMinMicros: 12_000, monthlyRentMicros: UNIT };

/** Micro-units as money: two decimals, four for fractions of a cent (pure). */
export const dollars = (micros: number | null): string =>
  micros === null
    ? '-'
    : `${micros < 0 ? '-' : ''}$${(Math.abs(micros) / UNIT).toFixed(micros % 10_000 ? 4 : 2)}`;

/** The call report grouped by client, as the demo prints it: one line per client and the totals (pure). */
export function reportLines(r: ReportOut): string[] {
  const line = (name: string, f: ReportOut['totals']) =>
    `  ${name.padEnd(11)} calls=${f.calls} answered=${f.answered} converted=${f.conversions} ` +
    `payout=${dollars(f.payout_micros)} revenue=${dollars(f.revenue_micros)} ` +
    `carrier=${dollars(f.cost_micros)} rent=${dollars(f.rent_micros)} margin=${dollars(f.margin_micros)}`;
  return [...r.items.map((i) => line(i.name ?? i.key ?? '(none)', i)), line('total', r.totals)];
}
