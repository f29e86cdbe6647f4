// The simulator's model of Asterisk channels and bridges, and the ARI events each change emits,
// in Asterisk's order. Transport-free: ari.ts and ami.ts drive it.
import { EventEmitter } from 'node:events';
import { PjsipDirectory } from './pjsip/directory.ts';
import q850 from './q850-causes.json' with { type: 'json' };

export interface EndpointBehaviour {
  result?: 'answer' | 'busy' | 'noanswer' | 'congestion' | 'unavailable';
  answerAfterMs?: number;
  hangupAfterMs?: number;
}

export interface SimChannel {
  id: string;
  name: string;
  state: 'Down' | 'Ring' | 'Ringing' | 'Up' | 'Busy';
  caller: { name: string; number: string };
  connected: { name: string; number: string };
  dialplan: { context: string; exten: string; priority: number; app_name: string; app_data: string };
  creationtime: string;
  vars: Map<string, string>;
  app: string | null; // the Stasis app holding it
  fromDialplan: boolean; // left Stasis -> back to the dialplan (no ChannelDestroyed in the app)
  /** A connected-line update from the other half not yet read (see SimModel.setConnected). */
  pendingCaller?: { name: string; number: string };
  bridge: string | null;
  endpoint: string | null;
  timers: NodeJS.Timeout[];
  dialing: boolean;
  /** Uniqueid of the oldest channel of the call (AMI Linkedid); the channel's own id when unset. */
  linkedid?: string;
  /**
   * The app subscribed to the channel for its whole life (it made it with channels/create or
   * POST /channels): it sees the channel's events outside Stasis too, ChannelDestroyed included.
   * A channel that entered Stasis from the dialplan is the app's only while in Stasis.
   */
  owner?: string | null;
  /** The other half of a Local channel pair. */
  peer?: string;
  /** A dial in progress towards this channel (ARI channels/dial, or an originate). */
  dial?: DialState;
  /** The `;2` half of a Local pair was called (its dialplan started). */
  called?: boolean;
  /** The hangup cause set before the hangup (Busy/Congestion, a failed Dial); Hangup() with no cause uses it. */
  hangupCause?: number;
  /**
   * Counts the dialplan runs started on the channel: a run that finds a later one started (ARI
   * `continue` to another place) stops, as Asterisk's PBX goes on from the new place only.
   */
  dialplanRun?: number;
  /** Where the channel was (application and data) before it entered Stasis. */
  beforeStasis?: { app_name: string; app_data: string };
  /**
   * Ringing indicated to the channel (ARI `ring`): `far` on a channel not answered (PJSIP sends 180
   * and the far side plays ringback until the answer), `inband` on an answered one (Asterisk plays
   * the tone itself, a generator on the channel). Either goes on whatever happens to the app's
   * WebSocket: Asterisk keeps reading the channel in Stasis, which drives its generator.
   */
  ringback?: 'far' | 'inband';
  /** Music on hold started on the channel (ARI `moh`): a generator too, kept without the app. */
  moh?: boolean;
  /** TIMEOUT(absolute): when (epoch ms) Asterisk hangs the channel up by itself, and its timer. */
  hangupAt?: number;
  /** When it went Up (ms): what RTP statistics count from. */
  upAt?: number;
  absoluteTimer?: NodeJS.Timeout;
  /** What AMI and ARI last published of the channel (see SimModel.publish). */
  published?: Published;
  /**
   * A bridge's media channel (chan_bridge_media: `Announcer/ARI-…` for bridge playbacks,
   * `Recorder/ARI-…` for bridge recordings): a pair whose `;2` sits in the bridge and whose `;1`
   * runs the media. Internal to Stasis: no app holds it.
   */
  media?: 'Announcer' | 'Recorder';
}

/** The parts of a channel snapshot whose changes Asterisk's snapshot monitors report. */
interface Published {
  context: string;
  exten: string;
  priority: number;
  appl: string;
  caller: { name: string; number: string };
  connected: { name: string; number: string };
}

const published = (c: SimChannel): Published => ({
  context: c.dialplan.context,
  exten: c.dialplan.exten,
  priority: c.dialplan.priority,
  appl: c.dialplan.app_name,
  caller: c.caller,
  connected: c.connected,
});

/**
 * A caller's presentation as ast_party_id_presentation combines it: the simulator's parties are
 * all allowed (0), and a party with neither name nor number is "Number Unavailable" (67).
 */
export const presentation = (c: SimChannel): [number, string] =>
  c.caller.name || c.caller.number ? [0, 'Presentation Allowed, Not Screened'] : [67, 'Number Unavailable'];

const sameParty = (a: { name: string; number: string }, b: { name: string; number: string }) =>
  a.name === b.name && a.number === b.number;

