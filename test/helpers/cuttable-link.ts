// A TCP relay put between the daemon and the simulator (the fault bench has one for ARI and one for AMI),
// so that a link can be cut as a network cut does: every connection it carries is reset at once and
// new ones are refused until the link is restored. The daemon sees what it sees when a switch or a
// firewall between it and Asterisk fails, while Asterisk (the simulator) keeps running.
import { createServer, type Socket, connect } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface CuttableLink {
  port: number;
  /** Resets every connection open now and refuses new ones until restore(). */
  cut(): void;
  /**
   * Cuts the link (as `cut`) the first time a client sends bytes `match` accepts, before they are
   * passed on: a fault at one exact request.
   */
  cutOn(match: (sent: Buffer) => boolean): void;
  restore(): void;
  close(): Promise<void>;
}

export async function cuttableLink(targetPort: number, host = '127.0.0.1'): Promise<CuttableLink> {
  const open = new Set<Socket>();
  let down = false;
  let trigger: ((sent: Buffer) => boolean) | null = null;
  const cut = () => {
    down = true;
    // A reset, not a FIN: neither side gets a clean close, as when the path between them fails.
    for (const s of [...open]) s.resetAndDestroy();
    open.clear();
  };
  const server = createServer((client) => {
    if (down) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(targetPort, host);
    open.add(client);
    open.add(upstream);
    // Ahead of the pipe: matching bytes are never passed on.
    client.prependListener('data', (sent: Buffer) => {
      if (trigger?.(sent)) {
        trigger = null;
        cut();
      }
    });
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => {
      open.delete(client);
      open.delete(upstream);
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
    cut,
    cutOn(match) {
      trigger = match;
    },
    restore() {
      down = false;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of open) s.destroy();
        server.close(() => r());
      }),
  };
}
