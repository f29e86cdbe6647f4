import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Candidate,
  capBuckets,
  isOpen,
  orderCandidates,
  preferClient,
  scheduleProblems,
} from '../../src/routing/decide.ts';

const cand = fc.record({
  linkId: fc.uuid(),
  clientId: fc.uuid(),
  priority: fc.integer({ min: 0, max: 5 }),
  weight: fc.integer({ min: 1, max: 100 }),
});
const cands = fc.uniqueArray(cand, { selector: (c) => c.linkId, maxLength: 8 });
const ids = (cs: Candidate[]) => cs.map((c) => c.linkId);

describe('candidate ordering', () => {
  it('is always a permutation of the eligible links', () => {
    fc.assert(
      fc.property(
        cands,
        fc.constantFrom('priority', 'round_robin', 'weighted') as fc.Arbitrary<'priority'>,
        fc.nat(),
        fc.double({ min: 0, max: 0.9999, noNaN: true }),
        (cs, s, rr, r) => {
          expect(ids(orderCandidates(s, cs, { rrCounter: rr, rand: () => r })).sort()).toEqual(
            ids(cs).sort(),
          );
        },
      ),
    );
  });

  it('priority: lowest number first, ties by higher weight', () => {
    fc.assert(
      fc.property(cands, (cs) => {
        const o = orderCandidates('priority', cs);
        for (let i = 1; i < o.length; i++) {
          const a = o[i - 1]!;
          const b = o[i]!;
          expect(a.priority < b.priority || (a.priority === b.priority && a.weight >= b.weight)).toBe(true);
        }
      }),
    );
  });

  it('round_robin: consecutive counters put each link first equally often', () => {
    fc.assert(
      fc.property(
        cands.filter((c) => c.length > 0),
        fc.nat(1000),
        (cs, start) => {
          const firsts = new Map<string, number>();
          for (let i = 0; i < cs.length * 3; i++) {
            const f = orderCandidates('round_robin', cs, { rrCounter: start + i })[0]!.linkId;
            firsts.set(f, (firsts.get(f) ?? 0) + 1);
          }
          expect([...firsts.values()].every((n) => n === 3)).toBe(true);
          expect(firsts.size).toBe(cs.length);
        },
      ),
    );
  });

  it('weighted: first picks follow the weights within tolerance', () => {
    const cs: Candidate[] = [
      { linkId: 'a', clientId: 'A', priority: 0, weight: 1 },
      { linkId: 'b', clientId: 'B', priority: 0, weight: 3 },
      { linkId: 'c', clientId: 'C', priority: 0, weight: 6 },
    ];
    // A fixed-seed generator keeps the test repeatable.
    let seed = 42;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const n = 20_000;
    const count: Record<string, number> = { a: 0, b: 0, c: 0 };
    for (let i = 0; i < n; i++) count[orderCandidates('weighted', cs, { rand })[0]!.linkId]!++;
    expect(count.a! / n).toBeCloseTo(0.1, 1);
    expect(count.b! / n).toBeCloseTo(0.3, 1);
    expect(count.c! / n).toBeCloseTo(0.6, 1);
  });
});

describe('schedules and cap buckets', () => {
  it('opens by the client clock, not the server clock', () => {
    const weekdays9to17 = { '1': [['09:00', '17:00']], '2': [['09:00', '17:00']] } as const;
    const s = weekdays9to17 as unknown as Parameters<typeof isOpen>[0];
    // Monday 2026-11-23 14:30 UTC = 09:30 in New York (EST, UTC-5): open there, not in Tokyo (23:30).
    const at = new Date('2026-11-23T14:30:00Z');
    expect(isOpen(s, 'America/New_York', at)).toBe(true);
    expect(isOpen(s, 'Asia/Tokyo', at)).toBe(false);
    expect(isOpen(s, 'America/New_York', new Date('2026-11-23T22:00:00Z'))).toBe(false); // 17:00 is closed
    expect(isOpen(null, 'UTC', at)).toBe(true);
  });

  it('an overnight range belongs to the day it starts: open from its start that day until its end the next', () => {
    const hhmm = (m: number) =>
      `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
    // Sunday 2026-11-22 is weekday 0; UTC keeps the arithmetic free of DST.
    const sunday = Date.parse('2026-11-22T00:00:00Z');
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 6 }), // the weekday the range starts
        fc.integer({ min: 1, max: 1439 }), // from
        fc.integer({ min: 0, max: 1438 }), // to
        fc.integer({ min: 0, max: 7 * 1440 - 1 }), // the minute of the week asked about
        (day, from, to, at) => {
          fc.pre(to < from);
          const s = { [String(day)]: [[hhmm(from), hhmm(to)]] } as unknown as Parameters<typeof isOpen>[0];
          const start = day * 1440 + from;
          const end = (day + 1) * 1440 + to; // may run past Saturday into Sunday
          const inside = (at >= start && at < end) || at + 7 * 1440 < end;
          expect(isOpen(s, 'UTC', new Date(sunday + at * 60_000))).toBe(inside);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('buckets follow the client time zone across midnight and DST', () => {
    const at = new Date('2026-03-01T03:30:00Z');
    expect(capBuckets('UTC', at)).toEqual({ hour: '2026030103', day: '20260301', month: '202603' });
    expect(capBuckets('America/Los_Angeles', at)).toEqual({
      hour: '2026022819',
      day: '20260228',
      month: '202602',
    });
    // US DST starts 2026-03-08 02:00 local: 09:59Z and 10:00Z are different local hours (01 -> 03).
    expect(capBuckets('America/New_York', new Date('2026-03-08T06:59:00Z')).hour).toBe('2026030801');
    expect(capBuckets('America/New_York', new Date('2026-03-08T07:00:00Z')).hour).toBe('2026030803');
    // US DST ends 2026-11-01 02:00 local: 01:00-02:00 comes twice, EDT then EST; each is its own
    // hourly cap bucket, and the day is one.
    const edt = capBuckets('America/New_York', new Date('2026-11-01T05:30:00Z'));
    const est = capBuckets('America/New_York', new Date('2026-11-01T06:30:00Z'));
    expect(edt.hour).toBe('2026110101');
    expect(est.hour).toBe('2026110101-60');
    expect(est.day).toBe(edt.day);
    expect(capBuckets('America/New_York', new Date('2026-11-01T07:30:00Z')).hour).toBe('2026110102-60');
  });

  it('rejects malformed schedules', () => {
    expect(scheduleProblems({ '1': [['09:00', '17:00']] })).toEqual([]);
    expect(scheduleProblems({ '1': [['17:00', '09:00']] })).toEqual([]); // overnight
    expect(scheduleProblems({ '1': [['09:00', '09:00']] })).toHaveLength(1);
    expect(scheduleProblems({ '1': [['24:00', '09:00']] })).toHaveLength(1);
    expect(scheduleProblems({ '1': [['9', '17:00']] })).toHaveLength(1);
    expect(scheduleProblems({ ['8' as '1']: [] })).toHaveLength(1);
  });
});

describe('duplicate-caller preference', () => {
  it('puts the remembered client first and keeps the rest in order', () => {
    fc.assert(
      fc.property(cands, fc.nat(10), (cs, k) => {
        const target = cs[k % Math.max(1, cs.length)]?.clientId ?? null;
        const out = preferClient(cs, target);
        expect(ids(out).sort()).toEqual(ids(cs).sort());
        if (target) expect(out[0]!.clientId).toBe(target);
        expect(out.filter((c) => c.clientId !== target)).toEqual(cs.filter((c) => c.clientId !== target));
      }),
    );
  });
});
