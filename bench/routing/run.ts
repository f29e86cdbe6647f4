// Routing benchmark: the simulator's traffic generator against the daemon running as its own
// process. Prints new calls/s sustained, peak live calls, decision latency p50/p99 (from the
// daemon's histogram) and the daemon's RSS.
//   npx tsx bench/routing/run.ts [--rate 100] [--duration 20] [--talk-ms 5000]
// Needs DATABASE_URL/REDIS_URL (eval "$(bash scripts/services.sh env)") and a migrated database.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { asteriskEnv, startSimulator } from '../../src/simulator/index.ts';
import { runTraffic } from '../../src/simulator/traffic.ts';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '100' },
    duration: { type: 'string', default: '20' },
    'talk-ms': { type: 'string', default: '5000' },
  },
});
const rate = Number(values.rate);
const duration = Number(values.duration);
const talk = Number(values['talk-ms']);
const dbUrl = process.env.DATABASE_URL;
if (!dbUrl || !process.env.REDIS_URL)
  throw new Error('set DATABASE_URL and REDIS_URL (eval "$(bash scripts/services.sh env)")');

const sim = await startSimulator({ ariPort: 0, amiPort: 0 });
const sql = postgres(dbUrl, { max: 2, onnotice: () => {} });
const tag = Date.now().toString(36);
// 10 clients, generous caps, so the benchmark measures routing rather than rejections.
const [seller] = await sql`insert into sellers (name) values (${`bench-${tag}`}) returning id`;
const [camp] =
  await sql`insert into campaigns (seller_id, name, strategy) values (${seller!.id}, 'bench', 'round_robin') returning id`;
const dids: string[] = [];
for (let i = 0; i < 10; i++) {
  const ep = `bench-${tag}-${i}`;
  sim.setEndpoint(ep, { answerAfterMs: 100 });
  const [c] = await sql`insert into clients (name, endpoint) values (${ep}, ${ep}) returning id`;
  await sql`insert into campaign_links (campaign_id, client_id, concurrency_cap) values (${camp!.id}, ${c!.id}, 100000)`;
  const did = `+1646${String(Date.now() % 100000).padStart(5, '0')}${String(i).padStart(2, '0')}`;
  await sql`insert into dids (number, seller_id, campaign_id) values (${did}, ${seller!.id}, ${camp!.id})`;
  dids.push(did);
}

const port = 18000 + Math.floor(Math.random() * 1000);
const daemon = spawn('node', ['bin/capconduit.js', 'start'], {
  env: {
    ...process.env,
    API_PORT: String(port),
    LOG_LEVEL: 'warn',
    LOG_PRETTY: 'false',
    MASTER_KEY: process.env.MASTER_KEY ?? '11'.repeat(32),
    ...asteriskEnv(sim),
    CDR_BUFFER_DIR: `.data/bench-cdr-${tag}`,
  },
  stdio: ['ignore', 'ignore', 'inherit'],
});
const base = `http://127.0.0.1:${port}`;
for (let i = 0; ; i++) {
  const ok = await fetch(`${base}/ready`).then(
    (r) => r.ok,
    () => false,
  );
  if (ok) break;
  if (i > 200) throw new Error('daemon not ready');
  await new Promise((r) => setTimeout(r, 100));
}
const rss = () =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${daemon.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
let peakRss = 0;
let peakLive = 0;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, rss());
  // A live call has one client leg (the PJSIP channel); callers are Local ;1/;2 pairs.
  peakLive = Math.max(peakLive, sim.liveChannels().filter((c) => c.name.startsWith('PJSIP/')).length);
}, 500);
const t0 = Date.now();
const report = await runTraffic(sim, {
  ratePerS: rate,
  durationS: duration,
  dids,
  callers: ['+12125550000', '+13105550000'],
  talkMs: [talk, talk],
}).done;
const elapsed = (Date.now() - t0) / 1000;
await new Promise((r) => setTimeout(r, talk + 2000));
clearInterval(sampler);

// Percentiles from the Prometheus histogram (upper bucket bounds: a conservative estimate).
const metrics = await (await fetch(`${base}/metrics`)).text();
const buckets = [
  ...metrics.matchAll(/capconduit_routing_decision_seconds_bucket\{le="([^"]+)"[^}]*\} (\d+)/g),
].map((m) => ({ le: m[1]!, n: Number(m[2]) }));
const total = buckets.at(-1)?.n ?? 0;
const pct = (p: number) => buckets.find((b) => b.n >= total * p)?.le ?? 'n/a';
const routed = [...metrics.matchAll(/capconduit_calls_routed_total\{disposition="(\w+)"[^}]*\} (\d+)/g)]
  .map((m) => `${m[1]}=${m[2]}`)
  .join(' ');
daemon.kill('SIGTERM');
await new Promise((r) => daemon.once('exit', r));
await sim.stop();
await sql.end();

console.log(`offered ${rate} calls/s for ${duration} s, talk ${talk} ms`);
console.log(
  `placed ${report.started} calls in ${elapsed.toFixed(1)} s = ${(report.started / elapsed).toFixed(1)} calls/s; callers answered ${report.answered}`,
);
console.log(`routed: ${routed}`);
console.log(`peak live calls (client legs up at once): ${peakLive}`);
console.log(
  `decision latency (StasisStart -> dial request): p50 <= ${Number(pct(0.5)) * 1000} ms, p99 <= ${Number(pct(0.99)) * 1000} ms over ${total} decisions`,
);
console.log(`daemon peak RSS: ${peakRss.toFixed(0)} MB`);
