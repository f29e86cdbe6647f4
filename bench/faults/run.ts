// Fault campaign: the daemon (compiled, its own process, as production runs it) routes calls from the
// simulator with real PostgreSQL and Redis, and with ~200 calls live each fault below happens in turn.
// After each, once every caller has hung up and the daemon has had time to settle, the system's own
// records are read (Redis slot sets, the simulator's channels and ARI bridges, the CDR table, the
// answered totals, the daemon's gauge of calls it holds) and one table is printed. Every column but
// the seconds must read 0; the exit code is 1 when one does not. Figures only, no timing verdicts.
//   npx tsx bench/faults/run.ts [--rate 20] [--talk-s 10] [--cap 20] [--pg-down-s 60] [--cut-s 10]
//     [--overload-rate 600] [--overload-s 10] [--settle-s 90] [--reconcile-s 10] [--only kill,pg,...]
// Faults (--only takes their keys): kill (kill -9 of the daemon, then a restart), redis (Redis
// restarted, its data lost: it runs without persistence), flush (FLUSHALL), pg (PostgreSQL down for
// --pg-down-s), sim (the simulator restarted, losing its channels as an Asterisk restart does),
// cut (the ARI and AMI links reset and refused for --cut-s), overload (--overload-rate calls/s for
// --overload-s on top of the base traffic; default twice the 300 calls/s bench/routing sustains).
// PostgreSQL and Redis are private instances the bench starts (the servers scripts/services.sh
// installs) because it stops them: the shared ones of the worktree stay untouched.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, openSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { asteriskEnv, startSimulator } from '../../src/simulator/index.ts';
import { PrivatePostgres } from '../../test/helpers/private-pg.ts';
import { freePort, PrivateRedis } from '../../test/helpers/redis-server.ts';
import { cuttableLink } from '../../test/helpers/cuttable-link.ts';
import { type Snapshot, snapshot } from './records.ts';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '20' },
    'talk-s': { type: 'string', default: '10' },
    cap: { type: 'string', default: '20' },
    'pg-down-s': { type: 'string', default: '60' },
    'cut-s': { type: 'string', default: '10' },
    'sim-down-s': { type: 'string', default: '2' },
    'overload-rate': { type: 'string', default: '600' },
    'overload-s': { type: 'string', default: '10' },
    // Traffic goes on this long after each fault is over, then stops.
    'after-s': { type: 'string', default: '10' },
    // How long, once the last caller has hung up, the records may take to come back to rest.
    'settle-s': { type: 'string', default: '90' },
    'reconcile-s': { type: 'string', default: '10' },
    // How long to wait for /ready to say `ready` after a fault (the column reads NaN past it).
    'ready-bound-s': { type: 'string', default: '120' },
    only: { type: 'string', default: 'kill,redis,flush,pg,sim,cut,overload' },
    'no-build': { type: 'boolean', default: false },
    // Lists the calls without a CDR and the channels left even when the row reads 0.
    details: { type: 'boolean', default: false },
    // The daemon's INSTANCE_DEAD_AFTER_S: how long a silent owner waits before its calls are taken over.
    'dead-after-s': { type: 'string', default: '15' },
    // The daemon's UNSEEN_CALLS_GRACE_S: how long after their end Asterisk's CDRs are read back.
    'unseen-grace-s': { type: 'string', default: '60' },
  },
});
const num = (k: keyof typeof values) => Number(values[k]);
const rate = num('rate');
const talkMs = num('talk-s') * 1000;
const cap = num('cap');
const LINKS = 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// --no-build runs the dist/ already there (a build replaces it, under any other daemon running from it).
if (!values['no-build']) execFileSync('bash', ['scripts/build.sh'], { stdio: 'ignore' });
const pg = await PrivatePostgres.create();
const redisSrv = await PrivateRedis.create();
// Asterisk writes every channel's CDR into the bench's database (cdr_pgsql, as asterisk/ configures it):
// the daemon reads back those of callers that hung up in its app while no instance ran.
const sim = await startSimulator({ ariPort: 0, amiPort: 0, cdrDatabaseUrl: pg.url });
const ari = await cuttableLink(sim.ariPort);
const ami = await cuttableLink(sim.amiPort);
const sql = postgres(pg.url, { max: 2, onnotice: () => {} });
const redis = new Redis(redisSrv.url, { maxRetriesPerRequest: null });
redis.on('error', () => {}); // down on purpose during the Redis faults; it reconnects
const prefix = 'cc';

