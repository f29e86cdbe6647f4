// After Redis lost its data (a restart without persistence, a failover to an empty replica, a
// FLUSHALL): this instance puts back what its live calls hold there, before any new slot is taken.
import { capZones } from './hold-queue.ts';
import { countedAnswer, countsConversions } from './slots.ts';
import type { CallRuntime, EffectContext } from './runtime.ts';

/**
 * Puts back what this instance's live calls hold in Redis — the slot of each attempt in progress
 * (answered or not), each call's record, each waiting call's place in its hold queue (at its
 * arrival time). `save` writes a call's record (the runner's, which remembers what it wrote).
 */
export async function restoreAfterDataLoss(
  ctx: EffectContext,
  save: (call: CallRuntime) => Promise<void>,
): Promise<{ calls: number; slots: number }> {
  let slots = 0;
  let calls = 0;
  // Alive first: a record put back without its owner's heartbeat would look like a dead one's.
  await ctx.d.store.beat();
  const applied = await answersInPostgres(ctx);
  for (const call of ctx.calls.values()) {
    const s = call.state;
    if (s.phase === 'ended') continue;
    calls++;
    for (const a of s.attempts) {
      if (a.endedAt || !a.slot.linkId) continue;
      try {
        // An answer Redis counted (in the caps and the totals) that PostgreSQL's totals hold comes
        // back as a use. One it has not (still to come, or met the slot gone with the data), or
        // whose count was lost with the data before it reached PostgreSQL, comes back taken and is
        // counted now, once (answering is once only, whoever comes first). A link counting
        // conversions decides at the release, as ever.
        const counted =
          (call.counted?.has(a.slot.slotId) ?? false) && (!applied || applied.has(a.slot.slotId));
        const state = a.answeredAt && counted ? 'answered' : 'taken';
        if (await ctx.d.slots.restore(a.slot, state)) slots++;
        if (a.answeredAt && !counted && !countsConversions(s, a.linkId) && (await ctx.d.slots.answer(a.slot)))
          countedAnswer(call, a.slot.slotId);
      } catch (err) {
        ctx.d.log.error({ callId: s.callId, err: (err as Error).message }, 'slot not put back');
      }
    }
    call.saved = undefined;
    call.written = undefined;
    await save(call);
    const camp = s.plan?.campaign;
    if (s.phase === 'queued' && camp?.queueS) {
      await ctx.d.queue.join(s.callId, s.waitLinks ?? [], s.startedAt, camp.queueS).catch(() => {});
      ctx.waiters.add(
        camp.id,
        s.callId,
        s.waitLinks ?? [],
        capZones(s.plan, s.waitLinks ?? [], ctx.d.defaultTimezone),
      );
    }
  }
  return { calls, slots };
}

/**
 * Which of the answers this instance's live calls counted PostgreSQL's totals hold; null (all of
 * them, as before slots were recorded) when it cannot say: PostgreSQL away must not count twice.
 */
async function answersInPostgres(ctx: EffectContext): Promise<Set<string> | null> {
  if (!ctx.d.answersApplied) return null;
  const ids: string[] = [];
  for (const call of ctx.calls.values())
    for (const a of call.state.attempts)
      if (a.answeredAt && call.counted?.has(a.slot.slotId)) ids.push(a.slot.slotId);
  try {
    return await ctx.d.answersApplied(ids);
  } catch (err) {
    ctx.d.log.error(
      { err: (err as Error).message, answers: ids.length },
      'answers of live calls not checked against PostgreSQL after Redis lost its data: those not yet written stay uncounted',
    );
    return null;
  }
}
