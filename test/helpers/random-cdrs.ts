// Random call records for the report tests: a few sellers, campaigns, clients, links and DIDs (ids
// missing too, as on unrouted calls), start times around quarter-hour, hour, day and month edges
// (a second either side of them, and exactly on them), and money. fast-check arbitraries, so a
// failing sample shrinks and replays from its seed.
import fc from 'fast-check';
import type { CdrRecord } from '../../src/cdr/writer.ts';

const ids = (tag: string, n: number) =>
  Array.from({ length: n }, (_, i) => `${tag}-0000-4000-8000-${String(i).padStart(12, '0')}`);
export const SELLERS = ids('5e11e000', 3);
export const CAMPAIGNS = ids('ca4a1900', 4);
const CLIENTS = ids('c11e4700', 3);
const LINKS = ids('714c0000', 5);
export const DIDS = ['+14155550100', '+14155550101', '+14155550102', '+14155550103'];

/** Instants within [from, from + days) that favour edges: on a quarter-hour, a second off one, or anywhere. */
export const instant = (from: number, days: number) =>
  fc.oneof(
    fc.integer({ min: 0, max: days * 96 - 1 }).map((q) => from + q * 900_000),
    fc
      .tuple(fc.integer({ min: 1, max: days * 96 - 1 }), fc.constantFrom(-1000, 1000))
      .map(([q, d]) => from + q * 900_000 + d),
    fc.integer({ min: 0, max: days * 86_400 - 1 }).map((s) => from + s * 1000),
  );

export const cdrArb = (from: number, days: number) =>
  fc
    .record({
      at: instant(from, days),
      seller: fc.option(fc.integer({ min: 0, max: SELLERS.length - 1 }), { freq: 8 }),
      campaign: fc.option(fc.integer({ min: 0, max: CAMPAIGNS.length - 1 }), { freq: 6 }),
      did: fc.option(fc.integer({ min: 0, max: DIDS.length - 1 }), { freq: 8 }),
      link: fc.option(fc.integer({ min: 0, max: LINKS.length - 1 }), { freq: 3 }),
      talk: fc.integer({ min: 0, max: 900 }),
      billable: fc.integer({ min: 0, max: 960 }),
      converted: fc.boolean(),
      payout: fc.integer({ min: 0, max: 20_000_000 }),
      revenue: fc.integer({ min: 0, max: 40_000_000 }),
      cost: fc.integer({ min: 0, max: 200_000 }),
    })
    .map((r): Omit<CdrRecord, 'call_id'> => {
      const answered = r.link !== null;
      const client = r.link === null ? null : r.link % CLIENTS.length;
      // A name is fixed per id and UTC day (renames happen between days), so "the latest name" is the
      // same whichever of two calls at one instant is read last.
      const day = new Date(r.at).toISOString().slice(0, 10);
      return {
        node_id: 'n1',
        seller_id: r.seller === null ? null : SELLERS[r.seller]!,
        seller_name: r.seller === null ? null : `seller ${r.seller} ${day}`,
        campaign_id: r.campaign === null ? null : CAMPAIGNS[r.campaign]!,
        campaign_name: r.campaign === null ? null : `campaign ${r.campaign} ${day}`,
        did: r.did === null ? null : DIDS[r.did]!,
        did_id: null,
        caller_number: '+12125550000',
        client_id: client === null ? null : CLIENTS[client]!,
        client_name: client === null ? null : `client ${client} ${day}`,
        link_id: r.link === null ? null : LINKS[r.link]!,
        started_at: new Date(r.at).toISOString(),
        answered_at: answered ? new Date(r.at + 4_000).toISOString() : null,
        ended_at: new Date(r.at + 4_000 + r.talk * 1000).toISOString(),
        duration_s: 4 + r.talk,
        talk_s: answered ? r.talk : 0,
        billable_s: answered ? r.billable : 0,
        disposition: answered ? 'answered' : 'no_client',
        hangup_cause: 16,
        attempts: [],
        converted: answered && r.converted,
        payout_micros: answered && r.converted ? r.payout : 0,
        revenue_micros: answered && r.converted ? r.revenue : 0,
        cost_micros: answered ? r.cost : 0,
      };
    });

/** Numbered, in start order (the order a live system mostly writes them in). */
export const cdrsArb = (from: number, days: number, max: number) =>
  fc
    .array(cdrArb(from, days), { minLength: 1, maxLength: max })
    .map((xs) =>
      xs
        .sort((a, b) => Date.parse(a.started_at) - Date.parse(b.started_at))
        .map((x, i): CdrRecord => ({ ...x, call_id: `rnd-${i}` })),
    );
