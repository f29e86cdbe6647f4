// The simulator's model of Asterisk 22's limits under load, each on by default at Asterisk's value:
// REST over one events WebSocket served one request at a time, the 100-session HTTP limit (WebSockets
// count), the 65,535-byte incoming frame, and death by an outgoing frame larger than the stack it is
// built on (every call lost, nothing answers until a restart).
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Crash, Simulator, SimulatorLimits } from '../../src/simulator/index.ts';
import { AST_STACKSIZE, outgoingFrameBytes } from '../../src/simulator/limits.ts';
import { cleanupEach } from '../helpers/cleanup.ts';
import { startSim } from '../helpers/sim-ari.ts';
import { waitFor } from '../helpers/wait.ts';

const cleanup = cleanupEach();

const sim = (limits: Partial<SimulatorLimits> = {}, databaseUrl?: string): Promise<Simulator> =>
  startSim(cleanup, { limits, ...(databaseUrl ? { databaseUrl } : {}) });

/** An events WebSocket for `app` whose frames (and close code) the test reads. */
async function events(s: Simulator, app = 'lim') {
  const ws = new WebSocket(
    `${s.ariUrl.replace(/^http/, 'ws')}/ari/events?app=${app}&api_key=asterisk:asterisk`,
  );
  cleanup.push(() => ws.terminate());
  const frames: Array<Record<string, unknown>> = [];
  const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
  ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
  ws.on('error', () => {});
  await new Promise((r) => ws.once('open', r));
  const responses = () => frames.filter((f) => f.type === 'RESTResponse');
  return { ws, frames, closed, responses };
}

/** One HTTP/1.1 request on a kept-alive raw connection: the answer's status line, or how it ended. */
function rawRequest(s: Simulator, sock?: Socket): Promise<{ sock: Socket; status: string }> {
  return new Promise((resolve) => {
    const c = sock ?? connect(s.ariPort, '127.0.0.1');
    let got = '';
    const done = (status: string) => {
      c.removeAllListeners('data');
      resolve({ sock: c, status });
    };
    c.on('data', (d) => {
      got += d.toString();
      const end = got.indexOf('\r\n\r\n');
      const len = /content-length: (\d+)/i.exec(got);
      if (end >= 0 && len && got.length >= end + 4 + Number(len[1])) done(got.split('\r\n')[0]!);
    });
    c.once('error', () => done(got ? got.split('\r\n')[0]! : 'reset'));
    c.once('end', () => done(got ? got.split('\r\n')[0]! : 'closed unanswered'));
    c.write(
      'GET /ari/asterisk/ping HTTP/1.1\r\nHost: x\r\nAuthorization: Basic YXN0ZXJpc2s6YXN0ZXJpc2s=\r\n\r\n',
    );
    cleanup.push(() => c.destroy());
  });
}

