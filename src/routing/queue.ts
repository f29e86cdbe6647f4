// The hold queue of a campaign, shared by every instance: a Redis sorted set of call ids scored by
// the time they joined, so the oldest waiting call is first in line wherever it waits. Only the
// call at the head may take a freed slot. Entries of calls an instance crashed with would block
// the line: an entry older than the longest wait (plus a margin) is dropped by whoever looks.
import type { Redis } from 'ioredis';
import type { RoutingKeys } from '../platform/redis/keys.ts';

/** Past its wait plus this, an entry can only be a call nobody serves any more. */
const STALE_MARGIN_MS = 30_000;

export class HoldQueue {
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

  async leave(campaignId: string, callId: string): Promise<void> {
    await this.redis.zrem(this.key(campaignId), callId);
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
}
