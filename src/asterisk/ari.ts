// A thin ARI client: the events WebSocket of one node and its lifecycle; REST requests travel by
// transport-http.ts or transport-ws.ts, typed in resources.ts. Events are dispatched
// synchronously in arrival order (Asterisk's order); a throwing handler or a bad frame is logged and
// never stops the stream; the socket reconnects forever with backoff and, on every (re)connect, the
// live channel list is handed out for resynchronisation (ARI does not replay missed events).
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import type { Logger } from '../logger.ts';
import type { RequestOptions } from './request.ts';
import {
  applicationsResource,
  asteriskResource,
  bridgesResource,
  channelsResource,
  eventsResource,
} from './resources.ts';
import { type BackoffPolicy, backoffDelay, DEFAULT_BACKOFF } from '../platform/backoff.ts';
import { hasRestOverWebSocket } from './transport-choice.ts';
import { HttpTransport } from './transport-http.ts';
import { type RestResponseFrame, WsTransport } from './transport-ws.ts';
import type { AnyAriEvent } from './types.ts';

export { AriError } from './errors.ts';
export type { HangupReason } from './resources.ts';
export { hasRestOverWebSocket } from './transport-choice.ts';

export interface AriOptions {
  /** Base URL of Asterisk's HTTP server, e.g. http://127.0.0.1:8088 (with or without /ari). */
  url: string;
  user: string;
  password: string;
  apps: string[];
  log: Logger;
  subscribeAll?: boolean;
  timeoutMs?: number;
  backoff?: BackoffPolicy;
  /**
   * How REST requests travel: `http`, `websocket` (ARI REST over WebSocket, Asterisk 20.13+/21.8+/
   * 22.3+), or `auto` (the default): websocket when the node's version has it, else http. HTTP is
   * used whenever the events WebSocket is down.
   */
  transport?: AriTransport;
  /**
   * Event types the apps do not want (ARI `PUT /applications/{app}/eventFilter`, set again at every
   * connect): Asterisk then neither builds nor sends them. Read at connect time.
   */
  disallowedEvents?: () => string[];
}

export type AriTransport = 'auto' | 'http' | 'websocket';

export type AriState = 'idle' | 'connecting' | 'connected' | 'closed';

export class AriClient extends EventEmitter {
  state: AriState = 'idle';
  reconnects = 0;
  lastEventAt = 0;
  /** Events received since start (all connections). */
  eventsReceived = 0;
  /** Milliseconds between an event's `timestamp` and its arrival here (last event). */
  lastLagMs = 0;
  lastError: string | null = null;
  /** Set when another WebSocket took our app name over (ApplicationReplaced). */
  replaced = false;
  private ws: WebSocket | null = null;
  /** Whether REST goes over the WebSocket on this connection (decided at each connect). */
  restOverWs = false;
  private attempt = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly base: string;
  private readonly httpTransport: HttpTransport;
  private readonly wsTransport: WsTransport;

  constructor(private opts: AriOptions) {
    super();
    this.base = opts.url.replace(/\/+$/, '').replace(/\/ari$/, '') + '/ari';
    const timeoutMs = opts.timeoutMs ?? 10_000;
    this.httpTransport = new HttpTransport({
      base: this.base,
      user: opts.user,
      password: opts.password,
      timeoutMs,
    });
    this.wsTransport = new WsTransport({ timeoutMs });
  }

  get connected(): boolean {
    return this.state === 'connected';
  }

