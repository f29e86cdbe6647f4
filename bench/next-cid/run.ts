// Caller-ID benchmark. Prints, from one run on one machine:
//  - GET /next-cid on the daemon (its own process, `capconduit start`) with a 20,000-number pool,
//    and bare Fastify answering a constant (its own process too), both loaded by the same load
//    generator on loopback: requests/s, p50/p99 latency, and the ratio daemon/bare;
//  - CSV import time (the import shared by the API and the CLI) for 20,000 and 1,000,000 rows.
//   npx tsx bench/next-cid/run.ts [--duration 10] [--connections 40] [--rows-large 1000000] [--rate N] [--rounds N]
//     [--cpu-prof dir] [--ceiling] [--loadgen wrk|autocannon]
// The load generator is wrk (Debian's package `wrk`) when it is installed, else autocannon; the
// first line printed names it. It shares the two cores with what it loads, so its own cost per
// request is taken from the daemon (three processes: generator, daemon, Redis) more than from bare
// Fastify (two): autocannon spends 24-36 µs of CPU a request here, wrk 12-15 (BENCHMARKS.md).
// Needs DATABASE_URL/REDIS_URL (eval "$(bash scripts/services.sh env)"); works in a database of its own.
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import postgres from 'postgres';
import { createApiKey } from '../../src/auth/keys.ts';
import { importCallerIds } from '../../src/callerid/import.ts';
import { CallerIdService } from '../../src/callerid/service.ts';
import { CidStore } from '../../src/callerid/store.ts';
import { createDatabase, runMigrations } from '../../src/platform/db.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { createRedis } from '../../src/platform/redis/client.ts';
import { RedisKeys } from '../../src/platform/redis/keys.ts';
import { withDb } from '../common.ts';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    // 40: the most where p99 stays well under 10 ms on these 2-core machines (50 reads 8-10 ms).
    connections: { type: 'string', default: '40' },
    'rows-large': { type: 'string', default: '1000000' },
    // Offered load (requests/s over all connections) instead of as fast as answers come: CPU per
    // request compared at the same load, not skewed by how busy the machine is.
    rate: { type: 'string' },
    'cpu-prof': { type: 'string' },
    // Load the daemon and bare Fastify this many times, alternating, and print each pair and the
    // medians: single runs on these VMs vary by +-15-30%.
    rounds: { type: 'string', default: '1' },
    // Also load bench/next-cid/ceiling.ts each round: bare Fastify around the same pick, and around a
    // script that returns at once (the Redis hop alone).
    ceiling: { type: 'boolean', default: false },
    loadgen: { type: 'string' },
  },
});
const hasWrk = (() => {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (e) {
    // wrk --version prints its banner and exits 1; only a missing binary is ENOENT.
    return (e as NodeJS.ErrnoException).code !== 'ENOENT';
  }
})();
const loadgen = values.loadgen ?? (hasWrk && !values.rate ? 'wrk' : 'autocannon');
if (loadgen !== 'wrk' && loadgen !== 'autocannon') throw new Error('--loadgen is wrk or autocannon');
if (loadgen === 'wrk' && !hasWrk) throw new Error('wrk is not installed (apt-get install wrk)');
if (loadgen === 'wrk' && values.rate) throw new Error('--rate needs --loadgen autocannon (wrk has no rate)');
if (!hasWrk && !values.loadgen)
  process.stderr.write(
    '[bench] wrk is not installed (apt-get install wrk): autocannon loads instead, and its own CPU weighs on the ratio\n',
  );
const rounds = Math.max(1, Number(values.rounds));
const duration = Number(values.duration);
const connections = Number(values.connections);
const rowsLarge = Number(values['rows-large']);
const rate = values.rate ? Number(values.rate) : undefined;
const baseUrl = process.env.DATABASE_URL;
const redisUrl = process.env.REDIS_URL;
if (!baseUrl || !redisUrl)
  throw new Error('set DATABASE_URL and REDIS_URL (eval "$(bash scripts/services.sh env)")');

