// The channel list read in slices (AriRequests.list, HttpTransport.listJson): the same channels as
// the node's own list at hundreds of calls (an answer of many chunks), and every way an answer can
// fail — cut short, stalled past the bound, an error status — rejects instead of giving a partial
// list, which a reconcile would read as calls that ended.
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { AriError, AriTimeoutError } from '../../src/asterisk/errors.ts';
import { HttpTransport } from '../../src/asterisk/transport-http.ts';
import { cleanupEach } from '../helpers/cleanup.ts';
import { startSim } from '../helpers/sim-ari.ts';
import { ariClient, connected } from '../helpers/sim-clients.ts';
import { waitFor } from '../helpers/wait.ts';

const cleanup = cleanupEach();

/** A stand-in node whose `GET /ari/channels` answer is written by `answer`. */
async function node(answer: (res: ServerResponse) => void): Promise<HttpTransport> {
  const server: Server = createServer((_req, res) => answer(res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanup.push(() => {
    server.closeAllConnections();
    return new Promise((r) => server.close(r));
  });
  const { port } = server.address() as AddressInfo;
  const t = new HttpTransport({
    base: `http://127.0.0.1:${port}/ari`,
    user: 'u',
    password: 'p',
    timeoutMs: 60_000,
    maxSockets: 1,
  });
  cleanup.push(() => t.destroy());
  return t;
}

describe('the channel list read in slices', () => {
  it("lists the same channels as the node's own list at hundreds of calls", async () => {
    const s = await startSim(cleanup);
    const { c } = ariClient(s.ariUrl, cleanup);
    await connected(c);
    for (let i = 0; i < 400; i++)
      s.placeInboundCall({ did: '14155550100', callerNumber: `1212555${String(i).padStart(4, '0')}` });
    await waitFor(() => s.channelCount() >= 400);
    const whole = (await (
      await fetch(`${s.ariUrl}/ari/channels?api_key=asterisk:asterisk`)
    ).json()) as Array<{ id: string }>;
    // Hundreds of KB: many chunks of the socket's reads, elements cut between them.
    expect(JSON.stringify(whole).length).toBeGreaterThan(4 * 65_536);
    const sliced = await c.channels.list();
    const byId = (xs: Array<{ id: string }>) => [...xs].sort((a, b) => a.id.localeCompare(b.id));
    // Nothing changed in between: no call ends by itself here.
    expect(byId(sliced)).toEqual(byId(whole));
  });

  it('reads an answer written a few bytes at a time, a character cut between two writes', async () => {
    const body = Buffer.from(JSON.stringify([{ id: 'a', name: 'Zoë ☎ 😀', v: { x: '[,]' } }, { id: 'b' }]));
    const t = await node((res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      let at = 0;
      const next = () => {
        if (at >= body.length) return res.end();
        res.write(body.subarray(at, at + 3));
        at += 3;
        setImmediate(next);
      };
      next();
    });
    expect(await t.listJson('/channels')).toEqual(JSON.parse(body.toString('utf8')));
  });

  it('rejects an answer cut short, never giving the part that came', async () => {
    const t = await node((res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('[{"id":"a"},{"id":"b"}');
      setImmediate(() => res.destroy());
    });
    await expect(t.listJson('/channels')).rejects.toThrow();
  });

  it('rejects an answer that stalls past its bound, head or body', async () => {
    const head = await node(() => {});
    await expect(head.listJson('/channels', 200)).rejects.toBeInstanceOf(AriTimeoutError);
    const body = await node((res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('[{"id":"a"},');
    });
    await expect(body.listJson('/channels', 200)).rejects.toBeInstanceOf(AriTimeoutError);
    expect(body.timeouts).toBe(1);
  });

  it('rejects an error status as AriError', async () => {
    const t = await node((res) => {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end('{"message":"busy"}');
    });
    const err = await t.listJson('/channels').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AriError);
    expect((err as AriError).status).toBe(503);
  });
});
