// A bound on the requests one transport has in flight to one node, with a FIFO queue behind it
// whose depth and oldest wait say how far behind the node is. Hand-written rather than p-limit or
// p-queue: those count pending work but not how long the oldest has waited, which is the figure
// that tells a slow node from a busy one, and a waiter that outlives its time bound must leave the
// queue unsent (so its caller knows the request never happened).

export interface LoadFigures {
  limit: number;
  inFlight: number;
  queued: number;
  /** How long the oldest queued request has waited for a slot (0 with none queued). */
  oldestWaitMs: number;
  /** How long the oldest request in flight has waited for its answer (0 with none). */
  oldestInFlightMs: number;
}

interface Waiter {
  at: number;
  start: () => void;
  timer: NodeJS.Timeout;
}

export class InFlightLimiter {
  private waiting: Waiter[] = [];
  /** Start times of the requests in flight, oldest first (a Set keeps insertion order). */
  private running = new Set<{ at: number }>();

  constructor(readonly limit: number) {
    if (!(limit >= 1)) throw new Error(`in-flight limit must be at least 1, got ${limit}`);
  }

  get inFlight(): number {
    return this.running.size;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /**
   * Runs `task` once a slot is free. A task still queued after `waitMs` never runs: the promise
   * rejects with `onWaitTimeout()`.
   */
  run<T>(task: () => Promise<T>, waitMs: number, onWaitTimeout: () => Error): Promise<T> {
    if (this.running.size < this.limit && this.waiting.length === 0) return this.start(task);
    return new Promise<T>((resolve, reject) => {
      const w: Waiter = {
        at: Date.now(),
        start: () => {
          clearTimeout(w.timer);
          this.start(task).then(resolve, reject);
        },
        timer: setTimeout(() => {
          const i = this.waiting.indexOf(w);
          if (i >= 0) this.waiting.splice(i, 1);
          reject(onWaitTimeout());
        }, waitMs),
      };
      this.waiting.push(w);
    });
  }

  figures(now = Date.now()): LoadFigures {
    const first = this.running.values().next().value;
    return {
      limit: this.limit,
      inFlight: this.running.size,
      queued: this.waiting.length,
      oldestWaitMs: this.waiting.length ? now - this.waiting[0]!.at : 0,
      oldestInFlightMs: first ? now - first.at : 0,
    };
  }

  private start<T>(task: () => Promise<T>): Promise<T> {
    const slot = { at: Date.now() };
    this.running.add(slot);
    const done = () => {
      this.running.delete(slot);
      this.waiting.shift()?.start();
    };
    let p: Promise<T>;
    try {
      p = task();
    } catch (e) {
      p = Promise.reject(e);
    }
    return p.finally(done);
  }
}