const [seller] = await sql`insert into sellers (name) values ('faults') returning id`;
const [camp] = await sql`insert into campaigns (seller_id, name, strategy, max_attempts)
  values (${seller!.id}, 'faults', 'round_robin', 2) returning id`;
const dids: string[] = [];
for (let i = 0; i < LINKS; i++) {
  const ep = `faults-${i}`;
  sim.setEndpoint(ep, { answerAfterMs: 100 });
  const [c] = await sql`insert into clients (name, endpoint) values (${ep}, ${ep}) returning id`;
  await sql`insert into campaign_links (campaign_id, client_id, concurrency_cap) values (${camp!.id}, ${c!.id}, ${cap})`;
  const did = `+1646555${String(1000 + i)}`;
  await sql`insert into dids (number, seller_id, campaign_id) values (${did}, ${seller!.id}, ${camp!.id})`;
  dids.push(did);
}

const port = await freePort();
const daemonUrl = `http://127.0.0.1:${port}`;
const dataDir = `.data/bench-faults-${process.pid}`;
mkdirSync(dataDir, { recursive: true });
const logFd = openSync(`${dataDir}/daemon.log`, 'a');
let daemon: ChildProcess;
const startDaemon = () => {
  daemon = spawn('node', ['dist/cli/entry.js', 'start'], {
    env: {
      ...process.env,
      DATABASE_URL: pg.url,
      REDIS_URL: redisSrv.url,
      REDIS_KEY_PREFIX: prefix,
      API_PORT: String(port),
      LOG_LEVEL: 'info',
      LOG_PRETTY: 'false',
      MASTER_KEY: '11'.repeat(32),
      RECONCILE_INTERVAL_S: values['reconcile-s'],
      INSTANCE_DEAD_AFTER_S: values['dead-after-s'],
      UNSEEN_CALLS_GRACE_S: values['unseen-grace-s'],
      // The durable CDR buffer outlives the process, as its directory does in production.
      CDR_BUFFER_DIR: `${dataDir}/cdr-buffer`,
      ...asteriskEnv({ ariUrl: `http://127.0.0.1:${ari.port}`, amiPort: ami.port }),
    },
    stdio: ['ignore', logFd, logFd],
  });
};

// /ready, polled all along: when it said `ready` (200 and nothing degraded), and else why not.
let readyAt: number[] = [];
let notReady = '';
let polling = true;
// One request at a time: on a loaded machine an answer can take seconds, and that counts as not ready.
const readyPoll = (async () => {
  while (polling) {
    const t = Date.now();
    await fetch(`${daemonUrl}/ready`, { signal: AbortSignal.timeout(5000) })
      .then(
        (r) =>
          r.json() as Promise<{ status?: string; checks?: Record<string, { ok: boolean; error?: string }> }>,
      )
      .then((b) => {
        if (b.status === 'ready') readyAt.push(t);
        else
          notReady = Object.entries(b.checks ?? {})
            .filter(([, c]) => !c.ok)
            .map(([k, c]) => `${k}: ${c.error ?? 'failing'}`)
            .join('; ');
      })
      .catch((e: Error) => {
        notReady = `no answer (${e.message})`;
      });
    await sleep(100);
  }
})();
const readyAfter = async (t: number, boundMs = num('ready-bound-s') * 1000) => {
  const end = Date.now() + boundMs;
  for (;;) {
    const at = readyAt.find((x) => x >= t);
    if (at !== undefined) return (at - t) / 1000;
    if (Date.now() > end) return Number.NaN;
    await sleep(100);
  }
};

