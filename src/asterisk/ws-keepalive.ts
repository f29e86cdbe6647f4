// Liveness of the events WebSocket. A link can die without a close ever arriving (a NAT or
// firewall that forgot it, a peer that vanished): it then looks connected while nothing comes.
// WebSocket pings find it out: Asterisk answers each ping with a pong. Any frame counts as proof
// of life too, since Asterisk reads the socket (and so answers pings) between REST requests that
// it serves one at a time, so a pong can be late behind a slow request while events still flow.
import WebSocket from 'ws';

export interface KeepaliveOptions {
  /** How often a ping is sent (when none is outstanding). */
  intervalMs: number;
  /** Silence after a ping beyond which the link is dead. */
  timeoutMs: number;
  /** Called once when the link is found dead, with how long it has been silent. */
  onSilent: (silentMs: number) => void;
}

export class WsKeepalive {
  /** When the last pong arrived (0: none yet on any connection). */
  lastPongAt = 0;
  /** When the last pong or frame arrived on the current connection. */
  lastHeardAt = 0;
  private pingSentAt = 0;
  private timer: NodeJS.Timeout | null = null;
  private ws: WebSocket | null = null;
  private readonly onPong = () => {
    this.lastPongAt = this.lastHeardAt = Date.now();
  };

  constructor(private readonly opts: KeepaliveOptions) {}

  start(ws: WebSocket): void {
    this.stop();
    this.ws = ws;
    this.lastHeardAt = Date.now();
    this.pingSentAt = 0;
    ws.on('pong', this.onPong);
    this.timer = setInterval(() => this.tick(), this.opts.intervalMs);
    this.timer.unref();
  }

  /** A frame arrived: the link is alive. */
  heard(now: number): void {
    this.lastHeardAt = now;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.ws?.off('pong', this.onPong);
    this.ws = null;
  }

  private tick(): void {
    const ws = this.ws;
    if (!ws) return;
    const now = Date.now();
    const outstanding = this.pingSentAt > 0 && this.lastHeardAt < this.pingSentAt;
    if (outstanding && now - this.pingSentAt >= this.opts.timeoutMs) {
      const silent = now - this.lastHeardAt;
      this.stop();
      this.opts.onSilent(silent);
      return;
    }
    if (outstanding) return;
    this.pingSentAt = now;
    try {
      ws.ping();
    } catch {
      // Not open any more: the close handler deals with it.
    }
  }
}

/** Close frame, then wait for the peer's (at most `ms`), then cut what is left. */
export function closeGracefully(ws: WebSocket, ms: number): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => ws.terminate(), ms);
    ws.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    if (ws.readyState === WebSocket.OPEN) ws.close(1000, 'client stopping');
    else ws.terminate();
  });
}
