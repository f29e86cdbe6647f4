// Performers of a call's slot effects: taking the next eligible link's slot (the caps check-and-take
// in one Redis script), counting an answer, releasing a slot. A slot whose answer or release Redis
// did not take is handed to the retrier (slot-retrier.ts), in order per slot.
import { converts, wholeSeconds } from '../../cdr/money.ts';
import type { CallEvent, CallState, Refusal } from '../call.ts';
import { capBuckets, capSources, concurrencyAt, nextCandidates, unavailableLinks } from '../decide.ts';
import { staleBefore } from '../queue-line.ts';
import type { SlotRef } from '../slots.ts';
import type { CallRuntime, EffectContext, EffectOf } from './runtime.ts';

export type SlotEffect = EffectOf<'try_next' | 'mark_answered' | 'release'>;

export async function performSlot(
  ctx: EffectContext,
  call: CallRuntime,
  fx: SlotEffect,
): Promise<CallEvent | null> {
  const s = call.state;
  switch (fx.type) {
    case 'try_next':
      return takeNextSlot(ctx, s);
    case 'mark_answered': {
      // The use first: the CDR will say answered, and the caps and totals must count it (a failure
      // is retried until Redis answers, see onFailure). A link whose caps count conversions keeps
      // the slot's reservation as it is (refunded on release unless the call converted, see
      // `release`); others count the answer now.
      if (!countsConversions(s, fx.linkId) && (await ctx.d.slots.answer(fx.slot)))
        countedAnswer(call, fx.slot.slotId);
      if (fx.remember)
        await ctx.d.slots.rememberCaller(
          fx.remember.campaignId,
          fx.remember.callerNumber,
          fx.remember.clientId,
          fx.remember.windowH,
        );
      return null;
    }
    case 'release': {
      // Its leg's hangup got no answer: the slot goes back once Asterisk says the leg is gone
      // (released now, the next call could take it while this leg is still up).
      const legUp = ctx.cleanup.holds(fx.legId);
      if (ctx.releases.has(fx.slot)) {
        // Its answer still waits for Redis: the release goes after it, never before.
        ctx.releases.add(fx.slot, {
          answer: convertedOnConversionLink(s, fx.legId, ctx.d.now()),
          release: !legUp,
        });
        if (legUp) ctx.cleanup.releaseWhenGone(fx.legId, fx.slot);
        return null;
      }
      if (convertedOnConversionLink(s, fx.legId, ctx.d.now())) {
        // The conversion becomes a use of the caps before the slot goes back (no refund).
        await ctx.d.slots.answer(fx.slot);
      }
      if (ctx.cleanup.releaseWhenGone(fx.legId, fx.slot)) return null;
      await ctx.d.slots.release(fx.slot);
      return null;
    }
  }
}

/** Takes the next eligible link's slot (atomic in Redis): `attempt`, or `no_candidate` when none is left. */
export async function takeNextSlot(ctx: EffectContext, s: CallState): Promise<CallEvent> {
  const plan = s.plan;
  const now = ctx.d.now();
  // The node (or this process) fell behind since the call arrived: no slot is taken for a leg
  // whose create would only join the line of work not done yet (shed, as a new call would be).
  if (ctx.d.admission.shedNow(s.nodeId)) return { type: 'no_candidate', reason: 'shed', at: now };
  if (!plan?.campaign) return { type: 'no_candidate', reason: 'no_client', at: now };
  const at = new Date(now);
  const strategy = plan.campaign.strategy;
  const eligible = nextCandidates(s, at, ctx.d.defaultTimezone, 0);
  const rr =
    strategy === 'round_robin' && eligible.length > 1
      ? await ctx.d.slots.nextRoundRobin(plan.campaign.id)
      : 0;
  const ordered = rr ? nextCandidates(s, at, ctx.d.defaultTimezone, rr) : eligible;
  const tried: string[] = [];
  // Links that could not take the call, and why: switched off, closed now, or capped (below).
  const refused: Refusal[] = unavailableLinks(plan, at, ctx.d.defaultTimezone);
  // A seller's, DID's or group's cap refuses every link counted against it: the links after the
  // first refusal are refused without a script call each.
  const blocked = new Map<string, Refusal['reason']>();
  // A campaign with a hold queue serves its links' freed slots to the callers waiting for them first.
  const wait = plan.campaign.queueS;
  const queue = wait ? { callId: s.callId, staleBefore: staleBefore(now, wait) } : undefined;
  for (const l of ordered) {
    tried.push(l.linkId);
    const legId = `${s.callId}-${s.attempts.length + 1}`;
    const tz = l.timezone ?? ctx.d.defaultTimezone;
    const src = capSources(plan, l, at, ctx.d.defaultTimezone);
    // (Not for a waiter: the script marks it held back on each of its links, see queue.ts.)
    const gone = s.phase === 'queued' ? undefined : src.refs.find((o) => blocked.has(`${o.kind}:${o.id}`));
    if (gone) {
      refused.push({
        linkId: l.linkId,
        clientId: l.clientId,
        reason: blocked.get(`${gone.kind}:${gone.id}`)!,
      });
      continue;
    }
    const slot: SlotRef = {
      linkId: l.linkId,
      slotId: legId,
      buckets: capBuckets(tz, at),
      nodeId: s.nodeId,
      ...(src.refs.length ? { sources: src.refs } : {}),
    };
    const caps = l.concurrencySchedule
      ? { ...l.caps, concurrency: concurrencyAt(l.caps.concurrency, l.concurrencySchedule, tz, at) }
      : l.caps;
    const r = await ctx.d.slots.take(slot, caps, now, l.totalAnswered, src.limits, queue);
    if (r !== 'taken') {
      refused.push({ linkId: l.linkId, clientId: l.clientId, reason: r });
      const owner = src.refs.find((o) => r.startsWith(`${o.kind}_`));
      if (owner) blocked.set(`${owner.kind}:${owner.id}`, r);
      continue;
    }
    return {
      type: 'attempt',
      linkId: l.linkId,
      clientId: l.clientId,
      legId,
      slot,
      endpoint: l.endpoint,
      tried,
      refused,
      at: ctx.d.now(),
    };
  }
  return { type: 'no_candidate', reason: 'no_client', tried, refused, at: ctx.d.now() };
}

/** Notes that Redis counted this slot's answer (in the caps and the totals). */
export function countedAnswer(call: CallRuntime, slotId: string): void {
  call.counted ??= new Set();
  call.counted.add(slotId);
}

/** Whether the link's hourly/daily/monthly/total caps count converted calls rather than answered ones. */
export function countsConversions(s: CallState, linkId: string): boolean {
  return s.plan?.links.find((l) => l.linkId === linkId)?.capsCount === 'converted';
}

/** An attempt (by leg) on a link counting conversions that answered and talked long enough to convert. */
export function convertedOnConversionLink(s: CallState, legId: string, now: number): boolean {
  const a = s.attempts.find((x) => x.legId === legId);
  if (!a?.answeredAt || a.result !== 'answered' || a.shortAnswer) return false;
  const link = s.plan?.links.find((l) => l.linkId === a.linkId);
  if (link?.capsCount !== 'converted' || !link.money) return false;
  return converts(wholeSeconds((a.endedAt ?? now) - a.answeredAt), true, link.money.convertAfterS);
}
