// The daemon image's entrypoint run as the image runs it, without a Docker engine: the runtime
// stage's ENV, VOLUME and command read from docker/Dockerfile, the process started as an
// unprivileged user (nobody) in this root-owned checkout (as /app is root's in the image), and the
// only directory that user may write is the stand-in for the image's volume. The daemon must start,
// answer /health and /ready, keep its CDR journal on the volume and stop cleanly. The one
// difference: the sources run through the tsx loader (bin/capconduit.js) instead of the compiled
// dist/cli/entry.js, which is the same entry. Switching users needs root, as CI runs.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freshDatabase, redisPrefix, TEST_MASTER_KEY } from '../helpers/env.ts';
import { freePort } from '../helpers/redis-server.ts';

const UNPRIVILEGED = 65534; // nobody
const isRoot = process.getuid?.() === 0;

/** ENV, VOLUME, ENTRYPOINT and CMD of the Dockerfile's last stage. */
function runtimeStage() {
  const lines = readFileSync('docker/Dockerfile', 'utf8')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((l) => l.trim() && !l.trimStart().startsWith('#'));
  const stage = lines.slice(lines.map((l) => l.startsWith('FROM ')).lastIndexOf(true));
  const arg = (k: string) =>
    stage.filter((l) => l.startsWith(`${k} `)).map((l) => l.slice(k.length + 1).trim());
  return {
    env: Object.fromEntries(arg('ENV').map((v) => v.split('=') as [string, string])),
    volumes: arg('VOLUME').flatMap((v) => JSON.parse(v) as string[]),
    entrypoint: JSON.parse(arg('ENTRYPOINT').at(-1)!) as string[],
    cmd: JSON.parse(arg('CMD').at(-1)!) as string[],
  };
}

describe('the daemon image run as the image runs it', () => {
  const root = mkdtempSync(join(tmpdir(), 'image-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it.runIf(isRoot)(
    'starts unprivileged, writes only to its volume, serves /ready and stops with 0',
    { timeout: 180_000 },
    async () => {
      const image = runtimeStage();
      expect(image.entrypoint).toEqual(['node', 'dist/cli/entry.js']);
      // Each volume becomes a directory under `root` that only the unprivileged user owns.
      const onVolume = (p: string) =>
        image.volumes.some((v) => p === v || p.startsWith(`${v}/`)) ? join(root, p) : p;
      for (const v of image.volumes) {
        mkdirSync(join(root, v), { recursive: true });
        spawnSync('chown', ['-R', `${UNPRIVILEGED}:${UNPRIVILEGED}`, root]);
      }
      // In the image /app is world-readable; a checkout may sit under a 0700 folder (mktemp -d). Let the
      // unprivileged user through the checkout's parents for this run (execute bit only), then restore.
      const opened = openPathTo(process.cwd());
      const asUser = [
        '--reuid',
        String(UNPRIVILEGED),
        '--regid',
        String(UNPRIVILEGED),
        '--clear-groups',
        '--',
      ];
      // The checkout stands in for /app: the user can read it but not write to it.
      expect(spawnSync('setpriv', [...asUser, 'test', '-w', '.']).status).not.toBe(0);

      const db = await freshDatabase();
      const port = await freePort();
      const env: Record<string, string> = {
        PATH: process.env.PATH!,
        HOME: '/nonexistent',
        ...Object.fromEntries(Object.entries(image.env).map(([k, v]) => [k, onVolume(v)])),
        // What compose gives the daemon; loopback rather than the image's 0.0.0.0 on a shared machine.
        API_HOST: '127.0.0.1',
        API_PORT: String(port),
        DATABASE_URL: db.url,
        REDIS_URL: process.env.REDIS_URL!,
        REDIS_KEY_PREFIX: redisPrefix(),
        MASTER_KEY: TEST_MASTER_KEY,
        LOG_PRETTY: 'false',
      };
      const p: ChildProcess = spawn('setpriv', [...asUser, 'node', 'bin/capconduit.js', ...image.cmd], {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      p.stdout!.on('data', (d: Buffer) => {
        output += d.toString();
      });
      p.stderr!.on('data', (d: Buffer) => {
        output += d.toString();
      });
      const exited = new Promise<number | null>((r) => p.once('exit', (c) => r(c)));
      try {
        // Wait for the daemon to answer (or to die, which fails at once with its output).
        let status = 0;
        while (status !== 200 && p.exitCode === null) {
          status = await fetch(`http://127.0.0.1:${port}/ready`).then(
            (r) => r.status,
            () => 0,
          );
          if (status !== 200) await Promise.race([exited, new Promise((r) => setTimeout(r, 200))]);
        }
        expect(status, output).toBe(200);
        const journal = statSync(env.CDR_BUFFER_DIR!);
        expect(journal.isDirectory()).toBe(true);
        expect(journal.uid).toBe(UNPRIVILEGED);
        p.kill('SIGTERM');
        expect(await exited, output).toBe(0);
        expect(output).not.toMatch(/EACCES|EPERM/);
      } finally {
        if (p.exitCode === null) p.kill('SIGKILL');
        for (const [dir, mode] of opened) chmodSync(dir, mode);
        await db.drop();
      }
    },
  );
});

/** Adds o+x to every folder from / down to `dir` that lacks it; returns what to restore. */
function openPathTo(dir: string): Array<[string, number]> {
  const changed: Array<[string, number]> = [];
  let d = dir;
  for (;;) {
    const mode = statSync(d).mode & 0o7777;
    if (!(mode & 0o001)) {
      chmodSync(d, mode | 0o001);
      changed.push([d, mode]);
    }
    const up = dirname(d);
    if (up === d) return changed;
    d = up;
  }
}
