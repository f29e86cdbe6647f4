// Checks that the ports a command is about to listen on are free, so a port in use is one line
// naming it and the flag or variable that sets it, instead of a listener's stack trace later.
import { createServer } from 'node:net';
import { PortInUseError } from './errors.ts';

export interface WantedPort {
  host: string;
  port: number;
  /** The flag or variable that sets it, e.g. `--ari-port` or `API_PORT`. */
  setting: string;
}

/** Binds and releases each port in turn; throws PortInUseError for the first one held. Port 0 is skipped. */
export async function ensurePortsFree(ports: WantedPort[]): Promise<void> {
  for (const p of ports) {
    if (p.port === 0) continue;
    await new Promise<void>((resolve, reject) => {
      const s = createServer();
      s.once('error', (e: NodeJS.ErrnoException) =>
        reject(e.code === 'EADDRINUSE' ? new PortInUseError(p.port, p.setting) : e),
      );
      s.listen(p.port, p.host, () => s.close(() => resolve()));
    });
  }
}

/** The PortInUseError for a listener's EADDRINUSE error, or the error itself. */
export function portError(e: unknown, setting: string): unknown {
  const err = e as NodeJS.ErrnoException & { port?: number };
  return err?.code === 'EADDRINUSE' && typeof err.port === 'number'
    ? new PortInUseError(err.port, setting)
    : e;
}
