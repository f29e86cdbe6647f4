// Caller-ID state lost and rebuilt: how long after a Redis FLUSHALL `/next-cid` hands out numbers
// again, with a large pool. The daemon runs as production runs it (`capconduit start`, its own
// process) on a Redis of the bench's own (it is flushed) and a database of its own holding --numbers
// caller IDs in one pool. Each run: FLUSHALL, then one dialer asks `/next-cid` in a loop (each request
// waits at most --request-timeout-s) until a number comes back; prints the seconds to the first
// number, to `/ready` "ready", and the rebuild's own time from the daemon's log.
//   npx tsx bench/next-cid/rebuild.ts [--numbers 1000000] [--runs 3] [--request-timeout-s 10]
// Needs DATABASE_URL (eval "$(bash scripts/services.sh env)"); drops its database at the end.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { createApiKey } from '../../src/auth/keys.ts';
import { importCallerIds } from '../../src/callerid/import.ts';
import { CallerIdService } from '../../src/callerid/service.ts';
import { CidStore } from '../../src/callerid/store.ts';
import { createDatabase, runMigrations } from '../../src/platform/db.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { createRedis } from '../../src/platform/redis/client.ts';
import { RedisKeys } from '../../src/platform/redis/keys.ts';
import { freePort, PrivateRedis } from '../../test/helpers/redis-server.ts';
import { withDb } from '../common.ts';

const { values } = parseArgs({
  options: {
    numbers: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '3' },
    'request-timeout-s': { type: 'string', default: '10' },
    'no-build': { type: 'boolean', default: false },
  },
});
const numbers = Number(values.numbers);
const runs = Number(values.runs);
const baseUrl = process.env.DATABASE_URL;
if (!baseUrl) throw new Error('set DATABASE_URL (eval "$(bash scripts/services.sh env)")');
const step = (m: string) => process.stderr.write(`[bench] ${m}\n`);
const load = () =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');

const tag = `r${Date.now().toString(36)}`;
const admin = postgres(withDb(baseUrl, 'postgres'), { max: 1, onnotice: () => {} });
await admin.unsafe(`create database ${tag}`);
const dbUrl = withDb(baseUrl, tag);
const redisSrv = await PrivateRedis.create();
const redis = createRedis(redisSrv.url, { enableOfflineQueue: true });
const database = createDatabase(dbUrl, { max: 4 });
let daemon: ChildProcess | null = null;
/** The daemon's log lines, kept in `.data/bench-rebuild-<tag>.log` for reading where the time went. */
const logLines: string[] = [];

/** A CSV of `n` valid NANP numbers over as many NXX as it takes (10,000 lines each), NPA 415. */
function csv(n: number): Readable {
  return Readable.from(
    (function* () {
      yield 'caller_id,carrier,area_code,daily_limit,hourly_limit\n';
      const chunk: string[] = [];
      for (let i = 0; i < n; i++) {
        chunk.push(
          `+1415${200 + Math.floor(i / 10_000)}${String(i % 10_000).padStart(4, '0')},bench,415,,\n`,
        );
        if (chunk.length === 5000) yield chunk.splice(0).join('');
      }
      if (chunk.length) yield chunk.join('');
    })(),
  );
}

