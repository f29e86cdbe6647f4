// The options of an ARI client and the shapes it reports.
import type { Logger } from '../platform/logger.ts';
import type { LoadFigures } from './limiter.ts';
import type { BackoffPolicy } from '../platform/backoff.ts';

export interface AriOptions {
  /** Base URL of Asterisk's HTTP server, e.g. http://127.0.0.1:8088 (with or without /ari). */
  url: string;
  user: string;
  password: string;
  apps: string[];
  log: Logger;
  subscribeAll?: boolean;
  /** Bound on a request, from the call to its answer (queue wait included). Default 10 s. */
  timeoutMs?: number;
  backoff?: BackoffPolicy;
  /**
   * How REST requests travel: `http`, `websocket` (ARI REST over WebSocket, Asterisk 20.14+/21.9+/
   * 22.4+), or `auto` (the default): websocket when the node's version has it, else http. HTTP is
   * used whenever the events WebSocket is down, and always for answers that grow with the number
   * of calls (see mayTravelOverWebSocket).
   */
  transport?: AriTransport;
  /**
   * Event types the apps do not want (ARI `PUT /applications/{app}/eventFilter`, set again at every
   * connect): Asterisk then neither builds nor sends them. Read at connect time.
   */
  disallowedEvents?: () => string[];
  /** HTTP connections (and so HTTP requests in flight) to the node at most. Default 32. */
  httpMaxSockets?: number;
  /**
   * HTTP connections of the cleanup lane (hangups and bridge destroys, see RequestOptions.lane),
   * on top of httpMaxSockets and the events WebSocket. Default 8.
   */
  cleanupMaxSockets?: number;
  /**
   * REST requests in flight on the events WebSocket at most. Asterisk serves them one after another
   * per socket, so the line beyond one lives inside Asterisk; but each round trip also waits for
   * this process's event loop (tens of ms under load), and the rate is at most this many per round
   * trip: 8 or 32 held the routing benchmark to a fraction of 100 calls/s. Default 128.
   */
  wsMaxInFlight?: number;
  /** The node is overloaded when a request has waited (queued or unanswered) this long. Default 2 s. */
  overloadWaitMs?: number;
  /** ... or when this many requests queue for one transport. Default 200. */
  overloadQueue?: number;
  /** Ping the events WebSocket this often; a link silent `pongTimeoutMs` after a ping is dropped. */
  pingIntervalMs?: number;
  pongTimeoutMs?: number;
  /** How long stop() waits for Asterisk to answer our close frame. Default 2 s. */
  closeTimeoutMs?: number;
  /** After ApplicationReplaced: probe interval and forced wait (see app-reclaim.ts). */
  reclaimProbeMs?: number;
  reclaimAfterMs?: number;
}

export type AriTransport = 'auto' | 'http' | 'websocket';

export type AriState = 'idle' | 'connecting' | 'connected' | 'closed';

/** What a node has on its two transports, and whether new work should go elsewhere. */
export interface AriLoad {
  http: LoadFigures;
  websocket: LoadFigures;
  /** The cleanup lane (not counted in `overloaded`: shedding new calls does not make it shorter). */
  cleanup: LoadFigures;
  overloaded: boolean;
}