export interface SimBridge {
  id: string;
  type: string;
  name: string;
  channels: Set<string>;
  creationtime: string;
  /** Apps that have seen the bridge (their channels entered it): they hear BridgeDestroyed. */
  apps: Set<string>;
  vars: Map<string, string>;
  moh: boolean;
  /**
   * The bridge technology as of its last reconfiguration (main/bridge.c smart_bridge_operation):
   * a mixing bridge is simple_bridge for up to two channels and softmix for more; holding_bridge.
   */
  technology: string;
}

export interface DialState {
  /** The dialled string as Asterisk reports it (`exten@context` for a Local channel). */
  dialstring: string;
  caller?: string;
  /** Originates (POST /channels, AMI Originate) report NOANSWER when the channel goes unanswered. */
  originate: boolean;
  status: '' | 'RINGING' | 'ANSWER';
}

/**
 * Q.850 causes in Asterisk's words (what ast_cause2str answers, the `cause_txt` of ARI and the
 * `Cause-txt` of AMI). Kept as data, beside this file, because it is Asterisk's table verbatim,
 * texts included: a cause's wording is wire text the simulator must send as Asterisk does.
 */
export const CAUSE_TXT: Readonly<Record<number, string>> = q850.causes;

/** ARI's hangup reasons and the causes Asterisk maps them to (convert_reason_to_hangup_code). */
export const REASON_CAUSE: Record<string, number> = {
  normal: 16,
  busy: 17,
  congestion: 34,
  no_answer: 19,
  timeout: 18,
  rejected: 21,
  unallocated: 1,
  normal_unspecified: 31,
  number_incomplete: 28,
  codec_mismatch: 58,
  interworking: 127,
  failure: 38,
  answered_elsewhere: 26,
};

/**
 * Model events about one channel (the first argument) that feed AMI, CDRs and the simulator's
 * observers. Asterisk never reports an internal channel (AST_CHAN_TP_INTERNAL: a bridge's announcer
 * and recorder) through them: manager_channels.c and manager_bridges.c build no channel state for
 * one, cdr.c and cel.c filter it out. `hanging-up` still fires, as it ends what the channel plays.
 */
const CHANNEL_REPORTS = new Set([
  'channel-created',
  'state',
  'dial',
  'hangup-request',
  'pbx-softhangup',
  'channel-destroyed',
  'bridge-enter',
  'bridge-leave',
  'local-call',
  'newexten',
  'callerid',
  'connectedline',
  'varset',
]);

/** ARI events whose own fields come before `type` and `timestamp` (see SimModel.event). */
const BLOB_FIRST = new Set([
  'ChannelHangupRequest',
  'ChannelVarset',
  'ChannelTalkingStarted',
  'ChannelTalkingFinished',
  'ChannelToneDetected',
]);

export class SimModel extends EventEmitter {
  channels = new Map<string, SimChannel>();
  bridges = new Map<string, SimBridge>();
  endpoints = new Map<string, EndpointBehaviour>();
  /** Global dialplan variables: the dialplan's [globals], then what ARI or AMI set. */
  globals = new Map<string, string>();
  /** Realtime lookup (ps_endpoints) for endpoints not configured in `endpoints`. */
  realtime: (name: string) => Promise<boolean> = async () => false;
  /** res_pjsip's objects and persistent endpoints (set by the simulator). */
  pjsip: PjsipDirectory = new PjsipDirectory(null, this.endpoints);
  /** Runs a channel through the dialplan from context/exten (set by the simulator). */
  runDialplan: (c: SimChannel, context: string, exten: string, priority?: number) => Promise<void> =
    async () => {};
  /** The priority of a label in the dialplan (ast_findlabel_extension), or -1 (set by the simulator). */
  findLabel: (context: string, exten: string, label: string) => number = () => -1;
  private seq = 0;
  /**
   * One-shot callbacks per channel: when it leaves Stasis for the dialplan or is destroyed ('exit'),
   * or when it goes Up ('up'). Keyed by channel so thousands of waiting calls do not each hear every
   * other channel's events (an emitter listener per call made each event cost O(live calls)).
   */
  private waiters = new Map<string, Array<{ on: 'exit' | 'up'; fn: () => void }>>();
  constructor(
    readonly asteriskId: string,
    readonly channelVars: string[],
  ) {
    super();
  }

  /** Ids of internal channels alive (their ARI events are sanitized away, see `event`). */
  private internal = new Set<string>();

  /** Drops the channel reports of internal channels (see CHANNEL_REPORTS). */
  override emit(name: string | symbol, ...args: unknown[]): boolean {
    if (typeof name === 'string' && CHANNEL_REPORTS.has(name) && (args[0] as SimChannel | undefined)?.media)
      return false;
    return super.emit(name, ...args);
  }

  nextName(prefix: string): string {
    return `${prefix}-${(++this.seq).toString(16).padStart(8, '0')}`;
  }

  json(c: SimChannel) {
    const out: Record<string, unknown> = {
      id: c.id,
      name: c.name,
      state: c.state,
      protocol_id: '',
      caller: c.caller,
      connected: c.connected,
      accountcode: '',
      dialplan: c.dialplan,
      creationtime: c.creationtime,
      language: 'en',
    };
    if (this.channelVars.length) {
      const vars: Record<string, string> = {};
      for (const v of this.channelVars) vars[v] = c.vars.get(v) ?? '';
      out.channelvars = vars;
    }
    return out;
  }

