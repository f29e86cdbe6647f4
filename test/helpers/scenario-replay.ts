// Replays a recorded scenario of a real Asterisk 22.10.1 (a normalised transcript under
// test/fixtures/asterisk-wire/) against the simulator, and normalises what the simulator sends the
// way the recording was normalised, so that the two can be compared frame by frame.
//
// A transcript is a list of records per step: what the client did (`ari.http` requests, `ami.send`
// frames, `db` statements) and what Asterisk sent (`ari.http` answers, `ari.ws` events, `ami.recv`
// frames). The replay does the client's part in the recorded order, filling the recording's
// placeholders (`<uid:Local/x@ctx;2>`, `<uuid:bridge#1>`) with the ids the simulator gave out; after
// each step it waits until the simulator has sent as many events as Asterisk had by then.
//
// Normalisation (what may legitimately differ between two Asterisks, or two runs of one):
// - a channel uniqueid becomes `<uid:NAME>`, NAME the channel's name without its 8-hex counter
//   (`#2`, `#3` for later channels of the same name, in the order they were first seen); ids a
//   client chose (`conf-orig-id`) stay as they are;
// - a UUID becomes `<uuid:KIND#n>` (bridge, playback, recording; n in order of first appearance);
// - the 8-hex counter in a channel name becomes `<HEX8>`;
// - timestamps keep their layout with every digit a 9 (`<ts:9999-99-99T99:99:99.999+9999>`);
// - the Asterisk entity id becomes `<eid>`, a non-empty protocol_id `<protocol_id>`, durations
//   `<int>`, the login's generated ActionID `<epoch-ms>`, credentials their placeholders, a
//   manager session pointer (SessionID) `<ptr>`, the port of a security event's address `<port>`,
//   CoreStatus's dates and times `<date>`/`<time>` and its call count `<int>`, Ping's `<epoch>`.
// Everything else, field names, field order, types and values, is compared as recorded.
import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import postgres from 'postgres';
import WebSocket from 'ws';

export type Rec = Record<string, unknown> & { step: string; src: string };
export type Frame = Array<[string, string]>;

export const loadScenario = (name: string): Rec[] =>
  readFileSync(new URL(`../fixtures/asterisk-wire/${name}.jsonl`, import.meta.url), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Rec);

