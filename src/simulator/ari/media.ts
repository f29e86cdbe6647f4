// Media simulated by time: a playback of a known sound lasts that sound's length and then ends
// with PlaybackFinished; a recording runs until stopped (or its max duration) and leaves a stored
// recording of the elapsed length. Nothing is decoded or written: only the events, states and
// durations Asterisk would report.
import { randomUUID } from 'node:crypto';
import type { SimModel } from '../model.ts';

/** The sounds the simulator knows (a few of Asterisk's core sounds), with their lengths in ms. */
export const SOUNDS: Record<string, { text: string; ms: number }> = {
  'hello-world': { text: 'Hello world.', ms: 1200 },
  beep: { text: 'A beep.', ms: 250 },
  'demo-congrats': { text: 'Congratulations...', ms: 11_000 },
  'tt-monkeys': { text: 'Monkeys.', ms: 10_500 },
  'tt-weasels': { text: 'Weasels have eaten our phone system.', ms: 3_000 },
  'vm-goodbye': { text: 'Goodbye.', ms: 800 },
  'conf-onlyperson': { text: 'You are currently the only person in this conference.', ms: 3_300 },
  silence: { text: '', ms: 1000 },
};

export interface Playback {
  id: string;
  media_uri: string;
  next_media_uri?: string;
  target_uri: string;
  language: string;
  state: 'queued' | 'playing' | 'paused' | 'done' | 'failed';
  /** The app that hears about it (the target's). */
  app: string | null;
  timer?: NodeJS.Timeout;
  remainingMs: number;
  startedAt: number;
  queue: string[];
}

export interface LiveRecording {
  name: string;
  format: string;
  target_uri: string;
  state: 'queued' | 'recording' | 'paused' | 'done' | 'failed' | 'canceled';
  app: string | null;
  startedAt: number;
  pausedMs: number;
  pausedAt?: number;
  muted: boolean;
  maxTimer?: NodeJS.Timeout;
  /** `ifExists=append`: the stored recording of that name grows by this one's length. */
  append?: boolean;
}

export interface StoredRecording {
  name: string;
  format: string;
  durationS: number;
}

/** A media URI's length: `sound:<id>` from the catalogue, `tone:`/`digits:`/`number:` by rule. */
export function mediaLength(uri: string): number | null {
  const [scheme, rest = ''] = uri.split(/:(.*)/s);
  if (scheme === 'sound') return SOUNDS[rest]?.ms ?? null;
  if (scheme === 'digits' || scheme === 'characters') return rest.length * 600;
  if (scheme === 'number') return Math.max(1, String(rest).length) * 700;
  if (scheme === 'tone') return 5000;
  if (scheme === 'recording') return null; // resolved against stored recordings by the caller
  return null;
}

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

export class Media {
  playbacks = new Map<string, Playback>();
  live = new Map<string, LiveRecording>();
  stored = new Map<string, StoredRecording>();

  constructor(private model: SimModel) {}

  json(p: Playback) {
    return {
      id: p.id,
      media_uri: p.media_uri,
      ...(p.queue.length ? { next_media_uri: p.queue[0] } : {}),
      target_uri: p.target_uri,
      language: p.language,
      state: p.state,
    };
  }

  recordingJson(r: LiveRecording) {
    const elapsed = Math.round(this.elapsedMs(r) / 1000);
    return {
      name: r.name,
      format: r.format,
      target_uri: r.target_uri,
      state: r.state,
      ...(r.state === 'done' ? { duration: elapsed, talking_duration: elapsed, silence_duration: 0 } : {}),
    };
  }

  private lengthOf(uri: string): number | null {
    if (uri.startsWith('recording:')) {
      const s = this.stored.get(uri.slice('recording:'.length));
      return s ? s.durationS * 1000 : null;
    }
    return mediaLength(uri);
  }

  /** Starts playing `uris` in order on a target; PlaybackStarted now, PlaybackFinished at the end. */
  play(
    target_uri: string,
    app: string | null,
    uris: string[],
    language: string,
    id: string = randomUUID(),
  ): Playback {
    const p: Playback = {
      id,
      media_uri: uris[0] ?? '',
      target_uri,
      language,
      state: 'playing',
      app,
      remainingMs: 0,
      startedAt: Date.now(),
      queue: uris.slice(1),
    };
    this.playbacks.set(id, p);
    this.startItem(p);
    return p;
  }

