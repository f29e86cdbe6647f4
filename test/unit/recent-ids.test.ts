import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RecentIds } from '../../src/platform/recent.ts';

describe('RecentIds (the finished-calls memory)', () => {
  it('never holds more than twice its window, and never forgets an id among the last `window` added', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        // Ids from a small alphabet, so that the same id comes back (a channel listed again, a re-add).
        fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer()), { maxLength: 300 }),
        (window, adds) => {
          const m = new RecentIds<number>(window);
          for (let i = 0; i < adds.length; i++) {
            const [id, v] = adds[i]!;
            m.add(String(id), v);
            expect(m.size).toBeLessThanOrEqual(2 * window);
            // The last `window` adds: each id remembered, with the value it was last added with.
            const last = new Map<string, number>();
            for (const [j, w] of adds.slice(Math.max(0, i + 1 - window), i + 1)) last.set(String(j), w);
            for (const [j, w] of last) {
              expect(m.has(j)).toBe(true);
              expect(m.get(j)).toBe(w);
            }
          }
          // An id never added is not remembered.
          expect(m.has('never')).toBe(false);
          expect(m.get('never')).toBeUndefined();
        },
      ),
      { numRuns: 300 },
    );
  });

  it('drops ids once two windows of newer ones have come', () => {
    const m = new RecentIds(3);
    for (const id of ['a', 'b', 'c', 'd', 'e', 'f']) m.add(id, true);
    expect(m.has('a')).toBe(false);
    expect(['d', 'e', 'f'].every((id) => m.has(id))).toBe(true);
    expect(m.size).toBeLessThanOrEqual(6);
  });

  it('refuses a window that is not a positive integer', () => {
    for (const w of [0, -1, 1.5, Number.NaN]) expect(() => new RecentIds(w)).toThrow(/window/);
  });
});
