// A thin ARI client: REST over fetch, events over one WebSocket per node. Events are dispatched
// synchronously in arrival order (Asterisk's order); a throwing handler or a bad frame is logged and
// never stops the stream; the socket reconnects forever with backoff and, on every (re)connect, the
// live channel list is handed out for resynchronisation (ARI does not replay missed events).
import { EventEmitter } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import type { Writable } from 'node:stream';
import WebSocket from 'ws';
import type { Logger } from '../logger.ts';
import { corkUntilTurnEnds } from '../net/cork.ts';
import { type BackoffPolicy, backoffDelay, DEFAULT_BACKOFF } from './retry.ts';
import type { AnyAriEvent, AriBridge, AriChannel } from './types.ts';

export class AriError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: unknown,
    readonly method: string,
    readonly path: string,
  ) {
    super(`ARI ${method} ${path} -> ${status}: ${message}`);
    this.name = 'AriError';
  }
}

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

/** True for Asterisk versions that accept RESTRequest frames on the events WebSocket. */
export function hasRestOverWebSocket(version: string): boolean {
  const m = /^(\d+)\.(\d+)/.exec(version);
  if (!m) return false;
  const major = Number(m[1]);
  const minor = Number(m[2]);
  if (major >= 23) return true;
  const since: Record<number, number> = { 20: 13, 21: 8, 22: 3 };
  return since[major] !== undefined && minor >= since[major]!;
}

