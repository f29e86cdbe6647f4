// Live recordings as res_stasis_recording.c runs them, by time. A recording is queued on its
// target's command queue (media.ts) and answered "queued"; on its turn a channel not yet answered
// is answered, RecordingStarted is sent, and the recording runs until stopped, cancelled, its
// maximum duration, or its target going; then RecordingFinished ("done", with the whole seconds
// recorded) and, unless cancelled, a stored recording of that length. A channel in a bridge
// cannot be recorded (RecordingFailed with Asterisk's cause). Asterisk's quirks are kept: a
// cancelled recording still finishes "done" (only its file is gone), and stopping or cancelling
// one still queued changes its state but not what happens when its turn comes.
import type { SimChannel, SimModel } from '../model.ts';
import type { CommandQueues, StoredRecording } from './commands.ts';
import type { Hearers } from './playback.ts';
import { SOUNDS } from './sounds.ts';
import { err, type Reply } from './spec.ts';

type State = 'queued' | 'recording' | 'paused' | 'done' | 'failed' | 'canceled';
export type RecordingOp = 'stop' | 'cancel' | 'pause' | 'unpause' | 'mute' | 'unmute';

export interface LiveRecording {
  name: string;
  format: string;
  target_uri: string;
  /** The command queue it runs on: its channel's, or for a bridge its recorder channel's. */
  queue: string;
  state: State;
  /** The apps that hear about it, asked at each event. */
  hearers: Hearers;
  maxDurationSeconds: number;
  maxSilenceSeconds: number;
  /** `ifExists=append`: the stored recording of that name grows by this one's length. */
  append: boolean;
  /** The DTMF digits that end it (record_file's acceptdtmf: `any` is every digit). */
  terminateOn: string;
  /** A beep is played before it records (not counted in its length). */
  beep: boolean;
  /** Whole seconds recorded, once it has ended (Asterisk: -1, left out, until then). */
  duration?: number;
  startedAt: number;
  pausedMs: number;
  pausedAt?: number;
  muted: boolean;
  maxTimer?: NodeJS.Timeout;
  /** Silence (maxSilenceSeconds): the current silent stretch's start, the stretches before it. */
  silentSince?: number;
  silenceMs: number;
  silenceTimer?: NodeJS.Timeout;
  /** The talking part (sound_duration), once ended with silence watched for. */
  talking?: number;
  /** Ends it while it records: `cancel` discards the file; `max` is its maxDurationSeconds reached. */
  end?: (how: 'stop' | 'cancel' | 'silence' | 'max') => void;
}

/** The operations each state accepts (res_stasis_recording.c's table); any other is 409. */
const TABLE: Partial<Record<State, Partial<Record<RecordingOp, string>>>> = {
  queued: { cancel: 'disregard', stop: 'disregard' },
  recording: {
    cancel: 'cancel',
    stop: 'stop',
    pause: 'pause',
    unpause: 'noop',
    mute: 'mute',
    unmute: 'unmute',
  },
  paused: {
    cancel: 'cancel',
    stop: 'stop',
    pause: 'noop',
    unpause: 'unpause',
    mute: 'mute',
    unmute: 'unmute',
  },
};

const EVENT: Record<string, string> = {
  recording: 'RecordingStarted',
  done: 'RecordingFinished',
  canceled: 'RecordingFinished',
  failed: 'RecordingFailed',
};

/**
 * The lengths __ast_play_and_record (main/app.c) reports, in whole seconds: the file's (its samples
 * / 8000, rounded down), less the trailing silent stretch but 200 ms (which a recording ended by
 * silence also trims from its file); and the talking part (sound_duration), the file's less every
 * silent stretch but 200 ms. Each difference is rounded towards zero, as C's integer division
 * does, and neither goes below 0. Silence counts only when maxSilenceSeconds is set (pass 0 then).
 */
export function recordingLengths(
  fileMs: number,
  earlierSilenceMs: number,
  trailingSilenceMs: number,
): { duration: number; talking: number } {
  let duration = Math.floor(fileMs / 1000);
  let talking = duration;
  const total = earlierSilenceMs + trailingSilenceMs;
  if (total > 0) talking = Math.max(0, talking - Math.trunc((total - 200) / 1000));
  if (trailingSilenceMs > 0) duration = Math.max(0, duration - Math.trunc((trailingSilenceMs - 200) / 1000));
  return { duration, talking };
}

export class Recordings {
  /** Recordings until their command is done (queued or recording), by name. */
  readonly live = new Map<string, LiveRecording>();

