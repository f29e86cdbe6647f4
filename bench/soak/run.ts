// Soak: the daemon (compiled, its own process) routes a steady load from the simulator for a long
// time, and every minute the bench writes down its live calls, RSS, heap, event-loop delay, CPU
// (share of one core, and per call finished) and the calls answered and shed in that minute; at the
// end, the RSS slope in MB/hour (least squares over the samples after the ramp-up) says whether
// memory grows with time rather than with load, and the CPU a call over the same samples. Figures only.
//   npx tsx bench/soak/run.ts [--rate 100] [--talk-s 60] [--minutes 30] [--sample-s 60] [--ramp-min 2]
//     [--profile DIR [--snapshot-at 3,6]] [--skip-build [--dist DIR]]
// Needs DATABASE_URL/REDIS_URL (eval "$(bash scripts/services.sh env)"); it builds and migrates first.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { asteriskEnv, startSimulator } from '../../src/simulator/index.ts';
import { runTraffic } from '../../src/simulator/traffic.ts';
import { metricSum } from '../faults/records.ts';
import { daemonReady, rssMb } from '../common.ts';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '100' },
    'talk-s': { type: 'string', default: '60' },
    minutes: { type: 'string', default: '30' },
    'sample-s': { type: 'string', default: '60' },
    // Samples of the first minutes (calls still piling up to rate x talk) are left out of the slope.
    'ramp-min': { type: 'string', default: '2' },
    // Diagnosis: the daemon writes a CPU profile into this folder when it stops, and a heap
    // snapshot there at each minute named in --snapshot-at (e.g. 3,6).
    profile: { type: 'string' },
    // dist/ is already built from this tree (alternating runs of two trees).
    'skip-build': { type: 'boolean', default: false },
    // Runs the daemon compiled into this folder instead of dist/ (alternating runs of two trees:
    // build the other tree's dist/ once, copy it beside, and pass it with --skip-build).
    dist: { type: 'string', default: 'dist' },
    'snapshot-at': { type: 'string', default: '' },
  },
});
const rate = Number(values.rate);
const talkMs = Number(values['talk-s']) * 1000;
const minutes = Number(values.minutes);
const sampleMs = Number(values['sample-s']) * 1000;
const rampMs = Number(values['ramp-min']) * 60_000;
const dbUrl = process.env.DATABASE_URL;
if (!dbUrl || !process.env.REDIS_URL)
  throw new Error('set DATABASE_URL and REDIS_URL (eval "$(bash scripts/services.sh env)")');

if (!values['skip-build']) execFileSync('bash', ['scripts/build.sh'], { stdio: 'ignore' });
execFileSync('node', [`${values.dist}/cli/entry.js`, 'migrate'], { stdio: 'ignore' });
const sim = await startSimulator({ ariPort: 0, amiPort: 0 });
const sql = postgres(dbUrl, { max: 2, onnotice: () => {} });
const tag = Date.now().toString(36);
// 10 clients with caps no call reaches: the soak measures the daemon holding calls, not refusals.
const [seller] = await sql`insert into sellers (name) values (${`soak-${tag}`}) returning id`;
const [camp] =
  await sql`insert into campaigns (seller_id, name, strategy) values (${seller!.id}, 'soak', 'round_robin') returning id`;
