// The pure parts of reading Asterisk's CDRs back (src/routing/unseen.ts): which records are of a
// caller in our app, the call id an unseen call gets (the same on every instance, every time), and
// the CDR it is written as: no client, no attempt, nothing billed to or paid for a client.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cdrOf } from '../../src/cdr/record.ts';
import { channelRecord, inboundArgs, unseenCallId, unseenOutcome } from '../../src/routing/unseen.ts';
import { dispositionOf } from '../../src/simulator/cdr.ts';

const word = fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/);

describe('inboundArgs', () => {
  it('takes Stasis(<one of our apps>,inbound...) and nothing else', () => {
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 3 }), word, fc.array(word), (apps, app, rest) => {
        const ours = apps.includes(app);
        const inbound = inboundArgs(
          { lastapp: 'Stasis', lastdata: [app, 'inbound', ...rest].join(',') },
          apps,
        );
        expect(inbound).toEqual(ours ? ['inbound', ...rest] : null);
        // Not an inbound call, or not Stasis at all: never.
        expect(inboundArgs({ lastapp: 'Stasis', lastdata: [app, 'outbound', ...rest].join(',') }, apps)).toBe(
          null,
        );
        expect(inboundArgs({ lastapp: 'Hangup', lastdata: [app, 'inbound'].join(',') }, apps)).toBe(null);
      }),
      { numRuns: 200 },
    );
  });

  it('takes a StasisBroadcast offer of an inbound call, its arguments colon-separated', () => {
    expect(
      inboundArgs({ lastapp: 'StasisBroadcast', lastdata: '500,^capconduit-,inbound:+14155550100' }, []),
    ).toEqual(['inbound', '+14155550100']);
    expect(inboundArgs({ lastapp: 'StasisBroadcast', lastdata: '500,^capconduit-,outbound' }, [])).toBe(null);
    expect(inboundArgs({ lastapp: 'Stasis', lastdata: null }, ['capconduit'])).toBe(null);
  });
});

describe('unseenCallId', () => {
  it('is one UUID per node and channel, the same every time', () => {
    fc.assert(
      fc.property(word, word, word, (node, a, b) => {
        const id = unseenCallId(node, a);
        expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
        expect(unseenCallId(node, a)).toBe(id);
        expect(unseenCallId(node, b) === id).toBe(a === b);
      }),
      { numRuns: 200 },
    );
  });
});

describe('the CDR of an unseen call', () => {
  const rec = {
    uniqueid: '1764940000.42',
    src: '+12125550000',
    dst: '14155550100',
    lastapp: 'Stasis',
    lastdata: 'capconduit,inbound',
    start: 1_800_000_000_000,
    answer: null,
    end: 1_800_000_012_000,
    disposition: 'NO ANSWER',
  };

  it('has no client, no attempt and no money but the carrier cost of an answer', () => {
    const cdr = cdrOf(unseenOutcome('n1', rec, '+14155550100', null), 0);
    expect(cdr).toMatchObject({
      call_id: unseenCallId('n1', rec.uniqueid),
      caller_channel_id: rec.uniqueid,
      node_id: 'n1',
      did: '+14155550100',
      caller_number: '+12125550000',
      client_id: null,
      link_id: null,
      disposition: 'ended_unseen',
      attempts: [],
      not_routed: [],
      duration_s: 12,
      billable_s: 0,
      talk_s: 0,
      payout_micros: 0,
      revenue_micros: 0,
      cost_micros: 0,
      answered_at: null,
      started_at: new Date(rec.start).toISOString(),
      ended_at: new Date(rec.end).toISOString(),
    });
    // Asterisk answered the caller: the carrier bills from there, though no client talked.
    const plan = {
      sellerId: 's',
      didId: 'd',
      didRatePerMinMicros: 60_000,
      campaign: null,
      links: [],
    } as unknown as Parameters<typeof unseenOutcome>[3];
    const answered = cdrOf(
      unseenOutcome('n1', { ...rec, answer: rec.start + 2000 }, '+14155550100', plan),
      0,
    );
    expect(answered).toMatchObject({ seller_id: 's', did_id: 'd', talk_s: 0, payout_micros: 0 });
    expect(answered.cost_micros).toBeGreaterThan(0);
  });
});

