// ARI REST over HTTP: node:http with a keep-alive agent. Used for every request when REST over the
// WebSocket is off or the WebSocket is down.
import http from 'node:http';
import https from 'node:https';
import { Slicer } from '../platform/slices.ts';
import { AriTimeoutError } from './errors.ts';
import { JsonArraySplitter } from './json-array.ts';
import { answer, decodeBody, queryString, type RequestOptions } from './request.ts';

export interface HttpTransportOptions {
  /** Base URL ending in /ari. */
  base: string;
  user: string;
  password: string;
  timeoutMs: number;
  /**
   * Connections kept to the node at most. Asterisk's HTTP server refuses sessions beyond its
   * `sessionlimit` (http.conf, default 100) for all its clients together, and a busy Asterisk runs
   * short of file descriptors: stay well under it.
   */
  maxSockets: number;
}

export class HttpTransport {
  private readonly auth: string;
  private readonly target: { hostname: string; port: string; path: string };
  private readonly http: typeof http | typeof https;
  private readonly agent: http.Agent;

  constructor(private readonly opts: HttpTransportOptions) {
    this.auth = 'Basic ' + Buffer.from(`${opts.user}:${opts.password}`).toString('base64');
    const u = new URL(opts.base);
    this.target = { hostname: u.hostname.replace(/^\[|\]$/g, ''), port: u.port, path: u.pathname };
    this.http = u.protocol === 'https:' ? https : http;
    // Asterisk's HTTP server keeps connections alive: reuse them, never more than maxSockets.
    this.agent = new this.http.Agent({ keepAlive: true, maxSockets: opts.maxSockets });
  }

  /** Requests sent, and those that got no answer within their bound. */
  sent = 0;
  timeouts = 0;

  /** Closes the pooled connections; requests after this open new ones. */
  destroy(): void {
    this.agent.destroy();
  }

  /**
   * A request whose 2xx answer is read as a stream (a stored recording's file) instead of JSON: the
   * caller pipes it on and must consume or destroy it. A non-2xx answer rejects with AriError.
   */
  stream(method: string, path: string, signal?: AbortSignal): Promise<http.IncomingMessage> {
    this.sent++;
    return new Promise((resolve, reject) => {
      const req = this.http.request(
        {
          host: this.target.hostname,
          port: this.target.port,
          path: this.target.path + path,
          method,
          headers: { authorization: this.auth },
          agent: this.agent,
          ...(signal ? { signal } : {}),
        },
        (res) => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status <= 299) return resolve(res);
          // Any other status: the body says why, and readAnswer rejects with it.
          readAnswer(res, method, path, () => {}, reject);
        },
      );
      // Bounded until the answer's head arrives; the body then flows as fast as its reader takes it.
      const timer = setTimeout(
        () => req.destroy(new AriTimeoutError(method, path, this.opts.timeoutMs, true)),
        this.opts.timeoutMs,
      );
      req.on('response', () => clearTimeout(timer));
      req.on('close', () => clearTimeout(timer));
      req.on('error', reject);
      req.end();
    });
  }

  /**
   * A GET whose answer is a JSON array that grows with the calls on the node (`GET /channels`),
   * parsed element by element as it arrives, giving the event loop back between slices of the
   * work (json-array.ts): the whole answer parsed at once held the loop 230-450 ms at ~6,000 calls
   * on a busy machine. Bounded as a whole (head and body) by `timeoutMs`.
   */
  async listJson<T>(path: string, timeoutMs = this.opts.timeoutMs): Promise<T[]> {
    const bound = new AbortController();
    const timer = setTimeout(() => bound.abort(), timeoutMs);
    try {
      const res = await this.stream('GET', path, bound.signal);
      const split = new JsonArraySplitter();
      const slicer = new Slicer();
      const out: T[] = [];
      for await (const chunk of res as AsyncIterable<Buffer>) {
        for (const text of split.push(chunk)) {
          out.push(JSON.parse(text) as T);
          await slicer.due();
        }
        await slicer.due();
      }
      split.end();
      return out;
    } catch (err) {
      if (!bound.signal.aborted) throw err;
      this.timeouts++;
      throw new AriTimeoutError('GET', path, timeoutMs, true);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * node:http with a keep-alive agent rather than fetch: a call costs about eight REST requests,
   * and on Node 20 fetch spends two to three times as long per request (against the simulator on
   * loopback: ~1.2 ms vs ~0.5 ms sequentially), which is routing latency.
   */
  request<T>(
    method: string,
    path: string,
    o: RequestOptions = {},
    timeoutMs = this.opts.timeoutMs,
  ): Promise<T> {
    this.sent++;
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
          path: this.target.path + path + queryString(o.query),
          method,
          headers,
          agent: this.agent,
          ...(o.signal ? { signal: o.signal } : {}),
        },
        (res) => readAnswer<T>(res, method, path, resolve, reject),
      );
      // A plain timer rather than AbortSignal.timeout(): one per request, and the signal machinery
      // showed up in profiles of the routing hot path.
      const timer = o.signal
        ? null
        : setTimeout(() => {
            this.timeouts++;
            req.destroy(new AriTimeoutError(method, path, timeoutMs, true));
          }, timeoutMs);
      req.on('close', () => {
        if (timer) clearTimeout(timer);
      });
      req.on('error', reject);
      req.end(payload ?? undefined);
    });
  }
}

/**
 * Reads an answer's whole body, then settles with what `answer` makes of it: the decoded body, or
 * an AriError for a status outside 2xx. Callbacks rather than a promise: this is on the routing hot
 * path, once per REST request.
 */
function readAnswer<T>(
  res: http.IncomingMessage,
  method: string,
  path: string,
  resolve: (value: T) => void,
  reject: (err: unknown) => void,
): void {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('error', reject);
  res.on('end', () => {
    const text = Buffer.concat(chunks).toString('utf8');
    const body = decodeBody(text, (res.headers['content-type'] ?? '').includes('json'));
    try {
      resolve(answer<T>(res.statusCode ?? 0, text, body, res.statusMessage ?? '', method, path));
    } catch (e) {
      reject(e);
    }
  });
}
