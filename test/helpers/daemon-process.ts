// A daemon run as its own process (`capconduit start`), for tests that must kill it -9, freeze it
// with SIGSTOP or restart it. Three things every such test needs and used to repeat:
// - the environment an operator would set, pointed at this file's database, Redis prefix and
//   simulator node;
// - the address the API really listens on: the daemon binds port 0 and logs its address, so no
//   port is picked in advance and then lost to another test's socket between a kill and a restart;
// - the daemon's own log, printed when the test fails (a daemon that exits at start would otherwise
//   show only as "connection refused" at the end of a long wait).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFailed } from 'vitest';
import type { Simulator } from '../../src/simulator/index.ts';
import { daemonEntry } from './daemon-build.ts';
import { TEST_MASTER_KEY } from './env.ts';
import { simEnv } from './sim-env.ts';
import { waitFor } from './wait.ts';

/** Lines of a daemon's log kept for a failure report (the newest). */
const KEEP_LINES = 400;

export interface DaemonEnvOptions {
  databaseUrl: string;
  redisPrefix: string;
  sim: Simulator;
  nodeId: string;
  /** The CDR journal's folder; one is made (and removed by `removeDirs`) when not given. */
  cdrDir?: string;
  extra?: Record<string, string>;
}

const madeDirs: string[] = [];

/** The environment of a daemon process: as an operator would set it, API on a free port. */
export function daemonEnv(o: DaemonEnvOptions): Record<string, string> {
  let dir = o.cdrDir;
  if (!dir) {
    dir = mkdtempSync(join(tmpdir(), 'cc-cdr-'));
    madeDirs.push(dir);
  }
  return {
    PATH: process.env.PATH!,
    DATABASE_URL: o.databaseUrl,
    REDIS_URL: process.env.REDIS_URL!,
    REDIS_KEY_PREFIX: o.redisPrefix,
    MASTER_KEY: TEST_MASTER_KEY,
    API_HOST: '127.0.0.1',
    API_PORT: '0',
    // Info, not warn: the start line carries the API's address (and a failure report needs context).
    LOG_LEVEL: 'info',
    LOG_PRETTY: 'false',
    CDR_BUFFER_DIR: dir,
    // A daemon just started on a busy machine has a late event loop for a few seconds (loading its
    // modules): the calls a test places must not be shed for it. The shedding test sets its own.
    EVENT_LOOP_SHED_MS: '0',
    ...simEnv(o.sim, o.nodeId),
    ...o.extra,
  };
}

/** Removes the CDR journal folders `daemonEnv` made (call from afterAll). */
export function removeDaemonDirs(): void {
  for (const d of madeDirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export interface DaemonProcess {
  readonly proc: ChildProcess;
  /** The API's base URL, once the daemon has logged that it started. */
  readonly address: Promise<string>;
  /** Sends SIGKILL and waits until the process is gone. */
  kill(): Promise<void>;
  /** The newest lines of its stdout and stderr. */
  output(): string;
}

/**
 * Starts `capconduit start` with `env`, compiled (daemon-build.ts: the same code without tsx's
 * loader). Its log is kept and printed if the running test fails. Call from inside a test (the
 * failure hook is registered on the current test).
 */
export function spawnDaemon(
  env: Record<string, string>,
  label = env.ASTERISK_NODE_ID ?? 'daemon',
): DaemonProcess {
  const proc = spawn('node', [daemonEntry(), 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const keep = (l: string) => {
    lines.push(l);
    if (lines.length > KEEP_LINES) lines.shift();
  };
  let resolveAddress: (a: string) => void = () => {};
  let rejectAddress: (e: Error) => void = () => {};
  const address = new Promise<string>((res, rej) => {
    resolveAddress = res;
    rejectAddress = rej;
  });
  address.catch(() => {}); // a test that never asks for it must not see an unhandled rejection
  const reader = (stream: NodeJS.ReadableStream, tag: string) => {
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      for (const l of parts) {
        keep(`${tag} ${l}`);
        if (l.includes('"capconduit started"')) {
          const m = /"address":"([^"]+)"/.exec(l);
          if (m) resolveAddress(m[1]!);
        }
      }
    });
  };
  reader(proc.stdout!, 'out');
  reader(proc.stderr!, 'err');
  proc.once('exit', (code, signal) => {
    keep(`exited code=${code} signal=${signal}`);
    rejectAddress(new Error(`daemon exited before it started (code ${code}, signal ${signal})`));
  });
  onTestFailed(() => {
    console.error(
      `--- log of daemon ${label} (pid ${proc.pid}), newest ${lines.length} lines ---\n${lines.join('\n')}`,
    );
  });
  return {
    proc,
    address,
    async kill() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const gone = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGKILL');
      await gone;
    },
    output: () => lines.join('\n'),
  };
}

/**
 * Until a daemon holds the Stasis app: a probe call to an unknown DID is routed (and hung up),
 * not refused by the dialplan for want of an app. A call placed before would fail at once.
 */
export function appRegistered(sim: Simulator, ms = 120_000): Promise<true> {
  return waitFor(async () => {
    const before = sim.stats.stasisFailed;
    const probe = sim.placeInboundCall({ did: '+10000000000', callerNumber: '1' });
    // However long a busy daemon takes, wait for the probe to end either way.
    await waitFor(() => (sim.liveChannels().some((c) => c.id === probe) ? undefined : true), ms);
    return sim.stats.stasisFailed === before ? (true as const) : undefined;
  }, ms);
}

/** The value of one unlabelled-or-labelled sample line of a Prometheus text page, or undefined. */
export function metricValue(page: string, linePrefix: string): number | undefined {
  const line = page.split('\n').find((l) => l.startsWith(linePrefix));
  if (!line) return undefined;
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}
