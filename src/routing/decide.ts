// Pure routing decisions: who may take a call now, in which order, and which cap buckets count it.
// No I/O here: the call flow and the Redis scripts feed these functions plain data.
import type { HourlyConcurrency, WeeklySchedule } from '../db/schema/routing.ts';
import type { RouteLink, RoutePlan } from './catalog.ts';
import type { OwnerLimits, SourceRef } from './slots.ts';
import { hourId, pad2, wallClock } from '../time/zone.ts';

export interface Candidate {
  linkId: string;
  clientId: string;
  priority: number;
  weight: number;
}

export type Strategy = 'priority' | 'round_robin' | 'weighted';

/** Cap bucket ids in the client's zone: buyers count "per hour/day/month" on their own clock. */
export function capBuckets(tz: string, at: Date): { hour: string; day: string; month: string } {
  const w = wallClock(tz, at);
  const month = `${w.year}${pad2(w.month)}`;
  const day = `${month}${pad2(w.day)}`;
  return { hour: hourId(tz, at.getTime(), w), day, month };
}

/**
 * True when `at` falls inside the weekly schedule in `tz`; no schedule means always open. A range whose
 * end is before its start runs overnight and belongs to the day it starts: `"5": [["22:00","06:00"]]`
 * is Friday 22:00 to Saturday 06:00 in the client's zone.
 */
export function isOpen(schedule: WeeklySchedule | null | undefined, tz: string, at: Date): boolean {
  if (!schedule) return true;
  const w = wallClock(tz, at);
  const today = String(w.weekday) as keyof WeeklySchedule;
  const yesterday = String((w.weekday + 6) % 7) as keyof WeeklySchedule;
  const minute = w.hour * 60 + w.minute;
  const opensToday = (schedule[today] ?? []).some(([from, to]) => {
    const f = toMinutes(from);
    const t = toMinutes(to);
    return f < t ? minute >= f && minute < t : minute >= f;
  });
  if (opensToday) return true;
  return (schedule[yesterday] ?? []).some(
    ([from, to]) => toMinutes(to) < toMinutes(from) && minute < toMinutes(to),
  );
}

export function toMinutes(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return h * 60 + m;
}

/**
 * A weekly schedule's ranges are HH:MM pairs (24:00 allowed as an end). from < to is a range within the
 * day; from > to runs overnight into the next day; from = to is refused (empty, or a whole day meant?).
 */
export function scheduleProblems(s: WeeklySchedule): string[] {
  const out: string[] = [];
  for (const [day, ranges] of Object.entries(s)) {
    if (!/^[0-6]$/.test(day)) out.push(`schedule.${day}: weekday must be 0 (Sunday) to 6`);
    for (const [i, r] of (ranges ?? []).entries()) {
      const ok = r.length === 2 && r.every((x) => /^([01]\d|2[0-3]):[0-5]\d$|^24:00$/.test(x));
      if (!ok || toMinutes(r[0]) === toMinutes(r[1]) || (r[0] === '24:00' && ok))
        out.push(
          `schedule.${day}.${i}: expected ["HH:MM","HH:MM"], from and to different (to before from runs overnight)`,
        );
    }
  }
  return out;
}

/**
 * Orders eligible candidates for one call.
 * - priority: lowest priority number first, ties by higher weight, then link id (stable).
 * - round_robin: a rotation of the priority order by a counter shared by all instances.
 * - weighted: a weighted random permutation (each next pick proportional to weight), so
 *   failover still tries everyone.
 */
export function orderCandidates(
  strategy: Strategy,
  candidates: readonly Candidate[],
  o: { rrCounter?: number; rand?: () => number } = {},
): Candidate[] {
  const base = [...candidates].sort(
    (a, b) =>
      a.priority - b.priority ||
      b.weight - a.weight ||
      (a.linkId < b.linkId ? -1 : a.linkId > b.linkId ? 1 : 0),
  );
  if (strategy === 'priority' || base.length < 2) return base;
  if (strategy === 'round_robin') {
    const k = (((o.rrCounter ?? 0) % base.length) + base.length) % base.length;
    return [...base.slice(k), ...base.slice(0, k)];
  }
  const rand = o.rand ?? Math.random;
  const pool = [...base];
  const out: Candidate[] = [];
  while (pool.length) {
    const total = pool.reduce((s, c) => s + Math.max(0, c.weight), 0);
    let r = rand() * total;
    let i = 0;
    for (; i < pool.length - 1; i++) {
      r -= Math.max(0, pool[i]!.weight);
      if (r < 0) break;
    }
    out.push(pool.splice(i, 1)[0]!);
  }
  return out;
}

