// A thin AMI client over net.Socket: ActionID correlation, per-action timeouts, EventList
// collection, prompt rejection of everything in flight when the link drops, reconnect with
// backoff + re-login, and refusal of CR/LF in any value (AMI has no escaping: a CR/LF in a
// caller ID would inject a second action).
import { EventEmitter } from 'node:events';
import { Socket } from 'node:net';
import { StringDecoder } from 'node:string_decoder';
import type { Logger } from '../platform/logger.ts';
import { type BackoffPolicy, backoffDelay, DEFAULT_BACKOFF } from '../platform/backoff.ts';

/** One AMI packet. Keys are lower-cased (AMI header names are case-insensitive). */
export interface AmiMessage {
  fields: Record<string, string>;
  /** Repeated keys (e.g. `Output:` lines of Command) in order. */
  multi: Record<string, string[]>;
}

export interface AmiEvent extends AmiMessage {
  event: string;
}

export interface AmiResult {
  response: AmiMessage;
  /** Events of a list action, between `EventList: start` and `EventList: Complete`. */
  events: AmiEvent[];
}

export class AmiValueError extends Error {
  constructor(key: string) {
    super(`AMI value for "${key}" contains CR or LF; refusing to send it`);
    this.name = 'AmiValueError';
  }
}
export class AmiActionError extends Error {
  constructor(
    readonly action: string,
    readonly response: AmiMessage,
  ) {
    super(`AMI ${action} failed: ${response.fields.message ?? 'error'}`);
    this.name = 'AmiActionError';
  }
}
export class AmiDisconnectedError extends Error {
  constructor(action: string) {
    super(`AMI link dropped before ${action} completed`);
    this.name = 'AmiDisconnectedError';
  }
}
export class AmiTimeoutError extends Error {
  constructor(action: string, ms: number) {
    super(`AMI ${action} got no response within ${ms} ms`);
    this.name = 'AmiTimeoutError';
  }
}

export interface AmiOptions {
  host: string;
  port: number;
  user: string;
  secret: string;
  log: Logger;
  timeoutMs?: number;
  pingIntervalMs?: number;
  backoff?: BackoffPolicy;
  /**
   * The event names wanted, asked for again after every login: null (or no option) takes every
   * event; [] turns events off (`Events: off`); a list sets a session `Filter` so Asterisk sends
   * only those. Responses to actions, list items included, are never filtered.
   */
  eventNames?: () => string[] | null;
}

/**
 * The session filter that lets through only events named in `names` (Asterisk's legacy form, a
 * POSIX regex over the whole event text, understood by every Asterisk since 10). The `Event:` line
 * is matched at the start of the text or of a line, so neither `HangupRequest` nor a `UserEvent:`
 * header gets through.
 */
export function amiEventFilter(names: string[]): string {
  for (const n of names) if (!/^[A-Za-z0-9_]+$/.test(n)) throw new Error(`not an AMI event name: ${n}`);
  return `(^|[[:space:]])Event: (${names.join('|')})[[:space:]]`;
}

interface Pending {
  action: string;
  resolve(r: AmiResult): void;
  reject(e: Error): void;
  response?: AmiMessage;
  events: AmiEvent[];
  timer: NodeJS.Timeout;
}

