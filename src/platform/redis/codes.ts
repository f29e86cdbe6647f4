// What the scripts' replies mean, in one place: each script's codes (as its Lua header documents
// them) decoded into a typed result; a code no script returns is a ScriptReplyError, never read as
// some default.

/** A script answered something its contract does not allow (a bug, or code of another version). */
export class ScriptReplyError extends Error {
  constructor(
    readonly script: string,
    readonly reply: unknown,
  ) {
    super(`redis script ${script} answered an unknown reply: ${JSON.stringify(reply)}`);
    this.name = 'ScriptReplyError';
  }
}

/** A lock this process held is gone (expired, or another holder has it): its work must stop. */
export class LockLostError extends Error {
  constructor(readonly key: string) {
    super(`lock ${key} was lost`);
    this.name = 'LockLostError';
  }
}

// ---- caller ID ------------------------------------------------------------------------------------
/** Local-presence tiers, best first: the pick answers 1..4. */
export const TIERS = ['npa_nxx', 'npa', 'state', 'any'] as const;
export type Tier = (typeof TIERS)[number];

export type PickResult =
  | { kind: 'picked'; number: string; expiresAt: number; tier: Tier }
  | { kind: 'exhausted'; nextAt: number | null }
  | { kind: 'rate_limited'; retryAfterMs: number }
  | { kind: 'not_ready' }
  | { kind: 'unknown_pool' };

/** pickCid: {1, number, reservation end, tier}; {0, next usable or -1}; {-1, retry after}; {-2}; {-3}. */
export function decodePick(r: Array<number | string>): PickResult {
  switch (Number(r[0])) {
    case 1: {
      const tier = TIERS[Number(r[3]) - 1];
      if (!tier) break;
      return { kind: 'picked', number: String(r[1]), expiresAt: Number(r[2]), tier };
    }
    case 0:
      return { kind: 'exhausted', nextAt: Number(r[1]) >= 0 ? Number(r[1]) : null };
    case -1:
      return { kind: 'rate_limited', retryAfterMs: Number(r[1]) };
    case -2:
      return { kind: 'not_ready' };
    case -3:
      return { kind: 'unknown_pool' };
  }
  throw new ScriptReplyError('pickCid', r);
}

export interface HealthOutcome {
  /** The number is one of ours. */
  ours: boolean;
  /** This report counted (the first for its call). */
  counted: boolean;
  /** The number now rests until then (ms), or null. */
  restedUntil: number | null;
}

/** healthCid: {-1} not ours; {0} already counted; {1, rate, calls} counted; {2, rest end} counted and rested. */
export function decodeHealth(r: number[]): HealthOutcome {
  switch (r[0]) {
    case -1:
      return { ours: false, counted: false, restedUntil: null };
    case 0:
      return { ours: true, counted: false, restedUntil: null };
    case 1:
      return { ours: true, counted: true, restedUntil: null };
    case 2:
      return { ours: true, counted: true, restedUntil: Number(r[1]) };
  }
  throw new ScriptReplyError('healthCid', r);
}

// ---- routing --------------------------------------------------------------------------------------
export const CAP_KINDS = ['concurrency', 'hourly', 'daily', 'monthly', 'total'] as const;
export type CapKind = (typeof CAP_KINDS)[number];
/** Cap owners beside the link a slot may count against. */
export type SourceKind = 'seller' | 'did' | 'group';
/** The cap that refused a slot: a link's own by its kind alone, another owner's as `<owner>_<kind>`. */
export type CapReason = CapKind | `${SourceKind}_${CapKind}`;
/** `waiting`: callers wait in the link's hold queue and were there first (the slot is theirs). */
export type TakeResult = 'taken' | 'duplicate' | 'waiting' | CapReason;

/** takeSlot's answer when its epoch marker is gone: Redis lost its data (slots.ts puts the live ones back). */
export const TAKE_DATA_LOST = -100;
/** takeSlot's answer when another call waits in the link's hold queue ahead of this one. */
export const TAKE_WAITING = -200;

/**
 * takeSlot: 1 taken, 0 already taken, -200 a caller waiting for the link was first, -(10*o + k) cap k (1 concurrency .. 5 total) of owner o refused,
 * owner 0 the link and owner o >= 1 `sources[o - 1]`.
 */
export function decodeTake(r: number, sources: readonly SourceKind[] = []): TakeResult {
  if (r === 1) return 'taken';
  if (r === 0) return 'duplicate';
  if (r === TAKE_WAITING) return 'waiting';
  if (Number.isInteger(r) && r < 0) {
    const o = Math.floor(-r / 10);
    const kind = CAP_KINDS[(-r % 10) - 1];
    if (kind && o === 0) return kind;
    const owner = sources[o - 1];
    if (kind && owner) return `${owner}_${kind}`;
  }
  throw new ScriptReplyError('takeSlot', r);
}

export type ReleaseResult = 'answered' | 'refunded' | 'already';
/** releaseSlot: 2 released answered, 1 released and refunded, 0 already released or unknown. */
export function decodeRelease(r: number): ReleaseResult {
  if (r === 2) return 'answered';
  if (r === 1) return 'refunded';
  if (r === 0) return 'already';
  throw new ScriptReplyError('releaseSlot', r);
}

/** Scripts answering 1 (done) or 0 (not done: not ours, or nothing to do). */
export function decodeDone(script: string, r: number): boolean {
  if (r === 1) return true;
  if (r === 0) return false;
  throw new ScriptReplyError(script, r);
}

export type ClaimResult =
  | { kind: 'taken'; lastBeat: number | null }
  | { kind: 'alive'; lastBeat: number }
  | { kind: 'unknown' };
/** claimCall: {1, last beat or -1} taken over; {0, last beat} its owner is alive; {-1, -1} no record. */
export function decodeClaim(r: [number, number]): ClaimResult {
  const beat = Number(r[1]);
  switch (Number(r[0])) {
    case 1:
      return { kind: 'taken', lastBeat: beat >= 0 ? beat : null };
    case 0:
      if (beat >= 0) return { kind: 'alive', lastBeat: beat };
      break;
    case -1:
      return { kind: 'unknown' };
  }
  throw new ScriptReplyError('claimCall', r);
}
