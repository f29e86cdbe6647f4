// Write coalescing for the links that carry many small frames (ARI REST over WebSocket, Redis):
// the first write in an event-loop turn corks the socket and the turn's end uncorks it, so the
// frames of a burst of events handled together leave in one syscall instead of one each. On these
// machines a loopback write costs tens of microseconds of kernel time and wakes the peer each time.
import type { Writable } from 'node:stream';

// Writes held on each corked stream this turn.
const held = new WeakMap<Writable, number>();

/**
 * Holds the write about to be made until the turn ends. `maxHeld`: once that many are held, they
 * leave at once and the next ones are held anew, so a long turn sends its writes in batches: the
 * peer starts on the first batch while this process is still making the next (a Redis link, where
 * one write for a whole turn left Redis idle until the turn ended and this process idle after).
 */
export function corkUntilTurnEnds(s: Writable | null | undefined, maxHeld = Number.POSITIVE_INFINITY): void {
  if (!s || s.destroyed) return;
  const n = held.get(s);
  if (n !== undefined) {
    if (n < maxHeld) {
      held.set(s, n + 1);
      return;
    }
    held.set(s, 1);
    s.uncork();
    s.cork();
    return;
  }
  held.set(s, 1);
  s.cork();
  // setImmediate runs after the poll phase: every I/O callback of this turn has written by then.
  setImmediate(() => {
    held.delete(s);
    s.uncork();
  });
}
