// Call records written straight through the CDR writer, for tests of what is read back from them
// (reports, the console's totals): one answered call of seller S1's campaign C1 on +14155550101 by
// client K1 unless a test says otherwise — 65 s long, 60 s talked and billed, converted, paying
// 10.00 and earning 25.00 (an unanswered one: no client, no money, no_client).
import type { CdrRecord } from '../../src/cdr/writer.ts';

export const S1 = '11111111-1111-4111-8111-111111111111';
export const S2 = '22222222-2222-4222-8222-222222222222';
export const C1 = 'c1111111-1111-4111-8111-111111111111';
export const C2 = 'c2222222-2222-4222-8222-222222222222';
export const K1 = 'a1111111-1111-4111-8111-111111111111';

/**
 * A maker of records started at `at`, with call ids `<idPrefix><n>` (n counting from 1 per maker)
 * and `linkId` on the answered ones; `o` overrides any field (`answered: false` for a refused call).
 */
export function cdrMaker(idPrefix: string, linkId: string | null = null) {
  let n = 0;
  return (at: string, o: Partial<CdrRecord> & { answered?: boolean } = {}): CdrRecord => {
    const start = Date.parse(at);
    const answered = o.answered ?? true;
    return {
      call_id: `${idPrefix}${++n}`,
      node_id: 'n1',
      seller_id: S1,
      seller_name: 'Acme Leads',
      campaign_id: C1,
      campaign_name: 'Auto',
      did: '+14155550101',
      did_id: null,
      caller_number: '+12125550000',
      client_id: answered ? K1 : null,
      client_name: answered ? 'Centre One' : null,
      link_id: answered ? linkId : null,
      started_at: new Date(start).toISOString(),
      answered_at: answered ? new Date(start + 5_000).toISOString() : null,
      ended_at: new Date(start + 65_000).toISOString(),
      duration_s: 65,
      talk_s: answered ? 60 : 0,
      billable_s: answered ? 60 : 0,
      disposition: answered ? 'answered' : 'no_client',
      hangup_cause: 16,
      attempts: [],
      converted: answered,
      payout_micros: answered ? 10_000_000 : 0,
      revenue_micros: answered ? 25_000_000 : 0,
      cost_micros: answered ? 1_000 : 0,
      ...o,
    };
  };
}
