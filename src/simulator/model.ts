// The simulator's model of Asterisk channels and bridges, and the ARI events each change emits,
// in Asterisk's order (ASTERISK-FACTS.md). Transport-free: ari.ts and ami.ts drive it.
import { EventEmitter } from 'node:events';

export interface EndpointBehaviour {
  result?: 'answer' | 'busy' | 'noanswer' | 'congestion' | 'unavailable';
  answerAfterMs?: number;
  hangupAfterMs?: number;
}

export interface SimChannel {
  id: string;
  name: string;
  state: 'Down' | 'Ring' | 'Ringing' | 'Up';
  caller: { name: string; number: string };
  connected: { name: string; number: string };
  dialplan: { context: string; exten: string; priority: number; app_name: string; app_data: string };
  creationtime: string;
  vars: Map<string, string>;
  app: string | null; // the Stasis app holding it
  fromDialplan: boolean; // left Stasis -> back to the dialplan (no ChannelDestroyed in the app)
  bridge: string | null;
  endpoint: string | null;
  timers: NodeJS.Timeout[];
  dialing: boolean;
  /** Uniqueid of the oldest channel of the call (AMI Linkedid); the channel's own id when unset. */
  linkedid?: string;
}

export const CAUSE_TXT: Record<number, string> = {
  0: 'Unknown',
  3: 'No route to destination',
  16: 'Normal Clearing',
  17: 'User busy',
  19: 'No user responding',
  21: 'Call Rejected',
  34: 'Circuit/channel congestion',
};

export const REASON_CAUSE: Record<string, number> = {
  normal: 16,
  busy: 17,
  congestion: 34,
  no_answer: 19,
  timeout: 19,
  rejected: 21,
  unallocated: 1,
  answered_elsewhere: 26,
};

export class SimModel extends EventEmitter {
  channels = new Map<string, SimChannel>();
  bridges = new Map<string, { id: string; type: string; channels: Set<string>; creationtime: string }>();
  endpoints = new Map<string, EndpointBehaviour>();
  /** Realtime lookup (ps_endpoints) for endpoints not configured in `endpoints`. */
  realtime: (name: string) => Promise<boolean> = async () => false;
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
    const b = this.bridges.get(id)!;
    return {
      id: b.id,
      technology: 'simple_bridge',
      bridge_type: b.type,
      bridge_class: 'stasis',
      creator: 'Stasis',
      name: '',
      channels: [...b.channels],
      creationtime: b.creationtime,
      video_mode: 'none',
    };
  }

  /** Sends an event to the app holding the channel (if any). */
  event(app: string | null, type: string, body: Record<string, unknown>): void {
    if (!app) return;
    this.emit('ari-event', app, {
      type,
      timestamp: asteriskTime(new Date()),
      ...body,
      asterisk_id: this.asteriskId,
      application: app,
    });
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
    this.channels.set(c.id, c);
    this.emit('channel-created', c);
    return c;
  }

  setState(c: SimChannel, state: SimChannel['state']): void {
    if (c.state === state) return;
    c.state = state;
    this.event(c.app, 'ChannelStateChange', { channel: this.json(c) });
    this.emit('state', c);
    if (state === 'Up') this.fire(c.id, 'up');
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

  enterStasis(c: SimChannel, app: string, args: string[]): void {
    c.app = app;
    c.dialplan = { ...c.dialplan, app_name: 'Stasis', app_data: [app, ...args].join(',') };
    this.event(app, 'StasisStart', { args, channel: this.json(c) });
  }

  /**
   * Hangs a channel up with a Q.850 cause. `soft` marks a hangup asked over ARI (DELETE), which
   * Asterisk reports as ChannelHangupRequest cause 32 with soft: true.
   */
  hangup(id: string, cause: number, soft = false): void {
    const c = this.channels.get(id);
    if (!c) return;
    for (const t of c.timers) clearTimeout(t);
    c.timers = [];
    const app = c.app;
    this.emit('hangup-request', c, soft ? 32 : cause, soft);
    this.event(
      app,
      'ChannelHangupRequest',
      soft ? { cause: 32, soft: true, channel: this.json(c) } : { cause, channel: this.json(c) },
    );
    if (c.bridge) this.leaveBridge(c);
    if (app) this.event(app, 'StasisEnd', { channel: this.json(c) });
    this.channels.delete(id);
    this.event(app, 'ChannelDestroyed', {
      cause,
      cause_txt: CAUSE_TXT[cause] ?? 'Unknown',
      channel: this.json(c),
    });
    this.emit('channel-destroyed', c, cause);
    this.fire(c.id, 'exit', true);
  }

  leaveBridge(c: SimChannel): void {
    const b = c.bridge ? this.bridges.get(c.bridge) : undefined;
    c.bridge = null;
    if (!b) return;
    b.channels.delete(c.id);
    this.emit('bridge-leave', c, b.id, b.channels.size);
    this.event(c.app, 'ChannelLeftBridge', { bridge: this.bridgeJson(b.id), channel: this.json(c) });
  }

  later(c: SimChannel, ms: number, f: () => void): void {
    const t = setTimeout(() => {
      c.timers = c.timers.filter((x) => x !== t);
      if (this.channels.get(c.id) === c) f();
    }, ms);
    c.timers.push(t);
  }

  /** Runs an outbound dial on a channel made with channels/create, by its endpoint's behaviour. */
  dial(c: SimChannel, caller: SimChannel | undefined, timeoutS: number): void {
    c.dialing = true;
    const b = this.endpoints.get(c.endpoint ?? '') ?? {};
    const result = b.result ?? 'answer';
    const dialEv = (status: string) => {
      this.event(c.app, 'Dial', {
        dialstatus: status,
        dialstring: c.endpoint ?? '',
        peer: this.json(c),
        ...(caller ? { caller: this.json(caller) } : {}),
      });
      this.emit('dial', c, caller, status);
    };
    const after = b.answerAfterMs ?? 50;
    // Facts: "" then RINGING then ANSWER; failures have NO final Dial event, only ChannelDestroyed.
    dialEv('');
    if (result === 'unavailable') return this.later(c, 5, () => this.hangup(c.id, 3));
    this.later(c, Math.min(5, after), () => {
      this.setState(c, 'Ringing');
      dialEv('RINGING');
    });
    if (timeoutS > 0) this.later(c, timeoutS * 1000, () => this.hangup(c.id, 19));
    if (result === 'noanswer') return;
    this.later(c, after, () => {
      if (result === 'busy') return this.hangup(c.id, 17);
      if (result === 'congestion') return this.hangup(c.id, 34);
      for (const t of c.timers) clearTimeout(t); // the dial timeout no longer applies
      c.timers = [];
      this.setState(c, 'Up');
      dialEv('ANSWER');
      if (b.hangupAfterMs !== undefined) this.later(c, b.hangupAfterMs, () => this.hangup(c.id, 16));
    });
  }
}

/** Asterisk's timestamp format: 2026-11-23T05:30:00.123+0000 */
export function asteriskTime(d: Date): string {
  return d.toISOString().replace('Z', '+0000');
}
