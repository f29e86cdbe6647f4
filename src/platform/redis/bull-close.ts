// Closing BullMQ workers without hanging after a Redis outage.
//
// A worker blocks on a connection of its own, a duplicate BullMQ makes of the one it is given, and
// its close() waits for that connection's 'end'. ioredis never ends a client disconnected between
// two reconnect attempts: the client has no socket then, so no 'close' comes and no 'end' follows
// (and the disconnect cancels the next attempt, so it stays so). A worker closed while its blocking
// connection waits to reconnect — Redis down, or back for less than one back-off step — therefore
// waited forever (in a test that restarts Redis, the daemon's stop hung about one run in three).
//
// So a stop first gives BullMQ's connections a moment (a reconnect back-off step at the default
// grace) to be up again; if they all are, the workers close gracefully (current jobs finish); if
// not, they close without waiting for their jobs (force: a provisioning item left mid-way is taken
// over by the next worker once its lock expires, which the item runner makes safe). Either way each
// close is bounded and one that hangs is named in the log.
import type { Redis } from 'ioredis';
import { type StopLog, stopPart } from '../stop.ts';

/** What can be closed as a BullMQ worker is (force: without waiting for its current jobs). */
export interface Closable {
  close(force?: boolean): Promise<void>;
}

/**
 * The connection BullMQ is given, and every duplicate BullMQ makes of it (one per worker, to block
 * on): ioredis' public `duplicate`, followed.
 */
export class BullConnections {
  private readonly made = new Set<Redis>();

  constructor(readonly connection: Redis) {
    const duplicate = connection.duplicate.bind(connection);
    connection.duplicate = (...args: Parameters<Redis['duplicate']>) => {
      const d = duplicate(...args);
      this.made.add(d);
      d.once('end', () => this.made.delete(d));
      return d;
    };
  }

  /** The connection and its live duplicates. */
  all(): Redis[] {
    return [this.connection, ...this.made];
  }

  /** Resolves true once every connection is ready (or ended), false after `ms`. */
  async allUp(ms: number): Promise<boolean> {
    const waiting = this.all().filter((r) => r.status !== 'ready' && r.status !== 'end');
    if (!waiting.length) return true;
    let timer: NodeJS.Timeout | undefined;
    const up = await Promise.race([
      Promise.all(waiting.map((r) => new Promise<void>((resolve) => r.once('ready', () => resolve())))).then(
        () => true,
      ),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), ms);
      }),
    ]);
    clearTimeout(timer);
    return up;
  }
}

/**
 * Closes named workers, each within `ms`: gracefully when `up` (BullMQ's connections all up, see
 * BullConnections.allUp), else by force. Resolves once each has closed or been given up on (logged).
 */
export async function closeWorkers(
  workers: Array<[name: string, worker: Closable]>,
  up: boolean,
  log: StopLog,
  ms: number,
): Promise<void> {
  await Promise.all(workers.map(([name, w]) => stopPart(log, name, () => w.close(!up), ms)));
}

/** What closes a set of named workers (closeWorkers with its decision and bound applied). */
export type WorkerCloser = (workers: Array<[name: string, worker: Closable]>) => Promise<void>;