/** Serialises one action; throws AmiValueError before anything is written. */
export function encodeAction(
  action: string,
  id: string,
  fields: Record<string, string | number | undefined>,
): string {
  const lines = [`Action: ${action}`, `ActionID: ${id}`];
  for (const [k, v] of [['Action', action] as const, ...Object.entries(fields)]) {
    if (v === undefined) continue;
    const s = String(v);
    if (/[\r\n]/.test(k) || /[\r\n]/.test(s)) throw new AmiValueError(k);
    if (k !== 'Action') lines.push(`${k}: ${s}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** Splits a stream of AMI text into packets; keeps the partial tail. */
export class AmiParser {
  private buf = '';
  private decoder = new StringDecoder('utf8');
  greeting: string | null = null;

  push(chunk: Buffer): AmiMessage[] {
    this.buf += this.decoder.write(chunk);
    if (this.greeting === null) {
      const nl = this.buf.indexOf('\n');
      if (nl < 0) return [];
      this.greeting = this.buf.slice(0, nl).replace(/\r$/, '');
      this.buf = this.buf.slice(nl + 1);
    }
    const out: AmiMessage[] = [];
    for (;;) {
      const m = /\r?\n\r?\n/.exec(this.buf);
      if (!m) break;
      const block = this.buf.slice(0, m.index);
      this.buf = this.buf.slice(m.index + m[0].length);
      if (block.trim()) out.push(parseBlock(block));
    }
    return out;
  }
}

function parseBlock(block: string): AmiMessage {
  const fields: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const line of block.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const k = line.slice(0, i).trim().toLowerCase();
    const v = line.slice(i + 1).replace(/^ /, '');
    const list = multi[k] ?? [];
    list.push(v);
    multi[k] = list;
    if (!(k in fields)) fields[k] = v;
  }
  return { fields, multi };
}

export type AmiState = 'idle' | 'connecting' | 'connected' | 'closed';

export class AmiClient extends EventEmitter {
  state: AmiState = 'idle';
  reconnects = 0;
  lastEventAt = 0;
  /** Events received since start (all connections). */
  eventsReceived = 0;
  lastError: string | null = null;
  private socket: Socket | null = null;
  private pending = new Map<string, Pending>();
  private seq = 0;
  private readonly idPrefix = `cc${process.pid.toString(36)}${Date.now().toString(36)}-`;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private pingTimer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(private opts: AmiOptions) {
    super();
  }

  get connected(): boolean {
    return this.state === 'connected';
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    if (this.pingTimer) clearInterval(this.pingTimer);
    const s = this.socket;
    if (s && this.state === 'connected') {
      await this.send('Logoff', {}, { timeoutMs: 1000 }).catch(() => {});
    }
    s?.destroy();
    this.state = 'closed';
  }

  /** Sends an action and resolves with its response (and list events); rejects on `Response: Error`. */
  async action(
    action: string,
    fields: Record<string, string | number | undefined> = {},
    o: { timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<AmiResult> {
    if (this.state !== 'connected') throw new AmiDisconnectedError(action);
    return this.send(action, fields, o);
  }

  private send(
    action: string,
    fields: Record<string, string | number | undefined>,
    o: { timeoutMs?: number; signal?: AbortSignal },
  ): Promise<AmiResult> {
    const id = this.idPrefix + ++this.seq;
    const wire = encodeAction(action, id, fields); // throws before anything is written
    const socket = this.socket;
    if (!socket) return Promise.reject(new AmiDisconnectedError(action));
    const ms = o.timeoutMs ?? this.opts.timeoutMs ?? 10_000;
    return new Promise<AmiResult>((resolve, reject) => {
      const done = () => {
        clearTimeout(p.timer);
        this.pending.delete(id);
        o.signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = () => {
        done();
        reject(o.signal?.reason instanceof Error ? o.signal.reason : new Error(`AMI ${action} aborted`));
      };
      const p: Pending = {
        action,
        events: [],
        resolve: (r) => {
          done();
          resolve(r);
        },
        reject: (e) => {
          done();
          reject(e);
        },
        timer: setTimeout(() => p.reject(new AmiTimeoutError(action, ms)), ms),
      };
      if (o.signal?.aborted) return onAbort();
      o.signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, p);
      socket.write(wire);
    });
  }

  private connect(): void {
    if (this.stopped) return;
    this.state = 'connecting';
    const s = new Socket();
    this.socket = s;
    const parser = new AmiParser();
    let loggedIn = false;
    s.setNoDelay(true);
    s.on('data', (chunk: Buffer) => {
      const hadGreeting = parser.greeting !== null;
      const msgs = parser.push(chunk);
      if (!hadGreeting && parser.greeting !== null) {
        if (!/^Asterisk Call Manager\//.test(parser.greeting)) {
          this.lastError = `unexpected AMI greeting: ${parser.greeting.slice(0, 80)}`;
          s.destroy();
          return;
        }
        void this.login(s).then(
          () => {
            loggedIn = true;
          },
          (e: Error) => {
            this.lastError = e.message;
            this.opts.log.error(
              { host: this.opts.host, port: this.opts.port, err: e.message },
              'AMI login failed',
            );
            s.destroy();
          },
        );
      }
      for (const m of msgs) this.dispatch(m);
    });
    s.on('error', (e) => {
      this.lastError = e.message;
    });
    s.on('close', () => {
      if (this.socket !== s) return;
      this.socket = null;
      this.eventFilter = null;
      if (this.pingTimer) clearInterval(this.pingTimer);
      const was = this.state;
      this.state = this.stopped ? 'closed' : 'connecting';
      for (const p of [...this.pending.values()]) p.reject(new AmiDisconnectedError(p.action));
      if (was === 'connected') {
        this.opts.log.warn({ host: this.opts.host, port: this.opts.port }, 'AMI disconnected');
        this.emit('disconnected');
      }
      if (!this.stopped) {
        // A refused login is a configuration problem: retry slowly rather than hammer the server.
        const base = backoffDelay(this.attempt++, this.opts.backoff ?? DEFAULT_BACKOFF);
        const delay = loggedIn || !/auth/i.test(this.lastError ?? '') ? base : Math.max(5000, base);
        this.reconnectTimer = setTimeout(() => this.connect(), delay);
      }
    });
    s.connect(this.opts.port, this.opts.host);
  }

  /**
   * Asks the node for only the events some module handles. A real Asterisk sends dozens of events a
   * call (Newchannel, Newstate, Newexten, VarSet, Dial*, Bridge*, Hangup...) to an unfiltered
   * session, each parsed here for nothing. When a filter is wanted the login asked for no events
   * (`Events: off`: no FullyBooted, no security events, nothing of a busy node's traffic before the
   * filter is in place); the filter is set, then events are turned on. The `Filter` action needs
   * the `system` permission: a node that refuses it is asked for every event, which still works.
   */
  private applyEventFilter(names: string[] | null): void {
    if (names === null || names.length === 0) {
      this.eventFilter = names ? 'off' : null;
      return;
    }
    // Both written at once, before the login is announced: Asterisk runs a session's actions in
    // order, so any action sent after `connected` finds the filter set and events on.
    const refused = (err: Error) => {
      this.eventFilter = null;
      this.opts.log.info(
        { err: err.message },
        'AMI event filter not set (the manager user needs the system permission): every event arrives',
      );
    };
    let filter: string;
    try {
      filter = amiEventFilter(names);
    } catch (err) {
      filter = '';
      refused(err as Error); // a name that is not an event name: a bug, but events still flow
    }
    if (filter)
      this.send('Filter', { Operation: 'Add', Filter: filter }, {}).then(() => {
        this.eventFilter = names.join(',');
      }, refused);
    this.send('Events', { EventMask: 'on' }, {}).catch(() => {});
  }

  /** What the node was asked to send on this connection: event names, 'off', or null for all. */
  eventFilter: string | null = null;

  private async login(s: Socket): Promise<void> {
    // With a filter to set, no events until it is set (see applyEventFilter); none wanted, none ever.
    const names = this.opts.eventNames?.() ?? null;
    const r = await this.send(
      'Login',
      { Username: this.opts.user, Secret: this.opts.secret, ...(names ? { Events: 'off' } : {}) },
      { timeoutMs: 5000 },
    );
    if (this.socket !== s) return;
    if (r.response.fields.response?.toLowerCase() !== 'success')
      throw new Error(r.response.fields.message ?? 'login refused');
    if (this.attempt > 0) this.reconnects++;
    this.attempt = 0;
    this.state = 'connected';
    this.lastError = null;
    this.opts.log.info({ host: this.opts.host, port: this.opts.port }, 'AMI connected');
    this.applyEventFilter(names);
    const every = this.opts.pingIntervalMs ?? 20_000;
    this.pingTimer = setInterval(() => {
      this.send('Ping', {}, { timeoutMs: Math.min(every, 10_000) }).catch(() => s.destroy());
    }, every);
    this.pingTimer.unref();
    this.emit('connected');
  }

  private dispatch(m: AmiMessage): void {
    const id = m.fields.actionid;
    const p = id ? this.pending.get(id) : undefined;
    // An event can carry a Response field too (OriginateResponse: `Response: Failure`): only a
    // message without Event is an action's response.
    if (m.fields.response !== undefined && m.fields.event === undefined) {
      if (!p) return;
      if (m.fields.response.toLowerCase() === 'error') p.reject(new AmiActionError(p.action, m));
      // A list action: wait for the items and `EventList: Complete`.
      else if (m.fields.eventlist?.toLowerCase() === 'start') p.response = m;
      else p.resolve({ response: m, events: [] });
      return;
    }
    if (m.fields.event === undefined) return;
    const ev: AmiEvent = { ...m, event: m.fields.event };
    if (p?.response) {
      if (m.fields.eventlist?.toLowerCase() === 'complete')
        p.resolve({ response: p.response, events: p.events });
      else p.events.push(ev);
      return;
    }
    this.lastEventAt = Date.now();
    this.eventsReceived++;
    try {
      this.emit('event', ev);
    } catch (err) {
      // A faulty listener must not stop the stream of later events.
      this.opts.log.error({ err, event: ev.event }, 'AMI event handler threw');
    }
  }
}