// Calls: each has its own caller number, so the CDR table says which calls got a record and how many.
interface Call {
  caller: string;
  inApp: boolean;
  /** When it entered the app and when its caller channel ended (ms, the bench's clock). */
  stasisAt?: number;
  endedAt?: number;
  /** Client legs made for it (CAPCONDUIT_CALLER names the caller's channel), with their ends. */
  legs: Array<{ id: string; at: number; endedAt?: number; cause?: number }>;
}
let calls = new Map<string, Call>();
let seq = 0;
const legOf = new Map<string, Call['legs'][number]>();
sim.events.on(
  'ari-event',
  (_app: string, ev: { type: string; channel?: { id: string; channelvars?: Record<string, string> } }) => {
    if (ev.type !== 'StasisStart' || !ev.channel) return;
    const c = calls.get(ev.channel.id);
    if (c) {
      c.inApp = true;
      c.stasisAt = Date.now();
      return;
    }
    const owner = calls.get(ev.channel.channelvars?.CAPCONDUIT_CALLER ?? '');
    if (!owner) return;
    const leg = { id: ev.channel.id, at: Date.now() };
    owner.legs.push(leg);
    legOf.set(leg.id, leg);
  },
);
sim.events.on('channel-destroyed', (id: string, cause: number) => {
  const c = calls.get(id);
  if (c) c.endedAt = Date.now();
  const leg = legOf.get(id);
  if (leg) {
    leg.endedAt = Date.now();
    leg.cause = cause;
    legOf.delete(id);
  }
});
/** Places calls at `perS` (evenly) until stopped; each caller hangs up after the talk time. */
const traffic = (perS: number, talk: number) => {
  const t0 = Date.now();
  let placed = 0;
  const timer = setInterval(() => {
    const due = Math.floor(((Date.now() - t0) * perS) / 1000);
    for (; placed < due; placed++) {
      const n = ++seq;
      const id = `faults-${n}`;
      const caller = `+1212${String(n).padStart(7, '0')}`;
      calls.set(id, { caller, inApp: false, legs: [] });
      sim.placeInboundCall({
        channelId: id,
        did: dids[n % LINKS]!,
        callerNumber: caller,
        hangupAfterMs: talk,
      });
    }
  }, 5);
  return () => clearInterval(timer);
};

// Client legs up at once per endpoint, sampled from the simulator: a cap overshoot is a leg too many.
const peak = new Map<string, number>();
const sampler = setInterval(() => {
  for (let i = 0; i < LINKS; i++) {
    const ep = `faults-${i}`;
    peak.set(ep, Math.max(peak.get(ep) ?? 0, sim.channelCount(`PJSIP/${ep}-`)));
  }
}, 20);

const sources = { redis, prefix, sql, campaignId: camp!.id as string, sim, daemonUrl };

interface Fault {
  key: string;
  name: string;
  /** Does the fault; resolves at the moment the system is whole again (what "to ready" counts from). */
  run(): Promise<number>;
}
const faults: Fault[] = [
  {
    key: 'kill',
    name: 'kill -9 daemon, restart',
    async run() {
      daemon.kill('SIGKILL');
      await new Promise((r) => daemon.once('exit', r));
      startDaemon();
      return Date.now();
    },
  },
  {
    key: 'redis',
    name: 'Redis restart (data lost)',
    async run() {
      await redisSrv.stop();
      await redisSrv.start();
      return Date.now();
    },
  },
  {
    key: 'flush',
    name: 'Redis FLUSHALL',
    async run() {
      await redis.flushall();
      return Date.now();
    },
  },
  {
    key: 'pg',
    name: `PostgreSQL down ${values['pg-down-s']} s`,
    async run() {
      pg.stop();
      await sleep(num('pg-down-s') * 1000);
      pg.start();
      return Date.now();
    },
  },
  {
    key: 'sim',
    name: 'simulator restart, channels lost',
    async run() {
      await sim.restart({ downMs: num('sim-down-s') * 1000 });
      return Date.now();
    },
  },
  {
    key: 'cut',
    name: `ARI+AMI links cut ${values['cut-s']} s`,
    async run() {
      ari.cut();
      ami.cut();
      await sleep(num('cut-s') * 1000);
      ari.restore();
      ami.restore();
      return Date.now();
    },
  },
  {
    key: 'overload',
    name: `overload ${values['overload-rate']} calls/s ${values['overload-s']} s`,
    async run() {
      const stop = traffic(num('overload-rate'), talkMs);
      await sleep(num('overload-s') * 1000);
      stop();
      return Date.now();
    },
  },
];

