// The executable as an operator runs it: `capconduit migrate|create-key|start` as child processes.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, TEST_MASTER_KEY, journalDir } from '../helpers/env.ts';
import { freePort } from '../helpers/redis-server.ts';
import { waitFor } from '../helpers/wait.ts';
import { withDb } from '../global-setup.ts';

const run = promisify(execFile);
const BIN = 'bin/capconduit.js';

async function emptyDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `t_empty_${Math.random().toString(36).slice(2, 10)}`;
  const admin = postgres(withDb(process.env.DATABASE_URL!, 'postgres'), { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  return {
    url: withDb(process.env.DATABASE_URL!, name),
    async drop() {
      const a = postgres(withDb(process.env.DATABASE_URL!, 'postgres'), { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists ${name} with (force)`);
      await a.end();
    },
  };
}

// The daemon's CDR journal in a folder of this file's own: the default (.data/cdr-buffer in the
// checkout) is shared with any other daemon started there, whose records a start would replay.
const cdrDir = journalDir();
const env = (over: Record<string, string>) => ({
  PATH: process.env.PATH!,
  CDR_BUFFER_DIR: cdrDir,
  HOME: process.env.HOME ?? '/tmp',
  REDIS_URL: process.env.REDIS_URL!,
  MASTER_KEY: TEST_MASTER_KEY,
  LOG_LEVEL: 'info',
  LOG_PRETTY: 'false',
  ...over,
});

describe('capconduit CLI', { timeout: 120_000 }, () => {
  let empty: Awaited<ReturnType<typeof emptyDatabase>>;
  let migrated: Awaited<ReturnType<typeof freshDatabase>>;
  beforeAll(async () => {
    empty = await emptyDatabase();
    migrated = await freshDatabase();
  });
  afterAll(async () => {
    await empty?.drop();
    await migrated?.drop();
  });

  it('refuses to start on an unmigrated database; migrate applies then is a no-op', async () => {
    const refused = await run('node', [BIN, 'start'], {
      env: env({ DATABASE_URL: empty.url, API_PORT: '0' }),
    }).catch((e: { code: number; stdout: string }) => e);
    expect((refused as { code: number }).code).toBe(1);
    expect((refused as { stdout: string }).stdout).toContain(
      'pending migration(s): run \\"capconduit migrate\\"',
    );

    const first = await run('node', [BIN, 'migrate'], { env: env({ DATABASE_URL: empty.url }) });
    expect(first.stdout).toMatch(/^applied \d+ migration\(s\)/);
    const second = await run('node', [BIN, 'migrate'], { env: env({ DATABASE_URL: empty.url }) });
    expect(second.stdout).toMatch(/^database is up to date/);
  });

  it('names a bad variable and exits 78', async () => {
    const r = await run('node', [BIN, 'start'], {
      env: env({ DATABASE_URL: 'mysql://nope', API_PORT: 'x' }),
    }).catch((e: { code: number; stderr: string }) => e);
    expect((r as { code: number }).code).toBe(78);
    expect((r as { stderr: string }).stderr).toContain('DATABASE_URL: must be a postgres:// URL');
    expect((r as { stderr: string }).stderr).toMatch(/API_PORT: /);
  });

  it('create-key prints the key once and rejects bad options', async () => {
    const ok = await run(
      'node',
      [BIN, 'create-key', '--role', 'admin', '--allow-ip', '127.0.0.1', '--json'],
      {
        env: env({ DATABASE_URL: migrated.url }),
      },
    );
    const k = JSON.parse(ok.stdout) as { key: string; role: string };
    expect(k.role).toBe('admin');
    expect(k.key).toMatch(/^cc_[\w-]{8}_[\w-]{43}$/);
    const bad = await run('node', [BIN, 'create-key', '--role', 'seller'], {
      env: env({ DATABASE_URL: migrated.url }),
    }).catch((e: { code: number; stderr: string }) => e);
    expect((bad as { code: number }).code).toBe(2);
    expect((bad as { stderr: string }).stderr).toContain('--seller');
  });

  it('start serves /health and stops with exit 0 on SIGTERM', async () => {
    const port = await freePort();
    const p: ChildProcess = spawn('node', [BIN, 'start'], {
      env: env({ DATABASE_URL: migrated.url, API_PORT: String(port) }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    p.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const exited = new Promise<number | null>((r) => p.once('exit', (c) => r(c)));
    try {
      // Started is an event (the log line, or an early exit), not a deadline: a loaded machine
      // can take long to load the daemon.
      await waitFor(() => out.includes('capconduit started') || p.exitCode !== null || undefined, 100_000);
      const status = await fetch(`http://127.0.0.1:${port}/health`).then(
        (r) => r.status,
        () => 0,
      );
      expect(status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${port}/ready`)).status).toBe(200);
      p.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(out).toContain('capconduit started');
      expect(out).toContain('"msg":"stopped"');
    } finally {
      if (p.exitCode === null) p.kill('SIGKILL');
    }
  });
});
