// This process falling behind its own work: the hysteresis that turns a window's event-loop delay
// into "shed new calls" (pure, property-tested), and the guard on the real perf_hooks sampler with
// the loop blocked outright by a busy section.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type LoopDelayBounds,
  LoopDelayGuard,
  type LoopState,
  nextLoopState,
} from '../../src/platform/loop-delay.ts';
import { waitFor } from '../helpers/wait.ts';

const bounds = fc
  .record({
    shedMs: fc.integer({ min: 1, max: 5000 }),
    resumeFraction: fc.double({ min: 0.05, max: 1, noNaN: true }),
    calmWindows: fc.integer({ min: 1, max: 6 }),
  })
  .map(
    ({ shedMs, resumeFraction, calmWindows }): LoopDelayBounds => ({
      shedMs,
      resumeMs: Math.max(1, Math.round(shedMs * resumeFraction)),
      calmWindows,
    }),
  );

describe('nextLoopState', () => {
  it('behind after any window over the bound; admitted again only after calmWindows windows in a row under the resume bound', () => {
    fc.assert(
      fc.property(bounds, fc.array(fc.integer({ min: 0, max: 10_000 }), { maxLength: 200 }), (b, delays) => {
        let s: LoopState = { behind: false, calm: 0 };
        let everOver = false;
        for (let i = 0; i < delays.length; i++) {
          const d = delays[i]!;
          const prev = s;
          s = nextLoopState(s, d, b);
          if (d > b.shedMs) everOver = true;
          // Over the bound: behind, whatever came before.
          if (d > b.shedMs) expect(s.behind).toBe(true);
          // Never behind without a window over the bound.
          if (!everOver) expect(s.behind).toBe(false);
          // Admitted again: the last calmWindows windows were all under the resume bound.
          if (prev.behind && !s.behind) {
            expect(i + 1).toBeGreaterThanOrEqual(b.calmWindows);
            for (const x of delays.slice(i + 1 - b.calmWindows, i + 1)) expect(x).toBeLessThan(b.resumeMs);
          }
          // Once admitted, a window at or under the bound keeps it admitted (no flapping back).
          if (!prev.behind && d <= b.shedMs) expect(s.behind).toBe(false);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('LoopDelayGuard on the real event loop', () => {
  it('a busy section longer than the bound makes the process behind; calm windows admit again', async () => {
    const changes: boolean[] = [];
    const guard = new LoopDelayGuard(
      // The resume bound near the shed bound: ordinary delays on a loaded machine stay under it.
      { shedMs: 1000, resumeMs: 900, calmWindows: 2 },
      { onChange: (behind) => changes.push(behind) },
    );
    guard.start();
    try {
      expect(guard.behind).toBe(false);
      // The loop blocked for 3 s: the next reading comes at least 2 s late, whatever the machine.
      const until = Date.now() + 3000;
      while (Date.now() < until) {
        /* busy: nothing else runs */
      }
      await waitFor(() => guard.behind);
      expect(guard.delayMs).toBeGreaterThan(1000);
      await waitFor(() => !guard.behind);
      expect(changes).toEqual([true, false]);
    } finally {
      guard.stop();
    }
  });
});
