// The REST side of one ARI client: three lanes, each behind a bound on requests in flight — HTTP, the
// events WebSocket (when the node takes REST over it), and the cleanup lane (hangups and bridge
// destroys on HTTP connections of their own, taking the WebSocket instead while it is idle or when
// those connections are all busy) —
// the node's load read from them, and the counters the metrics show. The connection side (ari.ts)
// owns the events WebSocket and says, per request, whether REST may travel over it.
import WebSocket from 'ws';
import type { AriLoad, AriOptions } from './ari-options.ts';
import { AriNoAnswerError, AriTimeoutError } from './errors.ts';
import { InFlightLimiter, type LoadFigures } from './limiter.ts';
import type { RequestOptions } from './request.ts';
import { mayTravelOverWebSocket } from './transport-choice.ts';
import { HttpTransport } from './transport-http.ts';
import { WsTransport } from './transport-ws.ts';

/** A limiter slot came free after the WebSocket it was meant for closed: go again by HTTP. */
const AGAIN = Symbol('again');

/**
 * The events WebSocket is idle for a cleanup request while fewer requests than this are unanswered
 * on it, none waits for a slot there, and the oldest was sent less than IDLE_WS_OLDEST_MS ago:
 * Asterisk serves its requests one at a time, so a hangup sent then waits for a few quick ones at most.
 */
const IDLE_WS_IN_FLIGHT = 4;
const IDLE_WS_OLDEST_MS = 100;
/**
 * A cleanup request sent over an idle WebSocket waits this long for its answer (Asterisk may stall
 * on that WebSocket just after it was sent); without one, the cleanup is tried again, and cleanups
 * keep to their lane for IDLE_WS_OFF_MS.
 */
const IDLE_WS_TIMEOUT_MS = 1000;
const IDLE_WS_OFF_MS = 30_000;

/** What the connection side tells the requests: its events WebSocket now, and whether REST may use it. */
export interface AriLink {
  socket(): WebSocket | null;
  restOverWs(): boolean;
}

export class AriRequests {
  /** Requests that never left our queue within their bound, per transport. */
  queueTimeouts = { http: 0, websocket: 0, cleanup: 0 };
  /** Cleanup requests sent over the events WebSocket: while it was idle, and because their lane was full. */
  private cleanupOverWs = { idle: 0, lane_full: 0 };
  /** Until when cleanup requests do not take the WebSocket for being idle (one sent so got no answer). */
  private idleWsOffUntil = 0;
  readonly http: HttpTransport;
  readonly ws: WsTransport;
  private readonly httpLimiter: InFlightLimiter;
  private readonly wsLimiter: InFlightLimiter;
  /** The cleanup lane: its own HTTP connections and bound (RequestOptions.lane). */
  private readonly cleanupHttp: HttpTransport;
  private readonly cleanupLimiter: InFlightLimiter;
  /**
   * Lists that grow with the calls (`GET /channels`): on connections of their own, outside the
   * limiters. Read in slices (listJson), a list of thousands of channels can take longer than the
   * overload bound, and it must neither make the node look overloaded nor hold a connection that
   * new calls' requests wait for.
   */
  private readonly listHttp: HttpTransport;

  constructor(
    private readonly opts: AriOptions,
    base: string,
    private readonly timeoutMs: number,
    private readonly link: AriLink,
  ) {
    const http = (maxSockets: number) =>
      new HttpTransport({ base, user: opts.user, password: opts.password, timeoutMs, maxSockets });
    const maxSockets = opts.httpMaxSockets ?? 32;
    this.http = http(maxSockets);
    const cleanupSockets = opts.cleanupMaxSockets ?? 8;
    this.cleanupHttp = http(cleanupSockets);
    this.cleanupLimiter = new InFlightLimiter(cleanupSockets);
    this.listHttp = http(2);
    this.ws = new WsTransport({ timeoutMs });
    this.httpLimiter = new InFlightLimiter(maxSockets);
    this.wsLimiter = new InFlightLimiter(opts.wsMaxInFlight ?? 128);
  }

  /** Closes the HTTP connections of both HTTP lanes (the client stopped). */
  destroy(): void {
    this.http.destroy();
    this.cleanupHttp.destroy();
    this.listHttp.destroy();
  }

  /** A JSON array that grows with the calls, over HTTP, read in slices (see listHttp). */
  list<T>(path: string): Promise<T[]> {
    return this.listHttp.listJson<T>(path);
  }

