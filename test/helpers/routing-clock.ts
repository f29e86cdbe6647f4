// A routing clock a test moves: the daemon's routing time is the machine's plus an offset the test
// sets, and what the daemon asked to run at a moment of that clock (the hold queue's hour wake-up)
// runs when the clock reaches it, by the machine's time passing or by the test moving the clock on.
// So a test sees the start of an hour without waiting for one, as the unit tests do with an
// injected clock and fake timers (which a daemon running in the test's process cannot use).
import type { AtTimer } from '../../src/routing/queue-waiters.ts';

export interface MovableClock {
  now: () => number;
  at: AtTimer;
  /** Sets the clock to `t` (only forward) and runs what is due by then. */
  moveTo(t: number): void;
}

export function movableClock(startAt: number): MovableClock {
  let offset = startAt - Date.now();
  const now = () => Date.now() + offset;
  type Due = { at: number; fn: () => void; timer: NodeJS.Timeout };
  const due = new Set<Due>();
  const run = (x: Due) => {
    if (!due.delete(x)) return;
    clearTimeout(x.timer);
    x.fn();
  };
  const at: AtTimer = (t, fn) => {
    const x: Due = { at: t, fn, timer: setTimeout(() => run(x), Math.max(0, t - now())) };
    x.timer.unref();
    due.add(x);
    return () => {
      due.delete(x);
      clearTimeout(x.timer);
    };
  };
  return {
    now,
    at,
    moveTo(t) {
      offset = Math.max(offset, t - Date.now());
      for (const x of [...due]) if (x.at <= now()) run(x);
    },
  };
}
