// This instance's side of the hold queues (queue.ts): which of its calls wait for which links, in
// the order they joined, and which wake-up concerns which of them. A link's wake-up gives a turn to
// the oldest local waiter of that link only: each link's line is ordered by join time, so a later
// local waiter cannot be first for it while an earlier one still waits. A campaign's wake-up (a call
// left its lines) does the same for each link its local waiters wait for. Turns are coalesced per
// call: while one runs, further wake-ups for it make one more turn after it, never a crowd of them.
import type { Wake } from './queue.ts';

/** Why a waiting call looked for a slot: a wake-up, its own slow poll, or just after it joined. */
export type TurnCause = 'wake' | 'poll' | 'join';

export class QueueWaiters {
  /** link id -> the calls here waiting for it, oldest first (a Set keeps insertion order). */
  private byLink = new Map<string, Set<string>>();
  /** call id -> its campaign and the links it waits for. */
  private calls = new Map<string, { campaignId: string; linkIds: readonly string[] }>();
  /** campaign id -> the links its local waiters wait for (and how many wait for each). */
  private campaignLinks = new Map<string, Map<string, number>>();
  /** Calls whose turn is running, and those woken again meanwhile. */
  private running = new Set<string>();
  private again = new Set<string>();

  constructor(
    /** Gives the call its turn; resolves when the turn is over. */
    private turn: (callId: string, cause: TurnCause) => Promise<void>,
    /** The first waiter here joined / the last one left: start or stop hearing wake-ups. */
    private listening: (on: boolean) => void,
  ) {}

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

  /** A wake-up heard on the channel: the oldest local waiter of each link it concerns gets a turn. */
  wake(w: Wake): void {
    if ('linkId' in w) {
      const oldest = this.byLink.get(w.linkId)?.values().next().value;
      if (oldest) this.give(oldest);
      return;
    }
    const heads = new Set<string>();
    for (const l of this.campaignLinks.get(w.campaignId)?.keys() ?? []) {
      const oldest = this.byLink.get(l)?.values().next().value;
      if (oldest) heads.add(oldest);
    }
    for (const id of heads) this.give(id);
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
