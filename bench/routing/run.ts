// Routing benchmark: the simulator's traffic generator against the daemon running as its own
// process. Prints new calls/s sustained, peak live calls, decision latency p50/p99 (from the
// daemon's histogram) and the daemon's RSS.
//   npx tsx bench/routing/run.ts [--rate 100] [--duration 20] [--talk-ms 5000] [--warmup 3]
//     [--arrivals poisson|even] [--cpu-prof dir] [--sim-cpu-prof dir] [--source-caps] [--group-caps]
//     [--no-build]
// --cpu-prof profiles the daemon's whole life; --sim-cpu-prof profiles this process (the simulator
// and the traffic generator) over the measured traffic only. --no-build runs dist/ as it is (for
// alternating runs of trees built once; the default builds first).
// --source-caps gives the seller and every DID all five caps, --group-caps puts the 10 clients in one
// buyer group with all five (generous, so nothing is refused): each call's slot is then checked
// against the link and those owners in the same one takeSlot call.
// Needs DATABASE_URL/REDIS_URL (eval "$(bash scripts/services.sh env)"); it builds and migrates first.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Session } from 'node:inspector/promises';
import postgres from 'postgres';
import { asteriskEnv, startSimulator } from '../../src/simulator/index.ts';
import { runTraffic } from '../../src/simulator/traffic.ts';
import { daemonReady, rssMb } from '../common.ts';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '100' },
    duration: { type: 'string', default: '20' },
    'talk-ms': { type: 'string', default: '5000' },
    warmup: { type: 'string', default: '3' },
    // poisson: independent callers (as a trunk sees them); even: one call every 1/rate s.
    arrivals: { type: 'string', default: 'poisson' },
    // Writes a V8 CPU profile of the daemon into this folder (open it in Chrome DevTools).
    'cpu-prof': { type: 'string' },
    // Writes a V8 CPU profile of this process (simulator + traffic) over the measured traffic.
    'sim-cpu-prof': { type: 'string' },
    'no-build': { type: 'boolean', default: false },
    'source-caps': { type: 'boolean', default: false },
    'group-caps': { type: 'boolean', default: false },
  },
});
const rate = Number(values.rate);
const duration = Number(values.duration);
const talk = Number(values['talk-ms']);
const warmup = Number(values.warmup);
const arrivals = values.arrivals === 'even' ? 'even' : 'poisson';
const dbUrl = process.env.DATABASE_URL;
if (!dbUrl || !process.env.REDIS_URL)
  throw new Error('set DATABASE_URL and REDIS_URL (eval "$(bash scripts/services.sh env)")');

// The daemon runs as production runs it: compiled (`npm run build`), not through the tsx loader.
if (!values['no-build']) execFileSync('bash', ['scripts/build.sh'], { stdio: 'ignore' });
execFileSync('node', ['dist/cli/entry.js', 'migrate'], { stdio: 'ignore' });
const sim = await startSimulator({ ariPort: 0, amiPort: 0 });
const sql = postgres(dbUrl, { max: 2, onnotice: () => {} });
const tag = Date.now().toString(36);
// 10 clients, generous caps, so the benchmark measures routing rather than rejections.
const [seller] = await sql`insert into sellers (name) values (${`bench-${tag}`}) returning id`;
const [camp] =
  await sql`insert into campaigns (seller_id, name, strategy) values (${seller!.id}, 'bench', 'round_robin') returning id`;
const dids: string[] = [];
// Generous caps of every kind (none is reached) for the owners beside the links, when asked for.
const caps = sql`100000, 100000000, 100000000, 100000000, 1000000000`;
if (values['source-caps'])
  await sql`update sellers set (concurrency_cap, hourly_cap, daily_cap, monthly_cap, total_cap) = (${caps}) where id = ${seller!.id}`;
const [group] = values['group-caps']
  ? await sql`insert into buyer_groups (name, concurrency_cap, hourly_cap, daily_cap, monthly_cap, total_cap)
      values (${`bench-${tag}`}, ${caps}) returning id`
  : [];
