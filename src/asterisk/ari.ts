// A thin ARI client for one node: the events WebSocket and its lifecycle (reconnect with backoff,
// liveness pings, a close handshake on stop, taking our app name back), and REST requests, typed in
// resources.ts, handed to the REST side (ari-requests.ts: the HTTP, WebSocket and cleanup lanes, each
// bounded, and the node's load). Events are dispatched synchronously in arrival order (Asterisk's
// order); a throwing handler or a bad frame is logged and never stops the stream; on every
// (re)connect the live channel list is handed out for resynchronisation (ARI does not replay
// missed events).
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import { AppReclaim } from './app-reclaim.ts';
import type { AriLoad, AriOptions, AriState } from './ari-options.ts';
import { AriRequests } from './ari-requests.ts';
import type { RequestOptions } from './request.ts';
import {
  applicationsResource,
  recordingsResource,
  asteriskResource,
  bridgesResource,
  channelsResource,
  eventsResource,
} from './resources.ts';
import { backoffDelay, DEFAULT_BACKOFF } from '../platform/backoff.ts';
import { hasRestOverWebSocket } from './transport-choice.ts';
import type { RestResponseFrame } from './transport-ws.ts';
import type { AnyAriEvent, AriChannel } from './types.ts';
import { closeGracefully, WsKeepalive } from './ws-keepalive.ts';

export {
  AriDisconnectedError,
  AriError,
  AriNoAnswerError,
  AriTimeoutError,
} from './errors.ts';
export type { AriLoad, AriOptions, AriState, AriTransport } from './ari-options.ts';
export type { LoadFigures } from './limiter.ts';
export type { HangupReason } from './resources.ts';
export { hasRestOverWebSocket, mayTravelOverWebSocket } from './transport-choice.ts';

export class AriClient extends EventEmitter {
  state: AriState = 'idle';
  reconnects = 0;
  lastEventAt = 0;
  /** Events received since start (all connections). */
  eventsReceived = 0;
  /** Milliseconds between an event's `timestamp` and its arrival here (last event). */
  lastLagMs = 0;
  lastError: string | null = null;
  /** Links dropped because they went silent (no pong, no frame). */
  silentDrops = 0;
  private ws: WebSocket | null = null;
  /** Whether REST goes over the WebSocket on this connection (decided at each connect). */
  restOverWs = false;
  private attempt = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly base: string;
  /** The REST side: its lanes, limiters and counters (ari-requests.ts). */
  private readonly rest: AriRequests;
  private readonly keepalive: WsKeepalive;
  private readonly reclaim: AppReclaim;

  constructor(private opts: AriOptions) {
    super();
    this.base = opts.url.replace(/\/+$/, '').replace(/\/ari$/, '') + '/ari';
    this.rest = new AriRequests(opts, this.base, opts.timeoutMs ?? 10_000, {
      socket: () => this.ws,
      restOverWs: () => this.restOverWs,
    });
    this.keepalive = new WsKeepalive({
      intervalMs: opts.pingIntervalMs ?? 5000,
      timeoutMs: opts.pongTimeoutMs ?? 10_000,
      onSilent: (silentMs) => this.dropSilentLink(silentMs),
    });
    this.reclaim = new AppReclaim({
      probeMs: opts.reclaimProbeMs ?? 5000,
      forceAfterMs: opts.reclaimAfterMs ?? 60_000,
      log: opts.log,
      probe: (app) => this.rest.http.request('GET', `/applications/${encodeURIComponent(app)}`),
      reconnect: () => this.reopen(),
    });
  }

  get connected(): boolean {
    return this.state === 'connected';
  }

  /** Set while another WebSocket holds one of our app names (ApplicationReplaced). */
  get replaced(): boolean {
    return this.reclaim.lost.size > 0;
  }

  /** When the last pong came (0: none yet). */
  get lastPongAt(): number {
    return this.keepalive.lastPongAt;
  }

  start(): void {
    this.stopped = false;
    this.open();
  }

  /**
   * Closes the events WebSocket with a close handshake (a WebSocket just cut makes Asterisk log
   * "Web socket closed abruptly"), waiting at most closeTimeoutMs for Asterisk's answer.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.keepalive.stop();
    this.reclaim.reset();
    const ws = this.ws;
    this.ws = null;
    this.state = 'closed';
    this.restOverWs = false;
    this.rest.ws.failAll('client stopped');
    this.rest.destroy();
    if (ws) await closeGracefully(ws, this.opts.closeTimeoutMs ?? 2000);
  }

  /**
   * Generic REST call. Non-2xx answers throw AriError with Asterisk's message; no answer within
   * the bound throws AriTimeoutError, a WebSocket lost before the answer AriDisconnectedError
   * (both AriNoAnswerError: check `mayHaveHappened`).
   */
  request<T>(method: string, path: string, o: RequestOptions = {}): Promise<T> {
    return this.rest.send<T>(method, path, o, Date.now());
  }

  /** Requests in flight and queued per transport, and whether the node is overloaded. */
  load(now = Date.now()): AriLoad {
    return this.rest.load(now);
  }

  /** True when new calls should not be started on this node (see load()). */
  overloaded(): boolean {
    return this.rest.overloaded();
  }

  /** Requests sent per transport. */
  get requestsSent(): { http: number; websocket: number } {
    return this.rest.requestsSent;
  }

