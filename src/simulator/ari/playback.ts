// Playbacks as res_stasis_playback.c runs them, by time. A playback is queued on its target's
// command queue (media.ts) and answered "queued"; on its turn each media URI in order sends
// PlaybackStarted, plays for its length, then PlaybackContinuing (more to come) or PlaybackFinished
// ("done", or "failed" when the last one could not be played or the channel hung up). Asterisk's
// quirks are kept: a missing `recording:`, a bad `number:` or an unknown scheme is skipped with no
// event (so a playback of nothing but that never finishes), unpausing sends PlaybackStarted again,
// stopping a queued playback sends PlaybackFinished only when its turn comes, and say-style media
// (number, digits, characters) cannot be stopped or paused (500).
import type { SimModel } from '../model.ts';
import type { CommandQueues, StoredRecording } from './commands.ts';
import { SOUNDS } from './sounds.ts';
import { err, type Reply } from './spec.ts';

type State = 'queued' | 'playing' | 'paused' | 'continuing' | 'failed' | 'stopped' | 'complete' | 'canceled';
/** The apps an event goes to, read when it is sent. */
export type Hearers = () => string | string[] | null;
export type PlaybackOp = 'stop' | 'restart' | 'pause' | 'unpause' | 'reverse' | 'forward';

export interface Playback {
  id: string;
  medias: string[];
  index: number;
  target_uri: string;
  /**
   * The command queue it waits on: its channel's, or for a bridge the bridge's announcer channel's
   * (the playback runs on that channel; its events reach the bridge's apps).
   */
  queue: string;
  language: string;
  state: State;
  /** The apps that hear about it, asked at each event (a bridge's change as channels come and go). */
  hearers: Hearers;
  skipms: number;
  offsetms: number;
  /** Set once a sound, recording or tone has played: only those can be controlled. */
  controllable: boolean;
  /** The media playing now: its length (null: a tone, until stopped) and what is left of it. */
  lengthMs: number | null;
  remainingMs: number;
  startedAt: number;
  timer?: NodeJS.Timeout;
  /** Ends the media playing now: played to its end (0), stopped, failed, or its channel gone. */
  end?: (res: 'ok' | 'stop' | 'fail', hangup?: boolean) => void;
}

/** What Asterisk reports for a state: stopped, complete and canceled all read "done". */
const stateText = (s: State) => (s === 'stopped' || s === 'complete' || s === 'canceled' ? 'done' : s);

const EVENT: Record<string, string> = {
  playing: 'PlaybackStarted',
  continuing: 'PlaybackContinuing',
  done: 'PlaybackFinished',
  failed: 'PlaybackFinished',
};

/** How long a say-style media takes: about 0.6 s a digit or character, 0.7 s a digit of a number. */
const SAY_MS = { digit: 600, numberDigit: 700 };

type Item = { ms: number | null; controllable: boolean } | 'fail' | 'skip';

/** The operations each state accepts (res_stasis_playback.c's table); any other is refused. */
const TABLE: Partial<Record<State, Partial<Record<PlaybackOp, string>>>> = {
  queued: { stop: 'cancel', restart: 'noop' },
  playing: {
    stop: 'stop',
    restart: 'restart',
    pause: 'pause',
    unpause: 'noop',
    reverse: 'reverse',
    forward: 'forward',
  },
  continuing: {
    stop: 'stop',
    restart: 'restart',
    pause: 'pause',
    unpause: 'noop',
    reverse: 'reverse',
    forward: 'forward',
  },
  paused: { stop: 'stop', pause: 'noop', unpause: 'unpause' },
  complete: { stop: 'noop' },
  failed: { stop: 'noop' },
  canceled: { stop: 'noop' },
  stopped: { stop: 'noop' },
};

export class Playbacks {
  /** Playbacks until their command is done (queued or playing), by id. */
  readonly byId = new Map<string, Playback>();

  constructor(
    private model: SimModel,
    private queues: CommandQueues,
    private stored: Map<string, StoredRecording>,
  ) {}

  json(p: Playback) {
    const last = p.index >= p.medias.length - 1;
    return {
      id: p.id,
      media_uri: p.medias[p.index] ?? '',
      ...(last ? {} : { next_media_uri: p.medias[p.index + 1] }),
      target_uri: p.target_uri,
      language: p.language,
      state: stateText(p.state),
    };
  }

  private publish(p: Playback): void {
    const type = EVENT[stateText(p.state)];
    if (type) this.model.event(p.hearers(), type, { playback: this.json(p) });
  }

  /** Queues a playback on its target; the answer (state "queued") is the caller's to send. */
  play(o: {
    id: string;
    target_uri: string;
    queue?: string;
    hearers: Hearers;
    medias: string[];
    language: string;
    skipms: number;
    offsetms: number;
    /** The control refused the command (done): answered as queued, never run or found. */
    refused?: boolean;
  }): Playback {
    const { refused, ...given } = o;
    const p: Playback = {
      ...given,
      queue: o.queue ?? o.target_uri,
      index: 0,
      state: 'queued',
      // Asterisk: a skipms of 0 (or none) is the default, 3 s.
      skipms: o.skipms || 3000,
      controllable: false,
      lengthMs: 0,
      remainingMs: 0,
      startedAt: 0,
    };
    if (refused) return p;
    this.byId.set(p.id, p);
    this.queues.push(p.queue, {
      run: (done) => this.run(p, done),
      drop: () => this.byId.delete(p.id),
      hungUp: () => this.runHungUp(p),
    });
    return p;
  }