  bridgeJson(id: string) {
    return this.bridgeJson2(this.bridges.get(id)!);
  }

  bridgeJson2(b: SimBridge) {
    return {
      id: b.id,
      technology: b.technology,
      bridge_type: b.type,
      bridge_class: 'stasis',
      creator: 'Stasis',
      name: b.name,
      // The app sanitizer leaves internal channels out of a bridge's list.
      channels: [...b.channels].filter((id) => !this.internal.has(id)),
      creationtime: b.creationtime,
      video_mode: 'talker',
    };
  }

  /** What the party on this channel hears now (tests check that no caller is left in silence). */
  hears(c: SimChannel): 'bridge' | 'music' | 'ringing' | 'silence' {
    if (c.bridge) return 'bridge';
    if (c.moh) return 'music';
    return c.ringback ? 'ringing' : 'silence';
  }

  /**
   * The other apps that hear an event because they subscribed to its channel, bridge or endpoint
   * (POST /applications/{app}/subscription; set by ARI). None unless some app subscribed.
   */
  subscribers: (type: string, body: Record<string, unknown>) => string[] = () => [];

  /** Sends an event to an app or apps (if any) and to the apps subscribed to what it is about. */
  event(app: string | string[] | null | undefined, type: string, body: Record<string, unknown>): void {
    // Stasis's sanitizer drops any event whose channel is internal (a bridge's media channel).
    const about = (body.channel as { id?: string } | undefined)?.id;
    if (about && this.internal.has(about)) return;
    const also = this.subscribers(type, body);
    const first = app ? (Array.isArray(app) ? app : [app]) : [];
    if (!first.length && !also.length) return;
    const timestamp = asteriskTime(new Date());
    for (const to of new Set([...first, ...also])) {
      // Events Asterisk builds from a channel blob (stasis_channels.c channel_blob_to_json) copy the
      // blob first and add type and timestamp after it; the others start with type and timestamp.
      if (BLOB_FIRST.has(type)) {
        const { channel, ...blob } = body;
        this.emit('ari-event', to, {
          ...blob,
          type,
          timestamp,
          ...(channel !== undefined ? { channel } : {}),
          asterisk_id: this.asteriskId,
          application: to,
        });
      } else
        this.emit('ari-event', to, {
          type,
          timestamp,
          ...body,
          asterisk_id: this.asteriskId,
          application: to,
        });
    }
  }

  /** The app that hears about the channel now: the one holding it in Stasis, else its owner. */
  target(c: SimChannel): string | null {
    return c.app ?? c.owner ?? null;
  }

  /**
   * Publishes the channel's snapshot: what Asterisk's snapshot monitors report when they compare
   * it with the one published before (manager_channels.c for AMI, res/stasis/app.c for ARI), in
   * their order. A new place in the dialplan (context, extension or priority; or an application
   * where there was none) is AMI Newexten and ARI ChannelDialplan, never with no application and,
   * on AMI, not for a channel being destroyed; a changed caller id NewCallerid / ChannelCallerId; a
   * changed connected line NewConnectedLine / ChannelConnectedLine. Called wherever the simulator
   * changes those parts (a dialplan step, an originate's caller, a Local pair's crossover, a
   * bridge's connected-line update), and once more as a channel is destroyed.
   */
  publish(c: SimChannel, dead = false): void {
    const was = c.published ?? published(c);
    const now = published(c);
    c.published = now;
    const dialplan =
      now.appl !== '' &&
      ((was.appl === '' && now.appl !== '') ||
        was.priority !== now.priority ||
        was.context !== now.context ||
        was.exten !== now.exten);
    const caller = !sameParty(was.caller, now.caller);
    const connected = !sameParty(was.connected, now.connected);
    if (!dialplan && !caller && !connected) return;
    if (dialplan && !dead) this.emit('newexten', c);
    if (caller) this.emit('callerid', c);
    if (connected) this.emit('connectedline', c);
    const app = this.target(c);
    if (dialplan)
      this.event(app, 'ChannelDialplan', {
        dialplan_app: c.dialplan.app_name,
        dialplan_app_data: c.dialplan.app_data,
        channel: this.json(c),
      });
    if (caller) {
      const [pres, txt] = presentation(c);
      this.event(app, 'ChannelCallerId', {
        caller_presentation: pres,
        caller_presentation_txt: txt,
        channel: this.json(c),
      });
    }
    if (connected) this.event(app, 'ChannelConnectedLine', { channel: this.json(c) });
  }

