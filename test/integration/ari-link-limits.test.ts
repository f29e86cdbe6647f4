// The ARI client against real-Asterisk limits: answers that grow with the number of calls never
// travel over the events WebSocket; a half-open link is found by pings and replaced; stop() closes
// with a handshake; requests in flight are bounded per transport, time-outs are typed, and a node
// that falls behind says so; after another connection takes our app name and leaves, we take it back.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import {
  type AriClient,
  type AriOptions,
  AriTimeoutError,
  type AriTransport,
} from '../../src/asterisk/ari.ts';
import { createAsteriskModule } from '../../src/asterisk/index.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { createMetrics } from '../../src/platform/metrics.ts';
import { cleanupEach } from '../helpers/cleanup.ts';
import { startSim } from '../helpers/sim-ari.ts';
import { ariClient } from '../helpers/sim-clients.ts';
import { testConfig } from '../helpers/env.ts';
import { tcpProxy } from '../helpers/tcp-proxy.ts';
import { waitFor } from '../helpers/wait.ts';

const log = createLogger({ level: 'silent' });
const cleanup = cleanupEach();

const sim = () => startSim(cleanup);

const client = (url: string, transport: AriTransport, o: Partial<AriOptions> = {}) =>
  ariClient(url, cleanup, { transport, ...o });

async function started(c: AriClient) {
  const up = new Promise((r) => c.once('connected', r));
  c.start();
  await up;
}

/**
 * A stand-in node (Asterisk 22.10.1 by its version) whose HTTP answers and WebSocket frames the test
 * controls: HTTP requests and RESTRequest frames are recorded and held until the test answers them.
 */
async function stubNode() {
  const http: Array<{ req: IncomingMessage; res: ServerResponse }> = [];
  const seen: string[] = [];
  const frames: Array<{ ws: WebSocket; f: Record<string, unknown> }> = [];
  const closes: number[] = [];
  const wss = new WebSocketServer({ noServer: true });
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    // The version, and the channel list every (re)connect asks for, are answered at once.
    if (req.url === '/ari/asterisk/info' || (req.method === 'GET' && req.url === '/ari/channels')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(req.url === '/ari/channels' ? [] : { system: { version: '22.10.1' } }));
      return;
    }
    http.push({ req, res });
  });
  server.on('upgrade', (req, socket, head) =>
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('message', (d) => frames.push({ ws, f: JSON.parse(d.toString()) }));
      ws.on('close', (code) => closes.push(code));
    }),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanup.push(
    () =>
      new Promise((r) => {
        for (const h of http) h.res.destroy();
        server.closeAllConnections();
        server.close(r);
      }),
  );
  cleanup.push(() => {
    for (const ws of wss.clients) ws.terminate();
    wss.close();
  });
  const answerFrame = (i: number, status = 204) => {
    const { ws, f } = frames[i]!;
    ws.send(
      JSON.stringify({
        type: 'RESTResponse',
        request_id: f.request_id,
        status_code: status,
        reason_phrase: 'No Content',
        uri: f.uri,
      }),
    );
  };
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    http,
    seen,
    frames,
    closes,
    answerFrame,
  };
}

describe('answers that grow with the number of calls', () => {
  it('travel over HTTP even with REST over the WebSocket on; one-channel requests use the WebSocket', async () => {
    const n = await stubNode();
    const { c } = client(n.url, 'websocket');
    await started(c);
    await waitFor(() => n.seen.includes('GET /ari/channels')); // the resync at connect
    const before = n.seen.length;
    await expect(c.channels.list()).resolves.toEqual([]);
    const answer = c.channels.answer('some-channel');
    const filter = c.applications.setDisallowedEvents('capconduit', ['ChannelVarset']);
    await waitFor(() => n.http.length === 1 && n.frames.length === 1);
    expect(n.seen.slice(before)).toEqual([
      'GET /ari/channels',
      'PUT /ari/applications/capconduit/eventFilter',
    ]);
    expect(n.frames[0]!.f).toMatchObject({
      type: 'RESTRequest',
      method: 'POST',
      uri: 'channels/some-channel/answer',
    });
    n.http[0]!.res.writeHead(200, { 'content-type': 'application/json' });
    n.http[0]!.res.end('{}');
    n.answerFrame(0);
    await expect(answer).resolves.toBeUndefined();
    await expect(filter).resolves.toEqual({});
  });

  it('a list of 1,200 channels (over 500 KB as one frame) comes over HTTP from the simulator', async () => {
    const s = await sim();
    const { c, events } = client(s.ariUrl, 'websocket');
    await started(c);
    for (let i = 0; i < 1200; i++)
      s.placeInboundCall({ did: '+12125550100', callerNumber: `+1310555${String(i).padStart(4, '0')}` });
    await waitFor(() => events.filter((e) => e.type === 'StasisStart').length >= 1200);
    const before = c.requestsSent;
    const list = await c.channels.list();
    expect(list.length).toBe(s.channelCount());
    expect(list.length).toBeGreaterThanOrEqual(1200);
    expect(JSON.stringify(list).length).toBeGreaterThan(500_000);
    expect(c.requestsSent).toEqual({ http: before.http + 1, websocket: before.websocket });
    // A request about one channel still goes over the WebSocket.
    await c.channels.get(list[0]!.id);
    expect(c.requestsSent.websocket).toBe(before.websocket + 1);
  });
});