  start(): void {
    this.stopped = false;
    this.open();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    const ws = this.ws;
    this.ws = null;
    this.state = 'closed';
    this.restOverWs = false;
    this.wsTransport.failAll('client stopped');
    this.httpTransport.destroy();
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((r) => {
        ws.once('close', () => r());
        ws.terminate();
      });
    }
  }

  /** Generic REST call. Non-2xx answers throw AriError with Asterisk's message. */
  request<T>(method: string, path: string, o: RequestOptions = {}): Promise<T> {
    const ws = this.ws;
    if (this.restOverWs && ws && ws.readyState === WebSocket.OPEN)
      return this.wsTransport.request<T>(ws, method, path, o);
    return this.httpTransport.request<T>(method, path, o);
  }

  // Typed resources (ids chosen by the caller, recorded before the request).
  private readonly req = <T>(method: string, path: string, o?: RequestOptions) =>
    this.request<T>(method, path, o);
  readonly channels = channelsResource(this.req);
  readonly bridges = bridgesResource(this.req);
  readonly events = eventsResource(this.req);
  readonly asterisk = asteriskResource(this.req);
  readonly applications = applicationsResource(this.req);

  private open(): void {
    if (this.stopped) return;
    this.state = 'connecting';
    const u = new URL(this.base.replace(/^http/, 'ws') + '/events');
    u.searchParams.set('app', this.opts.apps.join(','));
    u.searchParams.set('api_key', `${this.opts.user}:${this.opts.password}`);
    if (this.opts.subscribeAll) u.searchParams.set('subscribeAll', 'true');
    const ws = new WebSocket(u, { handshakeTimeout: 5000, perMessageDeflate: false });
    this.ws = ws;
    ws.on('unexpected-response', (_req, res) => {
      this.lastError = `events WebSocket refused: HTTP ${res.statusCode}`;
      if (res.statusCode === 401)
        this.opts.log.error(
          { url: this.base },
          'ARI refused our credentials (401): check ASTERISK_ARI_USER/PASSWORD',
        );
      ws.terminate();
    });
    ws.on('error', (e) => {
      this.lastError = e.message;
    });
    ws.on('open', () => {
      if (this.attempt > 0 || this.reconnects > 0 || this.lastEventAt > 0) this.reconnects++;
      this.attempt = 0;
      this.replaced = false;
      this.lastError = null;
      // Connected (and ready) only once the REST transport is settled and the resync is under way.
      void this.chooseTransport().then(() => {
        if (this.ws !== ws) return;
        // In the background: a node slow to answer must not hold up the connection (until it is
        // set, the unwanted events simply still arrive).
        void this.applyEventFilter();
        this.state = 'connected';
        this.opts.log.info(
          { url: this.base, apps: this.opts.apps, rest: this.restOverWs ? 'websocket' : 'http' },
          'ARI connected',
        );
        this.emit('connected');
        void this.resync();
      });
    });
    ws.on('message', (data) => this.onFrame(data.toString()));
    ws.on('close', () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.restOverWs = false;
      this.wsTransport.failAll('events WebSocket closed before the answer');
      const was = this.state;
      this.state = this.stopped ? 'closed' : 'connecting';
      if (was === 'connected') {
        this.opts.log.warn({ url: this.base }, 'ARI events WebSocket closed');
        this.emit('disconnected');
      }
      if (!this.stopped) {
        let delay = backoffDelay(this.attempt++, this.opts.backoff ?? DEFAULT_BACKOFF);
        // Someone else holds our app name: do not fight for it in a tight loop.
        if (this.replaced) delay = Math.max(delay, 5000);
        this.timer = setTimeout(() => this.open(), delay);
      }
    });
  }

  /**
   * Sets each app's event filter (disallowed types only: an allowed list would also hide types this
   * code does not know of). A node that refuses it (older than Asterisk 13.26/16.3) still works:
   * the unwanted events arrive and are ignored.
   */
  private async applyEventFilter(): Promise<void> {
    const types = this.opts.disallowedEvents?.() ?? [];
    if (!types.length) return;
    for (const app of this.opts.apps) {
      try {
        await this.applications.setDisallowedEvents(app, types);
      } catch (err) {
        this.opts.log.warn(
          { app, err: (err as Error).message },
          'ARI event filter not set: all events arrive',
        );
      }
    }
  }

  /** Decides, per connection, whether REST goes over the WebSocket (see AriOptions.transport). */
  private async chooseTransport(): Promise<void> {
    const t = this.opts.transport ?? 'auto';
    if (t !== 'auto') {
      this.restOverWs = t === 'websocket';
      return;
    }
    try {
      const info = await this.httpTransport.request<{ system?: { version?: string } }>(
        'GET',
        '/asterisk/info',
      );
      this.restOverWs = hasRestOverWebSocket(info?.system?.version ?? '');
    } catch (err) {
      this.restOverWs = false;
      this.opts.log.warn({ err: (err as Error).message }, 'ARI version unknown: REST stays on HTTP');
    }
  }

  /**
   * Lists live channels and emits `resync` with the list and the time it was asked for: a call that
   * began after that moment is missing from the list without being over, so owners must not judge it.
   */
  async resync(): Promise<void> {
    try {
      const listedAt = Date.now();
      const channels = await this.channels.list();
      this.emit('resync', channels, listedAt);
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, 'ARI resync failed');
    }
  }

  private onFrame(text: string): void {
    let ev: AnyAriEvent;
    try {
      ev = JSON.parse(text) as AnyAriEvent;
      if (!ev || typeof ev.type !== 'string') throw new Error('no type');
    } catch {
      this.opts.log.warn({ frame: text.slice(0, 200) }, 'ignoring a non-JSON ARI frame');
      return;
    }
    if (ev.type === 'RESTResponse') {
      this.wsTransport.settle(ev as unknown as RestResponseFrame);
      return;
    }
    const now = Date.now();
    this.lastEventAt = now;
    this.eventsReceived++;
    const t = Date.parse(ev.timestamp);
    if (Number.isFinite(t)) this.lastLagMs = Math.max(0, now - t);
    if (ev.type === 'ApplicationReplaced') {
      this.replaced = true;
      this.opts.log.error(
        { app: ev.application },
        'another connection took our Stasis app over; backing off',
      );
    }
    try {
      this.emit('event', ev);
    } catch (err) {
      this.opts.log.error({ err, type: ev.type }, 'ARI event handler threw');
    }
  }
}