  private startItem(p: Playback): void {
    const ms = this.lengthOf(p.media_uri);
    this.model.event(p.app, 'PlaybackStarted', { playback: this.json(p) });
    if (ms === null) {
      // A file that cannot be found fails at once, as Asterisk's playback does.
      p.state = 'failed';
      return this.finish(p);
    }
    p.remainingMs = ms;
    p.startedAt = Date.now();
    p.timer = setTimeout(() => this.next(p), ms);
    p.timer.unref?.();
  }

  private next(p: Playback): void {
    const following = p.queue.shift();
    if (following === undefined) {
      p.state = 'done';
      return this.finish(p);
    }
    this.model.event(p.app, 'PlaybackContinuing', { playback: this.json(p) });
    p.media_uri = following;
    this.startItem(p);
  }

  finish(p: Playback): void {
    clearTimeout(p.timer);
    if (p.state !== 'failed') p.state = 'done';
    this.playbacks.delete(p.id);
    this.model.event(p.app, 'PlaybackFinished', { playback: this.json(p) });
  }

  pause(p: Playback): void {
    if (p.state !== 'playing') return;
    clearTimeout(p.timer);
    p.remainingMs -= Date.now() - p.startedAt;
    p.state = 'paused';
  }

  unpause(p: Playback): void {
    if (p.state !== 'paused') return;
    p.state = 'playing';
    p.startedAt = Date.now();
    p.timer = setTimeout(() => this.next(p), Math.max(0, p.remainingMs));
  }

  restart(p: Playback): void {
    clearTimeout(p.timer);
    p.state = 'playing';
    this.startItem(p);
  }

  /** Every playback and recording on a target ends (its channel or bridge is gone). */
  stopTarget(target_uri: string): void {
    for (const p of [...this.playbacks.values()]) if (p.target_uri === target_uri) this.finish(p);
    for (const r of [...this.live.values()]) if (r.target_uri === target_uri) this.stopRecording(r, 'done');
  }

  private elapsedMs(r: LiveRecording): number {
    const end = r.pausedAt ?? Date.now();
    return Math.max(0, end - r.startedAt - r.pausedMs);
  }

  record(o: {
    name: string;
    format: string;
    target_uri: string;
    app: string | null;
    maxDurationSeconds: number;
    append?: boolean;
  }): LiveRecording {
    const r: LiveRecording = {
      name: o.name,
      format: o.format,
      target_uri: o.target_uri,
      state: 'recording',
      app: o.app,
      startedAt: Date.now(),
      pausedMs: 0,
      muted: false,
      ...(o.append ? { append: true } : {}),
    };
    this.live.set(r.name, r);
    this.model.event(r.app, 'RecordingStarted', { recording: this.recordingJson(r) });
    if (o.maxDurationSeconds > 0)
      r.maxTimer = setTimeout(() => this.stopRecording(r, 'done'), o.maxDurationSeconds * 1000);
    return r;
  }

  /** Ends a live recording: `done` stores it, `canceled` discards it. */
  stopRecording(r: LiveRecording, how: 'done' | 'canceled'): void {
    clearTimeout(r.maxTimer);
    if (r.pausedAt !== undefined) {
      r.pausedMs += Date.now() - r.pausedAt;
      r.pausedAt = undefined;
    }
    r.state = how;
    this.live.delete(r.name);
    if (how === 'done') {
      const before = r.append ? (this.stored.get(r.name)?.durationS ?? 0) : 0;
      this.stored.set(r.name, {
        name: r.name,
        format: r.format,
        durationS: before + Math.round(this.elapsedMs(r) / 1000),
      });
      this.model.event(r.app, 'RecordingFinished', { recording: this.recordingJson(r) });
    } else
      this.model.event(r.app, 'RecordingFailed', {
        recording: { ...this.recordingJson(r), cause: 'canceled' },
      });
  }

  pauseRecording(r: LiveRecording, on: boolean): void {
    if (on && r.pausedAt === undefined) {
      r.pausedAt = Date.now();
      r.state = 'paused';
    } else if (!on && r.pausedAt !== undefined) {
      r.pausedMs += Date.now() - r.pausedAt;
      r.pausedAt = undefined;
      r.state = 'recording';
    }
  }
}
