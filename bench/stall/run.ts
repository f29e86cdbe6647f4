// Stall benchmark: large hostile bodies sent at the daemon while it routes calls. For each body it
// prints the daemon's event-loop delay while the body was handled (the longest /health round trip
// seen meanwhile, polled every 20 ms, and the daemon's own max from /metrics), the routing delay of a
// call placed just after the body started (call placed -> the daemon's client leg appears) and the
// daemon's RSS, then the answer the body got.
//   npx tsx bench/stall/run.ts [--sizes 10,40] [--rate 5] [--only <case name>]
// Bodies: nested JSON ([[[...]]]) of each size in MB to a known route (POST /v1/sellers) and to an
// unknown one (POST /v1/no-such-route), each with no key and with an admin key.
// Needs DATABASE_URL/REDIS_URL (eval "$(bash scripts/services.sh env)"); builds and migrates first.
import { execFileSync, spawn } from 'node:child_process';
import { request } from 'node:http';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { asteriskEnv, startSimulator } from '../../src/simulator/index.ts';
import { runTraffic } from '../../src/simulator/traffic.ts';
import { daemonReady, rssMb } from '../common.ts';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10,40' },
    rate: { type: 'string', default: '5' },
    only: { type: 'string' },
  },
});
const sizes = values.sizes.split(',').map(Number);
const dbUrl = process.env.DATABASE_URL;
if (!dbUrl || !process.env.REDIS_URL)
  throw new Error('set DATABASE_URL and REDIS_URL (eval "$(bash scripts/services.sh env)")');

execFileSync('bash', ['scripts/build.sh'], { stdio: 'ignore' });
execFileSync('node', ['dist/cli/entry.js', 'migrate'], { stdio: 'ignore' });
const adminKey = (
  JSON.parse(
    execFileSync('node', ['dist/cli/entry.js', 'create-key', '--role', 'admin', '--json'], {
      encoding: 'utf8',
    }),
  ) as { key: string }
).key;

const sim = await startSimulator({ ariPort: 0, amiPort: 0 });
const sql = postgres(dbUrl, { max: 2, onnotice: () => {} });
const tag = Date.now().toString(36);
const [seller] = await sql`insert into sellers (name) values (${`stall-${tag}`}) returning id`;
// Background traffic goes to one client; the probe call to its own client, so its leg is known by name.
const endpoint = (name: string) => `stall-${tag}-${name}`;
async function didTo(ep: string): Promise<string> {
  sim.setEndpoint(ep, { answerAfterMs: 100 });
  const [c] = await sql`insert into clients (name, endpoint) values (${ep}, ${ep}) returning id`;
  const [pc] =
    await sql`insert into campaigns (seller_id, name, strategy) values (${seller!.id}, ${ep}, 'priority') returning id`;
  await sql`insert into campaign_links (campaign_id, client_id, concurrency_cap) values (${pc!.id}, ${c!.id}, 100000)`;
  for (;;) {
    const did = `+1646${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
    const [row] =
      await sql`insert into dids (number, seller_id, campaign_id) values (${did}, ${seller!.id}, ${pc!.id}) on conflict do nothing returning number`;
    if (row) return did;
  }
}
const trafficDid = await didTo(endpoint('traffic'));
const probeEp = endpoint('probe');
const probeDid = await didTo(probeEp);

const port = 18000 + Math.floor(Math.random() * 1000);
const daemon = spawn('node', ['dist/cli/entry.js', 'start'], {
  env: {
    ...process.env,
    API_PORT: String(port),
    LOG_LEVEL: 'warn',
    LOG_PRETTY: 'false',
    MASTER_KEY: process.env.MASTER_KEY ?? '11'.repeat(32),
    ...asteriskEnv(sim),
    CDR_BUFFER_DIR: `.data/bench-stall-cdr-${tag}`,
  },
  stdio: ['ignore', 'ignore', 'inherit'],
});
const base = `http://127.0.0.1:${port}`;
await daemonReady(base, 300);
const rss = () => rssMb(daemon.pid);
const metric = async (name: string) => {
  const text = await (await fetch(`${base}/metrics`)).text();
  return Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
};

/** The probe call's routing delay: placed -> its client leg shows up in the simulator (ms). */
function probeCall(): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const on = (_app: string, ev: { channel?: { name?: string } }) => {
      if (!ev.channel?.name?.startsWith(`PJSIP/${probeEp}`)) return;
      sim.events.off('ari-event', on);
      resolve(performance.now() - t0);
    };
    sim.events.on('ari-event', on);
    sim.placeInboundCall({ did: probeDid, callerNumber: '+12125550199', hangupAfterMs: 1000 });
  });
}

