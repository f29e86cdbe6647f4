// The live floor's rate charts: each instance's finished-call counters folded into 5-second buckets
// from the snapshots it publishes. A snapshot after a long silence (no console was open, so nothing
// was published; Redis away) sets a new baseline instead of showing every call of the gap as one spike.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LiveHub, RATE_BUCKET_MS } from '../../src/console/live.ts';
import { createLogger } from '../../src/platform/logger.ts';

const hub = () => new LiveHub(null as never, 'ch', null as never, createLogger({ level: 'silent' }));
const snap = (at: number, routed: number, answered: number) =>
  JSON.stringify({ instance: 'i1', at, calls: [], nodes: [], routed, answered });

describe('live floor rates', () => {
  it('counts what finished between snapshots, and nothing of a silence of minutes', () => {
    const h = hub();
    const t0 = 1_000 * RATE_BUCKET_MS;
    h.onSnapshot(snap(t0, 1000, 900)); // first sight: the baseline
    h.onSnapshot(snap(t0 + 1000, 1005, 904));
    h.onSnapshot(snap(t0 + 2000, 1010, 908));
    // No console open for two minutes: 240 calls finished meanwhile.
    h.onSnapshot(snap(t0 + 122_000, 1250, 1200));
    h.onSnapshot(snap(t0 + 123_000, 1255, 1204));
    const r = h.rates(t0 + 123_000);
    expect(r.find((p) => p.t === t0)).toEqual({ t: t0, calls_per_s: 2, answer_rate: 0.8 });
    expect(r.at(-1)).toEqual({ t: t0 + 120_000, calls_per_s: 1, answer_rate: 0.8 });
    expect(Math.max(...r.map((p) => p.calls_per_s))).toBe(2);
  });

  it('property: the buckets hold exactly the calls finished between snapshots at most 10 s apart', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ gap: fc.integer({ min: 100, max: 30_000 }), inc: fc.nat(50) }), {
          maxLength: 9,
        }),
        (steps) => {
          const h = hub();
          let at = 7_000_000;
          let routed = 0;
          let expected = 0;
          h.onSnapshot(snap(at, routed, 0));
          for (const s of steps) {
            at += s.gap;
            routed += s.inc;
            if (s.gap <= 2 * RATE_BUCKET_MS) expected += s.inc;
            h.onSnapshot(snap(at, routed, routed));
          }
          const counted = h.rates(at).reduce((n, p) => n + (p.calls_per_s * RATE_BUCKET_MS) / 1000, 0);
          expect(counted).toBeCloseTo(expected, 6);
        },
      ),
      { numRuns: 300 },
    );
  });
});
