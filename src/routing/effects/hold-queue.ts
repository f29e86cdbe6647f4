// Performers of the hold queue: a call that found every link capped waits in line (music on hold)
// and looks for a free slot on its turns (a wake-up when a slot frees anywhere, its safety poll,
// one look right after joining), until served or timed out.
import type { RoutePlan } from '../catalog.ts';
import type { CallEvent, CallState, Refusal } from '../call.ts';
import { ariOf, type CallRuntime, type EffectContext, type EffectOf, isGoneOrElsewhere } from './runtime.ts';
import type { OwnerId } from '../queue.ts';
import type { LinkCaps } from '../slots.ts';
import { takeNextSlot } from './slots.ts';

/**
 * How often a waiting call looks for a free slot by itself (one Redis round trip): only for a
 * wake-up lost (a subscription reconnecting), or a slot that freed without a release (a cap raised,
 * an hour whose concurrency is higher). Wake-ups serve the rest (queue.ts).
 */
export const QUEUE_SAFETY_POLL_MS = 2000;

export type QueueEffect = EffectOf<'enqueue' | 'queue_try' | 'dequeue'>;

export async function performQueue(
  ctx: EffectContext,
  call: CallRuntime,
  fx: QueueEffect,
): Promise<CallEvent | null> {
  const s = call.state;
  const callId = s.callId;
  switch (fx.type) {
    case 'enqueue': {
      const ari = ariOf(ctx, call);
      // Heard before joining: a slot that frees once the call is in line wakes it.
      ctx.waiters.add(fx.campaignId, callId, fx.linkIds, capZones(s.plan, fx.linkIds, ctx.d.defaultTimezone));
      // The wait is bounded from here, joined or not (below).
      call.queueTimer = setTimeout(
        () => void ctx.feed(callId, { type: 'queue_timeout', at: ctx.d.now() }),
        (fx.rejoin?.leftS ?? fx.timeoutS) * 1000,
      );
      call.queueTimer.unref();
      call.queuePoll = setInterval(
        () => void ctx.queueTurn(callId, 'poll'),
        ctx.d.queuePollMs ?? QUEUE_SAFETY_POLL_MS,
      );
      call.queuePoll.unref();
      // Taken over while waiting: still in the lines (joining keeps an entry's time), or joins them
      // as of its arrival. The owners whose concurrency refused it: it waits in their lines too,
      // whichever link.
      call.unjoined = {
        linkIds: fx.linkIds,
        at: fx.rejoin?.since ?? ctx.waiters.joinTime(ctx.d.now()),
        timeoutS: fx.timeoutS,
        owners: ownersOf(
          heldBack(
            s.plan,
            s.refused.filter((r) => r.reason.endsWith('_concurrency')),
          ),
        ),
      };
      await joinLines(ctx, call);
      if (!fx.rejoin) await ari.channels.answer(s.callerChannelId);
      await ari.channels.startMoh(s.callerChannelId);
      // A slot that freed between the refusal and the join was announced before anyone here
      // waited for it: one look now.
      call.turnCause = 'join';
      return { type: 'queue_poll', at: ctx.d.now() };
    }
    case 'queue_try': {
      const by = call.turnCause ?? 'poll';
      // Not in its lines yet (Redis was away at the join): joined first, as of its arrival, so the
      // take below finds it in its place; still away, the next turn tries again.
      if (call.unjoined && !(await joinLines(ctx, call))) return null;
      // Judged by the caps in force now, not those of its arrival: a cap raised while it waits
      // serves it at this turn (a plan change gives every waiter one, see RouterEffects.planChanged).
      const plan = await planNow(ctx, s);
      // The slot script serves a link's freed slot to the head of its line only (queue.ts).
      const next = await takeNextSlot(ctx, plan === s.plan ? s : { ...s, plan });
      ctx.d.metrics.queueTurns.inc({ by });
      if (next.type !== 'attempt') {
        // None free for it yet: the next turn tries again. Where a cap of its own refused it, the
        // waiters behind it may be served meanwhile (queue-waiters.ts).
        if (next.type === 'no_candidate') ctx.waiters.hold(callId, heldBack(plan, next.refused ?? []));
        return null;
      }
      ctx.d.metrics.queueServed.inc({ by });
      // The call goes on under the plan it was served by (the link's rules and money as they are).
      return plan === s.plan || !plan ? next : { ...next, plan };
    }
    case 'dequeue': {
      stopQueueTimers(ctx, call);
      ctx.waiters.remove(callId);
      await ctx.d.queue.leave(fx.campaignId, callId, fx.linkIds, planOwners(s.plan));
      await ariOf(ctx, call)
        .channels.stopMoh(s.callerChannelId)
        .catch((e: unknown) => {
          if (!isGoneOrElsewhere(e)) throw e;
        });
      return null;
    }
  }
}

