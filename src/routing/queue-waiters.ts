// This instance's side of the hold queues (queue.ts): which of its calls wait for which links, in
// the order they joined, which of them a cap of their own held back at their last turn, and which
// wake-up concerns which of them. A link's wake-up gives a turn to the local waiters of that link in
// line order, up to the first one that is not held back: each link's line is ordered by join time,
// so a later local waiter cannot take the slot while an earlier one that could still waits, but one
// behind a held-back waiter can — once that waiter's own turn at this wake-up has ended and still
// found it held back (so nobody is judged by a mark its cap has outgrown). A wake-up naming the owners a freed slot counted against (a
// seller, a DID, a group) also turns the waiters held back by one of them. A campaign's wake-up (a
// call left its lines) does the same as a link's for each link its local waiters wait for. Turns are
// coalesced per call: while one runs, further wake-ups for it make one more turn after it, never a
// crowd of them. At the start of each hour in a zone a local waiter's caps count in (where hourly,
// daily or monthly counters turn over, or a scheduled concurrency changes), every waiter gets a
// turn: nothing is released then, so no wake-up would come. That wake-up is the cluster's, once:
// each instance with such waiters claims the hour when it comes (`claimHour`), the first to claim
// publishes it, and every instance gives all its waiters a turn when it hears it; an instance that
// stops before its hour takes nothing with it, as every other one with waiters claims the same hour.
import { nextBoundary, type Wake } from './queue-line.ts';

/** Why a waiting call looked for a slot: a wake-up, its own slow poll, or just after it joined. */
export type TurnCause = 'wake' | 'poll' | 'join';

/** Runs `fn` at `at` (ms on the routing clock); returns what cancels it. */
export type AtTimer = (at: number, fn: () => void) => () => void;

/** The hour's wake-up as the waiters need it: when to run it, and how the cluster's is claimed. */
export interface HourWake {
  /** Default: a timer on this process's clock, for `at` less the routing clock's now. */
  at?: AtTimer | undefined;
  /**
   * Claims the hour's wake-up for the cluster (true: claimed here and published, false: another
   * instance did); it rejects when it cannot tell (Redis away), and the waiters here are then given
   * their turns at once. None: the waiters here get their turns (one instance alone).
   */
  claim?: ((at: number) => Promise<boolean>) | undefined;
}

export class QueueWaiters {
  /** link id -> the calls here waiting for it, oldest first (a Set keeps insertion order). */
  private byLink = new Map<string, Set<string>>();
  /** call id -> its campaign and the links it waits for. */
  private calls = new Map<string, { campaignId: string; linkIds: readonly string[] }>();
  /** campaign id -> the links its local waiters wait for (and how many wait for each). */
  private campaignLinks = new Map<string, Map<string, number>>();
  /** call id -> the links where a cap of its own held it back at its last turn, and that cap's owner. */
  private heldOn = new Map<string, ReadonlyMap<string, string>>();
  /** Calls whose turn is running (ends with the one more asked meanwhile), and those woken again. */
  private runs = new Map<string, Promise<void>>();
  private again = new Set<string>();
  private lastJoinAt = 0;
  /** call id -> the zones its caps count hours, days and months in. */
  private zones = new Map<string, readonly string[]>();
  /** The wake-up at the next such hour's start, and when it is due. */
  private boundary: { at: number; cancel: () => void } | null = null;
  private timerAt: AtTimer;

  constructor(
    /** Gives the call its turn; resolves when the turn is over. */
    private turn: (callId: string, cause: TurnCause) => Promise<void>,
    /** The first waiter here joined / the last one left: start or stop hearing wake-ups. */
    private listening: (on: boolean) => void,
    /** The routing clock (ms). */
    private now: () => number = Date.now,
    private hours: HourWake = {},
  ) {
    this.timerAt =
      hours.at ??
      ((at, fn) => {
        const t = setTimeout(fn, Math.max(0, at - this.now()));
        t.unref();
        return () => clearTimeout(t);
      });
  }

  /**
   * The time a call joins its lines at: later than every join this instance made before. A line in
   * Redis orders equal times by call id, so calls joining in one millisecond would stand there in
   * another order than here, and a wake-up would turn a local waiter that is not first in line
   * while the one that is waits for its slow poll.
   */
  joinTime(now: number): number {
    this.lastJoinAt = Math.max(now, this.lastJoinAt + 1);
    return this.lastJoinAt;
  }

  get size(): number {
    return this.calls.size;
  }

  /** `zones`: where the caps it waits under count hours (a new hour there gives it a turn). */
  add(campaignId: string, callId: string, linkIds: readonly string[], zones: readonly string[] = []): void {
    if (this.calls.has(callId)) return;
    const first = this.calls.size === 0;
    this.calls.set(callId, { campaignId, linkIds });
    if (zones.length) {
      this.zones.set(callId, zones);
      this.schedule(nextBoundary(zones, this.now()));
    }
    const links = this.campaignLinks.get(campaignId) ?? new Map<string, number>();
    this.campaignLinks.set(campaignId, links);
    for (const l of linkIds) {
      const line = this.byLink.get(l) ?? new Set<string>();
      this.byLink.set(l, line);
      line.add(callId);
      links.set(l, (links.get(l) ?? 0) + 1);
    }
    if (first) this.listening(true);
  }