const RE_UID = /^\d{9,11}\.\d+$/;
const RE_UID_G = /(?<![\w.])\d{9,11}\.\d+(?![\w.])/g;
const RE_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RE_UUID_G = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const RE_TS_G = /\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})?/g;
const RE_CHAN_G = /\b([A-Za-z][A-Za-z0-9_]*\/[^\s,|'"<>=]*?)-([0-9a-f]{8})(?=;[12]\b|[\s,|'"<>]|$)/g;
const normName = (n: string) => n.replace(RE_CHAN_G, '$1-<HEX8>');
const nameKey = (n: string) => normName(n).replace(/-<HEX8>/g, '');

const RULES: Record<string, (v: string) => string> = {
  asterisk_id: () => '<eid>',
  entity_id: () => '<eid>',
  protocol_id: (v) => (v ? '<protocol_id>' : v),
  duration: (v) => (/^\d+$/.test(v) ? '<int>' : v),
  billableseconds: (v) => (/^\d+$/.test(v) ? '<int>' : v),
  seconds: (v) => (/^\d+$/.test(v) ? '<int>' : v),
  uptime: () => '<int>',
  lastreload: () => '<int>',
  actionid: (v) => (/^\d{13}$/.test(v) ? '<epoch-ms>' : v),
  sessionid: (v) => (/^0x[0-9a-f]+$/.test(v) ? '<ptr>' : v),
  corestartupdate: (v) => (/^\d{4}-\d\d-\d\d$/.test(v) ? '<date>' : v),
  corereloaddate: (v) => (/^\d{4}-\d\d-\d\d$/.test(v) ? '<date>' : v),
  corestartuptime: (v) => (/^\d\d:\d\d:\d\d$/.test(v) ? '<time>' : v),
  corereloadtime: (v) => (/^\d\d:\d\d:\d\d$/.test(v) ? '<time>' : v),
  coreprocessedcalls: (v) => (/^\d+$/.test(v) ? '<int>' : v),
  timestamp: (v) => (/^\d+\.\d+$/.test(v) ? '<epoch>' : v),
  localaddress: (v) => v.replace(/\/\d+$/, '/<port>'),
  remoteaddress: (v) => v.replace(/\/\d+$/, '/<port>'),
};

/** The ids the simulator gave out, and the placeholders the recording calls them by. */
export class Ids {
  private uid = new Map<string, string>();
  private byKey = new Map<string, number>();
  private uuid = new Map<string, string>();
  private kinds = new Map<string, number>();
  readonly placeholder = new Map<string, string>();
  private names = new Map<string, string>();
  /** The manager user the replay logs in as: a security event's AccountID naming it is `<ami-user>`. */
  amiUser = '';

  seeChannel(id: unknown, name: unknown) {
    if (typeof id !== 'string' || typeof name !== 'string' || !name.includes('/')) return;
    // The latest channel of a normalised name: what a recorded action naming `...-<HEX8>;1` means.
    this.names.set(normName(name), name);
    if (!RE_UID.test(id) || this.uid.has(id)) return;
    const k = nameKey(name);
    const n = (this.byKey.get(k) ?? 0) + 1;
    this.byKey.set(k, n);
    const p = `<uid:${k}${n > 1 ? `#${n}` : ''}>`;
    this.uid.set(id, p);
    this.placeholder.set(p, id);
  }

  seeUuid(u: unknown, kind: string) {
    if (typeof u !== 'string' || !RE_UUID.test(u) || this.uuid.has(u.toLowerCase())) return;
    const n = (this.kinds.get(kind) ?? 0) + 1;
    this.kinds.set(kind, n);
    const p = `<uuid:${kind}#${n}>`;
    this.uuid.set(u.toLowerCase(), p);
    this.placeholder.set(p, u);
  }

  /** Learns the channels and bridges an ARI body or event names. */
  walkJson(o: unknown): void {
    if (Array.isArray(o)) {
      for (const x of o) this.walkJson(x);
      return;
    }
    if (!o || typeof o !== 'object') return;
    const r = o as Record<string, unknown>;
    if (typeof r.id === 'string') {
      if (typeof r.name === 'string' && 'state' in r) this.seeChannel(r.id, r.name);
      else if ('bridge_type' in r) this.seeUuid(r.id, 'bridge');
      else if ('media_uri' in r) this.seeUuid(r.id, 'playback');
    }
    for (const v of Object.values(r)) this.walkJson(v);
  }

  /** Learns the channels an AMI frame names (`<Prefix>Uniqueid` with `<Prefix>Channel`). */
  walkAmi(f: Frame): void {
    for (const [k, v] of f) {
      const m = /^(.*)Uniqueid$/i.exec(k);
      if (m) {
        const name = f.find(([x]) => x.toLowerCase() === `${m[1]}channel`.toLowerCase())?.[1];
        if (/^bridge$/i.test(m[1]!)) this.seeUuid(v, 'bridge');
        else this.seeChannel(v, name);
      }
    }
  }

  str(s: string): string {
    return normName(
      s
        .replace(RE_TS_G, (m) => `<ts:${m.replace(/\d/g, '9')}>`)
        .replace(RE_UUID_G, (m) => this.uuid.get(m.toLowerCase()) ?? m)
        .replace(RE_UID_G, (m) => this.uid.get(m) ?? m),
    );
  }

  value(v: unknown, key?: string): unknown {
    if (v === null || v === undefined) return v;
    if (Array.isArray(v)) return v.map((x) => this.value(x, key));
    if (typeof v === 'object')
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [this.str(k), this.value(x, k)]));
    if (key?.toLowerCase() === 'accountid' && v === this.amiUser && v) return '<ami-user>';
    const rule = key ? RULES[key.toLowerCase()] : undefined;
    if (rule && typeof v === 'string') {
      const r = rule(v);
      if (r !== v) return r;
    }
    return typeof v === 'string' ? this.str(v) : v;
  }

  frame(f: Frame): Frame {
    return f.map(([k, v]) => [k, String(this.value(v, k))]);
  }

  /** A recorded string with its placeholders replaced by the simulator's ids. */
  fill(s: string, creds: Record<string, string>): string {
    let out = s.replace(/<(?:uid|uuid):[^>]+>/g, (p) => this.placeholder.get(p) ?? p);
    if (out.includes('<HEX8>')) out = this.names.get(out) ?? out;
    for (const [k, v] of Object.entries(creds)) out = out.replaceAll(k, v);
    return out;
  }
}