for (let i = 0; i < 10; i++) {
  const ep = `bench-${tag}-${i}`;
  sim.setEndpoint(ep, { answerAfterMs: 100 });
  const [c] =
    await sql`insert into clients (name, endpoint, group_id) values (${ep}, ${ep}, ${group?.id ?? null}) returning id`;
  await sql`insert into campaign_links (campaign_id, client_id, concurrency_cap) values (${camp!.id}, ${c!.id}, 100000)`;
  // A random number not taken by an earlier run (bench rows are left in place).
  for (;;) {
    const did = `+1646${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
    const [row] =
      await sql`insert into dids (number, seller_id, campaign_id) values (${did}, ${seller!.id}, ${camp!.id}) on conflict do nothing returning number`;
    if (row) {
      if (values['source-caps'])
        await sql`update dids set (concurrency_cap, hourly_cap, daily_cap, monthly_cap, total_cap) = (${caps}) where number = ${did}`;
      dids.push(did);
      break;
    }
  }
}

const port = 18000 + Math.floor(Math.random() * 1000);
const profile = values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', values['cpu-prof']] : [];
const nodeFlags = (process.env.BENCH_DAEMON_FLAGS ?? '').split(' ').filter(Boolean);
const daemon = spawn('node', [...nodeFlags, ...profile, 'dist/cli/entry.js', 'start'], {
  env: {
    ...process.env,
    API_PORT: String(port),
    // The daemon's default level, as operators run it (routing logs nothing per call at info).
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
    LOG_PRETTY: 'false',
    MASTER_KEY: process.env.MASTER_KEY ?? '11'.repeat(32),
    ...asteriskEnv(sim),
    CDR_BUFFER_DIR: `.data/bench-cdr-${tag}`,
  },
  stdio: ['ignore', process.env.BENCH_DAEMON_STDOUT ? 'inherit' : 'ignore', 'inherit'],
});
const base = `http://127.0.0.1:${port}`;
await daemonReady(base, 200);
const rss = () => rssMb(daemon.pid);
// CPU seconds (user + system) of the daemon, from /proc/<pid>/stat (clock ticks of 10 ms).
const daemonCpu = () => {
  const f = readFileSync(`/proc/${daemon.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
};
let peakRss = 0;
let peakLive = 0;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, rss());
  // A live call has one client leg (the PJSIP channel); callers are Local ;1/;2 pairs.
  // (Counted without building every channel's JSON, which paused the simulator for milliseconds.)
  peakLive = Math.max(peakLive, sim.channelCount('PJSIP/'));
}, 500);

/** Counters and histogram buckets from the daemon's /metrics, keyed by series. */
const scrape = async () => {
  const text = await (await fetch(`${base}/metrics`)).text();
  const m = new Map<string, number>();
  for (const [, k, v] of text.matchAll(/^((?:capconduit|nodejs)_[^\s]+) (\S+)$/gm)) m.set(k!, Number(v));
  return m;
};
const delta = (a: Map<string, number>, b: Map<string, number>, re: RegExp) =>
  [...b.entries()]
    .map(([k, v]) => ({ m: re.exec(k), n: v - (a.get(k) ?? 0) }))
    .filter((x) => x.m)
    .map((x) => ({ label: x.m![1]!, n: x.n }));

// Warm-up (JIT, first plan reads, script loads) at a third of the rate, not measured.
if (warmup > 0) {
  await runTraffic(sim, {
    ratePerS: Math.max(1, Math.round(rate / 3)),
    durationS: warmup,
    dids,
    callers: ['+12125550000'],
    talkMs: [500, 500],
  }).done;
  await new Promise((r) => setTimeout(r, 2500));
}
const before = await scrape();
// The simulator shares this process with the traffic generator: its loop delay is how late it
// answers the daemon's requests and sends its events, which the decision latency includes.
const simLoop = monitorEventLoopDelay({ resolution: 1 });
simLoop.enable();
peakRss = 0;
peakLive = 0;
const simProfile = values['sim-cpu-prof'] ? await startProfile() : null;
const t0 = Date.now();
const cpu0 = { daemon: daemonCpu(), bench: process.cpuUsage() };
const report = await runTraffic(sim, {
  ratePerS: rate,
  durationS: duration,
  dids,
  callers: ['+12125550000', '+13105550000'],
  talkMs: [talk, talk],
  arrivals,
}).done;
const elapsed = (Date.now() - t0) / 1000;
if (simProfile) await simProfile.stop(values['sim-cpu-prof']!);

simLoop.disable();
// Memory at the peak (traffic just ended, every call of the last talk time still up).
const atPeak = await scrape();
await new Promise((r) => setTimeout(r, talk + 2000));
clearInterval(sampler);
const benchCpu = process.cpuUsage(cpu0.bench);
const cpu = { daemon: daemonCpu() - cpu0.daemon, bench: (benchCpu.user + benchCpu.system) / 1e6 };
const after = await scrape();
daemon.kill('SIGTERM');
await new Promise((r) => daemon.once('exit', r));
await sim.stop();
await sql.end();

// Percentiles from the histogram's buckets over the measured window (upper bounds: conservative).
const percentiles = (name: string) => {
  const b = delta(before, after, new RegExp(`^${name}_bucket\\{le="([^"]+)"`));
  const total = b.at(-1)?.n ?? 0;
  const at = (p: number) => b.find((x) => x.n >= total * p)?.label ?? 'n/a';
  const ms = (le: string) => (le === '+Inf' ? 'inf' : `${Number(le) * 1000}`);
  // Share of decisions slower than 10 ms (the floor is p99 < 10 ms: under 1% of them).
  const upTo10 = b.find((x) => x.label === '0.01')?.n ?? 0;
  const over10 = total ? (100 * (total - upTo10)) / total : 0;
  return { p50: ms(at(0.5)), p99: ms(at(0.99)), total, over10 };
};
const routed = delta(before, after, /^capconduit_calls_routed_total\{disposition="(\w+)"/)
  .map((x) => `${x.label}=${x.n}`)
  .join(' ');
const events = delta(before, after, /^capconduit_asterisk_events_total\{node="[^"]*",link="(\w+)"/)
  .map((x) => `${x.label} ${(x.n / Math.max(1, report.started)).toFixed(1)}`)
  .join(', ');
const decision = percentiles('capconduit_routing_decision_seconds');

console.log(
  `offered ${rate} calls/s (${arrivals} arrivals) for ${duration} s, talk ${talk} ms (after ${warmup} s of warm-up); caps: links${values['source-caps'] ? ' + seller + DID' : ''}${values['group-caps'] ? ' + buyer group' : ''}`,
);
console.log(
  `placed ${report.started} calls in ${elapsed.toFixed(1)} s = ${(report.started / elapsed).toFixed(1)} calls/s; callers answered while placing ${report.answered}`,
);
console.log(`routed: ${routed}`);
console.log(`events received per call: ${events}`);
console.log(`peak live calls (client legs up at once): ${peakLive}`);
console.log(
  `decision latency (StasisStart -> dial request): p50 <= ${decision.p50} ms, p99 <= ${decision.p99} ms over ${decision.total} decisions, ${decision.over10.toFixed(2)}% over 10 ms`,
);
// The daemon's event-loop delay over the traffic (prom-client resets it at each scrape): how long
// ready work waited for the daemon's one thread, which is most of a tail latency.
const eld = (name: string) =>
  (
    (([...atPeak.entries()].find(([k]) => k.split('{')[0] === name)?.[1] ?? Number.NaN) as number) * 1000
  ).toFixed(1);
console.log(
  `daemon event-loop delay during traffic: p50 ${eld('nodejs_eventloop_lag_p50_seconds')} ms, p99 ${eld('nodejs_eventloop_lag_p99_seconds')} ms, max ${eld('nodejs_eventloop_lag_max_seconds')} ms (10 ms resolution: an idle loop reads about 10)`,
);
const simMs = (p: number) => (simLoop.percentile(p) / 1e6 - 1).toFixed(1);
console.log(
  `simulator event-loop delay during traffic: p50 ${simMs(50)} ms, p99 ${simMs(99)} ms, max ${(simLoop.max / 1e6 - 1).toFixed(1)} ms (beyond its 1 ms sampling)`,
);
const mb = (name: string) =>
  (([...atPeak.entries()].find(([k]) => k.split('{')[0] === name)?.[1] ?? 0) / 2 ** 20).toFixed(0);
console.log(
  `daemon peak RSS: ${peakRss.toFixed(0)} MB (at the end of traffic: heap used ${mb('nodejs_heap_size_used_bytes')} MB of ${mb('nodejs_heap_size_total_bytes')} MB)`,
);
console.log(
  `CPU over the run: daemon ${cpu.daemon.toFixed(1)} s (${((cpu.daemon / report.started) * 1000).toFixed(2)} ms a call), simulator + traffic ${cpu.bench.toFixed(1)} s`,
);
// Asterisk's limits as the simulator models them (on at Asterisk's defaults): a daemon that broke
// one would have been refused HTTP sessions or, over the WebSocket, crashed the node.
const sessions = sim.httpSessions();
console.log(
  `simulator limits: HTTP sessions peak ${sessions.peak} of ${sim.limits.httpSessions}, refused ${sessions.refused}; crashed: ${sim.crashed ? sim.crashed.reason : 'no'}`,
);

/** A V8 CPU profile of this process from now until stop(), written as <dir>/simulator-<time>.cpuprofile. */
async function startProfile() {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return {
    async stop(dir: string) {
      const { profile } = await session.post('Profiler.stop');
      mkdirSync(dir, { recursive: true });
      writeFileSync(`${dir}/simulator-${Date.now()}.cpuprofile`, JSON.stringify(profile));
      session.disconnect();
    },
  };
}