  /** The cleanup lane's requests sent, timed out, and sent over the events WebSocket instead (in all, and for a full lane). */
  get cleanupRequests(): { sent: number; timeouts: number; overWebSocket: number; laneFull: number } {
    return this.rest.cleanupRequests;
  }

  /** Requests that got no answer within their bound, per transport (queue time-outs included). */
  get timeouts(): { http: number; websocket: number } {
    return this.rest.timeouts;
  }

  // Typed resources (ids chosen by the caller, recorded before the request).
  private readonly req = <T>(method: string, path: string, o?: RequestOptions) =>
    this.request<T>(method, path, o);
  /** `list` is read in slices on connections of its own (AriRequests.list): it grows with the calls. */
  readonly channels = {
    ...channelsResource(this.req),
    list: () => this.rest.list<AriChannel>('/channels'),
  };
  readonly bridges = bridgesResource(this.req);
  readonly events = eventsResource(this.req);
  readonly asterisk = asteriskResource(this.req);
  readonly applications = applicationsResource(this.req);
  readonly recordings = recordingsResource(this.req);
  /**
   * Hangups and bridge destroys on the cleanup lane (RequestOptions.lane): what frees a call's
   * channels and bridge, or refuses a shed call, never waits behind the work of new calls.
   */
  readonly cleanup = (() => {
    const req = <T>(method: string, path: string, o?: RequestOptions) =>
      this.request<T>(method, path, { ...o, lane: 'cleanup' });
    const channels = channelsResource(req);
    const bridges = bridgesResource(req);
    return { hangup: channels.hangup, destroyBridge: bridges.destroy };
  })();

  /**
   * A stored recording's file, as a stream (`GET /recordings/stored/{name}/file`). Always over HTTP:
   * a file sent as one WebSocket frame would be built on Asterisk's stack and could crash it.
   */
  recordingFile(name: string, signal?: AbortSignal) {
    return this.rest.http.stream('GET', `/recordings/stored/${encodeURIComponent(name)}/file`, signal);
  }

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
      this.reclaim.reset();
      this.lastError = null;
      this.keepalive.start(ws);
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
      this.keepalive.stop();
      this.restOverWs = false;
      this.rest.ws.failAll('events WebSocket closed before the answer');
      const was = this.state;
      this.state = this.stopped ? 'closed' : 'connecting';
      if (was === 'connected') {
        this.opts.log.warn({ url: this.base }, 'ARI events WebSocket closed');
        this.emit('disconnected');
      }
      if (!this.stopped) {
        const delay = backoffDelay(this.attempt++, this.opts.backoff ?? DEFAULT_BACKOFF);
        this.timer = setTimeout(() => this.open(), delay);
      }
    });
  }

  /** Replaces the current WebSocket by a new one now (closing the old one properly). */
  private reopen(): void {
    if (this.stopped) return;
    const old = this.ws;
    this.ws = null;
    this.keepalive.stop();
    this.restOverWs = false;
    this.rest.ws.failAll('events WebSocket replaced by a new one');
    if (this.state === 'connected') this.emit('disconnected');
    if (this.timer) clearTimeout(this.timer);
    if (old) void closeGracefully(old, this.opts.closeTimeoutMs ?? 2000);
    this.open();
  }

  /** The link went silent (no pong, no frame): cut it (no handshake can pass) and reconnect. */
  private dropSilentLink(silentMs: number): void {
    const ws = this.ws;
    if (!ws) return;
    this.silentDrops++;
    this.lastError = `events WebSocket silent for ${silentMs} ms (no pong): reconnecting`;
    this.opts.log.warn({ url: this.base, silentMs }, 'ARI events WebSocket went silent; reconnecting');
    ws.terminate();
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
      const info = await this.rest.http.request<{ system?: { version?: string } }>('GET', '/asterisk/info');
      this.restOverWs = hasRestOverWebSocket(info?.system?.version ?? '');
    } catch (err) {
      this.restOverWs = false;
      this.opts.log.warn({ err: (err as Error).message }, 'ARI version unknown: REST stays on HTTP');
    }
  }

  /**
   * Lists live channels and emits `resync` with the list and the time it was asked for: a call that
   * began after that moment is missing from the list without being over, so owners must not judge it.
   * The list always travels over HTTP (it grows with the number of calls).
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
    const now = Date.now();
    this.keepalive.heard(now);
    let ev: AnyAriEvent;
    try {
      ev = JSON.parse(text) as AnyAriEvent;
      if (!ev || typeof ev.type !== 'string') throw new Error('no type');
    } catch {
      this.opts.log.warn({ frame: text.slice(0, 200) }, 'ignoring a non-JSON ARI frame');
      return;
    }
    if (ev.type === 'RESTResponse') {
      this.rest.ws.settle(ev as unknown as RestResponseFrame);
      return;
    }
    this.lastEventAt = now;
    this.eventsReceived++;
    const t = Date.parse(ev.timestamp);
    if (Number.isFinite(t)) this.lastLagMs = Math.max(0, now - t);
    if (ev.type === 'ApplicationReplaced') {
      this.reclaim.replaced(ev.application);
      this.opts.log.error(
        { app: ev.application },
        'another connection took our Stasis app over; taking it back once it is free',
      );
    }
    try {
      this.emit('event', ev);
    } catch (err) {
      this.opts.log.error({ err, type: ev.type }, 'ARI event handler threw');
    }
  }
}