type Query = Record<string, string | number | boolean | undefined>;
export type HangupReason =
  | 'normal'
  | 'busy'
  | 'congestion'
  | 'no_answer'
  | 'timeout'
  | 'rejected'
  | 'unallocated'
  | 'answered_elsewhere';

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
  /** REST requests sent over the events WebSocket, by request_id, until their RESTResponse. */
  private inflight = new Map<
    string,
    {
      resolve: (v: unknown) => void;
      reject: (e: Error) => void;
      method: string;
      path: string;
      timer: NodeJS.Timeout;
    }
  >();
  private requestSeq = 0;
  /** Whether REST goes over the WebSocket on this connection (decided at each connect). */
  restOverWs = false;
  private attempt = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly base: string;
  private readonly auth: string;
  private readonly target: { hostname: string; port: string; path: string };
  private readonly http: typeof http | typeof https;
  private readonly agent: http.Agent;

  constructor(private opts: AriOptions) {
    super();
    this.base = opts.url.replace(/\/+$/, '').replace(/\/ari$/, '') + '/ari';
    this.auth = 'Basic ' + Buffer.from(`${opts.user}:${opts.password}`).toString('base64');
    const u = new URL(this.base);
    this.target = { hostname: u.hostname.replace(/^\[|\]$/g, ''), port: u.port, path: u.pathname };
    this.http = u.protocol === 'https:' ? https : http;
    // Asterisk's HTTP server keeps connections alive; a bounded pool keeps file descriptors (which a
    // busy Asterisk runs short of) in check while requests queue briefly at peaks.
    this.agent = new this.http.Agent({ keepAlive: true, maxSockets: 64 });
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
    this.failInflight('client stopped');
    this.agent.destroy();
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((r) => {
        ws.once('close', () => r());
        ws.terminate();
      });
    }
  }

  /**
   * Generic REST call. Non-2xx answers throw AriError with Asterisk's message.
   * node:http with a keep-alive agent rather than fetch: a call costs about eight REST requests,
   * and on Node 20 fetch spends two to three times as long per request (against the simulator on
   * loopback: ~1.2 ms vs ~0.5 ms sequentially), which is routing latency.
   */
  request<T>(
    method: string,
    path: string,
    o: { query?: Query; body?: unknown; signal?: AbortSignal } = {},
  ): Promise<T> {
    const ws = this.ws;
    if (this.restOverWs && ws && ws.readyState === WebSocket.OPEN)
      return this.wsRequest<T>(ws, method, path, o);
    return this.httpRequest<T>(method, path, o);
  }

  private httpRequest<T>(
    method: string,
    path: string,
    o: { query?: Query; body?: unknown; signal?: AbortSignal } = {},
  ): Promise<T> {
    let qs = '';
    for (const [k, v] of Object.entries(o.query ?? {}))
      if (v !== undefined) qs += `${qs ? '&' : '?'}${enc(k)}=${enc(String(v))}`;
    const payload = o.body !== undefined ? JSON.stringify(o.body) : null;
    const headers: http.OutgoingHttpHeaders = { authorization: this.auth };
    if (payload !== null) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(payload);
    }
    return new Promise<T>((resolve, reject) => {
      const req = this.http.request(
        {
          host: this.target.hostname,
          port: this.target.port,
          path: this.target.path + path + qs,
          method,
          headers,
          agent: this.agent,
          ...(o.signal ? { signal: o.signal } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let body: unknown = text;
            if (text && (res.headers['content-type'] ?? '').includes('json')) {
              try {
                body = JSON.parse(text);
              } catch {
                body = text;
              }
            }
            const status = res.statusCode ?? 0;
            if (status < 200 || status > 299) {
              const b = body as { message?: string; error?: string } | string;
              const fallback = res.statusMessage ?? '';
              const msg =
                typeof b === 'object' && b ? (b.message ?? b.error ?? fallback) : String(b || fallback);
              reject(new AriError(status, msg, body, method, path));
            } else resolve((text ? body : undefined) as T);
          });
        },
      );
      // A plain timer rather than AbortSignal.timeout(): one per request, and the signal machinery
      // showed up in profiles of the routing hot path.
      const ms = this.opts.timeoutMs ?? 10_000;
      const timer = o.signal
        ? null
        : setTimeout(() => req.destroy(new Error(`ARI ${method} ${path} timed out after ${ms} ms`)), ms);
      req.on('close', () => {
        if (timer) clearTimeout(timer);
      });
      req.on('error', reject);
      req.end(payload ?? undefined);
    });
  }

  /**
   * ARI REST over WebSocket: one RESTRequest frame, settled by the RESTResponse with the same
   * request_id. No HTTP parsing on either side, which is most of a REST call's cost; the answers
   * come on the same ordered stream as the events.
   */
  private wsRequest<T>(
    ws: WebSocket,
    method: string,
    path: string,
    o: { query?: Query; body?: unknown; signal?: AbortSignal },
  ): Promise<T> {
    let qs = '';
    for (const [k, v] of Object.entries(o.query ?? {}))
      if (v !== undefined) qs += `${qs ? '&' : '?'}${enc(k)}=${enc(String(v))}`;
    const requestId = String(++this.requestSeq);
    const frame: Record<string, string> = {
      type: 'RESTRequest',
      request_id: requestId,
      method,
      uri: path.slice(1) + qs,
    };
    if (o.body !== undefined) {
      frame.content_type = 'application/json';
      frame.message_body = JSON.stringify(o.body);
    }
    return new Promise<T>((resolve, reject) => {
      const fail = (e: Error) => {
        const p = this.inflight.get(requestId);
        if (!p) return;
        clearTimeout(p.timer);
        this.inflight.delete(requestId);
        reject(e);
      };
      const ms = this.opts.timeoutMs ?? 10_000;
      const timer = setTimeout(() => fail(new Error(`ARI ${method} ${path} timed out after ${ms} ms`)), ms);
      this.inflight.set(requestId, { resolve: resolve as (v: unknown) => void, reject, method, path, timer });
      o.signal?.addEventListener('abort', () => fail(new Error(`ARI ${method} ${path} aborted`)), {
        once: true,
      });
      // `_socket` is ws's own socket (no public accessor): corked for the rest of this turn.
      corkUntilTurnEnds((ws as unknown as { _socket?: Writable })._socket);
      ws.send(JSON.stringify(frame), (err) => {
        if (err) fail(err);
      });
    });
  }

  private settle(r: {
    request_id?: string;
    status_code?: number;
    reason_phrase?: string;
    message_body?: string;
  }): void {
    const p = this.inflight.get(r.request_id ?? '');
    if (!p) return;
    clearTimeout(p.timer);
    this.inflight.delete(r.request_id!);
    let body: unknown = r.message_body ?? '';
    if (r.message_body) {
      try {
        body = JSON.parse(r.message_body);
      } catch {
        body = r.message_body;
      }
    }
    const status = Number(r.status_code ?? 0);
    if (status < 200 || status > 299) {
      const b = body as { message?: string; error?: string } | string;
      const fallback = r.reason_phrase ?? '';
      const msg = typeof b === 'object' && b ? (b.message ?? b.error ?? fallback) : String(b || fallback);
      p.reject(new AriError(status, msg, body, p.method, p.path));
    } else p.resolve(r.message_body ? body : undefined);
  }

  /** Requests in flight on a WebSocket that closed never get their answer: fail them now. */
  private failInflight(why: string): void {
    for (const [id, p] of this.inflight) {
      clearTimeout(p.timer);
      p.reject(new Error(`ARI ${p.method} ${p.path}: ${why}`));
      this.inflight.delete(id);
    }
  }

  // --- typed helpers (ids chosen by the caller, recorded before the request) ---
  readonly channels = {
    list: () => this.request<AriChannel[]>('GET', '/channels'),
    get: (id: string) => this.request<AriChannel>('GET', `/channels/${enc(id)}`),
    create: (p: {
      endpoint: string;
      app: string;
      channelId: string;
      appArgs?: string;
      otherChannelId?: string;
      originator?: string;
      variables?: Record<string, string>;
    }) =>
      this.request<AriChannel>('POST', '/channels/create', {
        query: {
          endpoint: p.endpoint,
          app: p.app,
          channelId: p.channelId,
          appArgs: p.appArgs,
          otherChannelId: p.otherChannelId,
          originator: p.originator,
        },
        body: p.variables ? { variables: p.variables } : undefined,
      }),
    originate: (p: {
      endpoint: string;
      channelId: string;
      app?: string;
      appArgs?: string;
      extension?: string;
      context?: string;
      priority?: number;
      callerId?: string;
      timeout?: number;
      variables?: Record<string, string>;
    }) => {
      const { variables, ...q } = p;
      return this.request<AriChannel>('POST', '/channels', {
        query: q,
        body: variables ? { variables } : undefined,
      });
    },
    dial: (id: string, p: { caller?: string; timeout?: number } = {}) =>
      this.request<void>('POST', `/channels/${enc(id)}/dial`, { query: p }),
    answer: (id: string) => this.request<void>('POST', `/channels/${enc(id)}/answer`),
    ring: (id: string) => this.request<void>('POST', `/channels/${enc(id)}/ring`),
    hangup: (id: string, reason: HangupReason = 'normal') =>
      this.request<void>('DELETE', `/channels/${enc(id)}`, { query: { reason } }),
    continueInDialplan: (id: string, p: { context?: string; extension?: string; priority?: number } = {}) =>
      this.request<void>('POST', `/channels/${enc(id)}/continue`, { query: p }),
    move: (id: string, app: string, appArgs?: string) =>
      this.request<void>('POST', `/channels/${enc(id)}/move`, { query: { app, appArgs } }),
    getVariable: async (id: string, variable: string) =>
      (await this.request<{ value: string }>('GET', `/channels/${enc(id)}/variable`, { query: { variable } }))
        .value,
    setVariable: (id: string, variable: string, value: string) =>
      this.request<void>('POST', `/channels/${enc(id)}/variable`, { query: { variable, value } }),
  };

  readonly bridges = {
    create: (p: { bridgeId: string; type?: string; name?: string }) =>
      this.request<AriBridge>('POST', '/bridges', {
        query: { bridgeId: p.bridgeId, type: p.type ?? 'mixing', name: p.name },
      }),
    get: (id: string) => this.request<AriBridge>('GET', `/bridges/${enc(id)}`),
    addChannel: (id: string, channel: string | string[]) =>
      this.request<void>('POST', `/bridges/${enc(id)}/addChannel`, {
        query: { channel: [channel].flat().join(',') },
      }),
    removeChannel: (id: string, channel: string) =>
      this.request<void>('POST', `/bridges/${enc(id)}/removeChannel`, { query: { channel } }),
    destroy: (id: string) => this.request<void>('DELETE', `/bridges/${enc(id)}`),
  };

  readonly events = {
    /** StasisBroadcast: claim an offered call for one of our apps; 409 means another app won. */
    claim: (channelId: string, application: string) =>
      this.request<void>('POST', '/events/claim', { query: { channelId, application } }),
  };

  readonly asterisk = {
    info: () => this.request<Record<string, unknown>>('GET', '/asterisk/info'),
  };

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
      this.failInflight('events WebSocket closed before the answer');
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
    const body = { allowed: [], disallowed: types.map((type) => ({ type })) };
    for (const app of this.opts.apps) {
      try {
        await this.request('PUT', `/applications/${encodeURIComponent(app)}/eventFilter`, { body });
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
      const info = await this.httpRequest<{ system?: { version?: string } }>('GET', '/asterisk/info');
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
      this.settle(ev as unknown as Parameters<AriClient['settle']>[0]);
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

const enc = encodeURIComponent;