interface Row {
  fault: string;
  placed: number;
  inApp: number;
  stuck: number;
  slots: number;
  channels: number;
  bridges: number;
  noCdr: number;
  unseen: number;
  twice: number;
  overshoot: number;
  totals: number;
  toReady: number;
  settleS: number;
}

const phase = async (f: Fault): Promise<Row> => {
  calls = new Map();
  readyAt = [];
  notReady = '';
  const before = await snapshot(sources);
  for (const k of peak.keys()) peak.set(k, 0);
  const stop = traffic(rate, talkMs);
  await sleep(talkMs); // ~rate x talk calls live
  const faultAt = Date.now();
  const restored = await f.run();
  const toReady = await readyAfter(restored);
  if (Number.isNaN(toReady))
    console.log(`${f.name}: not ready after ${values['ready-bound-s']} s (${notReady})`);
  await sleep(num('after-s') * 1000);
  stop();
  // Every caller hangs up by itself at the end of its talk time (callers are the only Local/ channels).
  const upBound = Date.now() + talkMs + 60_000;
  while (sim.channelCount('Local/') > 0 && Date.now() < upBound) await sleep(500);
  const quiet = Date.now();
  const overshoot = [...peak.values()].reduce((n, p) => n + Math.max(0, p - cap), 0);
  const read = async (s: Snapshot) => {
    const inApp = [...calls.values()].filter((c) => c.inApp);
    return {
      stuck: Number.isNaN(s.held) ? Number.NaN : s.held + s.recorded - before.recorded,
      slots: s.slots - before.slots,
      channels: s.channels - before.channels,
      bridges: s.bridges - before.bridges,
      noCdr: inApp.filter((c) => !s.cdrs.get(c.caller)).length,
      noCdrIds: [...calls].filter(([, c]) => c.inApp && !s.cdrs.get(c.caller)).map(([id]) => id),
      unseen: s.unseen - before.unseen,
      twice: inApp.filter((c) => (s.cdrs.get(c.caller) ?? 0) > 1).length,
      totals: s.totalsGap - before.totalsGap,
      inApp: inApp.length,
    };
  };
  const zero = (x: Awaited<ReturnType<typeof read>>) =>
    x.stuck === 0 && !x.slots && !x.channels && !x.bridges && !x.noCdr && !x.twice && !x.totals;
  let r: Awaited<ReturnType<typeof read>> | null = null;
  for (;;) {
    // A read can fail while a dependency is still coming back: it is simply tried again.
    r = await snapshot(sources).then(read, () => r);
    if ((r && zero(r)) || Date.now() - quiet > num('settle-s') * 1000) break;
    await sleep(1000);
  }
  if (!r) throw new Error('the records could not be read after the fault');
  const { noCdrIds, ...counts } = r;
  if (!zero(r) || values.details) details(f, faultAt, noCdrIds);
  return {
    fault: f.name,
    placed: calls.size,
    overshoot,
    toReady,
    settleS: (Date.now() - quiet) / 1000,
    ...counts,
  };
};

/**
 * What a non-zero row is made of, for finding its cause in the daemon's log (call ids, channel ids):
 * the calls with no CDR and the channels left, with their times in seconds from the fault's start.
 */
function details(f: Fault, faultAt: number, noCdr: string[]) {
  const t = (ms?: number) => (ms === undefined ? '-' : ((ms - faultAt) / 1000).toFixed(2));
  for (const id of noCdr.slice(0, 20)) {
    const c = calls.get(id)!;
    const legs = c.legs.map((l) => `${l.id} ${t(l.at)}..${t(l.endedAt)} cause ${l.cause ?? '-'}`).join('; ');
    console.log(
      `  ${f.key}: no CDR ${id}: in app ${t(c.stasisAt)}, ended ${t(c.endedAt)}; legs: ${legs || 'none'}`,
    );
  }
  for (const ch of sim.liveChannels().slice(0, 20)) {
    const v = (ch.channelvars ?? {}) as Record<string, string>;
    const owner = calls.get(v.CAPCONDUIT_CALLER ?? '');
    console.log(
      `  ${f.key}: channel left ${ch.id} ${ch.name} ${ch.state} call ${v.CAPCONDUIT_CALL_ID ?? '-'} caller ${v.CAPCONDUIT_CALLER ?? '-'} (in app ${t(owner?.stasisAt)}, ended ${t(owner?.endedAt)})`,
    );
  }
}

