// The process's own event-loop delay, and whether the process has fallen behind because of it.
// Asterisk answering our requests in time says nothing about this process keeping up: with thousands
// of live calls on a busy host, every event, timer and answer can wait seconds here before it is
// handled, while each request still looks answered promptly. A process that far behind should turn
// new calls away as it does when Asterisk falls behind, rather than take work it will do too late.
//
// Read in windows (WINDOW_MS): the window's p99 delay, or how late the reading itself came if later
// (a loop blocked outright delays its own reading). Over `shedMs` the process is behind; it is no
// longer behind once `calmWindows` windows in a row stayed under `resumeMs` (hysteresis: a loop
// hovering at the bound does not flap between shedding and admitting).
import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';

export interface LoopDelayBounds {
  /** A window's delay (ms) over this: behind. */
  shedMs: number;
  /** Behind until `calmWindows` windows in a row stay under this (ms). */
  resumeMs: number;
  calmWindows: number;
}

export interface LoopState {
  behind: boolean;
  /** Calm windows in a row while behind. */
  calm: number;
}

/** Pure: the state after a window whose delay was `delayMs`. */
export function nextLoopState(prev: LoopState, delayMs: number, b: LoopDelayBounds): LoopState {
  if (delayMs > b.shedMs) return { behind: true, calm: 0 };
  if (!prev.behind) return { behind: false, calm: 0 };
  const calm = delayMs < b.resumeMs ? prev.calm + 1 : 0;
  return calm >= b.calmWindows ? { behind: false, calm: 0 } : { behind: true, calm };
}

/** The delay of the window that just ended (ms); reading it starts the next window. */
export type LoopDelaySampler = () => number;

/** How often the delay is read. */
export const WINDOW_MS = 1000;
/** Windows in a row under the resume bound before calls are admitted again. */
export const CALM_WINDOWS = 3;

/** perf_hooks' sampler: the p99 of the loop's delay over the window, at 10 ms resolution. */
export function histogramSampler(): { sample: LoopDelaySampler; stop(): void } {
  const h: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  return {
    sample: () => {
      const p99 = h.count ? h.percentile(99) / 1e6 : 0;
      h.reset();
      return p99;
    },
    stop: () => h.disable(),
  };
}

export class LoopDelayGuard {
  private state: LoopState = { behind: false, calm: 0 };
  private timer: NodeJS.Timeout | null = null;
  private lastAt = 0;
  private stopSampler: (() => void) | undefined;
  private sample: LoopDelaySampler;
  /** The last window's delay (ms). */
  delayMs = 0;

  constructor(
    private bounds: LoopDelayBounds,
    private o: {
      /** Default: perf_hooks' monitorEventLoopDelay (tests inject their own). */
      sampler?: LoopDelaySampler;
      /** Called when the process falls behind or catches up. */
      onChange?: (behind: boolean, delayMs: number) => void;
      now?: () => number;
    } = {},
  ) {
    if (o.sampler) this.sample = o.sampler;
    else {
      const s = histogramSampler();
      this.sample = s.sample;
      this.stopSampler = s.stop;
    }
  }

  /** Whether new work should be turned away now. */
  get behind(): boolean {
    return this.state.behind;
  }

  start(): void {
    this.lastAt = (this.o.now ?? Date.now)();
    this.timer ??= setInterval(() => this.check(), WINDOW_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.stopSampler?.();
  }

  /** Reads the window that just ended and moves the state (the timer calls it; tests may too). */
  check(): void {
    const now = (this.o.now ?? Date.now)();
    const since = this.lastAt ? now - this.lastAt : WINDOW_MS;
    this.lastAt = now;
    // A reading that came late by more than the window's p99 says the loop was blocked meanwhile.
    const late = this.timer ? Math.max(0, since - WINDOW_MS) : 0;
    this.delayMs = Math.max(this.sample(), late);
    const was = this.state.behind;
    this.state = nextLoopState(this.state, this.delayMs, this.bounds);
    if (this.state.behind !== was) this.o.onChange?.(this.state.behind, this.delayMs);
  }
}