  /**
   * A request whose bound runs from `startedAt`, on its lane (AriClient.request says what it throws).
   * `first`: a cleanup request sent over the events WebSocket, ahead of the requests queued there.
   */
  send<T>(method: string, path: string, o: RequestOptions, startedAt: number, first = false): Promise<T> {
    const why = o.lane === 'cleanup' ? this.cleanupOverWebSocket() : null;
    if (why === 'lane_full') {
      this.cleanupOverWs.lane_full++;
      return this.send<T>(method, path, { ...o, lane: undefined }, startedAt, true);
    }
    if (why === 'idle') {
      this.cleanupOverWs.idle++;
      const timeoutMs = Math.min(o.timeoutMs ?? this.timeoutMs, IDLE_WS_TIMEOUT_MS);
      return this.send<T>(method, path, { ...o, lane: undefined, timeoutMs }, startedAt, true).catch(
        (err: unknown) => {
          if (err instanceof AriNoAnswerError) this.idleWsOffUntil = Date.now() + IDLE_WS_OFF_MS;
          throw err;
        },
      );
    }
    if (o.lane === 'cleanup') {
      const bound = o.timeoutMs ?? this.timeoutMs;
      const notSent = () => {
        this.queueTimeouts.cleanup++;
        return new AriTimeoutError(method, path, bound, false);
      };
      return this.cleanupLimiter.run<T>(
        () => {
          const left = bound - (Date.now() - startedAt);
          if (left <= 0) return Promise.reject(notSent());
          return this.cleanupHttp.request<T>(method, path, o, left);
        },
        bound,
        notSent,
      );
    }
    const ws = this.link.socket();
    const overWs =
      this.link.restOverWs() && ws?.readyState === WebSocket.OPEN && mayTravelOverWebSocket(method, path);
    const transport = overWs ? 'websocket' : 'http';
    const bound = o.timeoutMs ?? this.timeoutMs;
    const notSent = () => {
      this.queueTimeouts[transport]++;
      return new AriTimeoutError(method, path, bound, false);
    };
    const p = (overWs ? this.wsLimiter : this.httpLimiter).run<T | typeof AGAIN>(
      () => {
        // What is left of the bound once a slot came free; none left: it never goes out.
        const left = bound - (Date.now() - startedAt);
        if (left <= 0) return Promise.reject(notSent());
        if (!overWs) return this.http.request<T>(method, path, o, left);
        if (this.link.socket() !== ws || ws?.readyState !== WebSocket.OPEN) return Promise.resolve(AGAIN);
        return this.ws.request<T>(ws, method, path, o, left);
      },
      bound,
      notSent,
      { first: first && overWs },
    );
    return p.then((r) => (r === AGAIN ? this.send<T>(method, path, o, startedAt, first) : r));
  }

  /**
   * Whether a cleanup request goes over the events WebSocket instead of its own lane, and why (null:
   * the lane). `idle`: the WebSocket is idle (IDLE_WS_IN_FLIGHT): there it waits for nothing, and a
   * request over it costs Asterisk and this process about half of one over HTTP (parsing, a
   * connection's round trip), at two a call (the client leg's hangup, the bridge's destroy).
   * `lane_full`: every lane connection is busy (or requests already wait for one); it then goes ahead
   * of every request queued there for new work (send's `first`), behind only those already sent.
   * Each HTTP connection carries one request per round trip, and a round trip waits for both sides'
   * event loops: on a loaded machine the lane's 8 connections ended 10-40 channels a second, while a
   * node takes about one hangup per call offered (the shed caller, or the client leg of a call that
   * ended). Without this, hangups queued here by the ten thousand while new calls' requests kept the
   * WebSocket busy, and the channels stayed up in Asterisk.
   */
  private cleanupOverWebSocket(): 'idle' | 'lane_full' | null {
    if (!this.link.restOverWs() || this.link.socket()?.readyState !== WebSocket.OPEN) return null;
    const lane = this.cleanupLimiter;
    if (lane.inFlight >= lane.limit || lane.queued > 0) return 'lane_full';
    const ws = this.wsLimiter;
    if (ws.queued > 0 || ws.inFlight >= Math.min(IDLE_WS_IN_FLIGHT, ws.limit)) return null;
    const now = Date.now();
    if (now < this.idleWsOffUntil) return null;
    return ws.figures(now).oldestInFlightMs < IDLE_WS_OLDEST_MS ? 'idle' : null;
  }

  /** Requests in flight and queued per transport, and whether the node is overloaded. */
  load(now = Date.now()): AriLoad {
    const http = this.httpLimiter.figures(now);
    const websocket = this.wsLimiter.figures(now);
    const cleanup = this.cleanupLimiter.figures(now);
    const waitBound = this.opts.overloadWaitMs ?? 2000;
    const queueBound = this.opts.overloadQueue ?? 200;
    const over = (f: LoadFigures) =>
      f.queued >= queueBound || Math.max(f.oldestWaitMs, f.oldestInFlightMs) >= waitBound;
    return { http, websocket, cleanup, overloaded: over(http) || over(websocket) };
  }

  /** True when new calls should not be started on this node (see load()). */
  overloaded(): boolean {
    return this.load().overloaded;
  }

  /** Requests sent per transport. */
  get requestsSent(): { http: number; websocket: number } {
    return { http: this.http.sent + this.listHttp.sent, websocket: this.ws.sent };
  }

  /**
   * The cleanup lane's requests sent on its own connections, those that got no answer within their
   * bound there, and those sent over the events WebSocket instead (cleanupOverWebSocket), in all
   * and because the lane was full.
   */
  get cleanupRequests(): { sent: number; timeouts: number; overWebSocket: number; laneFull: number } {
    return {
      sent: this.cleanupHttp.sent,
      timeouts: this.cleanupHttp.timeouts + this.queueTimeouts.cleanup,
      overWebSocket: this.cleanupOverWs.idle + this.cleanupOverWs.lane_full,
      laneFull: this.cleanupOverWs.lane_full,
    };
  }

  /** Requests that got no answer within their bound, per transport (queue time-outs included). */
  get timeouts(): { http: number; websocket: number } {
    return {
      http: this.http.timeouts + this.listHttp.timeouts + this.queueTimeouts.http,
      websocket: this.ws.timeouts + this.queueTimeouts.websocket,
    };
  }
}
