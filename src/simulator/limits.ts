// Asterisk 22's limits under load, as its source sets them, so that a client that would overrun a
// real Asterisk overruns the simulator too (docs/simulator.md, "Limits"):
// - main/http.c: at most `sessionlimit` (100) HTTP sessions at once; one more is accepted and closed
//   unanswered. An ARI events WebSocket keeps its session for its whole life (res_ari's
//   session_established runs the socket's read loop on the HTTP session's thread).
// - res/ari/ari_websockets.c: REST requests over one events WebSocket are read and served one after
//   another by that loop.
// - res/res_http_websocket.c: an incoming frame over 65,535 bytes (header included) closes the
//   socket with 1009; an outgoing frame is built with alloca on the writing thread's stack
//   (AST_STACKSIZE, 496 KiB on 64-bit), so one larger than what is left of that stack kills Asterisk.

/** What a limit can be set to; `Infinity` (or `false`) turns it off. */
export interface SimulatorLimits {
  /** http.conf `sessionlimit`: HTTP sessions (WebSockets included) at once. */
  httpSessions: number;
  /** http.conf `session_keep_alive` (ms): an idle kept-alive connection is closed after it. */
  httpKeepAliveMs: number;
  /** REST requests over one events WebSocket are served one at a time, in arrival order. */
  serialWebSocketRequests: boolean;
  /** Largest frame (header included) Asterisk reads from a WebSocket; larger closes it with 1009. */
  wsMaxIncomingFrame: number;
  /**
   * Stack bytes a thread has for the frame it writes: an outgoing frame (header + payload + 1)
   * larger than this crashes the simulator as it crashes Asterisk.
   */
  wsFrameStackBytes: number;
}

/** AST_STACKSIZE on a 64-bit build: (8 * 8 * 8 - 16) KiB. */
export const AST_STACKSIZE = (8 * 8 * 8 - 16) * 1024;
/**
 * What the writing thread has used of its stack before the frame (call frames, the JSON being
 * serialised): an estimate, chosen so that the crash falls where it fell on Asterisk 22.10.1
 * (GET /channels of ~1,100 channels at ~450 bytes each; 600 listed fine, 1,600 crashed).
 */
export const STACK_IN_USE_ESTIMATE = 16 * 1024;

export const ASTERISK_LIMITS: SimulatorLimits = {
  httpSessions: 100,
  httpKeepAliveMs: 15_000,
  serialWebSocketRequests: true,
  wsMaxIncomingFrame: 65_535,
  wsFrameStackBytes: AST_STACKSIZE - STACK_IN_USE_ESTIMATE,
};

/** The limits of a simulator: Asterisk's, with the given ones changed. */
export function resolveLimits(o: Partial<SimulatorLimits> = {}): SimulatorLimits {
  return { ...ASTERISK_LIMITS, ...o };
}

/** Bytes of the frame Asterisk's ast_websocket_write allocates for a server (unmasked) frame. */
export function outgoingFrameBytes(payloadBytes: number): number {
  const header = payloadBytes < 126 ? 2 : payloadBytes < 65_536 ? 4 : 10;
  return header + payloadBytes + 1;
}

/**
 * The largest payload of a masked (client) frame that Asterisk still reads: its frame size counts
 * the 2-byte header, the 4-byte mask and the extended length (2 bytes up to 65,535, else 8).
 */
export function maxIncomingPayload(maxFrame: number): number {
  if (!Number.isFinite(maxFrame)) return 0; // ws: 0 means no limit
  if (maxFrame - 14 >= 65_536) return maxFrame - 14;
  if (maxFrame - 8 >= 126) return Math.min(maxFrame - 8, 65_535);
  return Math.max(1, Math.min(maxFrame - 6, 125));
}

/** Raised (as an event) when the simulator dies as Asterisk would; `reason` says what killed it. */
export interface Crash {
  reason: string;
  frameBytes: number;
  at: Date;
}
