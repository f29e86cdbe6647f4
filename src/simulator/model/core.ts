// The core of the simulator's model: its state (channels, bridges, endpoints, globals), the ARI
// events it sends and to whom, the snapshot monitors (publish), channel variables, and the
// per-channel waiters and timers. Bridges (bridges.ts) and the channels' life (../model.ts) build on it.
import { EventEmitter } from 'node:events';
import { DeviceIndex, deviceOf } from '../devices.ts';
import { PjsipDirectory } from '../pjsip/directory.ts';
import {
  asteriskNow,
  type EndpointBehaviour,
  presentation,
  published,
  type SimBridge,
  type SimChannel,
  sameParty,
  unchanged,
} from './types.ts';

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
  'dtmf-frame',
  'moh',
]);

/** ARI events whose own fields come before `type` and `timestamp` (see SimModel.event). */
const BLOB_FIRST = new Set([
  'ChannelHangupRequest',
  'ChannelVarset',
  'ChannelTalkingStarted',
  'ChannelTalkingFinished',
  'ChannelToneDetected',
]);

export class SimModelCore extends EventEmitter {
  channels = new Map<string, SimChannel>();
  /** The live channels of each device (AMI DeviceStateChange, ARI DeviceStateChanged). */
  readonly devices = new DeviceIndex();
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
  /** Whether the dialplan has the extension at that priority (ast_exists_extension; set by the simulator). */
  extensionExists: (context: string, exten: string, priority: number) => boolean = () => true;
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
  protected internal = new Set<string>();

  /** Drops the channel reports of internal channels (see CHANNEL_REPORTS). */
  override emit(name: string | symbol, ...args: unknown[]): boolean {
    if (typeof name === 'string' && CHANNEL_REPORTS.has(name) && (args[0] as SimChannel | undefined)?.media)
      return false;
    return super.emit(name, ...args);
  }

  /** A device's state now (devices.ts), its PJSIP endpoint's reachability included. */
  deviceState(device: string): string {
    return this.devices.stateOf(device, this.channels, (name) => this.pjsip.isOnline(name));
  }

  /**
   * A channel's device may have changed state (after each state change and each destruction of
   * one of its channels, as ast_setstate and ast_channel_destructor publish it): `device-state`.
   * Internal channels publish none.
   */
  protected deviceChanged(c: SimChannel): void {
    if (!c.media) this.emit('device-state', deviceOf(c));
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
      accountcode: c.accountcode ?? '',
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
      bridge_class: b.basic ? 'basic' : 'stasis',
      creator: b.basic ? '' : 'Stasis',
      name: b.name,
      // The app sanitizer leaves internal channels out of a bridge's list.
      channels: [...b.channels].filter((id) => !this.internal.has(id)),
      creationtime: b.creationtime,
      video_mode: b.basic ? 'none' : b.videoMode,
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
  /** Whether any app subscribed to anything (set by ARI): if not, `subscribers` is always empty. */
  subscribed: () => boolean = () => false;

  /**
   * Sends an event to an app or apps (if any) and to the apps subscribed to what it is about. The
   * body may come as a function, called (at once) only when some app can hear the event: many of a
   * call's channel events go to nobody (a caller's Local `;1`, which no app holds), and a channel's
   * JSON is the larger part of their cost.
   */
  event(
    app: string | string[] | null | undefined,
    type: string,
    body: Record<string, unknown> | (() => Record<string, unknown>),
  ): void {
    const first = app ? (Array.isArray(app) ? app : [app]) : [];
    if (!first.length && !this.subscribed()) return;
    const made = typeof body === 'function' ? body() : body;
    // Stasis's sanitizer drops any event whose channel is internal (a bridge's media channel).
    const about = (made.channel as { id?: string } | undefined)?.id;
    if (about && this.internal.has(about)) return;
    const also = this.subscribers(type, made);
    if (!first.length && !also.length) return;
    const timestamp = asteriskNow();
    const hearers =
      first.length + also.length > 1 ? new Set([...first, ...also]) : first.length ? first : also;
    for (const to of hearers) {
      // Events Asterisk builds from a channel blob (stasis_channels.c channel_blob_to_json) copy the
      // blob first and add type and timestamp after it; the others start with type and timestamp.
      if (BLOB_FIRST.has(type)) {
        const { channel, ...blob } = made;
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
          ...made,
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
    const was = c.published;
    // Most calls change nothing that is reported: compared in place, nothing is allocated.
    if (was && unchanged(was, c)) return;
    const now = published(c);
    c.published = now;
    if (!was) return;
    const dialplan =
      now.appl !== '' &&
      ((was.appl === '' && now.appl !== '') ||
        was.priority !== now.priority ||
        was.context !== now.context ||
        was.exten !== now.exten);
    const caller = !sameParty(was.caller, now.caller);
    const account = was.accountcode !== now.accountcode;
    const connected = !sameParty(was.connected, now.connected);
    if (!dialplan && !caller && !account && !connected) return;
    if (dialplan && !dead) this.emit('newexten', c);
    if (caller) this.emit('callerid', c);
    // AMI only: ARI has no event for a new account code.
    if (account) this.emit('accountcode', c, was.accountcode);
    if (connected) this.emit('connectedline', c);
    const app = this.target(c);
    if (dialplan)
      this.event(app, 'ChannelDialplan', () => ({
        dialplan_app: c.dialplan.app_name,
        dialplan_app_data: c.dialplan.app_data,
        channel: this.json(c),
      }));
    if (caller) {
      const [pres, txt] = presentation(c);
      this.event(app, 'ChannelCallerId', () => ({
        caller_presentation: pres,
        caller_presentation_txt: txt,
        channel: this.json(c),
      }));
    }
    if (connected) this.event(app, 'ChannelConnectedLine', () => ({ channel: this.json(c) }));
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
    this.event(this.target(c), 'ChannelVarset', () => ({ variable: name, value: v, channel: this.json(c) }));
  }

  /** A global variable set (AMI VarSet naming no channel; ARI apps hear none). */
  setGlobal(name: string, value: string): void {
    this.globals.set(name, value);
    this.emit('varset', null, name, value);
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

  later(c: SimChannel, ms: number, f: () => void): void {
    const t = setTimeout(() => {
      c.timers = c.timers.filter((x) => x !== t);
      if (this.channels.get(c.id) === c) f();
    }, ms);
    c.timers.push(t);
  }
}