describe('simulator: Asterisk limits under load', () => {
  it('serves REST requests over one WebSocket one at a time: a slow request holds the ones behind it', async () => {
    // Creating a channel to PJSIP/<unknown> looks the endpoint up in the realtime tables (round
    // trips to PostgreSQL); GET /asterisk/ping answers at once. Sent together, Asterisk answers
    // them in order.
    const db = process.env.DATABASE_URL;
    expect(db, 'DATABASE_URL').toBeTruthy();
    const order = async (serial: boolean) => {
      const s = await sim({ serialWebSocketRequests: serial }, db);
      const e = await events(s);
      e.ws.send(
        JSON.stringify({
          type: 'RESTRequest',
          request_id: 'slow',
          method: 'POST',
          uri: 'channels/create?endpoint=PJSIP/nobody&app=capconduit',
        }),
      );
      e.ws.send(
        JSON.stringify({ type: 'RESTRequest', request_id: 'fast', method: 'GET', uri: 'asterisk/ping' }),
      );
      await waitFor(() => e.responses().length === 2);
      return e.responses().map((f) => `${f.request_id} ${f.status_code}`);
    };
    expect(await order(true)).toEqual(['slow 500', 'fast 200']);
    // The model switched off: the quick answer overtakes, so the order above is the limit's doing.
    expect(await order(false)).toEqual(['fast 200', 'slow 500']);
  });

  it('holds 100 HTTP sessions (an events WebSocket is one) and closes the 101st unanswered', async () => {
    const s = await sim();
    expect(s.limits.httpSessions).toBe(100);
    await events(s);
    const held: Socket[] = [];
    for (let i = 0; i < 99; i++) {
      const r = await rawRequest(s);
      expect(r.status).toBe('HTTP/1.1 200 OK');
      held.push(r.sock);
    }
    expect(s.httpSessions().open).toBe(100);
    const over = await rawRequest(s);
    expect(['closed unanswered', 'reset']).toContain(over.status);
    expect(s.httpSessions().refused).toBe(1);
    // A kept-alive session still serves its next request; once one closes, a new one is let in.
    expect((await rawRequest(s, held[0])).status).toBe('HTTP/1.1 200 OK');
    held[1]!.destroy();
    await waitFor(() => s.httpSessions().open === 99);
    expect((await rawRequest(s)).status).toBe('HTTP/1.1 200 OK');
  });

  it('closes a WebSocket with 1009 when a frame it reads is over 65,535 bytes', async () => {
    const s = await sim();
    const e = await events(s);
    const frame = (pad: number) =>
      JSON.stringify({
        type: 'RESTRequest',
        request_id: `p${pad}`,
        method: 'GET',
        uri: 'asterisk/ping',
        pad: 'x'.repeat(pad),
      });
    // 65,527 payload bytes make a 65,535-byte masked frame: the largest Asterisk reads.
    const fits = frame(0);
    e.ws.send(fits + ' '.repeat(65_527 - Buffer.byteLength(fits)));
    await waitFor(() => e.responses().length === 1);
    const over = frame(0);
    e.ws.send(over + ' '.repeat(65_528 - Buffer.byteLength(over)));
    expect(await e.closed).toBe(1009);
  });

  it('dies as Asterisk does when a WebSocket answer is larger than the stack it is built on, and only then', async () => {
    const s = await sim();
    const e = await events(s, 'capconduit');
    const crashed = new Promise<Crash>((r) => s.events.once('crashed', r));
    // Calls held in Stasis (two channels each: the caller's Local pair).
    const place = (n: number) => {
      for (let i = 0; i < n; i++) s.placeInboundCall({ did: '14155550100', callerNumber: '12125550000' });
    };
    const listBytes = async () =>
      outgoingFrameBytes(
        Buffer.byteLength(await (await fetch(`${s.ariUrl}/ari/channels?api_key=asterisk:asterisk`)).text()),
      );
    place(200);
    await waitFor(() => s.channelCount() === 400);
    // Well under the stack: listed over the WebSocket as over HTTP.
    const perChannel = (await listBytes()) / 400;
    e.ws.send(JSON.stringify({ type: 'RESTRequest', request_id: 'small', method: 'GET', uri: 'channels' }));
    await waitFor(() => e.responses().length === 1);
    expect(s.crashed).toBeNull();
    // Enough calls that the list no longer fits: HTTP still answers it (the body is on the heap).
    const need = Math.ceil(s.limits.wsFrameStackBytes / perChannel) + 50;
    place(Math.ceil((need - 400) / 2));
    await waitFor(() => s.channelCount() >= need);
    expect(await listBytes()).toBeGreaterThan(s.limits.wsFrameStackBytes);
    expect(s.limits.wsFrameStackBytes).toBeLessThan(AST_STACKSIZE);
    expect(s.crashed).toBeNull();
    e.ws.send(JSON.stringify({ type: 'RESTRequest', request_id: 'big', method: 'GET', uri: 'channels' }));
    const crash = await crashed;
    expect(crash.frameBytes).toBeGreaterThan(s.limits.wsFrameStackBytes);
    // No answer, no close handshake, nothing listening, every call gone.
    expect(await e.closed).toBe(1006);
    expect(e.responses().map((f) => f.request_id)).toEqual(['small']);
    await expect(fetch(`${s.ariUrl}/ari/asterisk/ping?api_key=asterisk:asterisk`)).rejects.toThrow();
    await waitFor(() => s.channelCount() === 0);
    // Back after a restart, empty.
    await s.restart();
    expect(s.crashed).toBeNull();
    expect(
      (await fetch(`${s.ariUrl}/ari/channels?api_key=asterisk:asterisk`).then((r) => r.json())) as unknown[],
    ).toEqual([]);
  });
});
