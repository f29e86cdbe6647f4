// Failed sign-in counters in Redis, shared by every daemon instance, judged by throttle.ts.
// Three counters, so that an attacker who knows an admin's email cannot lock the admin out:
//  - per source address (any account): one machine guessing many accounts;
//  - per account, applied only to browsers the account has never signed in from;
//  - per known browser (device cookie) of the account: the owner's browsers skip the account-wide
//    delay, and a stolen device cookie still buys only a few guesses.
// Every counter is a growing delay with a ceiling, never a permanent lock, and an admin can clear
// an account's counters from the console.
import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../platform/redis/keys.ts';
import { corked, registerScripts } from '../platform/redis/scripts.ts';
import {
  ACCOUNT_POLICY,
  DEVICE_POLICY,
  type FailureState,
  SOURCE_POLICY,
  type ThrottlePolicy,
  waitLeft,
} from './throttle.ts';

/** How long a browser stays known to an account after its last successful sign-in. */
const DEVICE_TTL_S = 90 * 86400;
/** Sign-in requests (successful or not) one address may send per minute. */
export const SIGN_IN_REQUESTS_PER_MIN = 30;

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** What a sign-in attempt is judged by. `account` is the lower-cased email (known or not). */
export interface Attempt {
  source: string;
  account: string;
  /** The device cookie the browser sent, if any. */
  device: string | null;
}

export interface LockState {
  failures: number;
  waitMs: number;
}

export class Lockout {
  constructor(
    private redis: Redis,
    private keys: RedisKeys,
    /** Public so tests can use delays long enough to hold on any machine. */
    public policies = { source: SOURCE_POLICY, account: ACCOUNT_POLICY, device: DEVICE_POLICY },
  ) {
    registerScripts(redis);
  }

  private k(kind: 'src' | 'acct' | 'dev', id: string): string {
    return this.keys.plain('console', 'fail', kind, sha(id));
  }
  private devicesKey(account: string): string {
    return this.keys.plain('console', 'devices', sha(account));
  }

  /**
   * Counts a sign-in request from `source` in the current minute; false past the limit. Checked
   * before the body is read, so a flood of sign-in posts costs no parsing and no password hashing.
   */
  async admitRequest(source: string, now = Date.now()): Promise<boolean> {
    const key = this.keys.plain('console', 'signin-rate', sha(source), Math.floor(now / 60_000));
    const [[, n]] = (await this.redis.multi().incr(key).pexpire(key, 61_000).exec()) as [[null, number]];
    return n <= SIGN_IN_REQUESTS_PER_MIN;
  }

  private async state(key: string): Promise<FailureState | null> {
    const [n, last] = await this.redis.hmget(key, 'n', 'last');
    return n ? { failures: Number(n), lastAt: Number(last ?? 0) } : null;
  }

  /** Wait (ms) imposed on the source alone: known before the body (and so the account) is read. */
  async sourceWait(source: string, now = Date.now()): Promise<number> {
    return waitLeft(await this.state(this.k('src', source)), now, this.policies.source);
  }

  /** Whether `device` is a browser the account signed in from before. */
  async knownDevice(account: string, device: string | null): Promise<boolean> {
    if (!device) return false;
    return (await this.redis.sismember(this.devicesKey(account), sha(device))) === 1;
  }

  /** The wait imposed on this attempt (ms): the longest of the counters that apply to it. */
  async wait(a: Attempt, now = Date.now()): Promise<number> {
    const known = await this.knownDevice(a.account, a.device);
    const [src, acct] = await Promise.all([
      this.state(this.k('src', a.source)),
      known
        ? this.state(this.k('dev', `${a.account}\n${sha(a.device ?? '')}`))
        : this.state(this.k('acct', a.account)),
    ]);
    return Math.max(
      waitLeft(src, now, this.policies.source),
      waitLeft(acct, now, known ? this.policies.device : this.policies.account),
    );
  }

  /** Counts a failed attempt on the counters that judge it. */
  async fail(a: Attempt, now = Date.now()): Promise<void> {
    const known = await this.knownDevice(a.account, a.device);
    const record = (key: string, p: ThrottlePolicy) => corked(this.redis).recordFailure(key, now, p.forgetMs);
    await Promise.all([
      record(this.k('src', a.source), this.policies.source),
      known
        ? record(this.k('dev', `${a.account}\n${sha(a.device ?? '')}`), this.policies.device)
        : record(this.k('acct', a.account), this.policies.account),
    ]);
  }

  /**
   * After a successful sign-in: the counter that judged it starts again and the browser becomes known.
   * Returns the device cookie value to set (the browser's own when it sent one).
   */
  async succeed(a: Attempt): Promise<string> {
    const known = await this.knownDevice(a.account, a.device);
    const device =
      a.device && /^[A-Za-z0-9_-]{43}$/.test(a.device) ? a.device : randomBytes(32).toString('base64url');
    const devices = this.devicesKey(a.account);
    // A known browser clears only its own counter: the owner signing in must not hand an attacker
    // a fresh set of guesses on the account-wide one.
    await this.redis
      .multi()
      .del(known ? this.k('dev', `${a.account}\n${sha(device)}`) : this.k('acct', a.account))
      .sadd(devices, sha(device))
      .expire(devices, DEVICE_TTL_S)
      .exec();
    return device;
  }

  /** The account-wide counter, for the users page. */
  async accountState(account: string, now = Date.now()): Promise<LockState> {
    const s = await this.state(this.k('acct', account));
    return { failures: s?.failures ?? 0, waitMs: waitLeft(s, now, this.policies.account) };
  }

  /** An admin clears an account's delays: the account-wide counter and those of its known browsers. */
  async clearAccount(account: string): Promise<void> {
    const devices = await this.redis.smembers(this.devicesKey(account));
    await this.redis.del(this.k('acct', account), ...devices.map((d) => this.k('dev', `${account}\n${d}`)));
  }
}