describe('a half-open events WebSocket', () => {
  it('is found by pings (no pong, no frame) and replaced by a new connection that carries events', async () => {
    const s = await sim();
    const proxy = await tcpProxy(s.ariPort);
    cleanup.push(() => proxy.close());
    const { c, events } = client(`http://127.0.0.1:${proxy.port}`, 'websocket', {
      pingIntervalMs: 20,
      pongTimeoutMs: 200,
    });
    await started(c);
    await waitFor(() => c.lastPongAt > 0);
    const down = new Promise((r) => c.once('disconnected', r));
    proxy.freeze(); // every byte stops; both sockets stay open; no close ever comes
    await down;
    expect(c.silentDrops).toBe(1);
    expect(c.lastError).toMatch(/silent/);
    await waitFor(() => c.connected);
    s.placeInboundCall({ did: '+12125550100', callerNumber: '+13105550000' });
    await waitFor(() => events.some((e) => e.type === 'StasisStart'));
    expect(c.silentDrops).toBe(1);
  });

  it('a link that keeps answering pongs is never dropped', async () => {
    const s = await sim();
    const { c } = client(s.ariUrl, 'websocket', { pingIntervalMs: 10, pongTimeoutMs: 500 });
    await started(c);
    const first = c.lastPongAt ? c.lastPongAt : await waitFor(() => c.lastPongAt);
    await waitFor(() => c.lastPongAt > first + 50);
    expect(c.silentDrops).toBe(0);
    expect(c.reconnects).toBe(0);
  });
});

describe('stopping', () => {
  it('closes the events WebSocket with a close handshake (code 1000), not a cut', async () => {
    const n = await stubNode();
    const { c } = client(n.url, 'http');
    await started(c);
    await c.stop();
    await waitFor(() => n.closes.length === 1);
    expect(n.closes).toEqual([1000]);
  });
});

