// Performers of the hold queue: a call that found every link capped waits in line (music on hold)
// and looks for a free slot on its turns (a wake-up when a slot frees anywhere, its safety poll,
// one look right after joining), until served or timed out.
import type { CallEvent } from '../call.ts';
import { ariOf, type CallRuntime, type EffectContext, type EffectOf, isGoneOrElsewhere } from './runtime.ts';
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
      ctx.waiters.add(fx.campaignId, callId, fx.linkIds);
      await ctx.d.queue.join(callId, fx.linkIds, ctx.d.now(), fx.timeoutS);
      call.queueTimer = setTimeout(
        () => void ctx.feed(callId, { type: 'queue_timeout', at: ctx.d.now() }),
        fx.timeoutS * 1000,
      );
      call.queueTimer.unref();
      call.queuePoll = setInterval(
        () => void ctx.queueTurn(callId, 'poll'),
        ctx.d.queuePollMs ?? QUEUE_SAFETY_POLL_MS,
      );
      call.queuePoll.unref();
      await ari.channels.answer(s.callerChannelId);
      await ari.channels.startMoh(s.callerChannelId);
      // A slot that freed between the refusal and the join was announced before anyone here
      // waited for it: one look now.
      call.turnCause = 'join';
      return { type: 'queue_poll', at: ctx.d.now() };
    }
    case 'queue_try': {
      const by = call.turnCause ?? 'poll';
      // The slot script serves a link's freed slot to the head of its line only (queue.ts).
      const next = await takeNextSlot(ctx, s);
      ctx.d.metrics.queueTurns.inc({ by });
      if (next.type !== 'attempt') return null; // none free for it yet: the next turn tries again
      ctx.d.metrics.queueServed.inc({ by });
      return next;
    }
    case 'dequeue': {
      stopQueueTimers(ctx, call);
      ctx.waiters.remove(callId);
      await ctx.d.queue.leave(fx.campaignId, callId, fx.linkIds);
      await ariOf(ctx, call)
        .channels.stopMoh(s.callerChannelId)
        .catch((e: unknown) => {
          if (!isGoneOrElsewhere(e)) throw e;
        });
      return null;
    }
  }
}

/** The call no longer waits here (left the queue, or finished). */
export function stopQueueTimers(ctx: EffectContext, call: CallRuntime): void {
  clearTimeout(call.queueTimer);
  clearInterval(call.queuePoll);
  ctx.waiters.remove(call.state.callId);
}