  constructor(
    private model: SimModel,
    private queues: CommandQueues,
    private stored: Map<string, StoredRecording>,
  ) {
    // ast_play_and_record_full stops on a digit of acceptdtmf, keeping what it recorded.
    model.on('dtmf', (c: { id: string }, digit: string) => {
      for (const r of [...this.live.values()])
        if (
          r.queue === `channel:${c.id}` &&
          r.end &&
          Date.now() >= r.startedAt &&
          r.terminateOn.includes(digit)
        )
          r.end('stop');
    });
    // The far end falls silent or talks again (sim.setFarEndSilent): what silence detection sees.
    model.on('far-silence', (c: SimChannel) => {
      for (const r of this.live.values())
        if (r.queue === `channel:${c.id}` && r.state === 'recording') this.silence(r, !!c.farSilent);
      if (c.bridge) this.bridgeHeard(c.bridge);
    });
    // A bridge's recorder hears the bridge's mix: a party joining or leaving changes it.
    const bridgeChanged = (_c: SimChannel, bridgeId: string) => this.bridgeHeard(bridgeId);
    model.on('bridge-enter', bridgeChanged);
    model.on('bridge-leave', bridgeChanged);
  }

  /** What a recording hears now: its channel's far end, or for a bridge every party's. */
  private hearsSilence(r: LiveRecording): boolean {
    const i = r.target_uri.indexOf(':');
    const kind = r.target_uri.slice(0, i);
    const id = r.target_uri.slice(i + 1);
    if (kind === 'channel') return !!this.model.channels.get(id)?.farSilent;
    const b = this.model.bridges.get(id);
    if (!b) return false;
    // The recorder reads the mix of the other parties: silent when every party (its own media
    // channels aside) is silent.
    const parties = [...b.channels].map((x) => this.model.channels.get(x)).filter((x) => x && !x.media);
    return parties.every((x) => x!.farSilent);
  }

  /** The bridge's mix may have turned silent or audible: its recordings' silence detection sees it. */
  private bridgeHeard(bridgeId: string): void {
    for (const r of this.live.values())
      if (r.target_uri === `bridge:${bridgeId}` && r.state === 'recording')
        this.silence(r, this.hearsSilence(r));
  }

  /**
   * ast_dsp_silence on what the channel reads, while a recording with maxSilenceSeconds runs: a
   * silent stretch starts or ends; one longer than maxSilenceSeconds (by a 20 ms frame) ends the
   * recording ("Recording automatically stopped after a silence"). Time paused is not counted.
   */
  private silence(r: LiveRecording, silent: boolean, at = Date.now()): void {
    if (r.maxSilenceSeconds <= 0) return;
    if (silent && r.silentSince === undefined) {
      r.silentSince = at;
      r.silenceTimer = setTimeout(
        () => r.end?.('silence'),
        at - Date.now() + r.maxSilenceSeconds * 1000 + 20,
      );
      r.silenceTimer.unref?.();
    } else if (!silent && r.silentSince !== undefined) {
      r.silenceMs += Math.max(0, Date.now() - r.silentSince);
      r.silentSince = undefined;
      clearTimeout(r.silenceTimer);
    }
  }

  /** A recording queued or running on the channel (res_stasis_recording's add rule holds). */
  onChannel(id: string): boolean {
    for (const r of this.live.values()) if (r.queue === `channel:${id}`) return true;
    return false;
  }

  json(r: LiveRecording) {
    return {
      name: r.name,
      format: r.format,
      state: r.state,
      target_uri: r.target_uri,
      ...(r.duration !== undefined ? { duration: r.duration } : {}),
      // Talking and silence are reported only when silence is watched for (max_silence_seconds).
      ...(r.duration !== undefined && r.talking !== undefined
        ? { talking_duration: r.talking, silence_duration: r.duration - r.talking }
        : {}),
    };
  }

  private publish(r: LiveRecording, cause?: string): void {
    const type = EVENT[r.state];
    if (type)
      this.model.event(r.hearers(), type, { recording: { ...this.json(r), ...(cause ? { cause } : {}) } });
  }

  /** Queues a recording on its target; the answer (state "queued") is the caller's to send. */
  record(o: {
    name: string;
    format: string;
    target_uri: string;
    queue?: string;
    hearers: Hearers;
    maxDurationSeconds: number;
    maxSilenceSeconds: number;
    append: boolean;
    terminateOn: string;
    beep: boolean;
    /** The control refused the command (done): answered as queued, never run or found. */
    refused?: boolean;
  }): LiveRecording {
    const { refused, ...given } = o;
    const r: LiveRecording = {
      ...given,
      queue: o.queue ?? o.target_uri,
      state: 'queued',
      startedAt: 0,
      pausedMs: 0,
      muted: false,
      silenceMs: 0,
    };
    if (refused) return r;
    this.live.set(r.name, r);
    this.queues.push(r.queue, {
      run: (done) => this.run(r, done),
      drop: () => this.live.delete(r.name),
      hungUp: () => this.runHungUp(r),
    });
    return r;
  }

