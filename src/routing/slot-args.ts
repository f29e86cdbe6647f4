// What the slot scripts are given, built by pure functions (testable without Redis): the caps and
// buckets a slot counts against, a slot's ref (what a call keeps to give it back), and the KEYS and
// ARGV of takeSlot and releaseSlot. SlotStore (slots.ts) runs the scripts with them.
import type { SourceKind } from '../platform/redis/codes.ts';
import type { RoutingKeys } from '../platform/redis/keys.ts';
import { linkWake } from './queue-line.ts';

export interface LinkCaps {
  concurrency: number | null;
  hourly: number | null;
  daily: number | null;
  monthly: number | null;
  total: number | null;
}

/** True when at least one cap is set: an owner without caps is not counted at all (no keys, no cost). */
export const hasCaps = (c: LinkCaps): boolean =>
  c.concurrency !== null || c.hourly !== null || c.daily !== null || c.monthly !== null || c.total !== null;

export interface Buckets {
  hour: string;
  day: string;
  month: string;
}

/** Another cap owner a slot counts against (the call's seller, its DID, the client's buyer group). */
export interface SourceRef {
  kind: SourceKind;
  id: string;
  /** Its hour/day/month buckets, in its own time zone. */
  buckets: Buckets;
}

/** What a call must remember to give its slot back: the keys of the buckets it was counted in. */
export interface SlotRef {
  linkId: string;
  slotId: string;
  buckets: Buckets;
  /** The Asterisk node of the call (default ''). */
  nodeId?: string;
  /** The other owners the slot was counted against (none when they have no caps). */
  sources?: SourceRef[];
}

/** One owner's caps for a take, and its answered total from PostgreSQL (seeds Redis when it has none). */
export interface OwnerLimits {
  caps: LinkCaps;
  totalAnswered?: number | undefined;
}

const ownerKeys = (k: RoutingKeys, kind: string, id: string, b: Buckets) => [
  k.owner(kind, id, 'live'),
  k.owner(kind, id, 'h', b.hour),
  k.owner(kind, id, 'd', b.day),
  k.owner(kind, id, 'm', b.month),
  k.owner(kind, id, 'total'),
];

/**
 * The KEYS of takeSlot and releaseSlot (pure): the slot's state, then the live set and counters of
 * the link and of each other owner, in the order of `ref.sources`.
 */
export function slotKeys(k: RoutingKeys, ref: SlotRef): string[] {
  const out = [k.link(ref.linkId, 'slot', ref.slotId), ...ownerKeys(k, 'link', ref.linkId, ref.buckets)];
  for (const o of ref.sources ?? []) out.push(...ownerKeys(k, o.kind, o.id, o.buckets));
  return out;
}

/** The other owners as the slot's hash keeps them (`o`): `kind|id|hour|day|month;...` (pure). */
export function encodeSources(sources: readonly SourceRef[] | undefined): string {
  return (sources ?? [])
    .map((o) => `${o.kind}|${o.id}|${o.buckets.hour}|${o.buckets.day}|${o.buckets.month}`)
    .join(';');
}

export function decodeSources(o: string | undefined): SourceRef[] {
  if (!o) return [];
  return o.split(';').map((x) => {
    const [kind, id, hour, day, month] = x.split('|') as [SourceKind, string, string, string, string];
    return { kind, id, buckets: { hour, day, month } };
  });
}

const cap = (n: number | null) => (n === null || n === undefined ? -1 : n);

/**
 * A call's place in the hold queue of the link it takes a slot on: who it is, and the joined time
 * before which a waiting entry is stale (its instance died with it). Given, the take is refused while
 * another call waits for the link, was there first and is not held back by a cap of its own (queue.ts).
 */
export interface QueueCheck {
  callId: string;
  staleBefore: number;
}

/**
 * The KEYS of takeSlot (pure): slotKeys, the link's waiting callers and what holds each back when
 * queues apply, the epoch marker.
 */
export function takeKeys(k: RoutingKeys, ref: SlotRef, queue?: QueueCheck): string[] {
  const keys = slotKeys(k, ref);
  if (queue) keys.push(k.link(ref.linkId, 'waiting'), k.link(ref.linkId, 'held'));
  keys.push(k.epoch);
  return keys;
}

/**
 * The ARGV of takeSlot (pure); `owners` are the link's limits, then each source's in `ref.sources`
 * order; with `queue`, the wake-up channel `wakeChannel` (a waiter newly held back wakes the line).
 */
export function takeArgs(
  now: number,
  slotTtlMs: number,
  ref: SlotRef,
  owners: readonly OwnerLimits[],
  queue?: QueueCheck,
  wakeChannel = '',
): (string | number)[] {
  const b = ref.buckets;
  const args: (string | number)[] = [
    now,
    slotTtlMs,
    ref.slotId,
    2 * 3600, // an hour bucket outlives its hour (time zones, clock skew) but not by much
    2 * 86400,
    32 * 86400,
    b.hour,
    b.day,
    b.month,
    ref.nodeId ?? '',
    encodeSources(ref.sources),
  ];
  for (const o of owners) {
    const c = o.caps;
    args.push(
      cap(c.concurrency),
      cap(c.hourly),
      cap(c.daily),
      cap(c.monthly),
      cap(c.total),
      c.total !== null ? (o.totalAnswered ?? -1) : -1,
    );
  }
  if (queue) args.push(queue.callId, queue.staleBefore, wakeChannel, linkWake(ref.linkId));
  return args;
}

/** A slot's hash as the ref that releases it. */
export function refOf(linkId: string, slotId: string, st: Record<string, string>): SlotRef {
  const sources = decodeSources(st.o);
  return {
    linkId,
    slotId,
    buckets: { hour: st.h ?? '', day: st.d ?? '', month: st.m ?? '' },
    ...(st.node ? { nodeId: st.node } : {}),
    ...(sources.length ? { sources } : {}),
  };
}
