import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ACCOUNT_POLICY, delayAfter, SOURCE_POLICY, waitLeft } from '../../src/console/throttle.ts';
import { safeNext } from '../../src/console/routes/auth.ts';

const policy = fc.record({
  free: fc.integer({ min: 0, max: 20 }),
  baseMs: fc.integer({ min: 1, max: 10_000 }),
  maxMs: fc.integer({ min: 10_000, max: 3_600_000 }),
  forgetMs: fc.integer({ min: 1, max: 86_400_000 }),
});

describe('sign-in failure delays', () => {
  it('no delay under the free failures, then growing, never past the ceiling', () => {
    fc.assert(
      fc.property(policy, fc.integer({ min: 0, max: 10_000 }), (p, n) => {
        const d = delayAfter(n, p);
        if (n < p.free) expect(d).toBe(0);
        else expect(d).toBeGreaterThan(0);
        expect(d).toBeLessThanOrEqual(p.maxMs);
        expect(delayAfter(n + 1, p)).toBeGreaterThanOrEqual(d);
      }),
      { numRuns: 500 },
    );
  });

  it('a wait is never longer than the ceiling, and ends when the failures are forgotten', () => {
    fc.assert(
      fc.property(
        policy,
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 0, max: 1e12 }),
        fc.integer({ min: 0, max: 1e9 }),
        (p, failures, lastAt, later) => {
          const w = waitLeft({ failures, lastAt }, lastAt + later, p);
          expect(w).toBeGreaterThanOrEqual(0);
          expect(w).toBeLessThanOrEqual(p.maxMs);
          if (later >= p.forgetMs) expect(w).toBe(0);
          expect(waitLeft({ failures, lastAt }, lastAt + later + 1, p)).toBeLessThanOrEqual(w);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('the shipped policies: five free guesses per account, ten per source, at most 15 minutes', () => {
    expect(delayAfter(4, ACCOUNT_POLICY)).toBe(0);
    expect(delayAfter(5, ACCOUNT_POLICY)).toBe(1000);
    expect(delayAfter(7, ACCOUNT_POLICY)).toBe(4000);
    expect(delayAfter(100, ACCOUNT_POLICY)).toBe(15 * 60_000);
    expect(delayAfter(9, SOURCE_POLICY)).toBe(0);
    expect(delayAfter(10, SOURCE_POLICY)).toBe(1000);
  });
});

describe('where sign-in sends the browser next', () => {
  it('only to a console page of this site', () => {
    expect(safeNext('/console/users?offset=50')).toBe('/console/users?offset=50');
    for (const bad of [
      '//evil.example/console/',
      'https://evil.example/',
      '/console/../x',
      '/console/sign-in',
      '/docs',
      5,
    ])
      expect(safeNext(bad)).toBe('/console/live');
  });
});
