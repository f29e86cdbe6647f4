// Pure parts of the ARI client's transport: which requests may travel over the events WebSocket
// (never one whose answer grows with the number of calls), and the in-flight bound with its queue.
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { InFlightLimiter } from '../../src/asterisk/limiter.ts';
import { queryString } from '../../src/asterisk/request.ts';
import { mayTravelOverWebSocket } from '../../src/asterisk/transport-choice.ts';

const id = fc.string({ minLength: 1, maxLength: 12 }).map(encodeURIComponent);
const method = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE');

describe('mayTravelOverWebSocket', () => {
  it('never sends a list, or anything under applications, endpoints, recordings, sounds, device states, mailboxes', () => {
    const growing = fc.oneof(
      fc.constant('/channels'),
      fc.constant('/bridges'),
      fc.constant('/endpoints'),
      fc.constant('/sounds'),
      fc.constant('/deviceStates'),
      fc.constant('/mailboxes'),
      fc.constant('/applications'),
      fc.constant('/recordings/stored'),
      id.map((x) => `/endpoints/${x}`),
      fc.tuple(id, id).map(([a, b]) => `/endpoints/${a}/${b}`),
      id.map((x) => `/applications/${x}`),
      fc.tuple(id, fc.constantFrom('eventFilter', 'subscription')).map(([a, b]) => `/applications/${a}/${b}`),
      id.map((x) => `/recordings/live/${x}`),
      id.map((x) => `/recordings/stored/${x}`),
      fc.constantFrom('/asterisk/modules', '/asterisk/logging', '/asterisk/variable'),
    );
    fc.assert(
      fc.property(growing, (path) => !mayTravelOverWebSocket('GET', path)),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(method, growing, (m, path) => {
        if (path === '/channels' || path === '/bridges') return true; // creating one: see below
        return !mayTravelOverWebSocket(m, path);
      }),
      { numRuns: 500 },
    );
  });

  it('sends requests about one channel or bridge over the WebSocket', () => {
    const one = fc.oneof(
      id.map((x) => `/channels/${x}`),
      fc
        .tuple(id, fc.constantFrom('answer', 'dial', 'ring', 'variable', 'move', 'continue'))
        .map(([a, b]) => `/channels/${a}/${b}`),
      id.map((x) => `/bridges/${x}`),
      fc.tuple(id, fc.constantFrom('addChannel', 'removeChannel')).map(([a, b]) => `/bridges/${a}/${b}`),
    );
    fc.assert(
      fc.property(method, one, (m, path) => mayTravelOverWebSocket(m, path)),
      { numRuns: 500 },
    );
    expect(mayTravelOverWebSocket('POST', '/channels')).toBe(true);
    expect(mayTravelOverWebSocket('POST', '/bridges')).toBe(true);
    expect(mayTravelOverWebSocket('POST', '/channels/create')).toBe(true);
    expect(mayTravelOverWebSocket('POST', '/events/claim')).toBe(true);
    expect(mayTravelOverWebSocket('GET', '/channels')).toBe(false);
    expect(mayTravelOverWebSocket('GET', '/bridges')).toBe(false);
  });
});

describe('queryString', () => {
  it('encodes defined entries in order and leaves undefined ones out', () => {
    expect(queryString({ a: 1, b: undefined, c: 'x y&z', d: false })).toBe('?a=1&c=x%20y%26z&d=false');
    expect(queryString({})).toBe('');
    expect(queryString(undefined)).toBe('');
  });
});

describe('InFlightLimiter', () => {
  it('never runs more than its limit at once, and starts tasks in the order they came', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.nat({ max: 1000 }), { minLength: 1, maxLength: 30 }),
        async (limit, finishOrder) => {
          const l = new InFlightLimiter(limit);
          const running: Array<() => void> = [];
          const started: number[] = [];
          let max = 0;
          const all = finishOrder.map((_, i) =>
            l.run(
              () =>
                new Promise<number>((resolve) => {
                  started.push(i);
                  running.push(() => resolve(i));
                  max = Math.max(max, l.inFlight);
                }),
              60_000,
              () => new Error('timed out'),
            ),
          );
          // Finish running tasks in an arbitrary order until all are done.
          let k = 0;
          while (running.length) {
            const pick = finishOrder[k++ % finishOrder.length]! % running.length;
            running.splice(pick, 1)[0]!();
            await new Promise((r) => setImmediate(r));
          }
          expect(await Promise.all(all)).toEqual(finishOrder.map((_, i) => i));
          expect(max).toBeLessThanOrEqual(limit);
          expect(started).toEqual(finishOrder.map((_, i) => i));
          expect(l.figures()).toMatchObject({ inFlight: 0, queued: 0 });
        },
      ),
      { numRuns: 100 },
    );
  });

  it('queued tasks that outlive their wait never run; the others start in order, those run `first` before the rest; the figures count only those still queued', async () => {
    vi.useFakeTimers();
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 3000 }),
          fc.integer({ min: 0, max: 101 }),
          fc.func(fc.boolean()),
          async (waits, cut, isFirst) => {
            const first = waits.map((_, i) => isFirst(i));
            const l = new InFlightLimiter(1);
            let releaseBlocker!: () => void;
            const blocker = l.run(
              () => new Promise<void>((r) => (releaseBlocker = r)),
              1000,
              () => new Error('timed out'),
            );
            const started: number[] = [];
            const outcomes = waits.map((w, i) =>
              l
                .run(
                  async () => {
                    started.push(i);
                  },
                  w,
                  () => new Error('timed out'),
                  { first: first[i]! },
                )
                .then(
                  () => 'ran',
                  () => 'timed out',
                ),
            );
            await vi.advanceTimersByTimeAsync(cut);
            const live = waits.flatMap((w, i) => (w > cut ? [i] : []));
            expect(l.figures()).toMatchObject({
              inFlight: 1,
              queued: live.length,
              oldestWaitMs: live.length ? cut : 0,
            });
            releaseBlocker();
            await blocker;
            const got = await Promise.all(outcomes);
            expect(got).toEqual(waits.map((w) => (w > cut ? 'ran' : 'timed out')));
            expect(started).toEqual([...live.filter((i) => first[i]), ...live.filter((i) => !first[i])]);
            expect(l.figures()).toMatchObject({ inFlight: 0, queued: 0, oldestWaitMs: 0 });
          },
        ),
        { numRuns: 60 },
      );
    } finally {
      vi.useRealTimers();
    }
  });

  it('a task that throws at once frees its slot', async () => {
    const l = new InFlightLimiter(1);
    await expect(
      l.run(
        () => {
          throw new Error('boom');
        },
        1000,
        () => new Error('timed out'),
      ),
    ).rejects.toThrow('boom');
    await expect(
      l.run(
        async () => 7,
        1000,
        () => new Error('timed out'),
      ),
    ).resolves.toBe(7);
  });
});