const tag = `b${Date.now().toString(36)}`;
const step = (m: string) => process.stderr.write(`[bench] ${m}\n`);
const admin = postgres(withDb(baseUrl, 'postgres'), { max: 1, onnotice: () => {} });
await admin.unsafe(`create database ${tag}`);
const dbUrl = withDb(baseUrl, tag);
const children: ChildProcess[] = [];
// The daemon's own factory: REDIS_URL may be redis://, rediss:// or unix:///path.
const redis = createRedis(redisUrl, { enableOfflineQueue: true });
const database = createDatabase(dbUrl, { max: 4 });

async function cleanup() {
  // Waits for the children, so a CPU profile is written before the database goes away.
  await Promise.all(
    children.map((c) =>
      c.exitCode !== null || c.signalCode !== null
        ? null
        : new Promise((r) => {
            c.once('exit', r);
            c.kill('SIGTERM');
          }),
    ),
  );
  await database.close();
  rmSync(join(tmpdir(), `${tag}-paths.txt`), { force: true });
  // Our keys only: everything under this run's prefix.
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${tag}:*`, 'COUNT', 5000);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
  redis.disconnect();
  await new Promise((r) => setTimeout(r, 300));
  await admin.unsafe(`drop database if exists ${tag} with (force)`);
  await admin.end();
}

/** A CSV of `n` valid NANP numbers: NPA `npa`, NXX 200.., lines 0000..9999. */
function csv(n: number, npa: string): Readable {
  let i = 0;
  return Readable.from(
    (function* () {
      yield 'caller_id,carrier,area_code,daily_limit,hourly_limit\n';
      const chunk: string[] = [];
      for (; i < n; i++) {
        const nxx = 200 + Math.floor(i / 10_000);
        chunk.push(`+1${npa}${nxx}${String(i % 10_000).padStart(4, '0')},bench,${npa},,\n`);
        if (chunk.length === 5000) yield chunk.splice(0).join('');
      }
      if (chunk.length) yield chunk.join('');
    })(),
  );
}

/** What a load run gives, whichever generator ran it. `genCpuMs`: the generator's own CPU. */
interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  total: number;
  non2xx: number;
  errors: number;
  genCpuMs: number;
}

function autocannonLoad(
  url: string,
  headers: Record<string, string>,
  paths: string[],
  overallRate?: number,
): Promise<LoadResult> {
  const c0 = process.cpuUsage();
  return new Promise((resolve, reject) => {
    let k = 0;
    autocannon(
      {
        url,
        connections,
        duration,
        ...(overallRate ? { overallRate } : {}),
        headers,
        requests: [
          { setupRequest: (req: autocannon.Request) => ({ ...req, path: paths[k++ % paths.length]! }) },
        ],
      },
      (err: Error | null, r: autocannon.Result) => {
        if (err) return reject(err);
        const c = process.cpuUsage(c0);
        resolve({
          rps: r.requests.average,
          p50: r.latency.p50,
          p99: r.latency.p99,
          total: r.requests.total,
          non2xx: r.non2xx,
          errors: r.errors,
          genCpuMs: (c.user + c.system) / 1000,
        });
      },
    );
  });
}

// CPU (ms) of this process's reaped children: wrk's, once it has exited.
const childrenCpuMs = () => {
  const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  return ((Number(f[13]) + Number(f[14])) * 1000) / 100;
};

function wrkLoad(url: string, headers: Record<string, string>, paths: string[]): Promise<LoadResult> {
  const pathsFile = join(tmpdir(), `${tag}-paths.txt`);
  writeFileSync(pathsFile, `${paths.join('\n')}\n`);
  const args = [
    '-t1',
    `-c${connections}`,
    `-d${duration}s`,
    '--timeout',
    '5s',
    '-s',
    'bench/next-cid/wrk.lua',
  ];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
  const c0 = childrenCpuMs();
  return new Promise((resolve, reject) => {
    execFile('wrk', [...args, url], { env: { ...process.env, WRK_PATHS: pathsFile } }, (err, out, errOut) => {
      if (errOut) process.stderr.write(errOut);
      if (err) return reject(err);
      const line = out.split('\n').find((l) => l.startsWith('{"requests"'));
      if (!line) return reject(new Error(`wrk printed no figures:\n${out}`));
      const w = JSON.parse(line) as Record<string, number>;
      resolve({
        rps: w.requests! / (w.duration_us! / 1e6),
        p50: w.p50_us! / 1000,
        p99: w.p99_us! / 1000,
        total: w.requests!,
        non2xx: w.non2xx!,
        errors: w.errors!,
        genCpuMs: childrenCpuMs() - c0,
      });
    });
  });
}

const load = (url: string, headers: Record<string, string>, paths: string[], overallRate?: number) =>
  loadgen === 'wrk' ? wrkLoad(url, headers, paths) : autocannonLoad(url, headers, paths, overallRate);

async function waitHttp(url: string) {
  for (let i = 0; i < 300; i++) {
    if (
      await fetch(url).then(
        (r) => r.status < 500,
        () => false,
      )
    )
      return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not come up`);
}

