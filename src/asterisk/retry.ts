// Reconnect policy: exponential backoff with full jitter, capped, never giving up.
// A plain function so it can be property-tested and reused by ARI and AMI alike.
export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 100, maxMs: 10_000 };

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
