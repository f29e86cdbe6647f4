// A lock shared by every daemon instance: SET NX PX with a random token; released by a
// compare-and-delete script so an instance never frees a lock that expired and went to another.
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { callScript, defineScripts, loadScript } from '../redis/scripts.ts';

const here = dirname(fileURLToPath(import.meta.url));
const SCRIPTS = ['releaseLock-1.lua', 'extendLock-1.lua'].map((f) => loadScript(join(here, 'lua', f)));

export interface HeldLock {
  token: string;
  /** Pushes the expiry out by the lock's TTL again; false when the lock is no longer ours. */
  extend(): Promise<boolean>;
  release(): Promise<boolean>;
}

export class RedisLock {
  constructor(
    private redis: Redis,
    readonly key: string,
    private ttlMs: number,
  ) {
    defineScripts(redis, SCRIPTS);
  }

  /** The lock, or null when another holder has it. */
  async acquire(): Promise<HeldLock | null> {
    const token = randomUUID();
    const ok = await this.redis.set(this.key, token, 'PX', this.ttlMs, 'NX');
    if (ok !== 'OK') return null;
    return {
      token,
      extend: async () =>
        (await callScript<number>(this.redis, 'extendLock', [this.key], [token, this.ttlMs])) === 1,
      release: async () => (await callScript<number>(this.redis, 'releaseLock', [this.key], [token])) === 1,
    };
  }
}