/**
 * Joins the call's lines (`call.unjoined`). Redis away (its connection queues nothing): false, and
 * the call keeps waiting with the music on, its turns (a poll, the wake-ups once Redis is back)
 * trying again, until served or its wait runs out. A caller is never sent away for an outage
 * shorter than its wait.
 */
async function joinLines(ctx: EffectContext, call: CallRuntime): Promise<boolean> {
  const j = call.unjoined;
  if (!j) return true;
  try {
    await ctx.d.queue.join(call.state.callId, j.linkIds, j.at, j.timeoutS, j.owners);
  } catch (err) {
    ctx.d.metrics.queueJoinFailures.inc();
    if (!j.failed)
      ctx.d.log.warn(
        { callId: call.state.callId, err: (err as Error).message },
        'hold queue: could not join the lines (Redis away); waiting on and trying again',
      );
    j.failed = true;
    return false;
  }
  if (call.unjoined === j) call.unjoined = undefined;
  return true;
}

/**
 * The plan a waiting call is judged by now: its DID's (or, sent on by its default route, that
 * campaign's) as cached, with any change made while it waited; the plan it waited under when the
 * DID left that campaign or cannot be read.
 */
async function planNow(ctx: EffectContext, s: CallState): Promise<RoutePlan | null | undefined> {
  const campaignId = s.plan?.campaign?.id;
  if (!campaignId || !s.did) return s.plan;
  const fresh = await (s.homeCampaignId
    ? ctx.d.catalog.planVia(s.did, campaignId)
    : ctx.d.catalog.plan(s.did)
  ).catch(() => null);
  return fresh?.campaign?.id === campaignId ? fresh : s.plan;
}

/**
 * Where a cap of the call's own refused it (its seller's, DID's or buyer group's, not the link's):
 * link id -> that cap's owner as `<kind>:<id>`, as the release script names the owners of a freed
 * slot (pure).
 */
export function heldBack(
  plan: RoutePlan | null | undefined,
  refused: readonly Refusal[],
): Map<string, string> {
  const out = new Map<string, string>();
  for (const r of refused) {
    const kind = /^(seller|did|group)_/.exec(r.reason)?.[1];
    const id =
      kind === 'group'
        ? plan?.links.find((l) => l.linkId === r.linkId)?.group?.id
        : plan?.sources?.find((o) => o.kind === kind)?.id;
    if (kind && id) out.set(r.linkId, `${kind}:${id}`);
  }
  return out;
}

const countsHours = (c: LinkCaps) => c.hourly !== null || c.daily !== null || c.monthly !== null;

/**
 * The zones where what a waiter waits under turns over with the hour (pure): those of the links it
 * waits for with an hourly, daily or monthly cap or a concurrency by hour, of their buyer groups
 * with such caps, and DEFAULT_TIMEZONE for its seller's and DID's.
 */
export function capZones(
  plan: RoutePlan | null | undefined,
  linkIds: readonly string[],
  defaultTimezone: string,
): string[] {
  const out = new Set<string>();
  const waited = new Set(linkIds);
  for (const l of plan?.links ?? []) {
    if (!waited.has(l.linkId)) continue;
    if (countsHours(l.caps) || l.concurrencySchedule) out.add(l.timezone ?? defaultTimezone);
    if (l.group && countsHours(l.group.caps)) out.add(l.group.timezone ?? defaultTimezone);
  }
  if (plan?.sources?.some((o) => countsHours(o.caps))) out.add(defaultTimezone);
  return [...out];
}

/** The owners of a `heldBack` map, once each (pure). */
export function ownersOf(held: ReadonlyMap<string, string>): OwnerId[] {
  return [...new Set(held.values())].map((o) => {
    const i = o.indexOf(':');
    return { kind: o.slice(0, i), id: o.slice(i + 1) };
  });
}

/** Every owner of a plan a waiter may stand in line for: its seller, its DID, its links' groups (pure). */
export function planOwners(plan: RoutePlan | null | undefined): OwnerId[] {
  const out = new Map<string, OwnerId>();
  for (const o of plan?.sources ?? []) out.set(`${o.kind}:${o.id}`, { kind: o.kind, id: o.id });
  for (const l of plan?.links ?? [])
    if (l.group) out.set(`group:${l.group.id}`, { kind: 'group', id: l.group.id });
  return [...out.values()];
}

/** The call no longer waits here (left the queue, or finished). */
export function stopQueueTimers(ctx: EffectContext, call: CallRuntime): void {
  clearTimeout(call.queueTimer);
  clearInterval(call.queuePoll);
  call.unjoined = undefined;
  ctx.waiters.remove(call.state.callId);
}