  /**
   * Sets (or, with null, unsets) a channel variable as pbx_builtin_setvar_helper does: the newest
   * first in the channel's list, AMI VarSet and ARI ChannelVarset for every value set, and for an
   * unset only when a non-empty value went away (then with the value "").
   */
  setVar(c: SimChannel, name: string, value: string | null): void {
    const old = c.vars.get(name);
    c.vars.delete(name);
    if (value === null && !old) return;
    if (value !== null) c.vars.set(name, value);
    const v = value ?? '';
    this.emit('varset', c, name, v);
    this.event(this.target(c), 'ChannelVarset', { variable: name, value: v, channel: this.json(c) });
  }

  /** A global variable set (AMI VarSet naming no channel; ARI apps hear none). */
  setGlobal(name: string, value: string): void {
    this.globals.set(name, value);
    this.emit('varset', null, name, value);
  }

  /**
   * chan_local's local_call (ast_unreal_call_setup), once per pair: `;1`'s variables are copied to `;2` in
   * Asterisk's list order (newest first), each a VarSet; caller id and connected line cross over
   * (`;2` calls as `;1`'s connected line) and `;2`'s snapshot is published.
   */
  localCall(one: SimChannel, two: SimChannel): void {
    if (two.called) return;
    two.called = true;
    for (const [k, v] of [...one.vars].reverse()) this.setVar(two, k, v);
    two.caller = { ...one.connected };
    two.connected = { ...one.caller };
    this.publish(two);
    // The pair is joined (AMI LocalBridge) and `;2`'s PBX thread starts.
    this.emit('local-call', one, two);
  }

  create(o: Partial<SimChannel> & { name: string; id: string }): SimChannel {
    const c: SimChannel = {
      state: 'Down',
      caller: { name: '', number: '' },
      connected: { name: '', number: '' },
      dialplan: { context: 'default', exten: 's', priority: 1, app_name: '', app_data: '' },
      creationtime: asteriskTime(new Date()),
      vars: new Map(),
      app: null,
      fromDialplan: false,
      bridge: null,
      endpoint: null,
      timers: [],
      dialing: false,
      ...o,
    };
    if (c.state === 'Up') c.upAt = Date.now();
    c.published = published(c);
    this.channels.set(c.id, c);
    if (c.media) this.internal.add(c.id);
    this.emit('channel-created', c);
    return c;
  }

  setState(c: SimChannel, state: SimChannel['state']): void {
    if (c.state === state) return;
    c.state = state;
    // The answer ends the far side's ringback.
    if (state === 'Up' && c.ringback === 'far') c.ringback = undefined;
    if (state === 'Up') c.upAt ??= Date.now();
    this.emit('state', c);
    this.event(this.target(c), 'ChannelStateChange', { channel: this.json(c) });
    // The other half of a Local pair follows: ringing and answer travel from ;2 to ;1.
    const peer = c.peer ? this.channels.get(c.peer) : undefined;
    if (peer && c.name.endsWith(';2') && (state === 'Ringing' || state === 'Up') && peer.state !== 'Up')
      this.setState(peer, state);
    if (c.dial && (state === 'Ringing' || state === 'Up'))
      this.dialProgress(c, state === 'Up' ? 'ANSWER' : 'RINGING');
    if (state === 'Up') this.fire(c.id, 'up');
  }

  /** A Dial event (ARI) and its AMI counterpart for the channel being dialled. */
  dialEvent(c: SimChannel, status: string): void {
    const d = c.dial;
    if (!d) return;
    const caller = d.caller ? this.channels.get(d.caller) : undefined;
    // An originate's dial reports its dial string every time; channels/dial only at the start.
    this.event(this.target(c), 'Dial', {
      dialstatus: status,
      forward: '',
      dialstring: d.originate || status === '' ? d.dialstring : '',
      ...(caller ? { caller: this.json(caller) } : {}),
      peer: this.json(c),
    });
    this.emit('dial', c, caller, status, d.dialstring);
  }

  /** Starts a dial towards `c`: Dial "" / DialBegin. */
  beginDial(c: SimChannel, d: Omit<DialState, 'status'>): void {
    c.dial = { ...d, status: '' };
    c.dialing = true;
    this.dialEvent(c, '');
  }

  private dialProgress(c: SimChannel, status: 'RINGING' | 'ANSWER'): void {
    const d = c.dial!;
    if (status === 'ANSWER') {
      // The dial timeout no longer applies once answered.
      for (const t of c.timers) clearTimeout(t);
      c.timers = [];
    }
    d.status = status;
    this.dialEvent(c, status);
    if (status === 'ANSWER') {
      c.dial = undefined;
      this.emit('dial-answered', c);
    }
  }

  /**
   * A busy or congestion indication (Busy(), Congestion(), or the dialplan falling off its end
   * after a Dial that was busy or congested). A channel not answered yet takes the Busy state and
   * the cause (17 or 34) it will hang up with. Through a Local pair the indication reaches `;1`:
   * dialled by ARI (channels/dial, in a bridge), it is reported in a Dial event with that
   * dialstatus and the channel stays up (the bridge core publishes it and does nothing else);
   * dialled by an originate, the dial reports it and hangs the channel up, as main/dial.c does.
   */
  indicate(c: SimChannel, what: 'BUSY' | 'CONGESTION'): void {
    const cause = what === 'BUSY' ? 17 : 34;
    if (c.state !== 'Up') {
      c.hangupCause = cause;
      this.setState(c, 'Busy');
    }
    const peer = c.peer && c.name.endsWith(';2') ? this.channels.get(c.peer) : undefined;
    if (!peer?.dial || peer.state === 'Up') return;
    this.dialEvent(peer, what);
    if (!peer.dial.originate) return;
    peer.dial = undefined;
    peer.hangupCause = cause;
    this.hangup(peer.id, cause);
  }

