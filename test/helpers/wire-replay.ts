// A loopback stand-in for Asterisk that answers as a recorded real Asterisk 22.10.1 did
// (test/fixtures/asterisk-wire/raw/*.raw.jsonl: every ARI request and answer, events WebSocket
// frame and AMI frame of one scenario, with the exact ids and header order). ARI requests are
// matched to the next unanswered recorded request of the same method and path; the WebSocket
// plays the recorded events in order (a GET asked again is answered as the last time); each AMI action gets the frames Asterisk sent after the
// recorded action of the same name (its ActionID swapped for the client's). A request the
// recording does not have is answered 404 and listed in `misses`.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import { WebSocketServer } from 'ws';

export type Entry = Record<string, unknown> & { src: string; seq: number };

export function loadRaw(name: string): Entry[] {
  const file = new URL(`../fixtures/asterisk-wire/raw/${name}.raw.jsonl`, import.meta.url);
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Entry);
}

/** An AMI frame as Asterisk writes it: `Key: Value` lines in the recorded order, a blank line. */
export function amiFrame(fields: Record<string, string>): string {
  return `${Object.entries(fields)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`;
}

export async function startReplay(entries: Entry[]) {
  const http = entries.filter((e) => e.src === 'ari.http' && !String(e.path).includes('/api-docs/'));
  const used = new Set<Entry>();
  const misses: string[] = [];
  const wss = new WebSocketServer({ noServer: true });
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const same = (e: Entry) => e.method === req.method && e.path === path && e.status !== 401;
    // A GET asked again (our client lists channels by itself at connect) gets the same answer.
    const hit =
      http.find((e) => !used.has(e) && same(e)) ?? (req.method === 'GET' ? http.findLast(same) : undefined);
    req.resume();
    if (!hit) {
      misses.push(`${req.method} ${path}`);
      res.writeHead(404, { 'content-type': 'application/json' });
      return void res.end('{"message":"Resource not found"}');
    }
    used.add(hit);
    if (hit.resBody === null || hit.resBody === undefined) {
      res.writeHead(Number(hit.status));
      return void res.end();
    }
    const text = JSON.stringify(hit.resBody);
    res.writeHead(Number(hit.status), { 'content-type': String(hit.ctype ?? 'application/json') });
    res.end(text);
  });
  server.on('upgrade', (req, socket, head) =>
    wss.handleUpgrade(req, socket, head, (ws) => {
      for (const e of entries) if (e.src === 'ari.ws') ws.send(JSON.stringify(e.data));
    }),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));

  // AMI: the recorded frames of the main connection, grouped after the action that preceded them.
  const ami = entries.filter((e) => e.conn === 'main' && (e.src === 'ami.send' || e.src === 'ami.recv'));
  const sends = ami.filter((e) => e.src === 'ami.send');
  const after = (send: Entry) => {
    const from = ami.indexOf(send) + 1;
    const next = ami.findIndex((e, i) => i >= from && e.src === 'ami.send');
    return ami.slice(from, next < 0 ? undefined : next).filter((e) => e.kind !== 'banner');
  };
  const answered = new Set<Entry>();
  const banner = String(entries.find((e) => e.kind === 'banner')?.banner ?? 'Asterisk Call Manager/11.0.0');
  const sockets = new Set<Socket>();
  const amiServer = createTcpServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.write(`${banner}\r\n`);
    let buf = '';
    sock.on('data', (d) => {
      buf += d.toString();
      for (let i = buf.indexOf('\r\n\r\n'); i >= 0; i = buf.indexOf('\r\n\r\n')) {
        const fields = Object.fromEntries(
          buf
            .slice(0, i)
            .split('\r\n')
            .map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
        );
        buf = buf.slice(i + 4);
        const send = sends.find(
          (s) =>
            !answered.has(s) &&
            String((s.frame as Record<string, string>).Action).toLowerCase() === fields.action?.toLowerCase(),
        );
        if (!send) {
          misses.push(`AMI ${fields.action}`);
          continue;
        }
        answered.add(send);
        const recordedId = (send.frame as Record<string, string>).ActionID;
        for (const e of after(send)) {
          const f = { ...(e.frame as Record<string, string>) };
          if (f.ActionID === recordedId && fields.actionid) f.ActionID = fields.actionid;
          sock.write(amiFrame(f));
        }
      }
    });
  });
  await new Promise<void>((r) => amiServer.listen(0, '127.0.0.1', r));
  return {
    ariUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    amiPort: (amiServer.address() as AddressInfo).port,
    misses,
    /** The recorded ARI requests not asked for yet. */
    unanswered: () => http.filter((e) => !used.has(e)),
    async stop() {
      for (const s of sockets) s.destroy();
      for (const c of wss.clients) c.terminate();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await new Promise((r) => amiServer.close(r));
    },
  };
}
