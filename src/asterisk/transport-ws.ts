// ARI REST over WebSocket (Asterisk 20.14+/21.9+/22.4+): one RESTRequest frame, settled by the
// RESTResponse with the same request_id. No HTTP parsing on either side, which is most of a REST
// call's cost; the answers come on the same ordered stream as the events.
import type { Writable } from 'node:stream';
import type WebSocket from 'ws';
import { corkUntilTurnEnds } from '../net/cork.ts';
import { AriDisconnectedError, AriTimeoutError } from './errors.ts';
import { answer, decodeBody, queryString, type RequestOptions } from './request.ts';

/** A RESTResponse frame as Asterisk sends it (the fields read here). */
export interface RestResponseFrame {
  request_id?: string;
  status_code?: number;
  reason_phrase?: string;
  message_body?: string;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  method: string;
  path: string;
  timer: NodeJS.Timeout;
}

export class WsTransport {
  /** Requests sent, by request_id, until their RESTResponse. */
  private inflight = new Map<string, Pending>();
  private requestSeq = 0;

  constructor(private readonly opts: { timeoutMs: number }) {}

  /** Requests sent, and those that got no answer within their bound. */
  sent = 0;
  timeouts = 0;

  get inFlight(): number {
    return this.inflight.size;
  }

  request<T>(
    ws: WebSocket,
    method: string,
    path: string,
    o: RequestOptions = {},
    timeoutMs = this.opts.timeoutMs,
  ): Promise<T> {
    this.sent++;
    const requestId = String(++this.requestSeq);
    const frame: Record<string, string> = {
      type: 'RESTRequest',
      request_id: requestId,
      method,
      uri: path.slice(1) + queryString(o.query),
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
      const timer = setTimeout(() => {
        this.timeouts++;
        fail(new AriTimeoutError(method, path, timeoutMs, true));
      }, timeoutMs);
      this.inflight.set(requestId, { resolve: resolve as (v: unknown) => void, reject, method, path, timer });
      o.signal?.addEventListener('abort', () => fail(new Error(`ARI ${method} ${path} aborted`)), {
        once: true,
      });
      // `_socket` is ws's own socket (no public accessor): corked for the rest of this turn.
      corkUntilTurnEnds((ws as unknown as { _socket?: Writable })._socket);
      ws.send(JSON.stringify(frame), (err) => {
        if (err) fail(new AriDisconnectedError(method, path, `not sent whole: ${err.message}`));
      });
    });
  }

  /** Settles the request a RESTResponse frame answers (unknown ids are ignored). */
  settle(r: RestResponseFrame): void {
    const p = this.inflight.get(r.request_id ?? '');
    if (!p) return;
    clearTimeout(p.timer);
    this.inflight.delete(r.request_id!);
    const text = r.message_body ?? '';
    try {
      p.resolve(
        answer(
          Number(r.status_code ?? 0),
          text,
          decodeBody(text, true),
          r.reason_phrase ?? '',
          p.method,
          p.path,
        ),
      );
    } catch (e) {
      p.reject(e as Error);
    }
  }

  /** Requests in flight on a WebSocket that closed never get their answer: fail them now. */
  failAll(why: string): void {
    for (const [id, p] of this.inflight) {
      clearTimeout(p.timer);
      p.reject(new AriDisconnectedError(p.method, p.path, why));
      this.inflight.delete(id);
    }
  }
}
