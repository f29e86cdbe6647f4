// A private redis-server on a free loopback port, for tests that stop and restart Redis.
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

export class PrivateRedis {
  private proc: ChildProcess | null = null;
  /** It also listens on this Unix socket (in the temp folder, named by the port). */
  readonly socket: string;
  /** `persistDir`: keep the data there (append-only file, fsync'd at each write), so a restart keeps it. */
  constructor(
    readonly port: number,
    readonly persistDir?: string,
  ) {
    this.socket = join(tmpdir(), `capconduit-redis-${port}.sock`);
  }
  get url() {
    return `redis://127.0.0.1:${this.port}`;
  }
  get socketUrl() {
    return `unix://${this.socket}`;
  }
  static async create(o: { persistDir?: string } = {}): Promise<PrivateRedis> {
    const r = new PrivateRedis(await freePort(), o.persistDir);
    await r.start();
    return r;
  }
  async start(): Promise<void> {
    const p = spawn(
      'redis-server',
      [
        '--bind',
        '127.0.0.1',
        '--port',
        String(this.port),
        '--unixsocket',
        this.socket,
        '--unixsocketperm',
        '700',
        '--save',
        '',
        ...(this.persistDir
          ? ['--dir', this.persistDir, '--appendonly', 'yes', '--appendfsync', 'always']
          : ['--appendonly', 'no']),
      ],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    this.proc = p;
    await redisReady(p);
  }
  /** Freezes the server (SIGSTOP): connections stay open and nothing answers, as in a partition. */
  pause(): void {
    this.proc?.kill('SIGSTOP');
  }
  resume(): void {
    this.proc?.kill('SIGCONT');
  }
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    this.proc = null;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGKILL');
    });
  }
}

/** Resolves once a redis-server started with stdout piped says it accepts connections. */
export function redisReady(p: ChildProcess): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let out = '';
    p.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Ready to accept connections')) resolve();
    });
    p.once('exit', (c) => reject(new Error(`redis-server exited ${c}: ${out.slice(-500)}`)));
  });
}