  /**
   * record_file on a channel already hung up: refused in a bridge, and a channel not up cannot be
   * answered (RecordingFailed `Failed to answer channel`); else RecordingStarted, and
   * __ast_play_and_record reads nothing: an empty file (0 s, stored) or, with a beep, which fails
   * to play, no file at all and no duration. Then RecordingFinished `done`.
   */
  private runHungUp(r: LiveRecording): void {
    this.live.delete(r.name);
    const c = r.target_uri.startsWith('channel:')
      ? this.model.channels.get(r.target_uri.slice('channel:'.length))
      : undefined;
    if (c?.bridge || (c && c.state !== 'Up')) {
      r.state = 'failed';
      return this.publish(r, c.bridge ? 'Cannot record channel while in bridge' : 'Failed to answer channel');
    }
    r.state = 'recording';
    this.publish(r);
    if (!r.beep) {
      r.duration = 0;
      if (r.maxSilenceSeconds > 0) r.talking = 0;
      const before = r.append ? (this.stored.get(r.name)?.durationS ?? 0) : 0;
      this.stored.set(r.name, { name: r.name, format: r.format, durationS: before });
    }
    r.state = 'done';
    this.publish(r);
  }

  private elapsedMs(r: LiveRecording): number {
    const end = r.pausedAt ?? Date.now();
    return Math.max(0, end - r.startedAt - r.pausedMs);
  }

  /** record_file: refuse a bridged channel, answer it, record until told or timed out. */
  private run(r: LiveRecording, done: () => void): void {
    const finish = () => {
      r.end = undefined;
      this.live.delete(r.name);
      done();
    };
    if (r.target_uri.startsWith('channel:')) {
      const c = this.model.channels.get(r.target_uri.slice('channel:'.length));
      if (!c) return finish();
      if (c.bridge) {
        r.state = 'failed';
        this.publish(r, 'Cannot record channel while in bridge');
        return finish();
      }
      if (c.state !== 'Up') this.model.setState(c, 'Up');
    }
    r.state = 'recording';
    // RecordingStarted comes before the beep; the file starts after it.
    const beepMs = r.beep ? SOUNDS.beep!.ms : 0;
    r.startedAt = Date.now() + beepMs;
    this.publish(r);
    if (this.hearsSilence(r)) this.silence(r, true, r.startedAt);
    r.end = (how) => {
      clearTimeout(r.maxTimer);
      clearTimeout(r.silenceTimer);
      r.end = undefined;
      if (r.pausedAt !== undefined) {
        r.pausedMs += Date.now() - r.pausedAt;
        r.pausedAt = undefined;
      }
      // Asterisk stops once the limit has passed, so the file holds the whole maxDurationSeconds.
      // A timer may fire a millisecond before Date.now() says the time is up (Node's timers run on
      // another clock), which the whole-second rounding would turn into a second less. (A paused
      // recording's file is shorter than its wall time: no floor then.)
      const duration = this.lengths(r, how === 'max' && !r.pausedMs ? r.maxDurationSeconds * 1000 : 0);
      if (how !== 'cancel') {
        const before = r.append ? (this.stored.get(r.name)?.durationS ?? 0) : 0;
        this.stored.set(r.name, { name: r.name, format: r.format, durationS: before + duration });
      }
      r.state = 'done';
      this.publish(r);
      finish();
    };
    if (r.maxDurationSeconds > 0) {
      r.maxTimer = setTimeout(() => r.end?.('max'), beepMs + r.maxDurationSeconds * 1000);
      r.maxTimer.unref?.();
    }
  }

  /**
   * The recording's lengths as it ends (recordingLengths), its file at least `atLeastMs` long; the
   * file's whole seconds.
   */
  private lengths(r: LiveRecording, atLeastMs = 0): number {
    const trailing = r.silentSince === undefined ? 0 : Math.max(0, Date.now() - r.silentSince);
    const fileMs = Math.max(this.elapsedMs(r), atLeastMs);
    const l = recordingLengths(fileMs, r.maxSilenceSeconds > 0 ? r.silenceMs : 0, trailing);
    r.duration = l.duration;
    if (r.maxSilenceSeconds > 0) r.talking = l.talking;
    return l.duration;
  }

  /** The recordings/live operations: Asterisk's statuses and messages. */
  operate(r: LiveRecording, op: RecordingOp): Reply {
    const action = TABLE[r.state]?.[op];
    if (!action) return err(409, 'Recording not in session');
    switch (action) {
      case 'disregard':
        r.state = 'canceled';
        break;
      case 'stop':
      case 'cancel':
        r.end?.(action);
        break;
      case 'pause':
        r.pausedAt = Date.now();
        r.state = 'paused';
        // Silence heard while paused is not counted (pausedsilence): the stretch stops here.
        this.silence(r, false);
        break;
      case 'unpause': {
        if (r.pausedAt !== undefined) r.pausedMs += Date.now() - r.pausedAt;
        r.pausedAt = undefined;
        r.state = 'recording';
        if (this.hearsSilence(r)) this.silence(r, true);
        break;
      }
      case 'mute':
      case 'unmute':
        // Muted audio is recorded as silence: the length is the same.
        r.muted = action === 'mute';
        break;
    }
    return { status: 204 };
  }

  /** The channel recorded hung up: the recording ends as a hangup ends it, its file kept. */
  targetGone(queue: string): void {
    for (const r of [...this.live.values()]) if (r.queue === queue) r.end?.('stop');
  }
}
