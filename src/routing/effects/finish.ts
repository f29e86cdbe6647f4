// The performer of `finish`, the last effect of every call: its timers stopped, the call forgotten
// here first (nothing left to count its slots as live), then its CDR written, unless another
// instance took the call over meanwhile (the CDR is then that one's).
import { cdrOf } from '../../cdr/record.ts';
import { outcomeOf } from '../outcome.ts';
import { stopQueueTimers } from './hold-queue.ts';
import { recordingOf } from './recording.ts';
import type { CallRuntime, EffectContext } from './runtime.ts';

/**
 * How many finished call ids (and their callers' channels) are remembered at least, so a late
 * listing of their channels is not taken for orphans: 100 s of calls at 100 a second.
 */
export const FINISHED_MEMORY = 10_000;

export async function finish(ctx: EffectContext, call: CallRuntime): Promise<void> {
  const s = call.state;
  clearTimeout(call.ringTimer);
  clearTimeout(call.limitTimer);
  stopQueueTimers(ctx, call);
  // Forget the call first: whatever fails below, nothing is left to count its slots as live.
  ctx.calls.delete(s.callId);
  ctx.finished.add(s.callId, Date.now());
  if (s.callerChannelId) ctx.endedCallers.add(s.callerChannelId, true);
  ctx.byChannel.delete(s.callerChannelId);
  for (const a of s.attempts) ctx.byChannel.delete(a.legId);
  // Redis unreachable: write the CDR anyway (a call must get one; its id keeps it from counting twice).
  const ours = await ctx.d.store.ending(s.callId).catch((err: unknown) => {
    ctx.stateFailed('end', err);
    return true;
  });
  if (!ours) {
    // This instance stalled past its heartbeat and another took the call over: the CDR is theirs.
    ctx.d.metrics.takenOver.inc({ as: 'lost_to_another' });
    ctx.lost.add(s.callId, true);
    ctx.d.log.warn({ callId: s.callId }, 'call was taken over by another instance; not writing its CDR');
    if (call.recording) ctx.recordings.delete(call.recording.name);
    return;
  }
  const disposition = s.disposition ?? 'error';
  ctx.d.metrics.routed.inc({ disposition });
  if (disposition !== 'answered') ctx.d.metrics.rejected.inc({ reason: disposition });
  // On the cleanup lane, tried until Asterisk confirms it (a bridge whose create got no answer is
  // pending already, behind its create).
  if (s.answeredAt) await ctx.cleanup.destroyBridge(s.nodeId, s.callId);
  const rec = await recordingOf(ctx, call);
  await ctx.d.cdr.write(cdrOf({ ...outcomeOf(s), recording: rec }, ctx.d.now()));
  await ctx.d.store.forget(s.callId, s.nodeId).catch((err: unknown) => ctx.stateFailed('forget', err));
  ctx.d.alerts?.callFinished(s, new Date(ctx.d.now()));
}
