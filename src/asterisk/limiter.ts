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
  /** Left the queue unsent (its wait bound passed); skipped when its turn comes. */
  gone?: boolean;
}

/** Slots of the queue's array left behind its head before the array is cut down to what is live. */
const COMPACT_AT = 1024;

export class InFlightLimiter {
  /**
   * The queue, oldest first from `head`. With thousands of requests queued under overload, every
   * operation must cost the same whatever the depth: no shift() (it moves the whole array once it
   * is large) and no search on a time-out (the waiter is marked gone and skipped when reached).
   */
  private waiting: Array<Waiter | undefined> = [];
  private head = 0;
  private queuedCount = 0;
  /** Waiters that go before every one of `waiting` (run with `first`), oldest first; few at a time. */
  private urgent: Waiter[] = [];
  /** Start times of the requests in flight, oldest first (a Set keeps insertion order). */
  private running = new Set<{ at: number }>();

  constructor(readonly limit: number) {
    if (!(limit >= 1)) throw new Error(`in-flight limit must be at least 1, got ${limit}`);
  }

  get inFlight(): number {
    return this.running.size;
  }

  get queued(): number {
    return this.queuedCount;
  }

  /**
   * Runs `task` once a slot is free. A task still queued after `waitMs` never runs: the promise
   * rejects with `onWaitTimeout()`. `first`: it goes before every task queued without it (work that
   * frees resources, ahead of work that takes more).
   */
  run<T>(
    task: () => Promise<T>,
    waitMs: number,
    onWaitTimeout: () => Error,
    o: { first?: boolean } = {},
  ): Promise<T> {
    if (this.running.size < this.limit && this.queuedCount === 0) return this.start(task);
    return new Promise<T>((resolve, reject) => {
      const w: Waiter = {
        at: Date.now(),
        start: () => {
          clearTimeout(w.timer);
          this.start(task).then(resolve, reject);
        },
        timer: setTimeout(() => {
          w.gone = true;
          this.queuedCount--;
          if (o.first) this.urgent.splice(this.urgent.indexOf(w), 1);
          else this.skipGone();
          reject(onWaitTimeout());
        }, waitMs),
      };
      if (o.first) this.urgent.push(w);
      else this.waiting.push(w);
      this.queuedCount++;
    });
  }

  figures(now = Date.now()): LoadFigures {
    const first = this.running.values().next().value;
    const oldest = Math.min(this.waiting[this.head]?.at ?? now, this.urgent[0]?.at ?? now);
    return {
      limit: this.limit,
      inFlight: this.running.size,
      queued: this.queuedCount,
      oldestWaitMs: now - oldest,
      oldestInFlightMs: first ? now - first.at : 0,
    };
  }

  /** Takes the oldest urgent waiter off the queue, else the oldest live one. */
  private next(): Waiter | undefined {
    const urgent = this.urgent.shift();
    if (urgent) {
      this.queuedCount--;
      return urgent;
    }
    this.skipGone();
    if (this.head >= this.waiting.length) return undefined;
    const w = this.waiting[this.head]!;
    this.waiting[this.head++] = undefined;
    this.queuedCount--;
    this.skipGone();
    return w;
  }

  /** Moves the head past waiters gone, and cuts the array down once mostly behind the head. */
  private skipGone(): void {
    // Behind the head the array holds nothing; at and after it, waiters.
    while (this.head < this.waiting.length && this.waiting[this.head]!.gone)
      this.waiting[this.head++] = undefined;
    if (this.head === this.waiting.length) {
      this.waiting = [];
      this.head = 0;
    } else if (this.head >= COMPACT_AT && this.head * 2 >= this.waiting.length) {
      this.waiting = this.waiting.slice(this.head);
      this.head = 0;
    }
  }

  private start<T>(task: () => Promise<T>): Promise<T> {
    const slot = { at: Date.now() };
    this.running.add(slot);
    const done = () => {
      this.running.delete(slot);
      this.next()?.start();
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