try {
  step(`migrating, importing ${numbers} numbers into one pool (load ${load()})`);
  await runMigrations(dbUrl);
  const service = new CallerIdService({
    sql: database.sql,
    store: new CidStore(redis, new RedisKeys(tag)),
    log: createLogger({ level: 'warn' }),
    instanceId: `${tag}-bench`,
    timezone: 'UTC',
    reservationTtlMs: 1000,
    agentRatePerMin: 1_000_000,
    flushEveryMs: 0,
  });
  await service.ensureReady();
  const t = performance.now();
  const r = await importCallerIds(database.sql, service, csv(numbers), { defaultPool: 'BIG' });
  if (r.imported !== numbers) throw new Error(`imported ${r.imported} of ${numbers}`);
  step(`imported in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const key = (await createApiKey(database.db, { role: 'dialer' })).key;

  if (!values['no-build']) execFileSync('bash', ['scripts/build.sh'], { stdio: 'ignore' });
  const port = await freePort();
  daemon = spawn('node', ['dist/cli/entry.js', 'start'], {
    env: {
      ...process.env,
      DATABASE_URL: dbUrl,
      REDIS_URL: redisSrv.url,
      REDIS_KEY_PREFIX: tag,
      API_PORT: String(port),
      LOG_LEVEL: 'info',
      LOG_PRETTY: 'false',
      MASTER_KEY: process.env.MASTER_KEY ?? '11'.repeat(32),
      CID_TIMEZONE: 'UTC',
      CID_AGENT_RATE_PER_MIN: '100000000',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let buf = '';
  daemon.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    const lines = buf.split('\n');
    buf = lines.pop()!;
    logLines.push(...lines);
  });
  const base = `http://127.0.0.1:${port}`;
  const auth = { authorization: `Bearer ${key}` };
  const nextCid = () =>
    fetch(`${base}/next-cid?campaign=BIG&to=4155550100&agent=a1`, {
      headers: auth,
      signal: AbortSignal.timeout(Number(values['request-timeout-s']) * 1000),
    }).then(
      (x) => x.status,
      () => 0,
    );
  const ready = () =>
    fetch(`${base}/ready`, { signal: AbortSignal.timeout(5000) })
      .then((x) => x.json() as Promise<{ status?: string }>)
      .then(
        (b) => b.status === 'ready',
        () => false,
      );
  step('waiting for the daemon');
  const up = Date.now();
  while ((await nextCid()) !== 200) await new Promise((res) => setTimeout(res, 200));
  step(`daemon answering /next-cid ${((Date.now() - up) / 1000).toFixed(1)} s after start`);
  /** The rebuild's own time from the log line it writes, the n-th one. */
  const rebuiltMs = (n: number) =>
    logLines
      .filter((l) => l.includes('caller-ID state rebuilt from PostgreSQL'))
      .map((l) => JSON.parse(l) as { ms: number; numbers: number })[n];

  const rows: string[] = [];
  for (let i = 0; i < runs; i++) {
    const before = logLines.filter((l) => l.includes('caller-ID state rebuilt')).length;
    const loadAt = load();
    const t0 = Date.now();
    await redis.flushall();
    let status = 0;
    let requests = 0;
    let firstCid = Number.NaN;
    let firstReady = Number.NaN;
    // The dialer and a load balancer's health check, side by side.
    const health = (async () => {
      while (!(await ready())) await new Promise((res) => setTimeout(res, 100));
      firstReady = (Date.now() - t0) / 1000;
    })();
    while (status !== 200) {
      status = await nextCid();
      requests++;
      if (status !== 200) await new Promise((res) => setTimeout(res, 50));
    }
    firstCid = (Date.now() - t0) / 1000;
    await health;
    const rb = rebuiltMs(before);
    rows.push(
      `| ${i + 1} | ${numbers} | ${loadAt} | ${firstCid.toFixed(1)} | ${requests} | ${firstReady.toFixed(1)} | ${rb ? (rb.ms / 1000).toFixed(1) : '-'} |`,
    );
    step(`run ${i + 1}: /next-cid again after ${firstCid.toFixed(1)} s`);
  }
  console.log('| run | numbers | load average | s to a number | requests | s to ready | rebuild s (log) |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(r);
} finally {
  if (daemon && daemon.exitCode === null) {
    const d = daemon;
    await new Promise((r) => {
      d.once('exit', r);
      d.kill('SIGTERM');
    });
  }
  mkdirSync('.data', { recursive: true });
  writeFileSync(`.data/bench-rebuild-${tag}.log`, `${logLines.join('\n')}\n`);
  step(`the daemon's log: .data/bench-rebuild-${tag}.log`);
  await database.close();
  redis.disconnect();
  await redisSrv.stop();
  await admin.unsafe(`drop database if exists ${tag} with (force)`);
  await admin.end();
}