/** AMI frames from a socket, in order, fields in order, the greeting line dropped. */
export function amiReader(sock: Socket, onFrame: (f: Frame) => void) {
  let buf = '';
  sock.on('data', (d) => {
    buf += d.toString();
    for (let i = buf.indexOf('\r\n\r\n'); i >= 0; i = buf.indexOf('\r\n\r\n')) {
      const lines = buf.slice(0, i).split('\r\n');
      buf = buf.slice(i + 4);
      if (lines[0]?.startsWith('Asterisk Call Manager/')) lines.shift();
      if (lines.length)
        onFrame(
          lines.map((l) => {
            const c = l.indexOf(':');
            return [l.slice(0, c), l.slice(c + 2)] as [string, string];
          }),
        );
    }
  });
}

export interface Got {
  /** ARI answers, in request order: recorded request and what the simulator answered. */
  http: Array<{ rec: Rec; status: number; body: unknown }>;
  ws: Array<Record<string, unknown>>;
  ami: Frame[];
}

export interface ReplayOptions {
  ariUrl: string;
  amiPort: number;
  user: string;
  password: string;
  app: string;
  databaseUrl?: string;
  /** Event types neither side's comparison counts (see the test). */
  skipWs: Set<string>;
  skipAmi: Set<string>;
  /** Longest wait for a step's events before moving on (the comparison then reports them). */
  stepTimeoutMs?: number;
}

