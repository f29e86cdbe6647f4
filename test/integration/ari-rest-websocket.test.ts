// ARI REST over WebSocket: the simulator answers RESTRequest frames as Asterisk 22.4+ does, and our
// client uses them (chosen by the node's version, or forced), keeps HTTP working, and fails the
// requests in flight when the WebSocket drops instead of leaving them hanging.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { AriError, type AriTransport, hasRestOverWebSocket } from '../../src/asterisk/ari.ts';
import type { AnyAriEvent } from '../../src/asterisk/types.ts';
import { cleanupEach } from '../helpers/cleanup.ts';
import { startSim } from '../helpers/sim-ari.ts';
import { ariClient, connected } from '../helpers/sim-clients.ts';

const cleanup = cleanupEach();

const sim = () => startSim(cleanup);

/** A raw events WebSocket that sends frames and collects what comes back. */
async function rawSocket(url: string, app: string) {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/ari/events?app=${app}&api_key=asterisk:asterisk`);
  cleanup.push(() => ws.terminate());
  const frames: Array<Record<string, unknown>> = [];
  ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
  await new Promise((r) => ws.once('open', r));
  const ask = async (req: Record<string, unknown>) => {
    const id = String(req.request_id);
    ws.send(JSON.stringify({ type: 'RESTRequest', ...req }));
    for (let i = 0; i < 200; i++) {
      const f = frames.find((x) => x.type === 'RESTResponse' && x.request_id === id);
      if (f) return f;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`no RESTResponse for ${id}`);
  };
  return { ws, frames, ask };
}

async function client(url: string, transport: AriTransport, apps = ['capconduit']) {
  const { c, events } = ariClient(url, cleanup, { apps, transport });
  return { c: await connected(c), events };
}

describe('ARI REST over WebSocket', () => {
  it('knows which Asterisk versions accept REST over the WebSocket', () => {
    expect(hasRestOverWebSocket('22.10.1')).toBe(true);
    // First released in 20.14.0, 21.9.0 and 22.4.0 (the 20.13/21.8/22.3 sources have no RESTRequest).
    expect(hasRestOverWebSocket('22.4.0')).toBe(true);
    expect(hasRestOverWebSocket('22.3.0')).toBe(false);
    expect(hasRestOverWebSocket('21.9.0')).toBe(true);
    expect(hasRestOverWebSocket('21.8.0')).toBe(false);
    expect(hasRestOverWebSocket('20.14.0')).toBe(true);
    expect(hasRestOverWebSocket('20.13.0')).toBe(false);
    expect(hasRestOverWebSocket('18.26.0')).toBe(false);
    expect(hasRestOverWebSocket('23.0.0')).toBe(true);
    expect(hasRestOverWebSocket('GIT-master-abc123')).toBe(false);
  });

  it('the simulator answers RESTRequest frames like Asterisk: ids echoed, status, reason, JSON body as a string', async () => {
    const s = await sim();
    const { ask } = await rawSocket(s.ariUrl, 'raw');
    const info = await ask({ request_id: 'r1', transaction_id: 't1', method: 'GET', uri: 'asterisk/info' });
    expect(info).toMatchObject({
      status_code: 200,
      reason_phrase: 'OK',
      request_id: 'r1',
      transaction_id: 't1',
    });
    expect(info.headers).toEqual([{ name: 'Content-type', value: 'application/json' }]);
    expect(JSON.parse(String(info.message_body)).system.version).toMatch(/^22\./);

    const missing = await ask({ request_id: 'r2', method: 'GET', uri: 'channels/nope' });
    expect(missing).toMatchObject({ status_code: 404, reason_phrase: 'Not Found', transaction_id: '' });
    expect(JSON.parse(String(missing.message_body))).toEqual({ message: 'Channel not found' });

    // Parameters by query string, by query_strings pairs, or by a JSON body (which wins).
    s.setEndpoint('ws-client', { answerAfterMs: 10_000 });
    const made = await ask({
      request_id: 'r3',
      method: 'POST',
      uri: 'channels/create?endpoint=PJSIP/nobody&app=raw',
      query_strings: [{ name: 'channelId', value: 'leg-1' }],
      content_type: 'application/json',
      message_body: JSON.stringify({ endpoint: 'PJSIP/ws-client', variables: { CAPCONDUIT_CALL_ID: 'c1' } }),
    });
    expect(made.status_code).toBe(200);
    expect(JSON.parse(String(made.message_body))).toMatchObject({
      id: 'leg-1',
      name: expect.stringMatching(/^PJSIP\/ws-client-/),
    });
    const gone = await ask({ request_id: 'r4', method: 'DELETE', uri: 'channels/leg-1?reason=bogus' });
    expect(gone).toMatchObject({ status_code: 400 });
    const hung = await ask({ request_id: 'r5', method: 'DELETE', uri: 'channels/leg-1' });
    expect(hung).toMatchObject({ status_code: 204, reason_phrase: 'No Content' });
    expect(hung.message_body).toBeUndefined();
  });

  it.each(['websocket', 'http'] as const)('drives a whole call with REST over %s', async (transport) => {
    const s = await sim();
    s.setEndpoint('alice', { answerAfterMs: 20 });
    const { c, events } = await client(s.ariUrl, transport);
    expect(c.restOverWs).toBe(transport === 'websocket');
    s.placeInboundCall({ did: '+12125550100', callerNumber: '+13105550000' });
    const waitEvent = async (pred: (e: AnyAriEvent) => boolean) => {
      for (let i = 0; i < 300; i++) {
        const e = events.find(pred);
        if (e) return e;
        await new Promise((r) => setTimeout(r, 10));
      }
      throw new Error('event not seen');
    };
    const start = (await waitEvent((e) => e.type === 'StasisStart')) as AnyAriEvent & {
      channel: { id: string };
    };
    const caller = start.channel.id;
    const leg = await c.channels.create({
      endpoint: 'PJSIP/alice',
      app: 'capconduit',
      channelId: 'leg-a',
      appArgs: 'leg',
    });
    expect(leg.id).toBe('leg-a');
    await waitEvent(
      (e) => e.type === 'StasisStart' && (e as { channel: { id: string } }).channel.id === 'leg-a',
    );
    await c.channels.dial('leg-a', { timeout: 5 });
    await waitEvent((e) => e.type === 'Dial' && (e as { dialstatus?: string }).dialstatus === 'ANSWER');
    await c.channels.answer(caller);
    await c.bridges.create({ bridgeId: 'b1' });
    await c.bridges.addChannel('b1', [caller, 'leg-a']);
    await expect(c.bridges.addChannel('b1', ['no-such-channel'])).rejects.toMatchObject({ status: 400 });
    await c.channels.hangup('leg-a');
    await waitEvent(
      (e) => e.type === 'ChannelDestroyed' && (e as { channel: { id: string } }).channel.id === 'leg-a',
    );
    await c.bridges.destroy('b1');
    await expect(c.channels.get('leg-a')).rejects.toBeInstanceOf(AriError);
    // REST answers never surface as events.
    expect(events.some((e) => (e.type as string) === 'RESTResponse')).toBe(false);
  });

  it('uses HTTP when the node is older than REST over WebSocket (auto)', async () => {
    // A node that says it is Asterisk 22.2: an HTTP server answering /ari/asterisk/info plus a
    // WebSocket that must never see a RESTRequest.
    const seen: string[] = [];
    const wss = new WebSocketServer({ noServer: true });
    const http = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ system: { version: '22.2.0' } }));
    });
    http.on('upgrade', (req, socket, head) =>
      wss.handleUpgrade(req, socket, head, (ws) => ws.on('message', (d) => seen.push(`WS ${d}`))),
    );
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise((r) => http.close(r)));
    cleanup.push(() => wss.close());
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    const { c } = await client(url, 'auto');
    expect(c.restOverWs).toBe(false);
    await c.asterisk.info();
    expect(seen.filter((x) => x.startsWith('WS '))).toEqual([]);
    expect(seen.filter((x) => x.startsWith('GET /ari/asterisk/info')).length).toBe(2);
  });

  it('fails requests in flight at once when the WebSocket drops, and goes back to HTTP meanwhile', async () => {
    // A WebSocket that accepts RESTRequest frames and never answers, then drops.
    const wss = new WebSocketServer({ noServer: true });
    const sockets: WebSocket[] = [];
    const http = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ system: { version: '22.10.1' } }));
    });
    http.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => sockets.push(ws)));
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise((r) => http.close(r)));
    cleanup.push(() => wss.close());
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    const { c } = await client(url, 'auto');
    expect(c.restOverWs).toBe(true);
    const pending = c.channels.answer('some-channel');
    const settled = pending.then(
      () => 'resolved',
      (e: Error) => e.message,
    );
    await new Promise((r) => setTimeout(r, 50));
    for (const ws of sockets) ws.terminate();
    expect(await settled).toMatch(/WebSocket closed before the answer/);
    // While the WebSocket is down, REST goes over HTTP (this stub answers everything with 200).
    expect(c.restOverWs).toBe(false);
    await expect(c.asterisk.info()).resolves.toMatchObject({ system: { version: '22.10.1' } });
  });
});
