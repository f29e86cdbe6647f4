// The caller filters that need I/O, for the screen_caller effect: the blocklist (PostgreSQL: a
// seller's own list and the global one) and the repeat-caller window (Redis, shared by every
// instance: one SET NX per call decides atomically which of two simultaneous calls came first).
import type { Redis } from 'ioredis';
import type { Db } from '../platform/db.ts';
import type { RoutingKeys } from '../platform/redis/keys.ts';
import { isBlocked } from './repository.ts';

export class CallerScreen {
  constructor(
    private db: Db,
    private redis: Redis,
    private keys: RoutingKeys,
  ) {}

  /** On the seller's blocklist or the global one. */
  blocked(sellerId: string, callerNumber: string): Promise<boolean> {
    return isBlocked(this.db, sellerId, callerNumber);
  }

  /**
   * True when the caller already called this campaign within `windowS` seconds; otherwise opens
   * the window for the next one. The window runs from the first call's arrival: refused repeats
   * do not extend it.
   */
  async repeated(campaignId: string, callerNumber: string, windowS: number): Promise<boolean> {
    const key = this.keys.campaign(campaignId, 'seen', callerNumber);
    return (await this.redis.set(key, '1', 'PX', windowS * 1000, 'NX')) === null;
  }
}
