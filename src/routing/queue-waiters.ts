// This instance's side of the hold queues (queue.ts): which of its calls wait for which links, in
// the order they joined, which of them a cap of their own held back at their last turn, and which
// wake-up concerns which of them. A link's wake-up gives a turn to the local waiters of that link in
// line order, up to the first one that is not held back: each link's line is ordered by join time,
// so a later local waiter cannot take the slot while an earlier one that could still waits, but one
// behind a held-back waiter can. A wake-up naming the owners a freed slot counted against (a
// seller, a DID, a group) also turns the waiters held back by one of them. A campaign's wake-up (a
// call left its lines) does the same as a link's for each link its local waiters wait for. Turns are
// coalesced per call: while one runs, further wake-ups for it make one more turn after it, never a
// crowd of them.
import type { Wake } from './queue-line.ts';

/** Why a waiting call looked for a slot: a wake-up, its own slow poll, or just after it joined. */
export type TurnCause = 'wake' | 'poll' | 'join';

export class QueueWaiters {
  /** link id -> the calls here waiting for it, oldest first (a Set keeps insertion order). */
  private byLink = new Map<string, Set<string>>();
  /** call id -> its campaign and the links it waits for. */
  private calls = new Map<string, { campaignId: string; linkIds: readonly string[] }>();
  /** campaign id -> the links its local waiters wait for (and how many wait for each). */
  private campaignLinks = new Map<string, Map<string, number>>();
  /** call id -> the links where a cap of its own held it back at its last turn, and that cap's owner. */
  private heldOn = new Map<string, ReadonlyMap<string, string>>();
  /** Calls whose turn is running, and those woken again meanwhile. */
  private running = new Set<string>();
  private again = new Set<string>();
  private lastJoinAt = 0;

  constructor(
    /** Gives the call its turn; resolves when the turn is over. */
    private turn: (callId: string, cause: TurnCause) => Promise<void>,
    /** The first waiter here joined / the last one left: start or stop hearing wake-ups. */
    private listening: (on: boolean) => void,
  ) {}

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

  add(campaignId: string, callId: string, linkIds: readonly string[]): void {
    if (this.calls.has(callId)) return;
    const first = this.calls.size === 0;
    this.calls.set(callId, { campaignId, linkIds });
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
    // script's wake-up says so too, but may be heard before this).
    const turn = new Set<string>();
    for (const l of on.keys()) if (!was?.has(l)) this.inLine(l, turn);
    turn.delete(callId);
    for (const id of turn) this.give(id);
  }

  /** A wake-up heard on the channel: the local waiters it concerns get a turn, first in line first. */
  wake(w: Wake): void {
    const turn = new Set<string>();
    if ('linkId' in w) {
      this.inLine(w.linkId, turn);
      if (w.owners?.length) {
        const owners = new Set(w.owners);
        for (const [id, on] of this.heldOn) if ([...on.values()].some((o) => owners.has(o))) turn.add(id);
      }
    } else for (const l of this.campaignLinks.get(w.campaignId)?.keys() ?? []) this.inLine(l, turn);
    for (const id of turn) this.give(id);
  }

  /**
   * Every local waiter gets a turn, first joined first: the routing plans changed (a cap raised or
   * lowered, a link added or switched on), so what held each back is judged again by the caps in
   * force now, not at its next poll.
   */
  everyone(): void {
    for (const id of [...this.calls.keys()]) this.give(id);
  }

  /** The local waiters of a link in line order, up to and with the first not held back there. */
  private inLine(linkId: string, into: Set<string>): void {
    for (const id of this.byLink.get(linkId) ?? []) {
      into.add(id);
      if (!this.heldOn.get(id)?.has(linkId)) return;
    }
  }

  private give(callId: string): void {
    if (this.running.has(callId)) {
      this.again.add(callId);
      return;
    }
    this.running.add(callId);
    void this.turn(callId, 'wake').finally(() => {
      this.running.delete(callId);
      if (this.again.delete(callId) && this.calls.has(callId)) this.give(callId);
    });
  }
}