export async function replay(recs: Rec[], o: ReplayOptions): Promise<{ got: Got; ids: Ids }> {
  const ids = new Ids();
  ids.amiUser = o.user;
  const creds: Record<string, string> = {
    '<ari-user>': o.user,
    '<ari-pass>': o.password,
    '<ami-user>': o.user,
    '<ami-pass>': o.password,
    '<epoch-ms>': '1700000000000',
  };
  const got: Got = { http: [], ws: [], ami: [] };
  const ws = new WebSocket(
    `${o.ariUrl.replace(/^http/, 'ws')}/ari/events?app=${o.app}&api_key=${o.user}:${o.password}`,
  );
  ws.on('message', (d) => {
    const ev = JSON.parse(d.toString()) as Record<string, unknown>;
    ids.walkJson(ev);
    got.ws.push(ev);
  });
  await new Promise((r, j) => ws.once('open', r).once('error', j));
  const sock = connect(o.amiPort, '127.0.0.1');
  amiReader(sock, (f) => {
    ids.walkAmi(f);
    got.ami.push(f);
  });
  const sql = o.databaseUrl ? postgres(o.databaseUrl, { max: 1, onnotice: () => {} }) : null;
  const auth = `Basic ${Buffer.from(`${o.user}:${o.password}`).toString('base64')}`;
  const wrongAuth = `Basic ${Buffer.from(`${o.user}:wrong`).toString('base64')}`;
  // One kept-alive HTTP connection for every request, as the recording client had: Asterisk's
  // answers can depend on the connection (a failure's errno stays on its thread).
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const httpRequest = (url: string, r: { method: string; headers: Record<string, string>; body?: string }) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(url, { method: r.method, headers: r.headers, agent }, (res) => {
        let text = '';
        res.on('data', (d) => {
          text += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', reject);
      req.end(r.body);
    });
  const wsWant = (r: Rec) => r.src === 'ari.ws' && !o.skipWs.has(String(r.type));
  const amiWant = (r: Rec) =>
    r.src === 'ami.recv' &&
    r.conn === 'main' &&
    r.kind !== 'banner' &&
    !o.skipAmi.has(String((r.frame as Record<string, string>).Event ?? ''));
  // How many frames each thread (channel, bridge, action) must have had by the end of a step.
  const need = new Map<string, number>();
  const have = () => {
    const n = new Map<string, number>();
    const add = (k: string) => n.set(k, (n.get(k) ?? 0) + 1);
    for (const e of got.ws)
      if (!o.skipWs.has(String(e.type))) add(`ws ${wsSubject(ids.value(e) as Record<string, unknown>)}`);
    for (const f of got.ami)
      if (!o.skipAmi.has(f.find(([k]) => k === 'Event')?.[1] ?? '')) add(`ami ${amiSubject(ids.frame(f))}`);
    return n;
  };
  const behind = () => {
    const n = have();
    return [...need].some(([k, v]) => (n.get(k) ?? 0) < v);
  };
  const steps = [...new Set(recs.map((r) => r.step))];
  try {
    for (const step of steps) {
      const mine = recs.filter((r) => r.step === step);
      for (const r of mine) {
        if (r.src === 'db' && sql) await sql.unsafe(String(r.sql));
        if (r.src === 'ami.send' && r.conn === 'main') {
          const f = r.frame as Record<string, string>;
          sock.write(
            `${Object.entries(f)
              .map(([k, v]) => `${k}: ${ids.fill(v, creds)}\r\n`)
              .join('')}\r\n`,
          );
        }
        if (r.src === 'ari.http' && !String(r.path).startsWith('/ari/api-docs/')) {
          const q = new URLSearchParams(
            Object.entries((r.query ?? {}) as Record<string, string>).map(
              ([k, v]) => [k, ids.fill(v, creds)] as [string, string],
            ),
          ).toString();
          const body = r.reqBody ? JSON.stringify(r.reqBody) : undefined;
          const res = await httpRequest(`${o.ariUrl}${ids.fill(String(r.path), creds)}${q ? `?${q}` : ''}`, {
            method: String(r.method),
            headers: {
              ...(r.auth === 'basic' ? { authorization: auth } : {}),
              ...(r.auth === 'basic:wrong' ? { authorization: wrongAuth } : {}),
              ...(body ? { 'content-type': 'application/json' } : {}),
            },
            ...(body ? { body } : {}),
          });
          const parsed = res.text ? (JSON.parse(res.text) as unknown) : null;
          ids.walkJson(parsed);
          got.http.push({ rec: r, status: res.status, body: parsed });
        }
      }
      for (const r of mine.filter(wsWant)) {
        const k = `ws ${wsSubject(r.data as Record<string, unknown>)}`;
        need.set(k, (need.get(k) ?? 0) + 1);
      }
      for (const r of mine.filter(amiWant)) {
        const k = `ami ${amiSubject(Object.entries(r.frame as Record<string, string>))}`;
        need.set(k, (need.get(k) ?? 0) + 1);
      }
      // Asterisk's frames of this step, thread by thread (and so the ids the next step names),
      // before going on; a thread that never catches up is left to the comparison to report.
      const end = Date.now() + (o.stepTimeoutMs ?? 15_000);
      while (behind() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      if (process.env.REPLAY_DEBUG && behind()) {
        const n = have();
        console.log(
          step,
          [...need].filter(([k, v]) => (n.get(k) ?? 0) < v).map(([k, v]) => `${k} ${n.get(k) ?? 0}/${v}`),
        );
      }
    }
  } finally {
    agent.destroy();
    ws.close();
    sock.destroy();
    await sql?.end();
  }
  return { got, ids };
}

/** What a channel-, bridge- or call-level event is about: the thread its order is kept in. */
export function wsSubject(e: Record<string, unknown>): string {
  const c = e.channel as { id?: string } | undefined;
  const p = e.peer as { id?: string } | undefined;
  const b = e.bridge as { id?: string } | undefined;
  return String(c?.id ?? p?.id ?? b?.id ?? e.type);
}

/**
 * An AMI frame's thread: the action it answers (responses, list items, OriginateResponse: sent from
 * the action's own thread, so racing the channel's events in Asterisk), else its channel, else its
 * bridge.
 */
export function amiSubject(f: Frame): string {
  const get = (k: string) => f.find(([x]) => x === k)?.[1];
  return (
    get('ActionID') ?? get('Channel') ?? get('DestChannel') ?? get('BridgeUniqueid') ?? get('Event') ?? ''
  );
}

/** Items grouped by subject, each group in arrival order. */
export function threads<T>(items: T[], subject: (t: T) => string): Record<string, T[]> {
  const out: Record<string, T[]> = {};
  for (const t of items) {
    const k = subject(t);
    out[k] = [...(out[k] ?? []), t];
  }
  return out;
}
