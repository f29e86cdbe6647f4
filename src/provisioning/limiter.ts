// One carrier account's request rate, shared by every instance and worker: each request reserves its
// send time in Redis (takeTurn), then waits for it. A carrier's 429 pushes the account's next send time
// out by its Retry-After, so every worker backs off, not only the one that was refused.
import type { Redis } from 'ioredis';
import { corked, registerScripts } from '../platform/redis/scripts.ts';

export class AccountLimiter {
  constructor(
    private redis: Redis,
    private key: string,
    private ratePerS: number,
  ) {
    registerScripts(redis);
  }

  /** Resolves when this caller may send its request. */
  async turn(): Promise<void> {
    if (!(this.ratePerS > 0)) return;
    const wait = await corked(this.redis).takeTurn(this.key, 1000 / this.ratePerS, 0);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }

  /** The carrier said "too many": nobody sends before `ms` from now (1 s if it gave no delay). */
  async penalize(ms: number | undefined): Promise<void> {
    await corked(this.redis).takeTurn(this.key, 1000 / (this.ratePerS || 1), Math.max(1, ms ?? 1000));
  }
}