describe('back-pressure', () => {
  it('never has more than wsMaxInFlight requests on the WebSocket; the rest queue in order', async () => {
    const n = await stubNode();
    const { c } = client(n.url, 'websocket', { wsMaxInFlight: 2, overloadQueue: 3 });
    await started(c);
    const ps = [1, 2, 3, 4, 5].map((i) => c.channels.answer(`ch-${i}`));
    await waitFor(() => n.frames.length === 2);
    expect(c.load().websocket).toMatchObject({ inFlight: 2, queued: 3, limit: 2 });
    expect(c.load().overloaded).toBe(true);
    n.answerFrame(0);
    await waitFor(() => n.frames.length === 3);
    expect(n.frames.map((x) => x.f.uri)).toEqual([
      'channels/ch-1/answer',
      'channels/ch-2/answer',
      'channels/ch-3/answer',
    ]);
    expect(c.load().overloaded).toBe(false);
    for (let i = 1; i < 5; i++) {
      await waitFor(() => n.frames.length > i);
      n.answerFrame(i);
    }
    await Promise.all(ps);
    expect(c.load().websocket).toMatchObject({ inFlight: 0, queued: 0 });
  });

  it('never has more than httpMaxSockets requests on HTTP', async () => {
    const n = await stubNode();
    const { c } = client(n.url, 'http', { httpMaxSockets: 2 });
    await started(c);
    const ps = [1, 2, 3, 4].map((i) => c.channels.get(`ch-${i}`));
    await waitFor(() => n.http.length === 2);
    expect(c.load().http).toMatchObject({ inFlight: 2, queued: 2 });
    for (let i = 0; i < 4; i++) {
      await waitFor(() => n.http.length > i);
      n.http[i]!.res.writeHead(200, { 'content-type': 'application/json' });
      n.http[i]!.res.end('{}');
    }
    await Promise.all(ps);
    expect(c.load().http).toMatchObject({ inFlight: 0, queued: 0 });
  });

  it('a time-out is an AriTimeoutError: a sent request may have happened', async () => {
    const n = await stubNode();
    const { c } = client(n.url, 'websocket', { timeoutMs: 200 });
    await started(c);
    const e = await c.channels
      .create({ endpoint: 'PJSIP/x', app: 'capconduit', channelId: 'leg-1' })
      .catch((err: unknown) => err);
    expect(e).toBeInstanceOf(AriTimeoutError);
    expect(e).toMatchObject({ mayHaveHappened: true, method: 'POST', path: '/channels/create' });
    expect(n.frames.map((x) => x.f.uri)).toEqual([expect.stringMatching(/^channels\/create\?/)]);
    expect(c.timeouts.websocket).toBe(1);
  });

  it('a hangup takes the events WebSocket while it is idle, and its own lane once requests are unanswered there', async () => {
    const n = await stubNode();
    const { c } = client(n.url, 'websocket', { wsMaxInFlight: 8 });
    await started(c);
    // Nothing unanswered on the WebSocket: the hangup goes there (about half the cost of HTTP).
    const idle = c.cleanup.hangup('ch-1');
    await waitFor(() => n.frames.length === 1);
    expect(n.frames[0]!.f).toMatchObject({ method: 'DELETE', uri: expect.stringMatching(/^channels\/ch-1/) });
    n.answerFrame(0);
    await idle;
    // Four requests unanswered there: Asterisk serves them one at a time, so the hangup takes its lane.
    const work = [1, 2, 3, 4].map((i) => c.channels.answer(`ch-w${i}`));
    await waitFor(() => n.frames.length === 5);
    const busy = c.cleanup.hangup('ch-2');
    await waitFor(() => n.http.length === 1);
    expect(n.seen.at(-1)).toMatch(/^DELETE \/ari\/channels\/ch-2/);
    expect(n.frames).toHaveLength(5);
    for (let i = 1; i < 5; i++) n.answerFrame(i);
    n.http[0]!.res.writeHead(204).end();
    await Promise.all([busy, ...work]);
    expect(c.cleanupRequests).toMatchObject({ sent: 1, overWebSocket: 1, laneFull: 0 });
  });

  it('a hangup sent over the idle WebSocket that gets no answer is tried again on the lane, which cleanups then keep to', async () => {
    const n = await stubNode();
    const { c } = client(n.url, 'websocket');
    await started(c);
    // Asterisk stalls on its WebSocket right after the hangup was sent: no answer comes.
    const e = await c.cleanup.hangup('ch-1').catch((err: unknown) => err);
    expect(e).toBeInstanceOf(AriTimeoutError);
    expect(e).toMatchObject({ mayHaveHappened: true });
    expect(n.frames).toHaveLength(1);
    // The WebSocket looks idle again (nothing unanswered), but cleanups keep to their lane now.
    const next = c.cleanup.hangup('ch-2');
    await waitFor(() => n.http.length === 1);
    expect(n.seen.at(-1)).toMatch(/^DELETE \/ari\/channels\/ch-2/);
    n.http[0]!.res.writeHead(204).end();
    await next;
    expect(n.frames).toHaveLength(1);
  });

  it('a hangup goes over the events WebSocket once every cleanup connection is busy, ahead of the requests queued there', async () => {
    const n = await stubNode();
    const { c } = client(n.url, 'websocket', { cleanupMaxSockets: 1, wsMaxInFlight: 1 });
    await started(c);
    // The WebSocket carries one request at a time here, and one is unanswered: it is not idle.
    const held = c.channels.answer('ch-0');
    await waitFor(() => n.frames.length === 1);
    const first = c.cleanup.hangup('ch-1');
    await waitFor(() => n.http.length === 1); // the lane's one connection holds it, unanswered
    expect(n.seen.at(-1)).toMatch(/^DELETE \/ari\/channels\/ch-1/);
    // The lane is full: the next hangup does not wait for it, but for the WebSocket's one request.
    const second = c.cleanup.hangup('ch-2');
    // Requests for new work queue behind it; a hangup asked for later still goes before them.
    const work = [c.channels.answer('ch-3'), c.channels.answer('ch-4')];
    const third = c.cleanup.hangup('ch-5');
    expect(c.load().websocket).toMatchObject({ inFlight: 1, queued: 4 });
    for (let i = 0; i < 5; i++) {
      await waitFor(() => n.frames.length > i);
      n.answerFrame(i);
    }
    await Promise.all([held, second, third, ...work]);
    expect(n.frames.map((x) => `${x.f.method} ${String(x.f.uri).split('?')[0]}`)).toEqual([
      'POST channels/ch-0/answer',
      'DELETE channels/ch-2',
      'DELETE channels/ch-5',
      'POST channels/ch-3/answer',
      'POST channels/ch-4/answer',
    ]);
    n.http[0]!.res.writeHead(204).end();
    await first;
    expect(c.cleanupRequests).toMatchObject({ sent: 1, overWebSocket: 2, laneFull: 2 });
    expect(c.load().websocket).toMatchObject({ inFlight: 0, queued: 0 });
  });

  it('a request still queued when its bound ends never leaves: a time-out that did not happen', async () => {
    const n = await stubNode();
    const { c } = client(n.url, 'websocket', { wsMaxInFlight: 1 });
    await started(c);
    const held = c.channels.answer('ch-1');
    await waitFor(() => n.frames.length === 1);
    const e = await c
      .request('POST', '/channels/ch-2/answer', { timeoutMs: 50 })
      .catch((err: unknown) => err);
    expect(e).toBeInstanceOf(AriTimeoutError);
    expect(e).toMatchObject({ mayHaveHappened: false });
    n.answerFrame(0);
    await held;
    expect(n.frames.map((x) => x.f.uri)).toEqual(['channels/ch-1/answer']);
    expect(c.load().websocket).toMatchObject({ inFlight: 0, queued: 0 });
  });
});

