// ARI over HTTP + WebSocket, as Asterisk serves it under /ari: basic auth or api_key, JSON bodies,
// Asterisk's error statuses and bodies (ASTERISK-FACTS.md), one events WebSocket per app set.
import { randomUUID } from 'node:crypto';
import { type IncomingMessage, STATUS_CODES, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { corkUntilTurnEnds } from '../net/cork.ts';
import { resourceDoc, resourceListing } from './api-docs.ts';
import { REASON_CAUSE, type SimChannel, type SimModel } from './model.ts';

type Reply = { status: number; body?: unknown };
const err = (status: number, message: string): Reply => ({ status, body: { message } });

export class AriServer {
  private wss = new WebSocketServer({ noServer: true });
  /** app name -> the WebSocket holding it */
  apps = new Map<string, WebSocket>();
  /**
   * Event type filters per app (PUT /applications/{app}/eventFilter). Kept by app name across
   * reconnects, as Asterisk keeps an app it has seen.
   */
  filters = new Map<string, { allowed: Set<string>; disallowed: Set<string> }>();
  /** StasisBroadcast offers in progress, by channel id. */
  broadcasts = new Map<
    string,
    { winner: string | null; expired: boolean; resolve: (app: string | null) => void }
  >();

  /**
   * StasisBroadcast: offers the channel to every app whose name matches `filter` with a CallBroadcast
   * event; resolves with the first app that claims it, or null when nobody does within `timeoutMs`.
   */
  broadcast(c: SimChannel, filter: RegExp, timeoutMs: number): Promise<string | null> {
    return new Promise((resolve) => {
      const entry = {
        winner: null as string | null,
        expired: false,
        resolve: (app: string | null) => {
          clearTimeout(timer);
          resolve(app);
          // Kept a while so late claimants get 409 rather than 404.
          setTimeout(() => this.broadcasts.delete(c.id), 5000).unref();
        },
      };
      const timer = setTimeout(() => {
        entry.expired = true;
        entry.resolve(null);
      }, timeoutMs);
      this.broadcasts.set(c.id, entry);
      const targets = [...this.apps.keys()].filter((a) => filter.test(a));
      for (const app of targets)
        this.model.emit('ari-event', app, {
          type: 'CallBroadcast',
          timestamp: new Date().toISOString(),
          channel: this.model.json(c),
          caller: c.caller.number,
          called: c.dialplan.exten,
          asterisk_id: this.model.asteriskId,
          application: app,
        });
      if (!targets.length) {
        entry.expired = true;
        entry.resolve(null);
      }
    });
  }

  constructor(
    private model: SimModel,
    private user: string,
    private password: string,
  ) {
    model.on('ari-event', (app: string, ev: { type: string }) => {
      const ws = this.apps.get(app);
      if (ws?.readyState !== WebSocket.OPEN) return;
      const f = this.filters.get(app);
      // Asterisk's rules: disallowed wins; an empty allowed list allows everything.
      if (f && (f.disallowed.has(ev.type) || (f.allowed.size > 0 && !f.allowed.has(ev.type)))) return;
      sendFrame(ws, JSON.stringify(ev));
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
      socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    const apps = (url.searchParams.get('app') ?? '').split(',').filter(Boolean);
    if (!apps.length) {
      socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      for (const app of apps) {
        const old = this.apps.get(app);
        // A second WebSocket for an app takes it over; the first is told so.
        if (old && old !== ws && old.readyState === WebSocket.OPEN)
          old.send(
            JSON.stringify({
              type: 'ApplicationReplaced',
              application: app,
              timestamp: new Date().toISOString(),
            }),
          );
        this.apps.set(app, ws);
      }
      ws.on('message', (data) => void this.restOverWebSocket(ws, apps, data.toString()));
      ws.on('close', () => {
        for (const app of apps) if (this.apps.get(app) === ws) this.apps.delete(app);
      });
      ws.on('error', () => {});
    });
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
    let body: Record<string, unknown> = {};
    let reply: Reply | undefined;
    if (r.content_type === 'application/x-www-form-urlencoded')
      for (const [k, v] of new URLSearchParams(r.message_body ?? '')) if (!q.has(k)) q.set(k, v);
    if (r.content_type === 'application/json' && r.message_body) {
      try {
        body = JSON.parse(r.message_body) as Record<string, unknown>;
        // A JSON body's scalar values overwrite parameters given any other way.
        for (const [k, v] of Object.entries(body))
          if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') q.set(k, String(v));
      } catch {
        reply = err(400, 'Malformed JSON body');
      }
    }
    if (!reply && !r.method) reply = err(400, 'method is required');
    reply ??= await this.route(
      String(r.method).toUpperCase(),
      pathPart.split('/').filter(Boolean).map(decodeURIComponent),
      q,
      body,
    );
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
    sendFrame(ws, JSON.stringify(frame));
  }

  dropWebSockets(): void {
    for (const ws of new Set(this.apps.values())) ws.terminate();
    this.apps.clear();
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    if (!url.pathname.startsWith('/ari/')) return send(res, err(404, 'Not found'));
    if (!this.authed(req, url)) {
      res.setHeader('WWW-Authenticate', 'Basic realm="Asterisk REST Interface"');
      return send(res, err(401, 'Authentication required'));
    }
    let body: Record<string, unknown> = {};
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (chunks.length) {
      try {
        body = JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>;
      } catch {
        return send(res, err(400, 'Malformed JSON body'));
      }
    }
    const q = url.searchParams;
    const docs = /^\/ari\/api-docs\/(\w+)\.json$/.exec(url.pathname);
    if (docs) {
      // basePath follows the request's Host header, as Asterisk does.
      const host = req.headers.host ?? '127.0.0.1';
      const doc = docs[1] === 'resources' ? resourceListing(host) : resourceDoc(docs[1]!, host);
      return send(res, doc ? { status: 200, body: doc } : err(404, 'Resource not found'));
    }
    const path = url.pathname.slice(4).split('/').filter(Boolean).map(decodeURIComponent);
    // Respond before or after events exactly as Asterisk may: see `create` below.
    send(res, await this.route(req.method ?? 'GET', path, q, body));
  }

  private applicationJson(name: string) {
    const f = this.filters.get(name);
    const list = (set?: Set<string>) => [...(set ?? [])].map((type) => ({ type }));
    return {
      name,
      channel_ids: [],
      bridge_ids: [],
      endpoint_ids: [],
      device_names: [],
      events_allowed: list(f?.allowed),
      events_disallowed: list(f?.disallowed),
    };
  }

  /**
   * The documented rules: an empty body empties both lists; a list given is set (an empty array
   * empties it); a list not given is left as it was. Each entry is an object with a string `type`.
   */
  private setEventFilter(app: string, body: Record<string, unknown>): Reply {
    const parse = (v: unknown): Set<string> | null | undefined => {
      if (v === undefined) return undefined;
      if (!Array.isArray(v)) return null;
      const out = new Set<string>();
      for (const e of v) {
        const t = (e as { type?: unknown } | null)?.type;
        if (typeof t !== 'string' || !t) return null;
        out.add(t);
      }
      return out;
    };
    const allowed = parse(body.allowed);
    const disallowed = parse(body.disallowed);
    if (allowed === null || disallowed === null) return err(400, 'Invalid format definition');
    const cur = this.filters.get(app) ?? { allowed: new Set<string>(), disallowed: new Set<string>() };
    const empty = allowed === undefined && disallowed === undefined;
    this.filters.set(app, {
      allowed: empty ? new Set() : (allowed ?? cur.allowed),
      disallowed: empty ? new Set() : (disallowed ?? cur.disallowed),
    });
    return { status: 200, body: this.applicationJson(app) };
  }

  private route(
    method: string,
    p: string[],
    q: URLSearchParams,
    body: Record<string, unknown>,
  ): Reply | Promise<Reply> {
    const m = this.model;
    const [r0, id, action] = p;
    if (r0 === 'asterisk' && id === 'info' && method === 'GET')
      return {
        status: 200,
        body: {
          system: { version: '22.10.1-capconduit-sim', entity_id: m.asteriskId },
          status: { startup_time: new Date().toISOString() },
        },
      };
    if (r0 === 'applications') {
      if (method === 'GET' && !id)
        return { status: 200, body: [...this.apps.keys()].map((name) => this.applicationJson(name)) };
      if (!id || (!this.apps.has(id) && !this.filters.has(id))) return err(404, 'Application not found');
      if (method === 'GET' && !action) return { status: 200, body: this.applicationJson(id) };
      if (method === 'PUT' && action === 'eventFilter') return this.setEventFilter(id, body);
    }
    if (r0 === 'channels') {
      if (!id && method === 'GET')
        return { status: 200, body: [...m.channels.values()].map((c) => m.json(c)) };
      if (id === 'create' && method === 'POST') return this.createChannel(q, body);
      if (!id && method === 'POST') return this.originate(q, body);
      const c = id ? m.channels.get(id) : undefined;
      if (!c) return err(404, 'Channel not found');
      if (!action && method === 'GET') return { status: 200, body: m.json(c) };
      if (!action && method === 'DELETE') {
        const reason = q.get('reason') ?? 'normal';
        const cause = q.get('reason_code') ? Number(q.get('reason_code')) : REASON_CAUSE[reason];
        if (cause === undefined) return err(400, 'Invalid reason for hangup provided');
        // Asterisk reports the request first (cause 32, soft), then the destruction with the cause.
        setImmediate(() => m.hangup(c.id, cause, true));
        return { status: 204 };
      }
      if (action === 'variable') {
        const variable = q.get('variable');
        if (!variable) return err(400, 'Variable name is required');
        if (method === 'GET') {
          if (!c.vars.has(variable)) return err(404, 'Provided variable was not found');
          return { status: 200, body: { value: c.vars.get(variable) } };
        }
        const value = q.get('value') ?? String(body.value ?? '');
        // A dialplan function is written, not stored: CALLERID(num|name) changes the channel's
        // caller, which Asterisk reports as ChannelCallerId (no ChannelVarset).
        const cid = /^CALLERID\((num|name)\)$/i.exec(variable);
        if (cid) {
          c.caller =
            cid[1]!.toLowerCase() === 'num' ? { ...c.caller, number: value } : { ...c.caller, name: value };
          m.event(c.app, 'ChannelCallerId', {
            caller_presentation: 0,
            caller_presentation_txt: 'Presentation Allowed, Not Screened',
            channel: m.json(c),
          });
          return { status: 204 };
        }
        c.vars.set(variable, value);
        m.event(c.app, 'ChannelVarset', { variable, value: c.vars.get(variable), channel: m.json(c) });
        return { status: 204 };
      }
      if (!c.app) return err(409, 'Channel not in Stasis application');
      if (action === 'answer' && method === 'POST') {
        m.setState(c, 'Up');
        return { status: 204 };
      }
      if (action === 'ring' && method === 'POST') {
        m.setState(c, 'Ringing');
        return { status: 204 };
      }
      if (action === 'dial' && method === 'POST') {
        if (c.state !== 'Down' || c.dialing) return err(409, 'Channel is not in the Down state');
        const caller = q.get('caller') ? m.channels.get(q.get('caller')!) : undefined;
        if (q.get('caller') && !caller) return err(404, 'Caller channel not found');
        setImmediate(() => m.dial(c, caller, Number(q.get('timeout') ?? 0)));
        return { status: 204 };
      }
      if (action === 'continue' && method === 'POST') {
        const app = c.app;
        c.app = null;
        m.event(app, 'StasisEnd', { channel: m.json(c) });
        // Back to the dialplan: the interpreter resumes after its Stasis() step.
        m.fire(c.id, 'exit');
        return { status: 204 };
      }
      if (action === 'move' && method === 'POST') {
        const app = q.get('app');
        if (!app) return err(400, 'app is required');
        if (!this.apps.has(app)) return err(422, `Application ${app} not registered`);
        const from = c.app;
        m.event(from, 'StasisEnd', { channel: m.json(c) });
        m.enterStasis(c, app, (q.get('appArgs') ?? '').split(',').filter(Boolean));
        return { status: 204 };
      }
      return err(404, 'Resource not found');
    }
    if (r0 === 'bridges') {
      if (!id && method === 'GET')
        return { status: 200, body: [...m.bridges.keys()].map((b) => m.bridgeJson(b)) };
      if (!id && method === 'POST') {
        const bid = q.get('bridgeId') ?? randomUUID();
        if (m.bridges.has(bid)) return err(409, 'Bridge with this id already exists');
        m.bridges.set(bid, {
          id: bid,
          type: q.get('type') ?? 'mixing',
          channels: new Set(),
          creationtime: new Date().toISOString(),
        });
        return { status: 200, body: m.bridgeJson(bid) };
      }
      const b = id ? m.bridges.get(id) : undefined;
      if (!b) return err(404, 'Bridge not found');
      if (!action && method === 'GET') return { status: 200, body: m.bridgeJson(b.id) };
      if (!action && method === 'DELETE') {
        for (const cid of [...b.channels]) {
          const c = m.channels.get(cid);
          if (c) m.leaveBridge(c);
        }
        m.bridges.delete(b.id);
        return { status: 204 };
      }
      if (action === 'addChannel' && method === 'POST') {
        const ids = (q.get('channel') ?? '').split(',').filter(Boolean);
        if (!ids.length) return err(400, 'channel is required');
        const chans = ids.map((x) => m.channels.get(x));
        if (chans.some((c) => !c)) return err(400, 'Channel not found');
        if (chans.some((c) => !c!.app)) return err(422, 'Channel not in Stasis application');
        for (const c of chans as SimChannel[]) {
          if (c.bridge === b.id) continue;
          if (c.bridge) m.leaveBridge(c);
          c.bridge = b.id;
          b.channels.add(c.id);
          m.emit('bridge-enter', c, b.id, b.channels.size);
          m.event(c.app, 'ChannelEnteredBridge', { bridge: m.bridgeJson(b.id), channel: m.json(c) });
        }
        return { status: 204 };
      }
      if (action === 'removeChannel' && method === 'POST') {
        const c = m.channels.get(q.get('channel') ?? '');
        if (!c) return err(400, 'Channel not found');
        if (c.bridge !== b.id) return err(422, 'Channel not in this bridge');
        m.leaveBridge(c);
        return { status: 204 };
      }
    }
    if (r0 === 'events' && id === 'claim' && method === 'POST') {
      const channelId = q.get('channelId');
      const application = q.get('application');
      if (!channelId || !application) return err(400, 'channelId and application are required');
      const b = this.broadcasts.get(channelId);
      if (!b) return err(404, 'No broadcast for this channel');
      // First claim wins; later (or late) claims are told 409, never 404.
      if (b.winner || b.expired) return err(409, 'Channel already claimed');
      if (!this.apps.has(application)) return err(422, `Application ${application} not registered`);
      b.winner = application;
      b.resolve(application);
      return { status: 204 };
    }
    return err(404, 'Resource not found');
  }

  /** PJSIP/<endpoint> exists only when configured; anything else fails like Asterisk's allocation. */
  private async resolveEndpoint(endpoint: string): Promise<string | null> {
    const [tech, rest] = endpoint.split('/', 2);
    if (tech?.toUpperCase() !== 'PJSIP' || !rest) return null;
    const name = rest.split('@')[0]!;
    return this.model.endpoints.has(name) || (await this.model.realtime(name)) ? name : null;
  }

  private async createChannel(q: URLSearchParams, body: Record<string, unknown>): Promise<Reply> {
    const endpoint = q.get('endpoint');
    const app = q.get('app');
    if (!endpoint || !app) return err(400, 'endpoint and app are required');
    const id = q.get('channelId') ?? randomUUID();
    if (this.model.channels.has(id)) return err(409, 'Channel with this id already exists');
    const ep = await this.resolveEndpoint(endpoint);
    if (!ep) return { status: 500, body: { error: 'Allocation failed' } };
    if (this.model.channels.has(id)) return err(409, 'Channel with this id already exists');
    const c = this.model.create({ id, name: this.model.nextName(`PJSIP/${ep}`), endpoint: ep });
    const vars = (body.variables ?? {}) as Record<string, string>;
    for (const [k, v] of Object.entries(vars)) c.vars.set(k, String(v));
    const args = (q.get('appArgs') ?? '').split(',').filter(Boolean);
    // Facts: the leg's StasisStart can reach the WebSocket before the HTTP 200 reaches the caller.
    this.model.enterStasis(c, app, args);
    return { status: 200, body: this.model.json(c) };
  }

  private originate(q: URLSearchParams, body: Record<string, unknown>): Reply {
    const endpoint = q.get('endpoint') ?? '';
    const local = /^Local\/([^@]+)@([\w-]+)$/.exec(endpoint);
    if (!local) return err(400, 'Only Local/<exten>@<context> originates are modelled');
    const cid = /^(?:"?([^"<]*)"?\s*)?<?([+\d]+)>?$/.exec(q.get('callerId') ?? '');
    const id = q.get('channelId') ?? randomUUID();
    if (this.model.channels.has(id)) return err(409, 'Channel with this id already exists');
    void body;
    this.model.emit('originate-local', {
      exten: local[1]!,
      context: local[2]!,
      callerNumber: cid?.[2] ?? '',
      callerName: cid?.[1]?.trim() ?? '',
      channelId: id,
      otherChannelId: q.get('otherChannelId') ?? undefined,
      app: q.get('app') ?? undefined,
      appArgs: q.get('appArgs') ?? undefined,
    });
    // Asterisk answers with the `;1` half.
    const one = this.model.channels.get(id);
    return one ? { status: 200, body: this.model.json(one) } : err(500, 'Allocation failed');
  }
}

function send(res: ServerResponse, r: Reply): void {
  if (r.body === undefined) {
    res.writeHead(r.status);
    res.end();
    return;
  }
  const text = JSON.stringify(r.body);
  res.writeHead(r.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * One frame to a client, the socket corked for the rest of the event-loop turn: the frames of a
 * turn (an event burst, a REST response and the events it caused) leave in one write, as the same
 * frames would from a busy Asterisk, instead of one syscall and one wake-up of the client each.
 */
function sendFrame(ws: WebSocket, text: string): void {
  corkUntilTurnEnds((ws as unknown as { _socket?: Duplex })._socket);
  ws.send(text);
}