try {
  step('migrating a database of its own');
  await runMigrations(dbUrl);
  const log = createLogger({ level: 'warn' });
  const service = new CallerIdService({
    sql: database.sql,
    store: new CidStore(redis, new RedisKeys(tag)),
    log,
    instanceId: `${tag}-bench`,
    timezone: 'UTC',
    reservationTtlMs: 1000,
    agentRatePerMin: 1_000_000,
    flushEveryMs: 0,
  });
  await service.ensureReady();

  step('importing');
  // ---- import --------------------------------------------------------------------------------
  let t = performance.now();
  const small = await importCallerIds(database.sql, service, csv(20_000, '212'), { defaultPool: 'BENCH' });
  const import20k = performance.now() - t;
  t = performance.now();
  const large = await importCallerIds(database.sql, service, csv(rowsLarge, '415'), {
    defaultPool: 'BENCHBIG',
  });
  const importLarge = performance.now() - t;
  if (small.imported !== 20_000 || large.imported !== rowsLarge) throw new Error('import lost rows');

  // ---- next-cid: daemon vs bare Fastify -------------------------------------------------------
  const key = (await createApiKey(database.db, { role: 'dialer' })).key;
  const port = 19000 + Math.floor(Math.random() * 1000);
  // The daemon runs as production runs it: compiled (`npm run build`), not through the tsx loader.
  execFileSync('bash', ['scripts/build.sh'], { stdio: 'ignore' });
  const profile = values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', values['cpu-prof']] : [];
  const daemon = spawn('node', [...profile, 'dist/cli/entry.js', 'start'], {
    env: {
      ...process.env,
      DATABASE_URL: dbUrl,
      REDIS_KEY_PREFIX: tag,
      API_PORT: String(port),
      // The daemon's default levels (LOG_LEVEL info, /next-cid requests at warn), as operators run it.
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
      LOG_PRETTY: 'false',
      MASTER_KEY: process.env.MASTER_KEY ?? '11'.repeat(32),
      CID_RESERVATION_TTL_S: '1',
      CID_AGENT_RATE_PER_MIN: '100000000',
      CID_TIMEZONE: 'UTC',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(daemon);
  const bare = spawn('node', ['--import', 'tsx', 'bench/next-cid/bare.ts'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(bare);
  const portOf = (c: ChildProcess) =>
    new Promise<number>((resolve) =>
      c.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))),
    );
  const barePort = await portOf(bare);
  // --ceiling: bare Fastify around the same pick, and around a script that returns at once (the hop).
  const ceilingPorts: Array<[string, number, ChildProcess]> = [];
  if (values.ceiling)
    for (const mode of ['pick', 'hop']) {
      const c = spawn('node', ['--import', 'tsx', 'bench/next-cid/ceiling.ts', mode], {
        env: { ...process.env, REDIS_KEY_PREFIX: tag },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      children.push(c);
      ceilingPorts.push([mode, await portOf(c), c]);
    }
  step('waiting for the daemon');
  await waitHttp(`http://127.0.0.1:${port}/ready`);
  await waitHttp(`http://127.0.0.1:${barePort}/next-cid`);
  // Callees spread over the pool's NPA-NXXs and other area codes, 200 agents.
  const paths = Array.from({ length: 1000 }, (_, i) => {
    const to =
      i % 2
        ? `212${200 + (i % 2)}55${String(i % 100).padStart(2, '0')}`
        : `3125550${String(i % 1000).padStart(3, '0')}`;
    return `/next-cid?campaign=BENCH&to=${to}&agent=a${i % 200}`;
  });
  const auth = { authorization: `Bearer ${key}` };
  step('loading');
  await load(`http://127.0.0.1:${port}`, auth, paths.slice(0, 10)); // warm-up (JIT, key cache)
  // CPU time (user + system) of a process, in ms, from /proc.
  const cpuMs = (pid: number) => {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return { user: (Number(f[11]) * 1000) / 100, sys: (Number(f[12]) * 1000) / 100 };
  };
  // A server process's CPU (user + system) per request of a load, in µs.
  const serverUs = (a: ReturnType<typeof cpuMs>, b: ReturnType<typeof cpuMs>, r: LoadResult) =>
    Math.round(((b.user - a.user + b.sys - a.sys) * 1000) / r.total);
  // CPU of every PostgreSQL process (the usage flush's UPDATEs run there), per pid in ms: a
  // backend that exits between two readings must not count as negative time.
  const pgCpu = () => {
    const out = new Map<string, number>();
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      try {
        const st = readFileSync(`/proc/${d}/stat`, 'utf8');
        if (!st.includes('(postgres)')) continue;
        const f = st.split(') ')[1]!.split(' ');
        out.set(d, ((Number(f[11]) + Number(f[12])) * 1000) / 100);
      } catch {
        // gone meanwhile
      }
    }
    return out;
  };
  const pgCpuSince = (before: Map<string, number>) => {
    let t = 0;
    for (const [pid, ms] of pgCpu()) t += ms - (before.get(pid) ?? 0);
    return t;
  };
  // Redis CPU (ms) and how many socket reads and commands it processed: reads per request tell
  // how many round trips (wake-ups of redis-server) a request costs once writes are coalesced.
  const redisInfo = async () => {
    const info = await redis.info('all');
    const f = (k: string) => Number(new RegExp(`${k}:([\\d.]+)`).exec(info)?.[1] ?? 0);
    return {
      cpuMs: (f('used_cpu_user') + f('used_cpu_sys')) * 1000,
      reads: f('total_reads_processed'),
      commands: f('total_commands_processed'),
      // Every script and function call (the pick, the usage flush's take) as Redis times it, calls and µs.
      scripts: [...info.matchAll(/^cmdstat_(?:evalsha|fcall):calls=(\d+),usec=(\d+)/gm)].reduce(
        (a, m) => ({ calls: a.calls + Number(m[1]), usec: a.usec + Number(m[2]) }),
        { calls: 0, usec: 0 },
      ),
    };
  };

  const fmt = (r: LoadResult) =>
    `${Math.round(r.rps)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, non-2xx ${r.non2xx}, errors ${r.errors}`;
  process.stdout.write(`load generator: ${loadgen}\n`);
  const ratios: number[] = [];
  const p99s: number[] = [];
  for (let round = 1; round <= rounds; round++) {
    await fetch(`http://127.0.0.1:${port}/metrics`); // a scrape resets the event-loop delay histogram
    const c0 = cpuMs(daemon.pid!);
    const p0 = pgCpu();
    const r0 = await redisInfo();
    const ours = await load(`http://127.0.0.1:${port}`, auth, paths, rate);
    const c1 = cpuMs(daemon.pid!);
    const pgMs = pgCpuSince(p0);
    const daemonUser = c1.user - c0.user;
    const daemonSys = c1.sys - c0.sys;
    const r1 = await redisInfo();
    const redisCpu = r1.cpuMs - r0.cpuMs;
    // The daemon's own event-loop delay (prom-client's default metrics): stalls there are tail latency.
    const metrics = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text());
    const gauge = (name: string) =>
      Number(new RegExp(`^${name}(?:\\{[^}]*\\})? ([\\d.e+-]+)$`, 'm').exec(metrics)?.[1] ?? Number.NaN);
    // Answers of /next-cid by status over the daemon's life (its request histogram's counts).
    const statuses = [
      ...metrics.matchAll(
        /^capconduit_http_request_duration_seconds_count\{[^}]*route="\/next-cid"[^}]*status="(\d+)"[^}]*\} (\d+)$/gm,
      ),
    ]
      .map((m) => `${m[1]}: ${m[2]}`)
      .join(', ');
    const lag = `event-loop delay p99 ${(gauge('nodejs_eventloop_lag_p99_seconds') * 1000).toFixed(1)} ms, max ${(gauge('nodejs_eventloop_lag_max_seconds') * 1000).toFixed(1)} ms`;
    // The same requests as the daemon's (paths, key header): the load generator shares the two
    // cores, so a cheaper request to build and a shorter one to parse would favour the baseline.
    const b0 = cpuMs(bare.pid!);
    const base = await load(`http://127.0.0.1:${barePort}`, auth, paths);
    const bareUs = serverUs(b0, cpuMs(bare.pid!), base);
    const ceilings: Array<[string, LoadResult, number]> = [];
    for (const [mode, p, c] of ceilingPorts) {
      const x0 = cpuMs(c.pid!);
      const r = await load(`http://127.0.0.1:${p}`, auth, paths);
      ceilings.push([mode, r, serverUs(x0, cpuMs(c.pid!), r)]);
    }
    const ok = ours.total - ours.non2xx;
    const us = (ms: number) => ((ms * 1000) / ours.total).toFixed(0);
    // Only 200s count: a 503 (pool exhausted, at these rates with a 1 s reservation) is cheaper to answer.
    const ratio = (ours.rps * ok) / ours.total / base.rps;
    ratios.push(ratio);
    p99s.push(ours.p99);
    process.stdout.write(
      [
        ...(rounds > 1 ? [`round ${round} of ${rounds}`] : []),
        `next-cid (daemon, pool of 20,000, ${connections} connections, ${duration} s${rate ? `, offered ${rate} req/s` : ''}): ${fmt(ours)}`,
        `bare Fastify constant (same run, same requests):     ${fmt(base)}; server ${bareUs} us, load generator ${Math.round((base.genCpuMs * 1000) / base.total)} us a request`,
        `ratio daemon/bare: ${ratio.toFixed(2)}  (answered 200: ${ok})`,
        ...ceilings.map(
          ([mode, r, cpu]) =>
            `${mode === 'pick' ? 'ceiling: bare Fastify + the same pick:       ' : 'ceiling: bare Fastify + a no-op script (hop):'}        ${fmt(r)}; ratio to bare ${(r.rps / base.rps).toFixed(2)}; server ${cpu} us a request`,
        ),
        `CPU per /next-cid request: daemon ${us(daemonUser + daemonSys)} us (user ${us(daemonUser)}, system ${us(daemonSys)}), redis-server ${us(redisCpu)} us, load generator ${us(ours.genCpuMs)} us, postgres ${us(pgMs)} us`,
        `redis-server per request: ${((r1.reads - r0.reads) / ours.total).toFixed(2)} socket reads, ${((r1.commands - r0.commands) / ours.total).toFixed(2)} commands (those scripts run included), scripts ${((r1.scripts.usec - r0.scripts.usec) / ours.total).toFixed(0)} us (${((r1.scripts.calls - r0.scripts.calls) / ours.total).toFixed(2)} calls)`,
        `daemon ${lag}; /next-cid answers so far by status: ${statuses}`,
        '',
      ].join('\n'),
    );
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  if (rounds > 1)
    console.log(
      `median of ${rounds} rounds: ratio ${median(ratios).toFixed(2)} (${ratios.map((r) => r.toFixed(2)).join(', ')}), next-cid p99 ${median(p99s)} ms (${p99s.join(', ')})`,
    );
  // The caller-ID floor, judged on the medians (a single round on these VMs says little).
  const met = median(ratios) >= 0.3 && median(p99s) < 10;
  console.log(
    `floor (ratio >= 0.3 with p99 < 10 ms, medians, load generator ${loadgen}): ${met ? 'met' : 'NOT met'}`,
  );
  console.log(
    `import 20,000 rows: ${(import20k / 1000).toFixed(2)} s; import ${rowsLarge.toLocaleString('en-US')} rows: ${(importLarge / 1000).toFixed(1)} s (${Math.round(rowsLarge / (importLarge / 1000))} rows/s)`,
  );
} finally {
  await cleanup();
}
