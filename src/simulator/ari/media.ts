// Media simulated by time: the made-up files of stored recordings, and the playbacks and
// recordings on their targets' command queues (commands.ts): a playback asked for while another
// plays, or while the channel records, waits its turn ("queued"). The playback and recording
// state machines are in playback.ts and recording.ts; nothing is decoded or written, only the
// events, states and durations Asterisk would report.
import type { SimModel } from '../model.ts';
import { CommandQueues, type StoredRecording } from './commands.ts';
import { Playbacks } from './playback.ts';
import { Recordings } from './recording.ts';

/** The longest file of silence made up for a stored recording (seconds): enough for tests and demos. */
export const RECORDING_FILE_MAX_S = 600;

/**
 * A stored recording's file as the simulator serves it: silence of the recording's length (at most
 * RECORDING_FILE_MAX_S) in its format — `wav` (a RIFF header, then 8 kHz 16-bit mono samples, as
 * Asterisk's format_wav writes), `sln` (8 kHz 16-bit raw), `ulaw`, `alaw` (8 kHz 8-bit). Other
 * formats have no file (null).
 */
export function recordingFile(format: string, durationS: number): Buffer | null {
  const samples = Math.round(8000 * Math.min(Math.max(0, durationS), RECORDING_FILE_MAX_S));
  if (format === 'ulaw') return Buffer.alloc(samples, 0xff);
  if (format === 'alaw') return Buffer.alloc(samples, 0xd5);
  if (format === 'sln') return Buffer.alloc(samples * 2);
  if (format !== 'wav') return null;
  const data = samples * 2;
  const b = Buffer.alloc(44 + data);
  b.write('RIFF', 0, 'ascii');
  b.writeUInt32LE(36 + data, 4);
  b.write('WAVE', 8, 'ascii');
  b.write('fmt ', 12, 'ascii');
  b.writeUInt32LE(16, 16); // fmt chunk size
  b.writeUInt16LE(1, 20); // PCM
  b.writeUInt16LE(1, 22); // mono
  b.writeUInt32LE(8000, 24); // sample rate
  b.writeUInt32LE(16_000, 28); // byte rate
  b.writeUInt16LE(2, 32); // block align
  b.writeUInt16LE(16, 34); // bits per sample
  b.write('data', 36, 'ascii');
  b.writeUInt32LE(data, 40);
  return b;
}

/** Playbacks, live and stored recordings, on one command queue per channel or bridge. */
export class Media {
  readonly queues = new CommandQueues();
  readonly stored = new Map<string, StoredRecording>();
  readonly playbacks: Playbacks;
  readonly recordings: Recordings;

  constructor(readonly model: SimModel) {
    this.playbacks = new Playbacks(model, this.queues, this.stored);
    this.recordings = new Recordings(model, this.queues, this.stored);
  }

  /**
   * The channel whose commands these are is going (a hangup; a bridge's media go with its
   * announcer and recorder channels): what runs ends as Asterisk ends it (a playback failed, a
   * recording done and kept), then what waits takes its turn on the hung-up channel, in order, as
   * control_dispatch_all runs it before the Stasis loop sees the hangup (Command.hungUp).
   */
  targetGone(queue: string): void {
    const waiting = this.queues.take(queue);
    this.playbacks.targetGone(queue);
    this.recordings.targetGone(queue);
    for (const c of waiting) {
      if (c.hungUp) c.hungUp();
      else c.drop();
    }
  }
}
