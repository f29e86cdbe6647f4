// A TCP relay between a client and a server, able to freeze the connections it carries: bytes stop
// flowing both ways while both sockets stay open, which is what a half-open link looks like (a NAT
// or firewall that forgot the connection). Connections made after a freeze flow normally.
import { createServer, type Socket, connect } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface TcpProxy {
  port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Stops all bytes on the connections open now (both directions), leaving them open. */
  freeze(): void;
  close(): Promise<void>;
}

export async function tcpProxy(targetPort: number, host = '127.0.0.1'): Promise<TcpProxy> {
  const pairs: Array<[Socket, Socket]> = [];
  const frozen: Socket[] = [];
  let accepted = 0;
  const server = createServer((client) => {
    accepted++;
    const upstream = connect(targetPort, host);
    pairs.push([client, upstream]);
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  return {
    port: (server.address() as AddressInfo).port,
    get accepted() {
      return accepted;
    },
    freeze() {
      for (const [a, b] of pairs.splice(0)) {
        a.unpipe(b);
        b.unpipe(a);
        a.pause();
        b.pause();
        // A close from either side must not reach the other either.
        a.removeAllListeners('close');
        b.removeAllListeners('close');
        frozen.push(a, b);
      }
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of frozen) s.destroy();
        for (const [a, b] of pairs) {
          a.destroy();
          b.destroy();
        }
        server.close(() => r());
      }),
  };
}