/** Sends `body` (a Buffer) and resolves with the status and the first bytes of the answer. */
function send(path: string, body: Buffer, key: string | null): Promise<string> {
  return new Promise((resolve) => {
    const req = request(
      `${base}${path}`,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': body.length,
          ...(key ? { authorization: `Bearer ${key}` } : {}),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => {
          if (text.length < 200) text += c.toString();
        });
        res.on('end', () => resolve(`${res.statusCode} ${text.slice(0, 90).replace(/\s+/g, ' ')}`));
        res.on('error', (e) => resolve(`answer cut: ${e.message}`));
      },
    );
    // The daemon may answer and close before the whole body is sent: that is the point.
    req.on('error', (e) => resolve(`connection: ${e.message}`));
    req.end(body);
  });
}

const nested = (mb: number) => {
  const half = Math.floor((mb * 1024 * 1024) / 2);
  return Buffer.from('['.repeat(half) + ']'.repeat(half));
};

// Calls routed all along: background traffic for the whole run.
const traffic = runTraffic(sim, {
  ratePerS: Number(values.rate),
  durationS: 3600,
  dids: [trafficDid],
  callers: ['+13105550000'],
  talkMs: [1000, 2000],
});
await new Promise((r) => setTimeout(r, 2000));
const idleProbe = await probeCall();
console.log(
  `daemon ${base}, traffic ${values.rate} calls/s; idle: probe call routed in ${idleProbe.toFixed(0)} ms, RSS ${rss().toFixed(0)} MB`,
);

const cases = sizes.flatMap((mb) => [
  { name: `${mb}MB-known-nokey`, mb, path: '/v1/sellers', key: null as string | null },
  { name: `${mb}MB-known-key`, mb, path: '/v1/sellers', key: adminKey },
  { name: `${mb}MB-unknown-nokey`, mb, path: '/v1/no-such-route', key: null as string | null },
  { name: `${mb}MB-unknown-key`, mb, path: '/v1/no-such-route', key: adminKey },
]);
try {
  for (const c of cases) {
    if (values.only && c.name !== values.only) continue;
    const body = nested(c.mb);
    await metric('nodejs_eventloop_lag_max_seconds'); // prom-client resets the max at each read
    let worst = 0;
    let peakRss = rss();
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const t = performance.now();
        await fetch(`${base}/health`).then(
          (r) => r.arrayBuffer(),
          () => null,
        );
        worst = Math.max(worst, performance.now() - t);
        peakRss = Math.max(peakRss, rss());
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const t0 = performance.now();
    const answer = send(c.path, body, c.key);
    // A call arriving while the body is being received and handled.
    await new Promise((r) => setTimeout(r, 50));
    const probe = await probeCall();
    const got = await answer;
    const took = performance.now() - t0;
    // One more poll round after the answer, so a stall after the answer is seen too.
    await new Promise((r) => setTimeout(r, 200));
    polling = false;
    await poller;
    const lagMax = (await metric('nodejs_eventloop_lag_max_seconds')) * 1000;
    console.log(
      `${c.name.padEnd(22)} answer in ${took.toFixed(0).padStart(6)} ms: ${got}\n${''.padEnd(22)} /health worst ${worst.toFixed(0)} ms, event-loop delay max ${lagMax.toFixed(0)} ms, call arriving meanwhile routed in ${probe.toFixed(0)} ms, peak RSS ${peakRss.toFixed(0)} MB`,
    );
  }
} finally {
  traffic.stop();
  daemon.kill('SIGTERM');
  await new Promise((r) => daemon.once('exit', r));
  await sim.stop();
  await sql.end();
}
