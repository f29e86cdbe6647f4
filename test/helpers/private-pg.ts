// A private PostgreSQL cluster for tests that stop and restart the server (the shared one must
// stay up for the other test files). As root, initdb/pg_ctl run as the postgres user.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMigrations } from '../../src/platform/db.ts';
import { freePort } from './redis-server.ts';

function pgBin(): string {
  const base = '/usr/lib/postgresql';
  const v = readdirSync(base).sort().reverse()[0];
  if (!v || !existsSync(join(base, v, 'bin', 'initdb')))
    throw new Error('PostgreSQL server binaries not found');
  return join(base, v, 'bin');
}

export class PrivatePostgres {
  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}
  get url() {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  private static asPg(cmd: string, args: string[]) {
    const root = process.getuid?.() === 0;
    execFileSync(root ? 'runuser' : cmd, root ? ['-u', 'postgres', '--', cmd, ...args] : args, {
      stdio: 'pipe',
    });
  }

  static async create(): Promise<PrivatePostgres> {
    const dir = mkdtempSync(join(tmpdir(), 'cc-pg-'));
    chmodSync(dir, 0o700);
    if (process.getuid?.() === 0) {
      const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
      chownSync(dir, uid, gid);
    }
    PrivatePostgres.asPg(join(pgBin(), 'initdb'), [
      '-D',
      dir,
      '-U',
      'postgres',
      '--auth=trust',
      '--no-sync',
      '-E',
      'UTF8',
      '--locale=C',
    ]);
    const pg = new PrivatePostgres(dir, await freePort());
    pg.start();
    await runMigrations(pg.url);
    return pg;
  }

  start(): void {
    PrivatePostgres.asPg(join(pgBin(), 'pg_ctl'), [
      '-D',
      this.dir,
      '-w',
      '-l',
      join(this.dir, 'log'),
      '-o',
      `-c listen_addresses=127.0.0.1 -p ${this.port} -k ${this.dir} -c fsync=off`,
      'start',
    ]);
  }

  stop(): void {
    PrivatePostgres.asPg(join(pgBin(), 'pg_ctl'), ['-D', this.dir, '-w', '-m', 'immediate', 'stop']);
  }

  destroy(): void {
    try {
      this.stop();
    } catch {
      // already stopped
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
