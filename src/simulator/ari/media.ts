// Media simulated by time: the sound catalogue, the made-up files of stored recordings, and the
// per-target command queue. A channel's (or bridge's) media commands run one at a time, in order,
// as on Asterisk's control thread (res_stasis): a playback asked for while another plays, or while
// the channel records, waits its turn ("queued"). The playback and recording state machines are in
// playback.ts and recording.ts; nothing is decoded or written, only the events, states and
// durations Asterisk would report.
import type { SimModel } from '../model.ts';
import { Playbacks } from './playback.ts';
import { Recordings } from './recording.ts';

/** A sound of the catalogue: its description, length, and the languages and formats installed. */
export interface Sound {
  text: string;
  ms: number;
  languages: string[];
  formats: string[];
}

/** Asterisk's core sounds as a stock install has them: English, GSM. */
const core = (text: string, ms: number): Sound => ({ text, ms, languages: ['en'], formats: ['gsm'] });

/** The sounds the simulator knows (a few of Asterisk's core sounds), with their lengths in ms. */
export const SOUNDS: Record<string, Sound> = {
  'hello-world': core('Hello world.', 1200),
  beep: core('A beep.', 250),
  'demo-congrats': core('Congratulations...', 11_000),
  'tt-monkeys': core('Monkeys.', 10_500),
  'tt-weasels': core('Weasels have eaten our phone system.', 3_000),
  'vm-goodbye': core('Goodbye.', 800),
  'conf-onlyperson': core('You are currently the only person in this conference.', 3_300),
  silence: core('', 1000),
};

/** The longest file of silence made up for a stored recording (seconds): enough for tests and demos. */
export const RECORDING_FILE_MAX_S = 600;

/**
 * A stored recording's file as the simulator serves it: silence of the recording's length (at most
 * RECORDING_FILE_MAX_S) in its format — `wav` (a RIFF header, then 8 kHz 16-bit mono samples, as
 * Asterisk's format_wav writes), `sln` (8 kHz 16-bit raw), `ulaw`, `alaw` (8 kHz 8-bit). Other
 * formats have no file (null).
 */
export function recordingFile(format: string, durationS: number): Buffer | null {
  const samples = 8000 * Math.min(Math.max(0, durationS), RECORDING_FILE_MAX_S);
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

export interface StoredRecording {
  name: string;
  format: string;
  durationS: number;
}

/** One command on a target's queue: `run` starts it and calls `done` when it ends. */
export interface Command {
  run(done: () => void): void;
  /** The target went away before the command's turn: it never runs (control_flush_queue). */
  drop(): void;
}

/**
 * Each target's commands, run one at a time in the order asked. A command starts on a later tick
 * than the request that queued it, as on the control thread, so the HTTP answer says "queued".
 */
export class CommandQueues {
  private queues = new Map<string, { running: boolean; commands: Command[] }>();

  push(target: string, c: Command): void {
    const q = this.queues.get(target) ?? { running: false, commands: [] };
    this.queues.set(target, q);
    q.commands.push(c);
    if (!q.running) setImmediate(() => this.pump(target));
  }

  private pump(target: string): void {
    const q = this.queues.get(target);
    if (!q || q.running) return;
    const next = q.commands.shift();
    if (!next) {
      this.queues.delete(target);
      return;
    }
    q.running = true;
    let finished = false;
    next.run(() => {
      if (finished) return;
      finished = true;
      q.running = false;
      this.pump(target);
    });
  }

  /** Drops every command still waiting on a target (the one running ends on its own). */
  flush(target: string): void {
    const q = this.queues.get(target);
    if (!q) return;
    for (const c of q.commands.splice(0)) c.drop();
    if (!q.running) this.queues.delete(target);
  }
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
   * The target is going (a channel hanging up, a bridge destroyed): what waits is dropped without
   * a word; what runs ends as Asterisk ends it (a playback failed, a recording done and kept).
   */
  targetGone(target_uri: string): void {
    this.queues.flush(target_uri);
    this.playbacks.targetGone(target_uri);
    this.recordings.targetGone(target_uri);
  }
}