  /**
   * play_uri on a channel already hung up: play_on_channel starts the first media that is not
   * skipped (PlaybackStarted) and its stream fails at once (PlaybackFinished `failed`; an empty
   * `digits:`/`characters:` says nothing and completes, `done`), and the hangup stops it there.
   * A channel still in a bridge has no bridge channel left to queue the playback on: nothing.
   */
  private runHungUp(p: Playback): void {
    this.byId.delete(p.id);
    const c = p.queue.startsWith('channel:')
      ? this.model.channels.get(p.queue.slice('channel:'.length))
      : undefined;
    if (c?.bridge) return;
    for (; p.index < p.medias.length; p.index++) {
      // playback_first_update: one stopped while queued ends as "done".
      if (p.state === 'canceled') return this.publish(p);
      p.state = 'playing';
      this.publish(p);
      const item = this.item(p.medias[p.index]!);
      if (item === 'skip') continue;
      p.state = item !== 'fail' && !item.controllable && item.ms === 0 ? 'complete' : 'failed';
      return this.publish(p);
    }
  }

  private item(uri: string): Item {
    const i = uri.indexOf(':');
    const scheme = i < 0 ? '' : uri.slice(0, i);
    const rest = i < 0 ? '' : uri.slice(i + 1);
    switch (scheme) {
      case 'sound': {
        const s = SOUNDS[rest];
        return s ? { ms: s.ms, controllable: true } : 'fail';
      }
      case 'recording': {
        const r = this.stored.get(rest);
        return r ? { ms: r.durationS * 1000, controllable: true } : 'skip';
      }
      case 'number': {
        const m = /^\s*[-+]?(\d+)/.exec(rest);
        return m ? { ms: Math.max(1, m[1]!.length) * SAY_MS.numberDigit, controllable: false } : 'skip';
      }
      case 'digits':
      case 'characters':
        return { ms: rest.length * SAY_MS.digit, controllable: false };
      case 'tone':
        return rest ? { ms: null, controllable: true } : 'fail';
      default:
        return 'skip';
    }
  }

  /** play_on_channel: each media in turn, until the last, a stop or a hangup. */
  private run(p: Playback, done: () => void): void {
    const finish = () => {
      p.end = undefined;
      this.byId.delete(p.id);
      done();
    };
    let offset = p.offsetms;
    const step = (): void => {
      if (p.index >= p.medias.length) return finish();
      // playback_first_update: a playback stopped while queued ends here, as "done".
      if (p.state === 'canceled') {
        this.publish(p);
        return finish();
      }
      p.state = 'playing';
      this.publish(p);
      const item = this.item(p.medias[p.index]!);
      if (item === 'skip') {
        p.index++;
        offset = 0;
        return step();
      }
      const last = () => p.index >= p.medias.length - 1;
      p.end = (res, hangup = false) => {
        clearTimeout(p.timer);
        p.end = undefined;
        // playback_final_update
        if (res === 'ok') p.state = last() || hangup ? 'complete' : 'continuing';
        else if (p.state !== 'stopped') p.state = last() || hangup ? 'failed' : 'continuing';
        this.publish(p);
        if (hangup || res === 'stop') return finish();
        p.index++;
        offset = 0;
        step();
      };
      if (item === 'fail') return p.end('fail');
      if (item.controllable) p.controllable = true;
      p.lengthMs = item.ms;
      p.remainingMs = item.ms === null ? 0 : Math.max(0, item.ms - offset);
      this.resume(p);
    };
    step();
  }

  /** Runs the clock on the media playing now (a tone has none: it plays until stopped). */
  private resume(p: Playback): void {
    clearTimeout(p.timer);
    p.startedAt = Date.now();
    if (p.lengthMs === null) return;
    p.timer = setTimeout(() => p.end?.('ok'), p.remainingMs);
    p.timer.unref?.();
  }

  private hold(p: Playback): void {
    clearTimeout(p.timer);
    p.remainingMs = Math.max(0, p.remainingMs - (Date.now() - p.startedAt));
  }

  /** POST /playbacks/{id}/control and DELETE /playbacks/{id}: Asterisk's statuses and messages. */
  operate(p: Playback, op: PlaybackOp): Reply {
    const action = TABLE[p.state]?.[op];
    if (!action) {
      if (op === 'stop' || p.state === 'playing') return err(500, `Could not ${op} playback`);
      return err(409, `Can only ${op} while media is playing`);
    }
    if (action === 'noop') return { status: 204 };
    if (action === 'cancel') {
      p.state = 'canceled';
      return { status: 204 };
    }
    if (!p.controllable)
      return err(500, op === 'stop' ? 'Could not stop playback' : `Could not ${op} playback`);
    switch (action) {
      case 'stop':
        p.state = 'stopped';
        p.end?.('stop');
        break;
      case 'restart':
        p.remainingMs = p.lengthMs ?? 0;
        if (p.state !== 'paused') this.resume(p);
        break;
      case 'pause':
        this.hold(p);
        p.state = 'paused';
        this.publish(p);
        break;
      case 'unpause':
        p.state = 'playing';
        this.publish(p);
        this.resume(p);
        break;
      case 'forward':
      case 'reverse': {
        if (p.lengthMs === null) break;
        this.hold(p);
        p.remainingMs =
          action === 'forward' ? p.remainingMs - p.skipms : Math.min(p.lengthMs, p.remainingMs + p.skipms);
        if (p.remainingMs <= 0) p.end?.('ok');
        else this.resume(p);
        break;
      }
    }
    return { status: 204 };
  }

  /** The channel playing it hung up: the media playing fails, as the stream read fails. */
  targetGone(queue: string): void {
    for (const p of [...this.byId.values()]) if (p.queue === queue) p.end?.('fail', true);
  }
}