  /**
   * A DTMF digit received on the channel from its far end (channel.c's ast_read publishes the end
   * of each): ARI ChannelDtmfReceived to the app hearing the channel; a recording that ends on it
   * ends after it (see the `dtmf` listeners).
   */
  receiveDtmf(c: SimChannel, digit: string, durationMs: number): void {
    if (this.channels.get(c.id) !== c) return;
    this.event(this.target(c), 'ChannelDtmfReceived', {
      digit,
      duration_ms: durationMs,
      channel: this.json(c),
    });
    this.emit('dtmf', c, digit, durationMs);
  }

  /** Calls `fn` once when the channel leaves Stasis for the dialplan, or is destroyed. */
  onceExit(id: string, fn: () => void): void {
    this.wait(id, 'exit', fn);
  }

  /** Calls `fn` once when the channel goes Up. */
  onceUp(id: string, fn: () => void): void {
    this.wait(id, 'up', fn);
  }

  private wait(id: string, on: 'exit' | 'up', fn: () => void): void {
    const list = this.waiters.get(id) ?? [];
    list.push({ on, fn });
    this.waiters.set(id, list);
  }

  /** Runs the channel's waiters for `on` (a destroyed channel's are all dropped after 'exit'). */
  fire(id: string, on: 'exit' | 'up', gone = false): void {
    const list = this.waiters.get(id);
    if (!list) return;
    const due = list.filter((w) => w.on === on);
    const rest = gone ? [] : list.filter((w) => w.on !== on);
    if (rest.length) this.waiters.set(id, rest);
    else this.waiters.delete(id);
    for (const w of due) w.fn();
  }

  /**
   * Enters Stasis. Through the Stasis application (the dialplan's, or the one ARI runs on a
   * channel it made or originated: `viaApp`) STASISSTATUS is first set empty, heard by the
   * channel's owner only (the app hears the channel from StasisStart on); a channel that was
   * running no application shows its new place (Newexten, ChannelDialplan). Snoop channels and
   * `move` enter without the application.
   */
  enterStasis(c: SimChannel, app: string, args: string[], viaApp = true): void {
    c.beforeStasis = { app_name: c.dialplan.app_name, app_data: c.dialplan.app_data };
    c.dialplan = { ...c.dialplan, app_name: 'Stasis', app_data: [app, ...args].join(',') };
    if (viaApp) {
      this.publish(c);
      this.setVar(c, 'STASISSTATUS', '');
    }
    c.app = app;
    this.event(app, 'StasisStart', { args, channel: this.json(c) });
  }

  /**
   * Leaves Stasis (StasisEnd); the channel's later events go to its owner only. Leaving for good
   * (`done`: hung up, or back to the dialplan; not a `move` to another app) ends the Stasis
   * application, which sets STASISSTATUS to SUCCESS.
   */
  leaveStasis(c: SimChannel, done = true): void {
    const app = c.app;
    if (!app) return;
    this.event(app, 'StasisEnd', { channel: this.json(c) });
    c.app = null;
    if (done) this.setVar(c, 'STASISSTATUS', 'SUCCESS');
    // A channel Stasis() ran from the dialplan is still at that priority; any other goes back to
    // what it was running before (an originate's outgoing line, or nothing).
    if (!c.fromDialplan)
      c.dialplan = { ...c.dialplan, ...(c.beforeStasis ?? { app_name: '', app_data: '' }) };
  }