describe('channelRecord: a caller judged on all its records', () => {
  // A caller's life [start, end], answered at `answer` or never, cut where its party B changed:
  // Asterisk writes a record per piece (the first from the channel's creation, each later one from
  // its cut), each answered from its own start once the caller was up, in no order we rely on.
  const life = fc
    .record({
      start: fc.integer({ min: 1_700_000_000_000, max: 1_900_000_000_000 }),
      length: fc.integer({ min: 0, max: 7_200_000 }),
      answeredAfter: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: null }),
      cuts: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 5 }),
      // A record from before the caller reached Stasis (its dialplan), which is not ours alone.
      dialplanFirst: fc.boolean(),
      seed: fc.integer(),
    })
    .map((l) => {
      const end = l.start + l.length;
      const answer = l.answeredAfter === null ? null : l.start + Math.floor(l.answeredAfter * l.length);
      const points = [
        l.start,
        ...l.cuts.map((c) => l.start + Math.floor(c * l.length)).sort((a, b) => a - b),
        end,
      ];
      const rows = points.slice(1).map((to, i) => {
        const from = points[i]!;
        const up = answer !== null && answer <= to;
        return {
          uniqueid: 'u1',
          src: '+12125550000',
          dst: '14155550100',
          lastapp: i === 0 && l.dialplanFirst ? 'Answer' : 'Stasis',
          lastdata: i === 0 && l.dialplanFirst ? '' : 'capconduit,inbound,+14155550100',
          start: from,
          answer: up ? Math.max(answer, from) : null,
          end: to,
          disposition: up ? 'ANSWERED' : 'NO ANSWER',
        };
      });
      const shuffled = [...rows].sort((a, b) => ((a.end * 31 + l.seed) % 97) - ((b.end * 31 + l.seed) % 97));
      return { start: l.start, end, answer, rows: shuffled };
    });

  it('runs from the first start to the last end, answered at the first answer, whatever the order', () => {
    fc.assert(
      fc.property(life, ({ start, end, answer, rows }) => {
        const r = channelRecord(rows, ['capconduit']);
        const ours = rows.some((x) => x.lastapp === 'Stasis');
        if (!ours) {
          expect(r).toBe(null);
          return;
        }
        expect(r).toMatchObject({ uniqueid: 'u1', start, end, answer, lastapp: 'Stasis' });
        expect(r!.disposition).toBe(answer === null ? 'NO ANSWER' : 'ANSWERED');
        expect(inboundArgs(r!, ['capconduit'])).toEqual(['inbound', '+14155550100']);
      }),
      { numRuns: 300 },
    );
  });

  it('is null for a channel none of whose records is of a caller in our app', () => {
    expect(channelRecord([], ['capconduit'])).toBe(null);
    const out = { uniqueid: 'u', src: null, dst: null, lastapp: 'Stasis', lastdata: 'capconduit,outbound' };
    expect(
      channelRecord([{ ...out, start: 1, answer: null, end: 2, disposition: 'NO ANSWER' }], ['capconduit']),
    ).toBe(null);
  });
});

describe("the simulator's CDR disposition of an unanswered channel (main/cdr.c)", () => {
  it('follows the hangup cause', () => {
    expect(dispositionOf(16, false)).toBe('NO ANSWER');
    expect(dispositionOf(19, false)).toBe('NO ANSWER');
    expect(dispositionOf(17, false)).toBe('BUSY');
    expect(dispositionOf(34, false)).toBe('FAILED');
    expect(dispositionOf(34, true)).toBe('CONGESTION');
    expect(dispositionOf(3, false)).toBe('FAILED');
    expect(dispositionOf(0, false)).toBe('FAILED');
    expect(dispositionOf(21, false)).toBe('NO ANSWER');
  });
});
