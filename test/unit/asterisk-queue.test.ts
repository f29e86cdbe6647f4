import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyedQueue } from '../../src/asterisk/ordered.ts';
import { backoffDelay } from '../../src/platform/backoff.ts';

describe('backoff policy', () => {
  it('stays within (ceiling/2, ceiling], grows, caps, and never gives up', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1000 }),
        fc.double({ min: 0, max: 0.999999, noNaN: true }),
        (n, r) => {
          const d = backoffDelay(n, { baseMs: 100, maxMs: 10_000 }, r);
          const ceiling = Math.min(10_000, 100 * 2 ** Math.min(n, 30));
          expect(d).toBeGreaterThanOrEqual(ceiling / 2);
          expect(d).toBeLessThanOrEqual(ceiling);
          expect(d).toBeGreaterThan(0);
        },
      ),
    );
    expect(backoffDelay(0, { baseMs: 100, maxMs: 10_000 }, 0)).toBe(50);
    expect(backoffDelay(50, { baseMs: 100, maxMs: 10_000 }, 0.999)).toBeLessThanOrEqual(10_000);
  });
});

describe('KeyedQueue', () => {
  it('runs each key in submission order, one at a time, whatever the task timings', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.integer({ min: 0, max: 3 }), fc.boolean()), {
          maxLength: 30,
        }),
        async (tasks) => {
          const q = new KeyedQueue();
          const log: Record<string, number[]> = {};
          const running: Record<string, number> = {};
          let overlap = false;
          tasks.forEach(([key, delay, fail], i) => {
            void q
              .run(key, async () => {
                running[key] = (running[key] ?? 0) + 1;
                if (running[key]! > 1) overlap = true;
                await new Promise((r) => setTimeout(r, delay));
                log[key] = [...(log[key] ?? []), i];
                running[key]!--;
                if (fail) throw new Error('task failed');
              })
              .catch(() => {});
          });
          await q.drain();
          expect(overlap).toBe(false);
          for (const [k, idx] of Object.entries(log))
            expect(idx).toEqual(
              tasks
                .map((t, i) => [t[0], i] as const)
                .filter(([kk]) => kk === k)
                .map(([, i]) => i),
            );
          expect(q.size).toBe(0);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('reports a failing task and keeps the key usable', async () => {
    const errors: string[] = [];
    const q = new KeyedQueue((k) => errors.push(k));
    await expect(q.run('x', () => Promise.reject(new Error('no')))).rejects.toThrow('no');
    expect(await q.run('x', () => 42)).toBe(42);
    expect(errors).toEqual(['x']);
  });
});