  /**
   * Hangs a channel up with a Q.850 cause. `soft` marks a hangup asked over ARI or AMI, which
   * Asterisk reports as ChannelHangupRequest cause 32 with soft: true. The events follow
   * Asterisk's order: the request, leaving the bridge, StasisEnd, then (to an owner only)
   * ChannelDestroyed; the other half of a Local pair is hung up with the same cause.
   */
  hangup(id: string, cause: number, soft = false, requested = true): void {
    const c = this.channels.get(id);
    if (!c) return;
    for (const t of c.timers) clearTimeout(t);
    c.timers = [];
    clearTimeout(c.absoluteTimer);
    if (requested) {
      this.emit('hangup-request', c, soft ? 32 : cause, soft);
      this.event(
        this.target(c),
        'ChannelHangupRequest',
        soft ? { cause: 32, soft: true, channel: this.json(c) } : { cause, channel: this.json(c) },
      );
    }
    // Its media (playbacks, recordings) ends now, before it leaves its bridge and Stasis.
    this.emit('hanging-up', c);
    // An originate's dial that never got an answer ends with NOANSWER; a channels/dial reports
    // no final status (the cause of ChannelDestroyed tells it).
    if (c.dial?.originate) {
      this.dialEvent(c, 'NOANSWER');
      c.dial = undefined;
    }
    if (c.bridge) this.leaveBridge(c);
    const wasInStasis = c.app !== null;
    this.leaveStasis(c);
    // A dialplan channel told to hang up by its peer goes back to the dialplan, whose PBX thread
    // ends with ast_softhangup(AST_SOFTHANGUP_APPUNLOAD): a second, soft request whose `cause` is
    // that flag (16), whatever cause the hangup carries (pbx.c __ast_pbx_run).
    if (wasInStasis && c.fromDialplan && !soft)
      this.event(c.owner, 'ChannelHangupRequest', { cause: 16, soft: true, channel: this.json(c) });
    // A channel with a PBX thread of its own (it ran the dialplan: a Local `;2`, an originated
    // `;1` sent to an extension) is hung up by that thread, which first soft-hangs it up
    // (AMI SoftHangupRequest, its Cause the softhangup flag 0x10); one made by ARI has none.
    if (c.called) this.emit('pbx-softhangup', c);
    // A connected-line update queued on a channel busy in a dialplan application is read now.
    if (c.pendingCaller) {
      c.caller = c.pendingCaller;
      c.pendingCaller = undefined;
    }
    // A `;1` hanging up while its `;2` was never called (no PBX thread, no bridge: nothing takes
    // care of it) hangs that `;2` up itself, in its own hangup (core_unreal.c ast_unreal_hangup):
    // no hangup request, no cause, and `;2` is gone before `;1`.
    const uncalled = c.peer ? this.channels.get(c.peer) : undefined;
    if (
      uncalled &&
      !c.name.endsWith(';2') &&
      uncalled.name.endsWith(';2') &&
      !uncalled.called &&
      !uncalled.bridge
    ) {
      uncalled.peer = undefined;
      this.hangup(uncalled.id, 0, false, false);
    }
    this.channels.delete(id);
    // The dialplan has finished with it: no application is running when it goes.
    if (c.fromDialplan) c.dialplan = { ...c.dialplan, app_name: '', app_data: '' };
    this.event(c.owner, 'ChannelDestroyed', {
      cause,
      cause_txt: CAUSE_TXT[cause] ?? 'Unknown',
      channel: this.json(c),
    });
    this.emit('channel-destroyed', c, cause);
    // The dead snapshot is compared like any other: a caller id read only now (above) is
    // reported after the Hangup, from the same update.
    this.publish(c, true);
    this.internal.delete(c.id);
    this.fire(c.id, 'exit', true);
    // The other half goes with the same cause; a `;2` that was never called has none (0).
    const peer = c.peer ? this.channels.get(c.peer) : undefined;
    if (peer) this.hangup(peer.id, peer.name.endsWith(';2') && !peer.called ? 0 : cause);
  }

  /**
   * `TIMEOUT(absolute)=<seconds>` (func_timeout.c): the channel is hung up that long from now, by
   * Asterisk itself, whoever else is watching; 0 (or less, or not a number) cancels. Asterisk's
   * `ast_check_hangup` only raises the channel's TIMEOUT soft-hangup flag when the time comes: no
   * hangup request is published and no cause is set, so the channel leaves its bridge and Stasis
   * (ChannelLeftBridge, StasisEnd) and is destroyed with the cause it already had, usually none (0,
   * "Unknown"). A channel from the dialplan would go on at its context's `T` extension; the
   * simulator's dialplans have none, so it hangs up there.
   */
  setAbsoluteTimeout(c: SimChannel, seconds: number): void {
    clearTimeout(c.absoluteTimer);
    c.absoluteTimer = undefined;
    c.hangupAt = undefined;
    if (!(seconds > 0)) return;
    c.hangupAt = Date.now() + seconds * 1000;
    c.absoluteTimer = setTimeout(() => {
      if (this.channels.get(c.id) === c) this.hangup(c.id, c.hangupCause ?? 0, false, false);
    }, seconds * 1000);
    c.absoluteTimer.unref();
  }

  createBridge(id: string, type: string, name: string): SimBridge {
    const b: SimBridge = {
      id,
      type,
      name,
      channels: new Set(),
      creationtime: asteriskTime(new Date()),
      apps: new Set(),
      vars: new Map(),
      moh: false,
      technology: type === 'holding' ? 'holding_bridge' : 'simple_bridge',
    };
    this.bridges.set(id, b);
    this.emit('bridge-created', b);
    return b;
  }