startDaemon();
const firstReady = await readyAfter(Date.now(), 60_000);
console.log(
  `daemon ready in ${firstReady.toFixed(1)} s; ${LINKS} links, concurrency cap ${cap} each; base traffic ${rate} calls/s x ${talkMs / 1000} s talk (~${rate * (talkMs / 1000)} live)`,
);
const load = () =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');
console.log(`load average at the start: ${load()}`);
const rows: Row[] = [];
for (const f of faults.filter((x) => values.only.split(',').includes(x.key))) {
  const row = await phase(f);
  rows.push(row);
  console.log(`done: ${f.name} (${JSON.stringify(row)})`);
}

// A call's second CDR can come after its phase was read (a record read back later): once the daemon
// has read Asterisk's records up to the end of the last phase, over the whole run, callers (by number,
// and by the caller channel a CDR names) with more than one CDR.
const lastEnd = new Date().toISOString();
const readUpTo = Date.now() + (num('unseen-grace-s') + 3 * num('reconcile-s') + 60) * 1000;
while (Date.now() < readUpTo) {
  const [m] = await sql<{ ok: boolean }[]>`
    select coalesce(bool_and(swept_to > ${lastEnd}::timestamptz), false) as ok from unseen_call_sweeps`;
  if (m?.ok) break;
  await sleep(1000);
}
const [dup] = await sql<{ numbers: number; channels: number }[]>`
  select (select count(*)::int from (select 1 from call_records where caller_number is not null
            group by caller_number having count(*) > 1) x) as numbers,
         (select count(*)::int from (select 1 from call_records where caller_channel_id is not null
            group by caller_channel_id having count(*) > 1) y) as channels`;
polling = false;
await readyPoll;
clearInterval(sampler);
daemon!.kill('SIGTERM');
await new Promise((r) => daemon.once('exit', r));
console.log(`load average at the end: ${load()}`);
const head = [
  'fault',
  'placed',
  'in app',
  'stuck',
  'slots leaked',
  'channels left',
  'bridges left',
  'no CDR',
  'CDR from Asterisk',
  'CDR twice',
  'cap overshoot',
  'totals off',
  's to ready',
  's to settle',
];
const cells = rows.map((r) => [
  r.fault,
  r.placed,
  r.inApp,
  r.stuck,
  r.slots,
  r.channels,
  r.bridges,
  r.noCdr,
  r.unseen,
  r.twice,
  r.overshoot,
  r.totals,
  r.toReady.toFixed(1),
  r.settleS.toFixed(0),
]);
const width = head.map((h, i) => Math.max(h.length, ...cells.map((c) => String(c[i]).length)));
const line = (c: Array<string | number>) => c.map((x, i) => String(x).padEnd(width[i]!)).join(' | ');
console.log(line(head));
console.log(width.map((w) => '-'.repeat(w)).join('-|-'));
for (const c of cells) console.log(line(c));
console.log(
  'stuck: calls the daemon still holds or Redis still records; slots/channels/bridges: left over after the phase; no CDR / twice: calls that reached the app; CDR from Asterisk: of those, CDRs written from the record Asterisk wrote (the caller hung up in the app while no instance ran: not an error); totals off: answered totals minus answered CDRs; to ready: s from the end of the fault to /ready "ready"; to settle: s after the last caller hung up until all read 0 (or --settle-s)',
);
console.log(
  `over the whole run: ${dup!.numbers} caller numbers and ${dup!.channels} caller channels with more than one CDR`,
);
await sql.end();
redis.disconnect();
await ari.close();
await ami.close();
await sim.stop();
await redisSrv.stop();
pg.destroy();
rmSync(`${dataDir}/cdr-buffer`, { recursive: true, force: true });
const bad =
  dup!.numbers > 0 ||
  dup!.channels > 0 ||
  rows.some(
    (r) =>
      r.stuck !== 0 || r.slots || r.channels || r.bridges || r.noCdr || r.twice || r.overshoot || r.totals,
  );
process.exit(bad ? 1 : 0);