const dids: string[] = [];
for (let i = 0; i < 10; i++) {
  const ep = `soak-${tag}-${i}`;
  sim.setEndpoint(ep, { answerAfterMs: 100 });
  const [c] = await sql`insert into clients (name, endpoint) values (${ep}, ${ep}) returning id`;
  await sql`insert into campaign_links (campaign_id, client_id, concurrency_cap) values (${camp!.id}, ${c!.id}, 100000)`;
  for (;;) {
    const did = `+1747${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
    const [row] =
      await sql`insert into dids (number, seller_id, campaign_id) values (${did}, ${seller!.id}, ${camp!.id}) on conflict do nothing returning number`;
    if (row) {
      dids.push(did);
      break;
    }
  }
}
await sql.end();

const port = 19000 + Math.floor(Math.random() * 1000);
const profileDir = values.profile ? resolve(values.profile) : undefined;
if (profileDir) mkdirSync(profileDir, { recursive: true });
const snapshotAt = values['snapshot-at']
  .split(',')
  .filter(Boolean)
  .map((m) => Number(m) * 60_000);
const nodeArgs = profileDir
  ? [
      '--cpu-prof',
      `--cpu-prof-dir=${profileDir}`,
      '--heapsnapshot-signal=SIGUSR2',
      `--diagnostic-dir=${profileDir}`,
    ]
  : [];
const daemon = spawn('node', [...nodeArgs, `${values.dist}/cli/entry.js`, 'start'], {
  env: {
    ...process.env,
    API_PORT: String(port),
    LOG_LEVEL: 'info',
    LOG_PRETTY: 'false',
    MASTER_KEY: process.env.MASTER_KEY ?? '11'.repeat(32),
    ...asteriskEnv(sim),
    CDR_BUFFER_DIR: `.data/soak-cdr-${tag}`,
  },
  stdio: ['ignore', 'ignore', 'inherit'],
});
const base = `http://127.0.0.1:${port}`;
await daemonReady(base, 600);
const rss = () => rssMb(daemon.pid);
// The daemon's CPU time so far (user + system, seconds), from /proc (clock ticks of 1/100 s).
const cpuS = () => {
  const f = readFileSync(`/proc/${daemon.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
};

console.log(
  `soak: ${rate} calls/s, ${talkMs / 1000} s calls (~${Math.round((rate * talkMs) / 1000)} live), ${minutes} min; a sample every ${sampleMs / 1000} s`,
);
console.log(
  'min | live calls | client legs up | RSS MB | heap used MB | daemon loop delay p50/p99/max ms | daemon CPU % | CPU ms a call | answered/min | shed/min | GC s/min minor/major/incremental (count major) | bench loop p99 ms | load average',
);
const simLoop = monitorEventLoopDelay({ resolution: 10 });
simLoop.enable();
const t0 = Date.now();
const samples: Array<{
  t: number;
  rss: number;
  cpu: number;
  routed: number;
  answered: number;
  shed: number;
}> = [];
const traffic = runTraffic(sim, {
  ratePerS: rate,
  durationS: minutes * 60,
  dids,
  callers: ['+12125550000', '+13105550000', '+14155550000'],
  talkMs: [talkMs, talkMs],
});
const zero = (n: number) => (Number.isNaN(n) ? 0 : n);
// A labelled counter has no line in /metrics until its first increment: absent reads as 0.
const legCounters = (text: string) => {
  const m = (name: string) => zero(metricSum(text, `capconduit_${name}`));
  return `cleanups pending ${m('asterisk_cleanups_pending')}, retried ${m('asterisk_cleanups_retried_total')}, over the WebSocket ${m('asterisk_cleanups_over_websocket_total')}; ARI queued ${m('asterisk_ari_requests_queued')}, in flight ${m('asterisk_ari_requests_in_flight')}, timeouts ${m('asterisk_ari_request_timeouts_total')}; shed ${m('calls_shed_total')}`;
};
// The daemon's time in garbage collection so far, by kind (prom-client's histogram of GC pauses).
const GC_KINDS = ['minor', 'major', 'incremental'] as const;
const gcOf = (text: string, what: 'sum' | 'count') =>
  GC_KINDS.map((k) =>
    Number(
      new RegExp(`^nodejs_gc_duration_seconds_${what}\\{[^}]*kind="${k}"[^}]*\\} (\\S+)$`, 'm').exec(
        text,
      )?.[1] ?? 0,
    ),
  );
let prev = { t: 0, cpu: cpuS(), routed: 0, answered: 0, shed: 0, gc: [0, 0, 0], majors: 0 };
const sample = async () => {
  const text = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(10_000) }).then(
    (r) => r.text(),
    () => '',
  );
  const ms = (name: string) => (metricSum(text, name) * 1000).toFixed(0);
  const disposition = (d: string) =>
    Number(
      new RegExp(`^capconduit_calls_routed_total\\{[^}]*disposition="${d}"[^}]*\\} (\\S+)$`, 'm').exec(
        text,
      )?.[1] ?? 0,
    );
  const t = Date.now() - t0;
  const now = {
    t,
    cpu: cpuS(),
    routed: zero(metricSum(text, 'capconduit_calls_routed_total')),
    answered: disposition('answered'),
    shed: disposition('shed'),
    gc: gcOf(text, 'sum'),
    majors: gcOf(text, 'count')[1]!,
  };
  const r = rss();
  if (text) samples.push({ ...now, rss: r });
  // No answer from /metrics (the daemon too busy to answer within 10 s): its figures are left out.
  const perMin = (x: number) => (text ? ((x * 60_000) / Math.max(1, t - prev.t)).toFixed(0) : '-');
  const finished = now.routed - prev.routed;
  console.log(
    [
      (t / 60_000).toFixed(1),
      text ? zero(metricSum(text, 'capconduit_inbound_calls_in_progress')) : '(no answer)',
      sim.channelCount('PJSIP/'),
      r.toFixed(0),
      (metricSum(text, 'nodejs_heap_size_used_bytes') / 2 ** 20).toFixed(0),
      `${ms('nodejs_eventloop_lag_p50_seconds')}/${ms('nodejs_eventloop_lag_p99_seconds')}/${ms('nodejs_eventloop_lag_max_seconds')}`,
      ((100 * (now.cpu - prev.cpu) * 1000) / Math.max(1, t - prev.t)).toFixed(0),
      text && finished > 0 ? (((now.cpu - prev.cpu) * 1000) / finished).toFixed(2) : '-',
      perMin(now.answered - prev.answered),
      perMin(now.shed - prev.shed),
      text
        ? `${now.gc.map((g, i) => ((60_000 * (g - prev.gc[i]!)) / Math.max(1, t - prev.t)).toFixed(2)).join('/')} (${now.majors - prev.majors})`
        : '-',
      (simLoop.percentile(99) / 1e6).toFixed(0),
      loadavg()
        .map((x) => x.toFixed(1))
        .join(' '),
    ].join(' | '),
  );
  if (text) prev = now;
  simLoop.reset();
  // Where the client legs stand: by state, by whether their call's caller is still up, by the
  // dialplan application they sit in; and the daemon's cleanups and ARI queue at the same moment.
  const live = sim.liveChannels();
  const callers = new Set(live.filter((c) => !c.name.startsWith('PJSIP/')).map((c) => c.id));
  const legs = new Map<string, number>();
  for (const c of live) {
    if (!c.name.startsWith('PJSIP/')) continue;
    const vars = (c.channelvars ?? {}) as Record<string, string>;
    const caller = vars.CAPCONDUIT_CALLER
      ? callers.has(vars.CAPCONDUIT_CALLER)
        ? 'caller up'
        : 'caller gone'
      : 'no caller';
    const app = (c.dialplan as { app_name?: string } | undefined)?.app_name || '-';
    const k = `${c.state}/${caller}/${app}`;
    legs.set(k, (legs.get(k) ?? 0) + 1);
  }
  console.log(
    `  legs: ${
      [...legs]
        .sort((a, b) => b[1] - a[1])
        .map(([k, n]) => `${k} ${n}`)
        .join(', ') || 'none'
    }; callers up ${callers.size}; ${legCounters(text)}`,
  );
};
const timer = setInterval(() => void sample(), sampleMs);
const snapshots = snapshotAt.map((at) => setTimeout(() => daemon.kill('SIGUSR2'), at));
const report = await traffic.done;
clearInterval(timer);
for (const t of snapshots) clearTimeout(t);
await sample();

// Least squares slope of RSS over time, after the ramp-up, in MB per hour.
const steady = samples.filter((s) => s.t >= rampMs);
const slope = (() => {
  const n = steady.length;
  if (n < 2) return Number.NaN;
  const mx = steady.reduce((a, s) => a + s.t, 0) / n;
  const my = steady.reduce((a, s) => a + s.rss, 0) / n;
  const sxy = steady.reduce((a, s) => a + (s.t - mx) * (s.rss - my), 0);
  const sxx = steady.reduce((a, s) => a + (s.t - mx) ** 2, 0);
  return (sxy / sxx) * 3_600_000;
})();
const failed = Object.entries(report.failedByCause)
  .map(([c, n]) => `cause ${c}: ${n}`)
  .join(', ');
console.log(
  `placed ${report.started} calls, callers answered ${report.answered}, at most ${report.maxLive} callers up at once; ended otherwise than by the caller: ${failed || 'none'}`,
);
console.log(
  `RSS slope after the first ${rampMs / 60_000} min: ${slope.toFixed(1)} MB/hour over ${steady.length} samples (RSS ${Math.min(...steady.map((s) => s.rss)).toFixed(0)}-${Math.max(...steady.map((s) => s.rss)).toFixed(0)} MB)`,
);
const [first, last] = [steady[0], steady.at(-1)];
if (first && last && last.routed > first.routed)
  console.log(
    `after the first ${rampMs / 60_000} min: daemon CPU ${(last.cpu - first.cpu).toFixed(0)} s for ${last.routed - first.routed} calls finished (${(((last.cpu - first.cpu) * 1000) / (last.routed - first.routed)).toFixed(2)} ms a call), ${last.answered - first.answered} answered, ${last.shed - first.shed} shed`,
  );
const sessions = sim.httpSessions();
console.log(
  `simulator limits: HTTP sessions peak ${sessions.peak} of ${sim.limits.httpSessions}, refused ${sessions.refused}; crashed: ${sim.crashed ? sim.crashed.reason : 'no'}`,
);
daemon.kill('SIGTERM');
await new Promise((r) => daemon.once('exit', r));
await sim.stop();
