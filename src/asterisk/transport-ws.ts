// ARI REST over WebSocket (Asterisk 20.13+/21.8+/22.3+): one RESTRequest frame, settled by the
// RESTResponse with the same request_id. No HTTP parsing on either side, which is most of a REST
// call's cost; the answers come on the same ordered stream as the events.
import type { Writable } from 'node:stream';
import type WebSocket from 'ws';
import { corkUntilTurnEnds } from '../net/cork.ts';
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

  request<T>(ws: WebSocket, method: string, path: string, o: RequestOptions = {}): Promise<T> {
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
      const ms = this.opts.timeoutMs;
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
      p.reject(new Error(`ARI ${p.method} ${p.path}: ${why}`));
      this.inflight.delete(id);
    }
  }
}
