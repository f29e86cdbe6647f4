// This instance's side of the hold queues (queue.ts): which of its calls wait in which campaign's
// queue, in the order they joined, and which wake-up concerns which of them. A wake-up gives a turn
// to the oldest local waiter of the campaign only: the queue is ordered by join time, so a later
// local waiter cannot be first in line while an earlier one still waits. Turns are coalesced: while
// one runs, further wake-ups for its campaign make one more turn after it, never a crowd of them.
import type { Wake } from './queue.ts';

/** Why a waiting call looked for a slot: a wake-up, its own slow poll, or just after it joined. */
export type TurnCause = 'wake' | 'poll' | 'join';

export class QueueWaiters {
  /** campaign id -> its waiting calls here, oldest first (Map keeps insertion order). */
  private byCampaign = new Map<string, Set<string>>();
  /** link id -> campaign id, for the links of waiting calls' plans. */
  private linkCampaign = new Map<string, string>();
  /** Campaigns whose turn is running, and those woken again meanwhile. */
  private running = new Set<string>();
  private again = new Set<string>();

  constructor(
    /** Gives the call its turn; resolves when the turn is over. */
    private turn: (callId: string, cause: TurnCause) => Promise<void>,
    /** The first waiter here joined / the last one left: start or stop hearing wake-ups. */
    private listening: (on: boolean) => void,
  ) {}

  get size(): number {
    let n = 0;
    for (const s of this.byCampaign.values()) n += s.size;
    return n;
  }

  add(campaignId: string, callId: string, linkIds: readonly string[]): void {
    const first = this.byCampaign.size === 0;
    const calls = this.byCampaign.get(campaignId) ?? new Set<string>();
    this.byCampaign.set(campaignId, calls);
    calls.add(callId);
    for (const l of linkIds) this.linkCampaign.set(l, campaignId);
    if (first) this.listening(true);
  }

  remove(campaignId: string, callId: string): void {
    const calls = this.byCampaign.get(campaignId);
    if (!calls?.delete(callId)) return;
    if (calls.size) return;
    this.byCampaign.delete(campaignId);
    for (const [l, c] of this.linkCampaign) if (c === campaignId) this.linkCampaign.delete(l);
    if (!this.byCampaign.size) this.listening(false);
  }

  /** A wake-up heard on the channel: the campaign it concerns gets a turn (if a call waits for it here). */
  wake(w: Wake): void {
    const campaignId = 'linkId' in w ? this.linkCampaign.get(w.linkId) : w.campaignId;
    if (campaignId && this.byCampaign.has(campaignId)) this.wakeCampaign(campaignId);
  }

  private wakeCampaign(campaignId: string): void {
    if (this.running.has(campaignId)) {
      this.again.add(campaignId);
      return;
    }
    const oldest = this.byCampaign.get(campaignId)?.values().next().value;
    if (!oldest) return;
    this.running.add(campaignId);
    void this.turn(oldest, 'wake').finally(() => {
      this.running.delete(campaignId);
      if (this.again.delete(campaignId)) this.wakeCampaign(campaignId);
    });
  }
}
