// Which cap owners a slot counts against, and in which buckets (pure).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RouteLink, RoutePlan } from '../../src/routing/catalog.ts';
import type { HourlyConcurrency } from '../../src/db/schema/routing.ts';
import { capBuckets, capSources, concurrencyAt } from '../../src/routing/decide.ts';
import type { LinkCaps } from '../../src/routing/slots.ts';

const none: LinkCaps = { concurrency: null, hourly: null, daily: null, monthly: null, total: null };
const zones = ['UTC', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe', 'Europe/Berlin'];
const link = (group?: RouteLink['group']): RouteLink => ({
  active: true,
  linkId: 'l1',
  clientId: 'c1',
  endpoint: 'e',
  timezone: 'Asia/Kolkata',
  schedule: null,
  priority: 0,
  weight: 1,
  caps: none,
  totalAnswered: 0,
  ...(group ? { group } : {}),
});
const plan = (sources: RoutePlan['sources']): RoutePlan => ({
  did: '+14155550100',
  sellerId: 's1',
  ...(sources ? { sources } : {}),
  campaign: null,
  links: [],
});

describe('cap owners of a slot', () => {
  it('are the plan sources then the group, each with its limits; sources count in the default zone, a group in its own', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.boolean(),
        fc.option(fc.constantFrom(...zones)),
        fc.constantFrom(...zones),
        fc.date({ min: new Date('2020-01-01'), max: new Date('2035-01-01'), noInvalidDate: true }),
        fc.nat(1000),
        (withSeller, withGroup, groupTz, defaultTz, at, n) => {
          const sources: RoutePlan['sources'] = withSeller
            ? [{ kind: 'seller', id: 's1', caps: { ...none, hourly: n }, totalAnswered: n }]
            : [];
          const group = withGroup
            ? { id: 'g1', caps: { ...none, concurrency: n }, totalAnswered: 0, timezone: groupTz }
            : undefined;
          const r = capSources(plan(sources), link(group), at, defaultTz);
          const want = [...(withSeller ? ['seller'] : []), ...(withGroup ? ['group'] : [])];
          expect(r.refs.map((o) => o.kind)).toEqual(want);
          expect(r.limits).toHaveLength(want.length);
          if (withSeller) {
            expect(r.refs[0]!.buckets).toEqual(capBuckets(defaultTz, at));
            expect(r.limits[0]).toEqual({ caps: { ...none, hourly: n }, totalAnswered: n });
          }
          if (withGroup) expect(r.refs.at(-1)!.buckets).toEqual(capBuckets(groupTz ?? defaultTz, at));
        },
      ),
      { numRuns: 300 },
    );
    // A plan read before sources existed (no `sources`) counts against the link alone.
    expect(capSources(plan(undefined), link(), new Date(), 'UTC')).toEqual({ refs: [], limits: [] });
  });
});

/** Weekday (0 = Sunday) and hour of `at` in `tz`, read by Intl independently of src/time/zone.ts. */
function oracle(tz: string, at: Date): { day: string; hour: number } {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: tz,
    weekday: 'short',
    hour: 'numeric',
    hourCycle: 'h23',
  }).formatToParts(at);
  const wd = parts.find((p) => p.type === 'weekday')!.value;
  return {
    day: String(['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(wd)),
    hour: Number(parts.find((p) => p.type === 'hour')!.value),
  };
}

describe('concurrency by hour of the week', () => {
  const day = fc.array(fc.option(fc.nat(50), { nil: null }), { minLength: 24, maxLength: 24 });
  const schedule = fc.dictionary(
    fc.constantFrom('0', '1', '2', '3', '4', '5', '6'),
    day,
  ) as fc.Arbitrary<HourlyConcurrency>;

  it("is the schedule's entry for that hour of the client's week, else the link's concurrency cap", () => {
    fc.assert(
      fc.property(
        fc.option(fc.nat(50), { nil: null }),
        fc.option(schedule, { nil: null }),
        fc.constantFrom(...zones),
        fc.date({ min: new Date('2020-01-01'), max: new Date('2035-01-01'), noInvalidDate: true }),
        (cap, sched, tz, at) => {
          const { day: d, hour } = oracle(tz, at);
          const entry = sched?.[d as keyof HourlyConcurrency]?.[hour];
          expect(concurrencyAt(cap, sched, tz, at)).toBe(entry ?? cap);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('changes at the hour in the client zone, not the server one', () => {
    // Monday 08:00 and 09:00 in New York (13:00 and 14:00 UTC in winter).
    const s: HourlyConcurrency = { '1': [...Array(9).fill(1), ...Array(15).fill(4)] };
    expect(concurrencyAt(10, s, 'America/New_York', new Date('2026-01-05T13:59:59Z'))).toBe(1);
    expect(concurrencyAt(10, s, 'America/New_York', new Date('2026-01-05T14:00:00Z'))).toBe(4);
    // Tuesday has no entries: the link's own cap.
    expect(concurrencyAt(10, s, 'America/New_York', new Date('2026-01-06T14:00:00Z'))).toBe(10);
  });
});
