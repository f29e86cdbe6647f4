// Which cap owners a slot counts against, and in which buckets (pure).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RouteLink, RoutePlan } from '../../src/routing/catalog.ts';
import { capBuckets, capSources } from '../../src/routing/decide.ts';
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