  /**
   * Puts a channel in a bridge (leaving any other first). Two parties bridged see each other as
   * connected line, and share the oldest Linkedid.
   */
  enterBridge(c: SimChannel, b: SimBridge): void {
    if (c.bridge === b.id) return;
    if (c.bridge) this.leaveBridge(c);
    c.bridge = b.id;
    // The bridge's audio written to the channel stops its generator (tone or music) for good.
    if (c.ringback === 'inband') c.ringback = undefined;
    c.moh = false;
    b.channels.add(c.id);
    const app = this.target(c);
    if (app) b.apps.add(app);
    // Bridged channels share the oldest Linkedid of the bridge (the other half of a Local pair
    // keeps its own).
    const oldest = [...b.channels].map((id) => this.channels.get(id)?.linkedid ?? id).sort(byAge)[0]!;
    for (const id of b.channels) {
      const x = this.channels.get(id);
      if (x) x.linkedid = oldest;
    }
    this.emit('bridge-enter', c, b.id, b.channels.size);
    // Published on the bridge's topic: every app with a channel in the bridge hears it.
    this.event([this.target(c), ...this.bridgeApps(b)].filter(Boolean) as string[], 'ChannelEnteredBridge', {
      bridge: this.bridgeJson(b.id),
      channel: this.json(c),
    });
    this.reconfigured(b);
  }

  /**
   * What bridge.c does after a channel joins or leaves (bridge_reconfigured): the parties' bridge
   * variables, and, with two parties in a bridge that mixes them one to one, a connected-line
   * update each way (the second party's queued first). A holding bridge or three parties get none.
   * The technology changes first.
   */
  private reconfigured(b: SimBridge): void {
    // smart_bridge_operation: the technology the channel count needs (a mixing bridge is
    // simple_bridge for up to two channels, softmix for more).
    if (b.type !== 'holding') b.technology = b.channels.size > 2 ? 'softmix' : 'simple_bridge';
    this.bridgePeerVars(b);
    if (b.channels.size !== 2 || b.type.includes('holding')) return;
    const [x, y] = [...b.channels].map((id) => this.channels.get(id));
    if (x && y) {
      this.setConnected(y, x.caller);
      this.setConnected(x, y.caller);
    }
  }

  /**
   * BRIDGEPEER as bridge.c sets it when a bridge changes (set_bridge_peer_vars): in a holding
   * bridge unset; with two parties each names the other (first party first); with more each gets
   * the others' names, comma separated (at most ten). PJSIP channels also get BRIDGEPVTCALLID (the
   * peer's SIP Call-ID, made up here); Local channels have none, so it stays unset.
   */
  private bridgePeerVars(b: SimBridge): void {
    const members = [...b.channels].map((id) => this.channels.get(id)).filter((x) => x !== undefined);
    if (b.type.includes('holding')) {
      for (const x of members) {
        this.setVar(x, 'BRIDGEPEER', null);
        this.setVar(x, 'BRIDGEPVTCALLID', null);
      }
      return;
    }
    if (members.length < 2) return;
    const names = members.slice(0, 11).map((x) => x.name);
    members.forEach((x, i) => {
      const other = members.length === 2 ? members[1 - i]! : undefined;
      this.setVar(x, 'BRIDGEPEER', other ? other.name : names.filter((_, j) => j !== i).join(','));
      this.setVar(x, 'BRIDGEPVTCALLID', other?.name.startsWith('PJSIP/') ? `${other.id}@simulator` : null);
    });
  }

  /**
   * A connected-line update. Through a Local pair it becomes the other half's caller id (what a
   * party connected to `;2` shows as the caller of `;1`, and the other way round).
   */
  setConnected(c: SimChannel, party: { name: string; number: string }): void {
    c.connected = { ...party };
    this.publish(c);
    const peer = c.peer ? this.channels.get(c.peer) : undefined;
    if (!peer) return;
    // The update reaches the other half as a frame. A `;2` not called yet has nobody reading it
    // (local_call's crossover copies the connected line anyway). In Stasis or a bridge it is
    // applied at once; a half running a dialplan application such as Wait() does not act on it,
    // and Asterisk shows it only when that half hangs up (its Hangup carries it, its HangupRequest
    // does not, and NewCallerid follows the Hangup).
    if (peer.name.endsWith(';2') && !peer.called) return;
    if (peer.called && peer.app === null && !peer.bridge) peer.pendingCaller = { ...party };
    else {
      peer.caller = { ...party };
      this.publish(peer);
    }
  }

  /**
   * Destroys a bridge: its channels leave it (they stay up), then BridgeDestroyed. Its announcer
   * and recorder channels, kicked out, hang up, ending what they play or record.
   */
  destroyBridge(b: SimBridge): void {
    const media: SimChannel[] = [];
    for (const cid of [...b.channels]) {
      const c = this.channels.get(cid);
      if (!c) continue;
      this.leaveBridge(c, false);
      if (c.media) media.push(c);
    }
    this.bridges.delete(b.id);
    this.emit('bridge-destroyed', b);
    for (const app of b.apps) this.event(app, 'BridgeDestroyed', { bridge: this.bridgeJson2(b) });
    for (const m of media) this.hangup(m.id, 16);
  }

