// Getting our Stasis app name back after another connection took it (ApplicationReplaced).
// Asterisk hands an app name to the newest WebSocket that asks for it and leaves the replaced one
// open but deaf for that app: when the other connection leaves, nothing tells us, and nothing gives
// the name back unless we open a new WebSocket for it. Opening one at once would take the name from
// a connection that is still there (and, if it is another instance doing the same, start a fight).
// So: ask Asterisk every `probeMs` whether the app still exists (`GET /applications/{app}`; 404 once
// the other connection left and none of its channels remain in the app) and reconnect then; and,
// since the app outlives its WebSocket while channels stay in it, reconnect anyway after
// `forceAfterMs`, doubling that wait (up to 16 times) each time we are replaced again.
import type { Logger } from '../platform/logger.ts';
import { AriError } from './errors.ts';

export interface ReclaimOptions {
  probeMs: number;
  forceAfterMs: number;
  log: Logger;
  /** GET /applications/{app}. */
  probe: (app: string) => Promise<unknown>;
  /** Opens a new events WebSocket (which registers every app again). */
  reconnect: () => void;
}

export class AppReclaim {
  /** Apps another connection took from us on the current WebSocket. */
  readonly lost = new Set<string>();
  /** When the first of them was lost (0: none lost). */
  lostAt = 0;
  /** Times we were replaced in a row without a probe finding the name free. */
  private streak = 0;
  private timer: NodeJS.Timeout | null = null;
  private probing = false;

  constructor(private readonly opts: ReclaimOptions) {}

  replaced(app: string): void {
    if (!this.lost.size) {
      this.lostAt = Date.now();
      this.streak++;
    }
    this.lost.add(app);
    if (!this.timer) {
      this.timer = setInterval(() => void this.tick(), this.opts.probeMs);
      this.timer.unref();
    }
  }

  /** A new WebSocket registered every app: nothing is lost any more. */
  reset(): void {
    this.lost.clear();
    this.lostAt = 0;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Current forced wait: forceAfterMs, doubled per replacement in a row, at most 16 times. */
  get forceAfterMs(): number {
    return this.opts.forceAfterMs * 2 ** Math.min(Math.max(this.streak - 1, 0), 4);
  }

  private async tick(): Promise<void> {
    if (this.probing || !this.lost.size) return;
    this.probing = true;
    try {
      let free = false;
      for (const app of this.lost) {
        try {
          await this.opts.probe(app);
        } catch (err) {
          if (err instanceof AriError && err.status === 404) free = true;
        }
      }
      const forced = Date.now() - this.lostAt >= this.forceAfterMs;
      if (!this.lost.size || (!free && !forced)) return;
      if (free) this.streak = 0;
      this.opts.log.warn(
        { apps: [...this.lost], why: free ? 'app free' : 'waited long enough' },
        'taking our Stasis app back',
      );
      this.reset();
      this.opts.reconnect();
    } finally {
      this.probing = false;
    }
  }
}
