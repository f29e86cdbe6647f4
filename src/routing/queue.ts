// The hold queue of a campaign, shared by every instance: a Redis sorted set of call ids scored by
// the time they joined, so the oldest waiting call is first in line wherever it waits. Only the
// call at the head may take a freed slot. Entries of calls an instance crashed with would block
// the line: an entry older than the longest wait (plus a margin) is dropped by whoever looks.
//
// Waiters are woken, not polling: the script that releases a slot publishes the link's id on one
// channel when a concurrency slot freed, and a call leaving a queue publishes its campaign's id (the
// next in line may now be first, and a second slot may have freed meanwhile). Each instance with
// waiters subscribes and wakes its own oldest waiter of that campaign: if that one is not first in
// line, the first is on another instance, which got the same message. Pub/sub delivers at most
// once (a subscriber that is reconnecting misses messages), so waiters keep a slow poll as well.
import type { Redis } from 'ioredis';
import { QUEUEING } from '../platform/redis/client.ts';
import type { RoutingKeys } from '../platform/redis/keys.ts';

/** Past its wait plus this, an entry can only be a call nobody serves any more. */
const STALE_MARGIN_MS = 30_000;

/** The wake-up message of a link whose concurrency slot freed (published by releaseSlot-n.lua). */
export const linkWake = (linkId: string): string => `l:${linkId}`;
const campaignWake = (campaignId: string): string => `c:${campaignId}`;

/** What a wake-up names: the link a slot freed on, or the campaign whose queue moved. */
export type Wake = { linkId: string } | { campaignId: string };

export function parseWake(msg: string): Wake | null {
  if (msg.startsWith('l:')) return { linkId: msg.slice(2) };
  if (msg.startsWith('c:')) return { campaignId: msg.slice(2) };
  return null;
}

export class HoldQueue {
  private sub: Redis | null = null;
  private onWake: ((w: Wake) => void) | null = null;

  constructor(
    private redis: Redis,
    private keys: RoutingKeys,
  ) {}

  private key(campaignId: string) {
    return this.keys.campaign(campaignId, 'queue');
  }

  async join(campaignId: string, callId: string, at: number, maxWaitS: number): Promise<void> {
    const key = this.key(campaignId);
    await this.redis
      .multi()
      .zadd(key, 'NX', at, callId)
      .pexpire(key, maxWaitS * 1000 + STALE_MARGIN_MS)
      .exec();
  }

  /** Leaves the line and tells the others it moved (in one round trip). */
  async leave(campaignId: string, callId: string): Promise<void> {
    await this.redis
      .pipeline()
      .zrem(this.key(campaignId), callId)
      .publish(this.keys.queueWake, campaignWake(campaignId))
      .exec();
  }

  /** True when `callId` is first in line (stale entries ahead of it are dropped). */
  async isFirst(campaignId: string, callId: string, now: number, maxWaitS: number): Promise<boolean> {
    const key = this.key(campaignId);
    const [, head] = (await this.redis
      .multi()
      .zremrangebyscore(key, '-inf', String(now - maxWaitS * 1000 - STALE_MARGIN_MS))
      .zrange(key, '0', '0')
      .exec()) as [[Error | null, number], [Error | null, string[]]];
    return head[1][0] === callId;
  }

  /**
   * Starts hearing wake-ups (idempotent); resolves once subscribed, or rejects if Redis refused (the
   * subscription is retried by the connection itself; the waiters' poll serves meanwhile). Its own
   * connection: a subscribed one can do nothing else. It queues commands while Redis is away (the
   * daemon's own does not) and subscribes again after a reconnect.
   */
  async listen(onWake: (w: Wake) => void): Promise<void> {
    this.onWake = onWake;
    if (!this.sub) {
      const sub = this.redis.duplicate({ ...QUEUEING, lazyConnect: false });
      this.sub = sub;
      sub.on('message', (_ch: string, msg: string) => {
        const w = parseWake(msg);
        if (w) this.onWake?.(w);
      });
      // Reconnects are the connection's business; an unhandled 'error' would end the process.
      sub.on('error', () => {});
    }
    await this.sub.subscribe(this.keys.queueWake);
  }

  /** Stops hearing wake-ups (no waiter left on this instance, or shutting down). */
  async unlisten(): Promise<void> {
    const sub = this.sub;
    if (!sub) return;
    await sub.unsubscribe(this.keys.queueWake).catch(() => {});
  }

  /** Closes the subscription's connection (daemon stopping). */
  close(): void {
    this.sub?.disconnect();
    this.sub = null;
  }
}
