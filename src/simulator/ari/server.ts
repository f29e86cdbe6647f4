// ARI over HTTP + WebSocket, as Asterisk serves it under /ari: basic auth or api_key, JSON bodies,
// the route table's operations (routes.ts), one events WebSocket per app set, and REST requests
// over that WebSocket.
import { type IncomingMessage, STATUS_CODES, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { corkUntilTurnEnds } from '../../net/cork.ts';
import { outgoingFrameBytes, maxIncomingPayload, type SimulatorLimits } from '../limits.ts';
import type { SimModel } from '../model.ts';
import { ROUTES, TREE } from './routes.ts';
import { type Args, err, parseArgs, type Reply, resourceDoc, resourceListing } from './spec.ts';
import { AriState } from './state.ts';

/** Which REST request over a WebSocket stops the line (method, uri as the request frame has them). */
export type StallFrom = (method: string, uri: string) => boolean;

export class AriServer {
  private wss: WebSocketServer;
  readonly state: AriState;
  /** Set while REST requests over the WebSocket wait unserved (stallWebSocketRequests). */
  private stall: { gate: Promise<void>; from?: StallFrom; engaged: boolean } | null = null;

  constructor(
    private model: SimModel,
    private user: string,
    private password: string,
    private limits: SimulatorLimits,
    /** Called when a frame would overflow Asterisk's stack: the simulator dies. */
    private crash: (reason: string, frameBytes: number) => void,
  ) {
    // Asterisk closes a socket with 1009 when a frame it reads is over its frame size limit.
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: maxIncomingPayload(limits.wsMaxIncomingFrame),
    });
    this.state = new AriState(model);
    model.on('ari-event', (app: string, ev: { type: string }) => {
      const ws = this.state.apps.get(app);
      if (ws?.readyState !== WebSocket.OPEN) return;
      const f = this.state.filters.get(app);
      // Asterisk's rules: disallowed wins; an empty allowed list allows everything.
      if (f && (f.disallowed.has(ev.type) || (f.allowed.size > 0 && !f.allowed.has(ev.type)))) return;
      this.sendFrame(ws, JSON.stringify(ev));
    });
  }

  private authed(req: IncomingMessage, url: URL): boolean {
    const key = url.searchParams.get('api_key');
    if (key !== null) return key === `${this.user}:${this.password}`;
    const h = req.headers.authorization ?? '';
    if (!h.startsWith('Basic ')) return false;
    return Buffer.from(h.slice(6), 'base64').toString() === `${this.user}:${this.password}`;
  }

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/ari/events') return void socket.destroy();
    if (!this.authed(req, url)) {
      const body = JSON.stringify({ message: 'Authentication required' });
      socket.end(
        `HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm="Asterisk REST Interface"\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
      return;
    }
    const apps = (url.searchParams.get('app') ?? '').split(',').filter(Boolean);
    if (!apps.length) {
      // Asterisk's HTTP server answers a missing required parameter with its HTML error page.
      const body =
        '<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\r\n<html><head>\r\n<title>400 Bad Request</title>\r\n</head><body>\r\n<h1>Bad Request</h1>\r\n<p>HTTP request is missing param: [app]</p>\r\n<hr />\r\n<address>Asterisk/22.10.1</address>\r\n</body></html>\r\n';
      socket.end(
        `HTTP/1.1 400 Bad Request\r\nContent-Type: text/html\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      for (const app of apps) {
        const old = this.state.apps.get(app);
        // A second WebSocket for an app takes it over; the first is told so.
        if (old && old !== ws && old.readyState === WebSocket.OPEN)
          old.send(
            JSON.stringify({
              type: 'ApplicationReplaced',
              application: app,
              timestamp: new Date().toISOString(),
            }),
          );
        this.state.register(app, ws);
      }
      // Asterisk reads the next frame of a WebSocket only once it has answered the request before.
      let turn = Promise.resolve();
      ws.on('message', (data) => {
        const text = data.toString();
        const serve = () => this.restOverWebSocket(ws, apps, text).catch(() => {});
        if (!this.limits.serialWebSocketRequests) return void Promise.resolve(this.held(text)).then(serve);
        // Judged when the request reaches the head of the line, as a slow request would stop it there.
        turn = turn.then(() => this.held(text)).then(serve);
      });
      ws.on('close', () => {
        for (const app of apps) if (this.state.apps.get(app) === ws) this.state.unregister(app);
      });
      ws.on('error', () => {});
    });
  }

  /**
   * Asterisk falling behind on its WebSocket threads (the way a loaded one does): REST requests over
   * every events WebSocket are read but not served until the returned function is called; events
   * and HTTP requests (other threads) go on. Requests then run in their order of arrival. With
   * `from`, the line runs until a request it matches reaches the head (a request Asterisk is slow to
   * serve, e.g. a channel create), and stops there: that one and every request behind it wait.
   */
  stallWebSocketRequests(o: { from?: StallFrom } = {}): () => void {
    let open!: () => void;
    const gate = new Promise<void>((r) => {
      open = r;
    });
    const stall = { gate, from: o.from, engaged: !o.from };
    this.stall = stall;
    return () => {
      if (this.stall === stall) this.stall = null;
      open();
    };
  }

  /** What a request at the head of the line waits for before it is served (nothing: undefined). */
  private held(text: string): Promise<void> | undefined {
    const s = this.stall;
    if (!s) return undefined;
    if (!s.engaged) {
      let m: { method?: unknown; uri?: unknown } = {};
      try {
        m = JSON.parse(text) as typeof m;
      } catch {
        // Not a request (Asterisk answers it with an error): it does not stop the line.
      }
      if (!s.from!(String(m.method ?? ''), String(m.uri ?? ''))) return undefined;
      s.engaged = true;
    }
    return s.gate;
  }

  /** Runs one request through the route table. `conn` is what Asterisk keeps per connection. */
  private route(
    method: string,
    pathPart: string,
    q: URLSearchParams,
    body: unknown,
    conn?: Args['conn'],
  ): Promise<Reply> | Reply {
    const found = TREE.resolve(method, pathPart.split('/').filter(Boolean).map(decodeURIComponent));
    if ('status' in found) return found;
    const args = parseArgs(found.route, found.path, q, body);
    if (conn) args.conn = conn;
    return found.route.handler(args, this.state);
  }

  /**
   * ARI REST over WebSocket (Asterisk 20.13+/21.8+/22.3+): a `RESTRequest` frame is routed like
   * the HTTP request it stands for and answered with a `RESTResponse` frame on the same socket,
   * in order with the events (a created channel's StasisStart still comes first). Parameters come
   * from the uri's query string, `query_strings` ({name, value} pairs), a form-encoded body, or a
   * JSON body (whose values win), as Asterisk's documentation describes.
   */
  private async restOverWebSocket(ws: WebSocket, apps: string[], text: string): Promise<void> {
    let r: {
      type?: string;
      transaction_id?: string;
      request_id?: string;
      method?: string;
      uri?: string;
      query_strings?: Array<{ name: string; value: string }>;
      content_type?: string;
      message_body?: string;
    };
    try {
      r = JSON.parse(text);
    } catch {
      return; // Asterisk ignores frames it cannot parse
    }
    if (r?.type !== 'RESTRequest') return;
    const uri = String(r.uri ?? '').replace(/^\/+/, '');
    const [pathPart = '', qs = ''] = uri.split('?', 2);
    const q = new URLSearchParams(qs);
    for (const { name, value } of Array.isArray(r.query_strings) ? r.query_strings : [])
      if (!q.has(name)) q.set(name, String(value));
    let body: unknown;
    let reply: Reply | undefined;
    if (r.content_type === 'application/x-www-form-urlencoded')
      for (const [k, v] of new URLSearchParams(r.message_body ?? '')) if (!q.has(k)) q.set(k, v);
    if (r.content_type === 'application/json' && r.message_body) {
      try {
        body = JSON.parse(r.message_body);
      } catch {
        reply = err(400, 'Malformed JSON body');
      }
    }
    if (!reply && !r.method) reply = err(400, 'method is required');
    reply ??= await this.route(String(r.method).toUpperCase(), pathPart, q, body);
    if (ws.readyState !== WebSocket.OPEN) return;
    const frame: Record<string, unknown> = {
      type: 'RESTResponse',
      transaction_id: r.transaction_id ?? '',
      request_id: r.request_id ?? '',
      status_code: reply.status,
      reason_phrase: STATUS_CODES[reply.status] ?? '',
      uri,
      timestamp: new Date().toISOString(),
      asterisk_id: this.model.asteriskId,
      application: apps[0] ?? '',
    };
    if (reply.body !== undefined) {
      frame.headers = [{ name: 'Content-type', value: 'application/json' }];
      frame.message_body = JSON.stringify(reply.body);
    }
    this.sendFrame(ws, JSON.stringify(frame));
  }

  /**
   * One frame to a client, the socket corked for the rest of the event-loop turn: the frames of a
   * turn (an event burst, a REST response and the events it caused) leave in one write, as the same
   * frames would from a busy Asterisk, instead of one syscall and one wake-up of the client each.
   * A frame larger than the stack Asterisk would build it on kills the simulator instead.
   */
  private sendFrame(ws: WebSocket, text: string): void {
    const bytes = outgoingFrameBytes(Buffer.byteLength(text));
    if (bytes > this.limits.wsFrameStackBytes)
      return this.crash(
        `a WebSocket frame of ${bytes} bytes overflows the ${this.limits.wsFrameStackBytes} bytes of stack Asterisk writes it on`,
        bytes,
      );
    corkUntilTurnEnds((ws as unknown as { _socket?: Duplex })._socket);
    ws.send(text);
  }

  dropWebSockets(): void {
    const held = [...this.state.apps.entries()];
    for (const ws of new Set(this.state.apps.values())) ws.terminate();
    for (const [app, ws] of held) if (this.state.apps.get(app) === ws) this.state.unregister(app);
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    if (!url.pathname.startsWith('/ari/')) return send(res, err(404, 'Not found'));
    if (!this.authed(req, url)) {
      res.setHeader('WWW-Authenticate', 'Basic realm="Asterisk REST Interface"');
      return send(res, err(401, 'Authentication required'));
    }
    let body: unknown;
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (chunks.length) {
      try {
        body = JSON.parse(Buffer.concat(chunks).toString());
      } catch {
        return send(res, err(400, 'Malformed JSON body'));
      }
    }
    const docs = /^\/ari\/api-docs\/(\w+)\.json$/.exec(url.pathname);
    if (docs) {
      // basePath follows the request's Host header, as Asterisk does.
      const host = req.headers.host ?? '127.0.0.1';
      const doc = docs[1] === 'resources' ? resourceListing(host) : resourceDoc(docs[1]!, host, ROUTES);
      return send(res, doc ? { status: 200, body: doc } : err(404, 'Resource not found'));
    }
    // Respond before or after events exactly as Asterisk may: see channels/create.
    const sock = req.socket as typeof req.socket & { ariConn?: Args['conn'] };
    sock.ariConn ??= {};
    send(
      res,
      await this.route(req.method ?? 'GET', url.pathname.slice(5), url.searchParams, body, sock.ariConn),
    );
  }
}

function send(res: ServerResponse, r: Reply): void {
  if (r.file) {
    res.writeHead(r.status, { 'content-type': r.file.contentType, 'content-length': r.file.bytes.length });
    res.end(r.file.bytes);
    return;
  }
  if (r.body === undefined) {
    res.writeHead(r.status);
    res.end();
    return;
  }
  const text = JSON.stringify(r.body);
  res.writeHead(r.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
