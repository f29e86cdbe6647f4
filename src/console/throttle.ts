// Growing delays after failed sign-ins: pure decisions, no I/O (the counters live in Redis, see
// lockout.ts). A delay never becomes a permanent lock: it doubles per failure up to a ceiling, so
// an attacker can slow an account down but never shut it; lockout.ts adds the rules that keep a
// known browser of the account's owner out of the account-wide delay altogether.

export interface ThrottlePolicy {
  /** Failures allowed before any delay. */
  free: number;
  /** The first delay; each further failure doubles it. */
  baseMs: number;
  /** The longest delay. */
  maxMs: number;
  /** Failures are forgotten this long after the last one. */
  forgetMs: number;
}

export interface FailureState {
  failures: number;
  /** When the last failure happened (ms since the epoch). */
  lastAt: number;
}

/** The delay that `failures` failures impose after the last of them. */
export function delayAfter(failures: number, p: ThrottlePolicy): number {
  if (failures < p.free) return 0;
  const doublings = Math.min(failures - p.free, 40);
  return Math.min(p.baseMs * 2 ** doublings, p.maxMs);
}

/** How long (ms) the next attempt must still wait; 0 when it may go ahead now. */
export function waitLeft(s: FailureState | null, now: number, p: ThrottlePolicy): number {
  if (!s || s.failures <= 0) return 0;
  if (now - s.lastAt >= p.forgetMs) return 0;
  return Math.max(0, s.lastAt + delayAfter(s.failures, p) - now);
}

/** Per source address, over every account: slows down one machine guessing many accounts. */
export const SOURCE_POLICY: ThrottlePolicy = {
  free: 10,
  baseMs: 1000,
  maxMs: 15 * 60_000,
  forgetMs: 3600_000,
};

/**
 * Per account, for browsers the account never signed in from: slows down guesses on one account
 * from many addresses. The owner's own browsers (a device cookie) are judged by DEVICE_POLICY instead.
 */
export const ACCOUNT_POLICY: ThrottlePolicy = {
  free: 5,
  baseMs: 1000,
  maxMs: 15 * 60_000,
  forgetMs: 24 * 3600_000,
};

/** Per known browser of an account: a stolen device cookie still buys only a few guesses. */
export const DEVICE_POLICY: ThrottlePolicy = {
  free: 5,
  baseMs: 1000,
  maxMs: 15 * 60_000,
  forgetMs: 24 * 3600_000,
};