describe('our app name taken by another connection', () => {
  async function rawApp(url: string) {
    const ws = new WebSocket(
      `${url.replace(/^http/, 'ws')}/ari/events?app=capconduit&api_key=asterisk:asterisk`,
    );
    const frames: Array<{ type: string }> = [];
    ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
    cleanup.push(() => ws.terminate());
    await new Promise((r) => ws.once('open', r));
    return { ws, frames };
  }

  it('is taken back once the other leaves: ready again and calls arrive', async () => {
    const s = await sim();
    const { c, events } = client(s.ariUrl, 'websocket', { reclaimProbeMs: 20, reclaimAfterMs: 3_600_000 });
    await started(c);
    const other = await rawApp(s.ariUrl);
    await waitFor(() => c.replaced);
    other.ws.close();
    await waitFor(() => !c.replaced && c.connected);
    s.placeInboundCall({ did: '+12125550100', callerNumber: '+13105550000' });
    await waitFor(() => events.some((e) => e.type === 'StasisStart'));
  });

  it('with the other connection still holding it, is taken back after the forced wait', async () => {
    const s = await sim();
    const { c } = client(s.ariUrl, 'websocket', { reclaimProbeMs: 20, reclaimAfterMs: 300 });
    await started(c);
    const other = await rawApp(s.ariUrl);
    await waitFor(() => c.replaced);
    // The other still holds the app: our probes see it; we take it back only after the forced wait.
    await waitFor(() => other.frames.some((f) => f.type === 'ApplicationReplaced'));
    expect(c.replaced).toBe(false);
    await waitFor(() => c.connected);
  });
});

describe('the asterisk module', () => {
  it('reports per node the link age, the requests in flight and queued, overload, and their metrics', async () => {
    const s = await sim();
    const metrics = createMetrics();
    const config = testConfig({ ASTERISK_ARI_PING_INTERVAL_MS: '20', ASTERISK_ARI_WS_MAX_IN_FLIGHT: '3' });
    const mod = createAsteriskModule({
      config: {
        ...config,
        asteriskNodes: [
          {
            id: 'n1',
            ariUrl: s.ariUrl,
            ariUser: 'asterisk',
            ariPassword: 'asterisk',
            amiHost: '127.0.0.1',
            amiPort: s.amiPort,
            amiUser: 'asterisk',
            amiSecret: 'asterisk',
          },
        ],
      },
      log,
      metrics,
    } as Parameters<typeof createAsteriskModule>[0]);
    await mod.start!();
    cleanup.push(() => mod.stop!());
    const node = mod.nodes.get('n1')!;
    await waitFor(() => node.ari.connected && node.health().ari.pongAgeMs !== null);
    s.placeInboundCall({ did: '+12125550100', callerNumber: '+13105550000' });
    await waitFor(() => node.health().ari.eventAgeMs !== null);
    // The connect's own requests (version, event filter, channel list) settle, then nothing is left.
    const idle = (r: { inFlight: number; queued: number }) => r.inFlight === 0 && r.queued === 0;
    await waitFor(() => idle(node.health().ari.requests.http) && idle(node.health().ari.requests.websocket));
    expect(node.health().ari).toMatchObject({ connected: true, overloaded: false });
    expect(node.overloaded()).toBe(false);
    const text = await metrics.metrics();
    for (const name of [
      'capconduit_asterisk_ari_requests_in_flight{node="n1",transport="websocket"',
      'capconduit_asterisk_ari_requests_queued{node="n1",transport="http"',
      'capconduit_asterisk_ari_oldest_wait_seconds{node="n1"',
      'capconduit_asterisk_overloaded{node="n1"',
      'capconduit_asterisk_ari_requests_total{node="n1",transport="http"',
      'capconduit_asterisk_ari_request_timeouts_total{node="n1",transport="websocket"',
      'capconduit_asterisk_ari_last_pong_timestamp_seconds{node="n1"',
      'capconduit_asterisk_ari_silent_drops_total{node="n1"',
    ])
      expect(text).toContain(name);
  });
});