/** Duplicate-caller routing: the client that took this caller before goes first, the rest keep their order. */
export function preferClient<T extends { clientId: string }>(
  ordered: readonly T[],
  clientId: string | null,
): T[] {
  if (!clientId) return [...ordered];
  return [
    ...ordered.filter((c) => c.clientId === clientId),
    ...ordered.filter((c) => c.clientId !== clientId),
  ];
}

/**
 * The links a call may try next, best first: in its plan, not tried yet by this call, and open now
 * in their client's time zone; ordered by the campaign's strategy, then the client a returning
 * caller reached last put first.
 */
export function nextCandidates(
  s: { plan?: RoutePlan | null; tried: readonly string[]; preferClient: string | null },
  at: Date,
  defaultTimezone: string,
  rrCounter: number,
): RouteLink[] {
  const plan = s.plan;
  if (!plan?.campaign) return [];
  const tried = new Set(s.tried);
  const eligible = plan.links.filter(
    (l) => l.active && !tried.has(l.linkId) && isOpen(l.schedule, l.timezone ?? defaultTimezone, at),
  );
  const byId = new Map(eligible.map((l) => [l.linkId, l]));
  const ordered = orderCandidates(plan.campaign.strategy, eligible, { rrCounter });
  return preferClient(ordered, s.preferClient).map((c) => byId.get(c.linkId)!);
}

/** Why a link of the plan took no part in a call: switched off, or closed by its client's schedule now. */
export function unavailableLinks(
  plan: RoutePlan | null | undefined,
  at: Date,
  defaultTimezone: string,
): Array<{ linkId: string; clientId: string; reason: 'inactive' | 'closed' }> {
  const out: Array<{ linkId: string; clientId: string; reason: 'inactive' | 'closed' }> = [];
  for (const l of plan?.links ?? []) {
    if (!l.active) out.push({ linkId: l.linkId, clientId: l.clientId, reason: 'inactive' });
    else if (!isOpen(l.schedule, l.timezone ?? defaultTimezone, at))
      out.push({ linkId: l.linkId, clientId: l.clientId, reason: 'closed' });
  }
  return out;
}

/**
 * The cap owners beside the link a slot on `link` counts against, in the order the slot script
 * checks them: the plan's seller and DID (their buckets in `defaultTimezone`), then the client's buyer
 * group (its buckets in the group's zone) — each only when it has caps — as refs for the slot and
 * limits for the take (pure).
 */
export function capSources(
  plan: RoutePlan,
  link: RouteLink,
  at: Date,
  defaultTimezone: string,
): { refs: SourceRef[]; limits: OwnerLimits[] } {
  const refs: SourceRef[] = [];
  const limits: OwnerLimits[] = [];
  const sources = plan.sources ?? [];
  if (sources.length) {
    const b = capBuckets(defaultTimezone, at);
    for (const o of sources) {
      refs.push({ kind: o.kind, id: o.id, buckets: b });
      limits.push({ caps: o.caps, totalAnswered: o.totalAnswered });
    }
  }
  const g = link.group;
  if (g) {
    refs.push({ kind: 'group', id: g.id, buckets: capBuckets(g.timezone ?? defaultTimezone, at) });
    limits.push({ caps: g.caps, totalAnswered: g.totalAnswered });
  }
  return { refs, limits };
}

/**
 * A link's concurrency cap at `at`: the entry of its hourly schedule for that hour of the week in the
 * client's zone `tz`, or `cap` (its `concurrency_cap`) where the schedule has none (pure). Only new
 * calls are checked against it, so lowering it never ends a live call: it refuses new ones until
 * enough live calls have ended on their own.
 */
export function concurrencyAt(
  cap: number | null,
  schedule: HourlyConcurrency | null | undefined,
  tz: string,
  at: Date,
): number | null {
  if (!schedule) return cap;
  const w = wallClock(tz, at);
  const v = schedule[String(w.weekday) as keyof HourlyConcurrency]?.[w.hour];
  return v === null || v === undefined ? cap : v;
}
