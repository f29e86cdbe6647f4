// The hold queue's pure side (no I/O; queue.ts runs the queue over Redis with it): when a line's
// entry is stale, the wake-up messages the slot scripts publish and how they read, and the line rule
// takeSlot-n.lua applies in one step (`lineAdmits`), so each is testable without Redis.

import { wallClock } from '../time/zone.ts';

/** Past its wait plus this, an entry can only be a call nobody serves any more. */
export const STALE_MARGIN_MS = 30_000;

/** The joined time before which an entry of a line whose wait is `maxWaitS` is stale (pure). */
export const staleBefore = (now: number, maxWaitS: number): number => now - maxWaitS * 1000 - STALE_MARGIN_MS;

/**
 * The wake-up message of a link whose concurrency slot freed (published by releaseSlot-n.lua, with
 * the other owners the slot counted against, `kind:id` each) or whose line moved (takeSlot-n.lua).
 */
export const linkWake = (linkId: string, owners?: readonly { kind: string; id: string }[]): string =>
  `l:${linkId}${(owners ?? []).map((o) => `|${o.kind}:${o.id}`).join('')}`;
/** The wake-up message of a campaign whose queue moved (a call left it). */
export const campaignWake = (campaignId: string): string => `c:${campaignId}`;
/** The wake-up message of a new hour on the routing clock (`at`, ms): every waiter gets a turn. */
export const hourWake = (at: number): string => `h:${at}`;

/**
 * What a wake-up names: the link a slot freed on (and the other owners that slot counted against:
 * waiters held back by one of them may fit now), the campaign whose queue moved, the start of an
 * hour (every waiter), or (not a message) the subscription back after an outage in which wake-ups
 * may have been lost (every waiter).
 */
export type Wake =
  | { linkId: string; owners?: string[] }
  | { campaignId: string }
  | { hour: number }
  | { reheard: true };

export function parseWake(msg: string): Wake | null {
  if (msg.startsWith('l:')) {
    const [linkId, ...owners] = msg.slice(2).split('|');
    return owners.length ? { linkId: linkId!, owners } : { linkId: linkId! };
  }
  if (msg.startsWith('c:')) return { campaignId: msg.slice(2) };
  if (/^h:\d+$/.test(msg)) return { hour: Number(msg.slice(2)) };
  return null;
}

/**
 * The hold queue's rule for one take (pure; takeSlot-n.lua decides the same in one step): may `callId`
 * take a free slot on a link whose line is `line`, first in line first? Only when every caller ahead
 * of it is held back by a cap of its own that is still full (`heldBack`): a waiter that could take
 * the slot keeps it from everyone who came later, a newcomer (not in the line) included; one that
 * cannot, for a reason that is its own, keeps it from nobody.
 */
export function lineAdmits(
  line: readonly string[],
  callId: string,
  heldBack: (waiter: string) => boolean,
): boolean {
  for (const w of line) {
    if (w === callId) return true;
    if (!heldBack(w)) return false;
  }
  return true;
}

/**
 * When the next local hour starts in `tz` after `now` (ms, pure): the moment hourly counters (and, at
 * midnight, daily and monthly ones, and an hour's scheduled concurrency) turn over there. Half- and
 * quarter-hour zones turn at :30 or :15 UTC; read from the zone's wall clock, so daylight saving
 * changes are followed.
 */
export function nextHourStart(tz: string, now: number): number {
  const w = wallClock(tz, now);
  return now - (((now % 1000) + 1000) % 1000) + ((59 - w.minute) * 60 + (60 - w.second)) * 1000;
}

/** The first of those moments over these zones (pure); null without a zone. */
export function nextBoundary(zones: Iterable<string>, now: number): number | null {
  let next: number | null = null;
  for (const z of zones) {
    const t = nextHourStart(z, now);
    if (next === null || t < next) next = t;
  }
  return next;
}
