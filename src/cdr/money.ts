// What a call is worth, decided from its times and the rules in force when it was routed (pure).
//
// Money is counted in integer micro-units (millionths of the currency unit, as ad platforms do):
// carrier rates are quoted in fractions of a cent per minute, and a margin summed over millions of
// calls must come out exact, so nothing here is ever a float. A $25.00 payout is 25_000_000.

/** A billing increment "first/next" in seconds: "1/1" per second, "6/6", "60/60", "30/6"... */
export interface Increment {
  first: number;
  next: number;
}

export const INCREMENT_RE = /^([1-9]\d{0,3})\/([1-9]\d{0,3})$/;

/** Parses "first/next" (each 1..3600 s); null when it is not one. */
export function parseIncrement(s: string): Increment | null {
  const m = INCREMENT_RE.exec(s);
  if (!m) return null;
  const first = Number(m[1]);
  const next = Number(m[2]);
  return first <= 3600 && next <= 3600 ? { first, next } : null;
}

/**
 * Billable seconds of `talkS` seconds of talk under an increment: nothing for no talk, at least the
 * first increment for any, then whole `next` increments (rounded up).
 */
export function billableSeconds(talkS: number, inc: Increment): number {
  if (talkS <= 0) return 0;
  if (talkS <= inc.first) return inc.first;
  return inc.first + Math.ceil((talkS - inc.first) / inc.next) * inc.next;
}

/** The money rules of the link that answered, as they were when the call was routed. */
export interface LinkMoney {
  /** Talk seconds from which an answered call converts; null: calls on this link never convert. */
  convertAfterS: number | null;
  payoutMicros: number;
  revenueMicros: number;
  increment: Increment;
}

/** What the carrier charges for the number the call came in on. */
export interface DidCost {
  /** Per minute of the caller's leg once answered, charged per second (rounded up to a micro). */
  ratePerMinMicros: number;
}

export interface CallMoney {
  talkS: number;
  billableS: number;
  converted: boolean;
  payoutMicros: number;
  revenueMicros: number;
  costMicros: number;
}

/** Whole seconds between two instants (ms), as CDRs count them: rounded, never negative. */
export const wholeSeconds = (ms: number) => Math.max(0, Math.round(ms / 1000));

/** A call that converts: answered, with a conversion rule, and at least that many talk seconds. */
export function converts(talkS: number, answered: boolean, convertAfterS: number | null): boolean {
  return answered && convertAfterS !== null && talkS >= convertAfterS;
}

/** Carrier cost of `seconds` on the caller's leg: rate × seconds / 60, rounded up to a whole micro. */
export function carrierCost(seconds: number, ratePerMinMicros: number): number {
  if (seconds <= 0 || ratePerMinMicros <= 0) return 0;
  // Integer ceil of a product that stays far below 2^53 for any real rate and call length.
  return Math.ceil((seconds * ratePerMinMicros) / 60);
}

/**
 * The money of one call: `talkS` with the client that answered (0 if none), `carrierS` the seconds
 * the carrier bills on the caller's leg (from our answer to the end), under the answering link's
 * rules (null when no client answered) and the DID's cost.
 */
export function callMoney(
  talkS: number,
  carrierS: number,
  link: LinkMoney | null,
  did: DidCost | null,
): CallMoney {
  const talk = link ? Math.max(0, Math.trunc(talkS)) : 0;
  const converted = link !== null && converts(talk, true, link.convertAfterS);
  return {
    talkS: talk,
    billableS: link ? billableSeconds(talk, link.increment) : 0,
    converted,
    payoutMicros: converted ? link.payoutMicros : 0,
    revenueMicros: converted ? link.revenueMicros : 0,
    costMicros: did ? carrierCost(Math.max(0, Math.trunc(carrierS)), did.ratePerMinMicros) : 0,
  };
}
