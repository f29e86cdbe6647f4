// Performers of call recording: the bridge recorded under the call's id (appended to by a revenue
// recovery's next bridge), a recording found live after a takeover tracked, and, when the call
// finishes, its length once Asterisk says the recording ended.
import { AriError } from '../../asterisk/index.ts';
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
      // Either way the file may hold parts recorded before the takeover, whose ends were told to
      // the dead owner: the recording's length is read from the stored file once it ends.
      if (!live) {
        const next = await performRecording(ctx, call, { type: 'record' });
        call.recording!.fromFile = true;
        return next;
      }
      call.recording ??= { name: callId, pending: 0, finished: 0, seconds: 0 };
      call.recording.pending++;
      call.recording.fromFile = true;
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
  if (rec.fromFile) {
    const stored = await storedSeconds(ctx, call, rec.name).catch((err: Error) => {
      ctx.d.log.warn(
        { callId: call.state.callId, err: err.message },
        'recording length not read from its file',
      );
      return null;
    });
    // At least what the parts heard here add up to (a file not readable counts those only).
    if (stored !== null) return { name: rec.name, durationS: Math.max(stored, rec.seconds) };
  }
  return rec.finished || rec.pending ? { name: rec.name, durationS: rec.seconds } : null;
}

/** How much of a stored recording is read to find its length: the WAV header, never the audio. */
const WAV_HEAD_BYTES = 4096;

/** A stored recording's length (whole seconds) from its WAV header; null when there is no such file. */
async function storedSeconds(ctx: EffectContext, call: CallRuntime, name: string): Promise<number | null> {
  const ac = new AbortController();
  const res = await ariOf(ctx, call)
    .recordingFile(name, ac.signal)
    .catch((e: unknown) => {
      if (e instanceof AriError && e.status === 404) return null;
      throw e;
    });
  if (!res) return null;
  const parts: Buffer[] = [];
  let got = 0;
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) {
      parts.push(chunk);
      got += chunk.length;
      if (got >= WAV_HEAD_BYTES) break;
    }
  } finally {
    ac.abort();
    res.destroy();
  }
  const s = wavSeconds(Buffer.concat(parts));
  if (s === null) throw new Error('stored recording is not a WAV file');
  return s;
}

/**
 * A WAV file's length in whole seconds from its header (pure): the `data` chunk's size over the
 * `fmt ` chunk's byte rate, walking the RIFF chunks; null when the header is not a WAV's.
 */
export function wavSeconds(head: Buffer): number | null {
  if (head.length < 12 || head.toString('ascii', 0, 4) !== 'RIFF' || head.toString('ascii', 8, 12) !== 'WAVE')
    return null;
  let byteRate = 0;
  for (let at = 12; at + 8 <= head.length; ) {
    const id = head.toString('ascii', at, at + 4);
    const size = head.readUInt32LE(at + 4);
    if (id === 'fmt ' && at + 20 <= head.length) byteRate = head.readUInt32LE(at + 16);
    if (id === 'data') return byteRate > 0 ? Math.round(size / byteRate) : null;
    at += 8 + size + (size % 2);
  }
  return null;
}
