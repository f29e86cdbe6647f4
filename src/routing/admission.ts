// Whether a new call is taken or shed (refused at once with congestion), and why. Two reasons, one
// answer: the Asterisk node has fallen behind our requests (its oldest request has waited too long,
// or too many are queued: ari.ts), or this process has fallen behind its own work (its event loop
// is late: platform/loop-delay.ts). Either way, a call taken now would only queue work that is done
// too late for its caller; calls already in progress go on (they must be able to finish).
import type { Counter } from 'prom-client';
import type { AsteriskModule } from '../asterisk/index.ts';

export type ShedCause = 'asterisk' | 'event_loop';

export class Admission {
  constructor(
    private asterisk: AsteriskModule,
    /** This process's own load (none: only Asterisk's is looked at). */
    private loop: { readonly behind: boolean } | null,
    /** Calls shed, by cause. */
    private shed: Counter,
  ) {}

  /** Whether a new call (or a call about to take its first client slot) on this node is shed now, and why; counted. */
  shedNow(nodeId: string): ShedCause | null {
    const cause: ShedCause | null = this.asterisk.nodes.get(nodeId)?.overloaded()
      ? 'asterisk'
      : this.loop?.behind
        ? 'event_loop'
        : null;
    if (cause) this.shed.inc({ cause });
    return cause;
  }
}
