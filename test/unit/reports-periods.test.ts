import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DAY,
  HOUR,
  localBoundaries,
  localInstant,
  parseBound,
  QUARTER,
  type Range,
  readPlan,
  readRanges,
  rentTerms,
} from '../../src/reports/periods.ts';

const ZONES = [
  'UTC',
  'Asia/Kolkata',
  'Asia/Kathmandu',
  'Australia/Eucla',
  'America/New_York',
  'Australia/Lord_Howe',
  'America/St_Johns',
  'Pacific/Chatham',
];
const WIDTH: Record<Range['grain'], number> = { q: QUARTER, h: HOUR, d: DAY };
const T0 = Date.UTC(2026, 0, 1);

/** A quarter-aligned instant in 2026 (DST transitions of both hemispheres included). */
const quarter = fc.integer({ min: 0, max: 365 * 96 }).map((n) => T0 + n * QUARTER);

describe('report periods', () => {
  it('local midnights of half- and quarter-hour zones', () => {
    expect(new Date(localInstant('Asia/Kolkata', 2026, 3, 10)).toISOString()).toBe(
      '2026-03-09T18:30:00.000Z',
    );
    expect(new Date(localInstant('Asia/Kathmandu', 2026, 3, 10)).toISOString()).toBe(
      '2026-03-09T18:15:00.000Z',
    );
    expect(new Date(localInstant('America/New_York', 2026, 7, 1)).toISOString()).toBe(
      '2026-07-01T04:00:00.000Z',
    );
    // 02:30 does not exist on the spring-forward night: the gap moves it to 03:30 EDT.
    expect(new Date(localInstant('America/New_York', 2026, 3, 8, 2, 30)).toISOString()).toBe(
      '2026-03-08T07:30:00.000Z',
    );
    expect(parseBound('2026-03-10', 'Asia/Kathmandu')).toBe(Date.UTC(2026, 2, 9, 18, 15));
    expect(parseBound('2026-03-10T10:00+05:30', 'UTC')).toBe(Date.UTC(2026, 2, 10, 4, 30));
    for (const b of ['2026-02-30', '2026-13-01', 'yesterday', '2026-03-10T10:00', '1700000000'])
      expect(parseBound(b, 'UTC') === null || b === '2026-03-10T10:00', b).toBe(true);
    expect(parseBound('2026-03-10T10:00', 'Asia/Kolkata')).toBe(Date.UTC(2026, 2, 10, 4, 30));
  });

  it('a New York day across the spring transition is 23 hours, in the autumn 25', () => {
    const days = localBoundaries(
      'America/New_York',
      Date.UTC(2026, 2, 7, 5),
      Date.UTC(2026, 2, 10, 4),
      'day',
    );
    expect(days.map((d) => new Date(d).toISOString())).toEqual([
      '2026-03-08T05:00:00.000Z',
      '2026-03-09T04:00:00.000Z',
    ]);
    const fall = localBoundaries(
      'America/New_York',
      Date.UTC(2026, 10, 1, 3),
      Date.UTC(2026, 10, 3, 5),
      'day',
    );
    expect(fall[1]! - fall[0]!).toBe(25 * HOUR);
  });

  it('boundaries are exactly the local midnights (hours) inside the period, in order', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ZONES),
        quarter,
        fc.integer({ min: 1, max: 2 * 96 }),
        fc.constantFrom('hour', 'day'),
        (tz, from, n, unit) => {
          const to = from + n * QUARTER;
          const got = localBoundaries(tz, from, to, unit as 'hour' | 'day');
          // The oracle: every quarter-hour whose wall clock reads :00 (and 00:00 for days).
          const want: number[] = [];
          for (let t = from + QUARTER; t < to; t += QUARTER) {
            const w = new Intl.DateTimeFormat('en-GB', {
              timeZone: tz,
              hour: '2-digit',
              minute: '2-digit',
              hourCycle: 'h23',
            }).format(t);
            if (unit === 'hour' ? w.endsWith(':00') : w === '00:00') want.push(t);
          }
          expect(got).toEqual(want);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('ranges cover the period exactly once, align to their grain, and never straddle a cut', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ZONES),
        quarter,
        fc.integer({ min: 1, max: 10 * 96 }),
        fc.constantFrom('hour', 'day', 'none'),
        (tz, from, n, unit) => {
          const to = from + n * QUARTER;
          const cuts = unit === 'none' ? [] : localBoundaries(tz, from, to, unit as 'hour' | 'day');
          const ranges = readRanges(from, to, cuts);
          // Every quarter-hour of the period is in exactly one range; nothing outside is.
          const covered = new Map<number, number>();
          for (const r of ranges) {
            expect(r.from % WIDTH[r.grain]).toBe(0);
            expect(r.to % WIDTH[r.grain]).toBe(0);
            expect(r.from).toBeLessThan(r.to);
            for (const c of cuts)
              expect(r.from < c && c < r.to && (c - r.from) % WIDTH[r.grain] !== 0).toBe(false);
            for (let t = r.from; t < r.to; t += QUARTER) covered.set(t, (covered.get(t) ?? 0) + 1);
          }
          expect(covered.size).toBe(n);
          for (const [t, k] of covered) {
            expect(k).toBe(1);
            expect(t >= from && t < to).toBe(true);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('a month by day in a whole-hour zone reads few rows: days inside, hours at the edges', () => {
    const from = Date.UTC(2026, 5, 1);
    const to = Date.UTC(2026, 6, 1);
    expect(readRanges(from, to, [])).toEqual([{ grain: 'd', from, to }]);
    const kolkata = readRanges(from - 5.5 * HOUR, to - 5.5 * HOUR, []);
    expect(kolkata.map((r) => r.grain).sort()).toEqual(['d', 'h', 'h', 'q', 'q'].sort());
  });

  it('rent terms count every quarter-hour of the period once, each in its own UTC month, one month row a month', () => {
    const month = (t: number) => new Date(t).toISOString().slice(0, 7);
    fc.assert(
      fc.property(quarter, fc.integer({ min: 1, max: 100 * 96 }), (from, n) => {
        const to = from + n * QUARTER;
        const terms = rentTerms(from, to, 'x');
        const spans: Array<[number, number]> = [];
        const perMonth = new Map<string, { m: number; d: number }>();
        for (const t of terms) {
          expect(t.label).toBe('x');
          expect(t.lo).toBeLessThan(t.hi);
          const c = perMonth.get(t.month) ?? { m: 0, d: 0 };
          c[t.kind] += 1;
          perMonth.set(t.month, c);
          // What a term counts: quarter-hours [lo, hi) of its day, or whole days [lo, hi) of its month.
          const base = Date.parse(`${t.at}T00:00:00Z`);
          const unit = t.kind === 'd' ? QUARTER : DAY;
          expect(t.hi).toBeLessThanOrEqual(t.kind === 'd' ? 96 : 31);
          if (t.kind === 'm') expect(t.at).toBe(t.month);
          const [a, b] = [base + t.lo * unit, base + t.hi * unit];
          expect(month(a)).toBe(t.month.slice(0, 7));
          expect(month(b - QUARTER)).toBe(t.month.slice(0, 7));
          spans.push([a, b]);
        }
        // Sorted, the spans tile [from, to) exactly: each starts where the previous one ended.
        spans.sort((x, y) => x[0] - y[0]);
        let at = from;
        for (const [a, b] of spans) {
          expect(a).toBe(at);
          at = b;
        }
        expect(at).toBe(to);
        // Whole days come from the month's row; only the period's two part-days read day rows.
        for (const c of perMonth.values()) expect(c.m).toBeLessThanOrEqual(1);
        expect(terms.filter((t) => t.kind === 'd').length).toBeLessThanOrEqual(2);
      }),
      { numRuns: 300 },
    );
  });

  it('rent by local day reads day rows only where a local day starts off UTC midnight', () => {
    const from = Date.UTC(2026, 5, 1);
    const to = Date.UTC(2026, 6, 1);
    expect(readPlan('UTC', from, to, 'day').rent.every((t) => t.kind === 'm')).toBe(true);
    const kolkata = readPlan('Asia/Kolkata', from - 5.5 * HOUR, to - 5.5 * HOUR, 'day').rent;
    expect(kolkata.filter((t) => t.kind === 'd')).toHaveLength(60);
  });
});