  /**
   * The apps subscribed to a bridge's topic: each app a channel of which entered it in Stasis. A
   * channel's hangup does not unsubscribe its app (its Stasis loop ends before noticing that the
   * bridge changed), which is why BridgeDestroyed still reaches an app whose channels are gone.
   */
  bridgeApps(b: SimBridge): string[] {
    return [...b.apps];
  }

  /**
   * Takes a channel out of its bridge (ChannelLeftBridge to it and the bridge's apps). When only
   * lonely channels are left (announcers, recorders: AST_BRIDGE_CHANNEL_FLAG_LONELY),
   * bridge_channel_dissolve_check kicks them out too, and they hang up.
   */
  leaveBridge(c: SimChannel, kickLonely = true): void {
    const b = c.bridge ? this.bridges.get(c.bridge) : undefined;
    if (b) {
      // Told to leave, the channel loses its bridge variables (bridge_channel.c), before it goes.
      this.setVar(c, 'BRIDGEPEER', null);
      this.setVar(c, 'BRIDGEPVTCALLID', null);
    }
    c.bridge = null;
    if (!b) return;
    const hearers = [this.target(c), ...this.bridgeApps(b)].filter(Boolean) as string[];
    b.channels.delete(c.id);
    this.emit('bridge-leave', c, b.id, b.channels.size);
    this.event(hearers, 'ChannelLeftBridge', { bridge: this.bridgeJson(b.id), channel: this.json(c) });
    // Those left behind are told their new peers (one left alone keeps what it had).
    this.reconfigured(b);
    if (!kickLonely || c.media || !b.channels.size) return;
    const rest = [...b.channels].map((id) => this.channels.get(id));
    if (rest.some((x) => !x?.media)) return;
    for (const m of rest) {
      if (!m || m.bridge !== b.id) continue;
      this.leaveBridge(m, false);
      this.hangup(m.id, 16);
    }
  }

  later(c: SimChannel, ms: number, f: () => void): void {
    const t = setTimeout(() => {
      c.timers = c.timers.filter((x) => x !== t);
      if (this.channels.get(c.id) === c) f();
    }, ms);
    c.timers.push(t);
  }

  /**
   * Dials a channel made with channels/create. A Local channel's `;2` half starts its dialplan and
   * its progress comes back through the pair; a PJSIP endpoint answers by its configured behaviour.
   * A dial timeout hangs the channel up with cause 19 and no final Dial event.
   */
  dial(c: SimChannel, caller: SimChannel | undefined, timeoutS: number): void {
    const peer = c.peer ? this.channels.get(c.peer) : undefined;
    if (peer) {
      // Local channels pass the caller across: `;2` calls as `;1`'s connected line.
      this.localCall(c, peer);
      this.beginDial(c, {
        dialstring: c.endpoint ?? '',
        originate: false,
        ...(caller ? { caller: caller.id } : {}),
      });
      if (timeoutS > 0) this.later(c, timeoutS * 1000, () => this.timeout(c));
      void this.runDialplan(peer, peer.dialplan.context, peer.dialplan.exten);
      return;
    }
    this.beginDial(c, {
      dialstring: c.endpoint ?? '',
      originate: false,
      ...(caller ? { caller: caller.id } : {}),
    });
    const b = this.endpoints.get(c.endpoint ?? '') ?? {};
    const result = b.result ?? 'answer';
    const after = b.answerAfterMs ?? 50;
    // Facts: "" then RINGING then ANSWER; failures have NO final Dial event, only ChannelDestroyed.
    if (result === 'unavailable') return this.later(c, 5, () => this.hangup(c.id, 3));
    this.later(c, Math.min(5, after), () => this.setState(c, 'Ringing'));
    if (timeoutS > 0) this.later(c, timeoutS * 1000, () => this.timeout(c));
    if (result === 'noanswer') return;
    this.later(c, after, () => {
      if (result === 'busy') return this.hangup(c.id, 17);
      if (result === 'congestion') return this.hangup(c.id, 34);
      this.setState(c, 'Up');
      if (b.hangupAfterMs !== undefined) this.later(c, b.hangupAfterMs, () => this.hangup(c.id, 16));
    });
  }

  /** A dial that timed out: Asterisk hangs the dialled channel up (soft) with cause 19. */
  private timeout(c: SimChannel): void {
    c.dial = undefined;
    this.hangup(c.id, 19, true);
  }
}

/** Orders uniqueids `<epoch>.<seq>` oldest first (other ids after them, as strings). */
function byAge(a: string, b: string): number {
  const x = /^(\d+)\.(\d+)$/.exec(a);
  const y = /^(\d+)\.(\d+)$/.exec(b);
  if (x && y) return Number(x[1]) - Number(y[1]) || Number(x[2]) - Number(y[2]);
  return x ? -1 : y ? 1 : a < b ? -1 : a > b ? 1 : 0;
}

/** Asterisk's timestamp format: 2026-11-23T05:30:00.123+0000 */
export function asteriskTime(d: Date): string {
  return d.toISOString().replace('Z', '+0000');
}
