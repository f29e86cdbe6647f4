// Performers of call recording: the bridge recorded under the call's id (appended to by a revenue
// recovery's next bridge), a recording found live after a takeover tracked, and, when the call
// finishes, its length once Asterisk says the recording ended.
import type { CallEvent } from '../call.ts';
import { ariOf, type CallRuntime, type EffectContext, type EffectOf, isGoneOrElsewhere } from './runtime.ts';

/** Recordings are WAV (8 kHz signed linear in Asterisk): what any player and browser can play. */
export const RECORDING_FORMAT = 'wav';
/** How long a finishing call waits for Asterisk to say its recording ended (its length goes on the CDR). */
const RECORDING_WAIT_MS = 3000;

export type RecordingEffect = EffectOf<'record' | 'track_recording'>;

export async function performRecording(
  ctx: EffectContext,
  call: CallRuntime,
  fx: RecordingEffect,
): Promise<CallEvent | null> {
  const callId = call.state.callId;
  switch (fx.type) {
    case 'record': {
      // Appended to the call's one recording: a revenue recovery records the next client's
      // bridge under the same name.
      await ariOf(ctx, call).bridges.record(callId, {
        name: callId,
        format: RECORDING_FORMAT,
        ifExists: 'append',
      });
      call.recording ??= { name: callId, pending: 0, finished: 0, seconds: 0 };
      call.recording.pending++;
      ctx.recordings.set(callId, call);
      return null;
    }
    case 'track_recording': {
      const live = await ariOf(ctx, call)
        .recordings.getLive(callId)
        .then(
          () => true,
          (e: unknown) => {
            if (isGoneOrElsewhere(e)) return false;
            throw e;
          },
        );
      if (!live) return performRecording(ctx, call, { type: 'record' });
      call.recording ??= { name: callId, pending: 0, finished: 0, seconds: 0 };
      call.recording.pending++;
      ctx.recordings.set(callId, call);
      return null;
    }
  }
}

/**
 * RecordingFinished (with its length in seconds) or RecordingFailed (null) for a recording of ours.
 * Not queued behind the call's work: a finishing call waits for it.
 */
export function recordingEnded(ctx: EffectContext, name: string, durationS: number | null): void {
  const rec = ctx.recordings.get(name)?.recording;
  if (!rec || rec.pending <= 0) return;
  rec.pending--;
  if (durationS !== null) {
    rec.finished++;
    rec.seconds += Math.max(0, Math.round(durationS));
  }
  if (!rec.pending) rec.settled?.();
}

/**
 * The call's recording once Asterisk says it ended (the bridge is gone by now, which ends it), or
 * after RECORDING_WAIT_MS at most; null when nothing was recorded (no recording, or every part failed).
 */
export async function recordingOf(
  ctx: EffectContext,
  call: CallRuntime,
): Promise<{ name: string; durationS: number } | null> {
  const rec = call.recording;
  if (!rec) return null;
  if (rec.pending > 0) {
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      rec.settled = resolve;
      timer = setTimeout(resolve, RECORDING_WAIT_MS);
    });
    clearTimeout(timer);
    if (rec.pending > 0)
      ctx.d.log.warn({ callId: call.state.callId }, 'recording not ended in time; its length is unknown');
  }
  ctx.recordings.delete(rec.name);
  return rec.finished || rec.pending ? { name: rec.name, durationS: rec.seconds } : null;
}
