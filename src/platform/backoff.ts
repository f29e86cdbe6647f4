// The one reconnect policy: exponential backoff with jitter, capped, never giving up. A plain
// function so it can be property-tested, used by the ARI and AMI clients and by every Redis
// connection (ioredis `retryStrategy`).
export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

/** Asterisk links (ARI WebSocket, AMI): start at 50-100 ms, at most 10 s apart. */
export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 100, maxMs: 10_000 };

/**
 * Redis connections: a Redis restart should be noticed within a couple of seconds, and commands
 * fail fast meanwhile (offline queue off), so the delay stays short: 50-100 ms first, at most 2 s.
 */
export const REDIS_BACKOFF: BackoffPolicy = { baseMs: 100, maxMs: 2_000 };

/** Delay before reconnect attempt `attempt` (0-based); `rand` in [0,1). */
export function backoffDelay(
  attempt: number,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
  rand = Math.random(),
): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(Math.max(attempt, 0), 30));
  // Half fixed, half jitter: never zero (no hot loop), never in lock-step with other instances.
  return Math.round(ceiling / 2 + (ceiling / 2) * rand);
}
