// Write coalescing for the links that carry many small frames (ARI REST over WebSocket, Redis):
// the first write in an event-loop turn corks the socket and the turn's end uncorks it, so the
// frames of a burst of events handled together leave in one syscall instead of one each. On these
// machines a loopback write costs tens of microseconds of kernel time and wakes the peer each time.
import type { Writable } from 'node:stream';

const corked = new WeakSet<Writable>();

export function corkUntilTurnEnds(s: Writable | null | undefined): void {
  if (!s || s.destroyed || corked.has(s)) return;
  corked.add(s);
  s.cork();
  // setImmediate runs after the poll phase: every I/O callback of this turn has written by then.
  setImmediate(() => {
    corked.delete(s);
    s.uncork();
  });
}