  remove(callId: string): void {
    const c = this.calls.get(callId);
    if (!c) return;
    this.calls.delete(callId);
    this.again.delete(callId);
    this.heldOn.delete(callId);
    this.zones.delete(callId);
    if (!this.zones.size && this.boundary) {
      this.boundary.cancel();
      this.boundary = null;
    }
    const links = this.campaignLinks.get(c.campaignId);
    for (const l of c.linkIds) {
      const line = this.byLink.get(l);
      line?.delete(callId);
      if (line && !line.size) this.byLink.delete(l);
      const n = (links?.get(l) ?? 1) - 1;
      if (n > 0) links?.set(l, n);
      else links?.delete(l);
    }
    if (links && !links.size) this.campaignLinks.delete(c.campaignId);
    if (!this.calls.size) this.listening(false);
  }

  /**
   * What held the call back at its last turn: link id -> the owner (`seller:<id>`, `did:<id>`,
   * `group:<id>`) whose cap refused it there. Links it is not held back on are left out.
   */
  hold(callId: string, on: ReadonlyMap<string, string>): void {
    if (!this.calls.has(callId)) return;
    const was = this.heldOn.get(callId);
    if (on.size) this.heldOn.set(callId, on);
    else this.heldOn.delete(callId);
    // Newly held back somewhere: the waiters behind it there may take the slot it could not (the
    // script's wake-up says so too, but may be heard before this). Its own turn is the one running.
    const seen = new Set([callId]);
    for (const l of on.keys()) if (!was?.has(l)) void this.walk(l, seen);
  }

  /** A wake-up heard on the channel: the local waiters it concerns get a turn, first in line first. */
  wake(w: Wake): void {
    if ('hour' in w || 'reheard' in w) this.everyone();
    else if ('linkId' in w) {
      const seen = new Set<string>();
      void this.walk(w.linkId, seen);
      if (w.owners?.length) {
        const owners = new Set(w.owners);
        for (const [id, on] of this.heldOn)
          if (!seen.has(id) && [...on.values()].some((o) => owners.has(o))) void this.give(id);
      }
    } else {
      const seen = new Set<string>();
      for (const l of this.campaignLinks.get(w.campaignId)?.keys() ?? []) void this.walk(l, seen);
    }
  }

  /**
   * Every local waiter gets a turn, each link's in line order: the routing plans changed (a cap
   * raised or lowered, a link added or switched on), so what held each back is judged again by the
   * caps in force now, not at its next poll.
   */
  everyone(): void {
    const seen = new Set<string>();
    for (const l of [...this.byLink.keys()]) void this.walk(l, seen);
  }

  /** Wakes every waiter at `at` (ms on the routing clock) unless a wake-up is due before. */
  private schedule(at: number | null): void {
    if (at === null || (this.boundary && this.boundary.at <= at)) return;
    this.boundary?.cancel();
    // A few ms past the turn of the hour: the waiters' turns read the clock on the new hour's side.
    const cancel = this.timerAt(at + 5, () => this.turnOfHour(at));
    this.boundary = { at, cancel };
  }

  /**
   * The hour starting at `at` began in a zone a waiter's caps count in: every waiter in the cluster
   * looks again, woken by the instance that claims the hour (this one's when it hears that).
   */
  private turnOfHour(at: number): void {
    this.boundary = null;
    const now = this.now();
    if (!this.hours.claim) this.everyone();
    else
      this.hours.claim(at).catch(() => {
        // Whether anyone claimed it is unknown: better a second turn here than none.
        this.everyone();
      });
    this.schedule(nextBoundary(new Set([...this.zones.values()].flat()), Math.max(now, at)));
  }

  /** Stops the hour's wake-up (the daemon stopping). */
  close(): void {
    this.boundary?.cancel();
    this.boundary = null;
  }

  /**
   * The local waiters of a link get their turns in line order, one after another, up to and with the
   * first that is not held back there. The one behind a held-back waiter is given its turn only once
   * that waiter's turn has ended: the mark it keeps the slot from nobody by is then the one its own
   * refusal made at this wake-up (a cap of its owner raised since lets it take the slot, before
   * anyone behind it is judged by the old mark). `seen`: calls given a turn already by this wake-up
   * (their turn is waited for, not given again).
   */
  private async walk(linkId: string, seen: Set<string>): Promise<void> {
    for (const id of [...(this.byLink.get(linkId) ?? [])]) {
      if (!this.calls.has(id)) continue;
      if (seen.has(id)) await this.runs.get(id);
      else {
        seen.add(id);
        await this.give(id);
      }
      if (!this.calls.has(id) || !this.heldOn.get(id)?.has(linkId)) return;
    }
  }

  /** Gives a call its turn; resolves when it is over (with the one more a wake-up meanwhile asked). */
  private give(callId: string): Promise<void> {
    const running = this.runs.get(callId);
    if (running) {
      this.again.add(callId);
      return running;
    }
    const run = (async () => {
      do {
        this.again.delete(callId);
        await this.turn(callId, 'wake').catch(() => {});
      } while (this.again.has(callId) && this.calls.has(callId));
    })().finally(() => this.runs.delete(callId));
    this.runs.set(callId, run);
    return run;
  }
}
