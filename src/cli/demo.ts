// `capconduit demo`: the simulator, the daemon pointed at it, sample sellers/clients/campaigns/DIDs,
// and inbound traffic; prints what is routed, capped and recorded, and says what it printed.
import { randomBytes } from 'node:crypto';
import { eq, inArray, sql } from 'drizzle-orm';
import { createApiKey } from '../auth/keys.ts';
import { ConsoleRepository } from '../console/repository.ts';
import { hashPassword } from '../console/users.ts';
import { loadConfig, parseConfig } from '../config.ts';
import { apiKeys } from '../db/schema/auth.ts';
import { campaigns, clients, dids, links, sellers } from '../db/schema/routing.ts';
import { createLogger } from '../platform/logger.ts';
import { startDaemon } from '../main.ts';
import type { ProvisioningModule } from '../provisioning/index.ts';
import { FakeCarrier } from '../provisioning/providers/fake/server.ts';
import type { RoutingModule } from '../routing/index.ts';
import { defaultModules } from '../modules.ts';
import { startSimulator } from '../simulator/index.ts';
import { runTraffic } from '../simulator/traffic.ts';
import { parseCli } from './args.ts';
import { DEMO_DID_COST, DEMO_LINK_MONEY, demoLinkMoney, dollars, reportLines } from './demo-money.ts';
import { DEMO_CARRIER, demoNumbers } from './demo-numbers.ts';
import { UsageError } from './errors.ts';
import { ensurePortsFree, portError } from './ports.ts';

export const usage = `usage: capconduit demo [--rate 20] [--duration 30] [--ari-port 8088] [--ami-port 5038]

Starts the Asterisk simulator and the daemon (API_PORT, default 8080) connected to it, loads a sample
seller, campaign and three call centres, buys three DIDs through DID provisioning from a fake
carrier it starts (the Vonage API on a free port; numbers bought on an earlier run are kept), places --rate inbound calls a second for --duration
seconds (0: until Ctrl-C) and prints what happens to them. Needs DATABASE_URL, REDIS_URL and
MASTER_KEY; \`npm run demo\` provides them. Port 0 picks any free port.
`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCli(argv, {
    'ari-port': { type: 'string' },
    'ami-port': { type: 'string' },
    rate: { type: 'string' },
    duration: { type: 'string' },
  });
  const num = (s: string | undefined, d: number, name: string) => {
    const n = s === undefined ? d : Number(s);
    if (!Number.isFinite(n) || n < 0) throw new UsageError(`--${name} must be a non-negative number`);
    return n;
  };
  const rate = num(values.rate, 20, 'rate');
  const duration = num(values.duration, 30, 'duration');
  const base = loadConfig(); // validates the environment (and loads .env) before anything starts
  const ariPort = num(values['ari-port'], 8088, 'ari-port');
  const amiPort = num(values['ami-port'], 5038, 'ami-port');
  await ensurePortsFree([
    { host: '127.0.0.1', port: ariPort, setting: '--ari-port' },
    { host: '127.0.0.1', port: amiPort, setting: '--ami-port' },
    { host: base.API_HOST, port: base.API_PORT, setting: 'API_PORT' },
  ]);
  const sim = await startSimulator({ ariPort, amiPort });
  const out = (s: string) => process.stdout.write(`${s}\n`);
  out(`simulator: ARI ${sim.ariUrl}/ari, AMI 127.0.0.1:${sim.amiPort}`);
  const carrier = new FakeCarrier({
    apiKey: DEMO_CARRIER.apiKey,
    apiSecret: DEMO_CARRIER.apiSecret,
    inventoryPerNpa: 10,
  });
  await carrier.listen(0);
  out(`fake carrier (the Vonage API, as \`capconduit simulate-carrier\` serves it): ${carrier.url}`);
  const config = parseConfig({
    ...process.env,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    ASTERISK_NODES: JSON.stringify([
      {
        id: 'sim-1',
        ariUrl: sim.ariUrl,
        ariUser: 'asterisk',
        ariPassword: 'asterisk',
        amiHost: '127.0.0.1',
        amiPort: sim.amiPort,
        amiUser: 'asterisk',
        amiSecret: 'asterisk',
      },
    ]),
  });
  const log = createLogger({ level: config.LOG_LEVEL, pretty: config.LOG_PRETTY });
  const daemon = await startDaemon(config, log, defaultModules()).catch(async (e: unknown) => {
    await sim.stop();
    await carrier.close();
    throw portError(e, 'API_PORT');
  });
  out(`daemon: API ${daemon.address} (docs ${daemon.address}/docs, metrics ${daemon.address}/metrics)`);

  // Sample data (idempotent by name): one seller, three call centres with different behaviour.
  const db = daemon.ctx.database.db;
  const [seller] = await db
    .insert(sellers)
    .values({ name: 'Demo Leads' })
    .onConflictDoUpdate({ target: sellers.name, set: { active: true } })
    .returning();
  const plan = [
    {
      name: 'demo-alpha',
      behaviour: { answerAfterMs: 400 },
      link: { priority: 0, concurrencyCap: 8, hourlyCap: 400, ...demoLinkMoney('demo-alpha') },
    },
    {
      name: 'demo-bravo',
      behaviour: { answerAfterMs: 600 },
      link: { priority: 1, concurrencyCap: 20, dailyCap: 2000, ...demoLinkMoney('demo-bravo') },
    },
    {
      name: 'demo-busy',
      behaviour: { result: 'busy' as const, answerAfterMs: 200 },
      link: { priority: 2, ...demoLinkMoney('demo-busy') },
    },
  ];
  let [camp] = await db.select().from(campaigns).where(eq(campaigns.name, 'Demo Auto Insurance'));
  camp ??= (
    await db
      .insert(campaigns)
      .values({ sellerId: seller!.id, name: 'Demo Auto Insurance', strategy: 'priority', ringTimeoutS: 10 })
      .returning()
  )[0];
  for (const p of plan) {
    sim.setEndpoint(p.name, p.behaviour);
    const [c] = await db
      .insert(clients)
      .values({ name: p.name, endpoint: p.name })
      .onConflictDoUpdate({ target: clients.name, set: { endpoint: p.name, active: true } })
      .returning();
    await db
      .insert(links)
      .values({ campaignId: camp!.id, clientId: c!.id, ...p.link })
      .onConflictDoUpdate({ target: [links.campaignId, links.clientId], set: p.link });
  }
  // The DIDs are bought from the fake carrier through DID provisioning, as an operator buys them.
  const prov = daemon.ctx.modules.get('provisioning') as ProvisioningModule;
  const bought = await demoNumbers(db, prov, carrier, {
    sellerId: seller!.id,
    campaignId: camp!.id,
    npa: '415',
    count: 3,
  });
  const numbers = bought.numbers;
  out(
    bought.jobId
      ? `DIDs: ${bought.bought} bought through DID provisioning (job ${bought.jobId}) from the fake carrier at ${carrier.url}, each now a DID of the seller: ${numbers.join(', ')}`
      : `DIDs: ${numbers.join(', ')}, bought through DID provisioning from the fake carrier on an earlier run (kept)`,
  );
  if (!numbers.length) throw new Error('the demo could not buy any DID from the fake carrier');
  // What the numbers cost: a rate a minute of answered call, and a monthly rent.
  await db.update(dids).set(DEMO_DID_COST).where(inArray(dids.number, numbers));
  // One demo key at a time: the previous run's key is deleted rather than left behind.
  await db.delete(apiKeys).where(eq(apiKeys.label, DEMO_KEY_LABEL));
  const admin = await createApiKey(db, { role: 'admin', label: DEMO_KEY_LABEL });
  out(`admin API key (valid until the next demo run): ${admin.key}`);
  out(`  try: curl -s -H 'Authorization: Bearer ${admin.key}' ${daemon.address}/v1/calls?limit=3`);
  // The console's demo admin: a new password each run (the previous one stops working).
  const consolePassword = randomBytes(12).toString('base64url');
  const consoleUsers = new ConsoleRepository(db);
  const existing = await consoleUsers.byEmail(DEMO_CONSOLE_EMAIL);
  if (existing)
    await consoleUsers.update(existing.id, {
      passwordHash: await hashPassword(consolePassword),
      role: 'admin',
      sellerId: null,
      disabledAt: null,
    });
  else
    await consoleUsers.insert({
      email: DEMO_CONSOLE_EMAIL,
      passwordHash: await hashPassword(consolePassword),
      role: 'admin',
      sellerId: null,
    });
  // The password on a line of its own, nothing after it: copied with a double-click, no comma with it.
  out(`console: ${config.PUBLIC_URL ?? daemon.address}/console  (up while the demo runs)`);
  out(`  email:    ${DEMO_CONSOLE_EMAIL}`);
  out(`  password: ${consolePassword}`);
  out(
    duration
      ? `  (valid until the next demo run; \`npm run demo -- --duration 0\` keeps the console up until Ctrl-C)`
      : '  (valid until the next demo run)',
  );
  out('');
  out(`What runs: one seller, one campaign (DIDs ${numbers.join(', ')}) and three call centres,`);
  out('tried in priority order for each call:');
  out('  demo-alpha  answers after 0.4 s, at most 8 calls at once and 400 answered an hour');
  out('  demo-bravo  answers after 0.6 s, at most 20 calls at once and 2,000 answered a day');
  out('  demo-busy   always busy: it takes the calls the other two have no room for');
  out('Callers talk 1-4 s. A call is answered while alpha or bravo has room; when both are full it');
  out('reaches demo-busy, which refuses it, and its CDR says all_failed (every call centre tried failed).');
  const m$ = (c: string) =>
    `${dollars(demoLinkMoney(c).payoutMicros)}/${dollars(demoLinkMoney(c).revenueMicros)}`;
  out(
    `Money: a call converts after 2 s of talk (billed in 6 s steps); a converted call owes the seller a payout and is charged to the call centre as revenue (payout/revenue: ${Object.keys(
      DEMO_LINK_MONEY,
    )
      .map((c) => `${c} ${m$(c)}`)
      .join(
        ', ',
      )}); each DID costs ${dollars(DEMO_DID_COST.ratePerMinMicros)} a minute of answered call and ${dollars(DEMO_DID_COST.monthlyRentMicros)} a month.`,
  );
  out('');
  out(
    `traffic: ${rate} calls/s for ${duration ? `${duration} s` : 'ever (Ctrl-C to stop)'}; every second: calls placed,`,
  );
  out('calls in progress, the CDRs written so far by disposition, and the money they carry');

  const since = new Date();
  const summary = async () => {
    await (daemon.ctx.modules.get('routing') as RoutingModule).cdr.flush();
    const rows = await db.execute<{ disposition: string; n: number }>(
      sql`select disposition, count(*)::int as n from call_records where started_at >= ${since.toISOString()} group by 1 order by 2 desc`,
    );
    const [money] = await db.execute<{ converted: number; payout: number; revenue: number }>(
      sql`select count(*) filter (where converted)::int as converted, coalesce(sum(payout_micros), 0)::bigint as payout,
            coalesce(sum(revenue_micros), 0)::bigint as revenue
          from call_records where started_at >= ${since.toISOString()}`,
    );
    const byDisposition = rows.map((r) => `${r.disposition}=${r.n}`).join(' ') || 'none yet';
    return `${byDisposition} | converted=${money?.converted ?? 0} payout=${dollars(Number(money?.payout ?? 0))} revenue=${dollars(Number(money?.revenue ?? 0))}`;
  };
  // Calls, not channels: the daemon's own gauge (a routed call is about three channels).
  const inProgress = async () => {
    const m = await daemon.app.inject('/metrics');
    const line = m.body.split('\n').find((l) => l.startsWith('capconduit_inbound_calls_in_progress'));
    return line ? Number(line.split(' ').at(-1)) : 0;
  };
  const traffic = runTraffic(
    sim,
    {
      ratePerS: rate,
      durationS: duration,
      dids: numbers,
      callers: Array.from({ length: 200 }, (_, i) => `+1212555${String(i).padStart(4, '0')}`),
      talkMs: [1000, 4000],
    },
    (r) =>
      void Promise.all([summary(), inProgress()]).then(([s, live]) =>
        out(`calls placed=${r.started} in progress=${live} | CDRs: ${s}`),
      ),
  );
  const stopOnSignal = () => traffic.stop();
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  const report = await traffic.done;
  await new Promise((r) => setTimeout(r, 4500)); // let the last calls end
  out(`done: ${report.started} calls placed; CDRs: ${await summary()}`);
  // The money as an operator reads it: the call report API, grouped by call centre. Reports are kept
  // per quarter-hour: from the quarter-hour the traffic began in to the one after now.
  const Q = 15 * 60_000;
  const from = new Date(Math.floor(since.getTime() / Q) * Q).toISOString();
  const to = new Date(Math.ceil((Date.now() + 1) / Q) * Q).toISOString();
  const reportUrl = `/v1/reports/calls?group_by=client&from=${from}&to=${to}`;
  const rep = await daemon.app.inject({ url: reportUrl, headers: { authorization: `Bearer ${admin.key}` } });
  if (rep.statusCode === 200) {
    out(
      `the call report by call centre, ${from} to ${to} (GET ${reportUrl}; earlier runs in that time count too):`,
    );
    for (const line of reportLines(rep.json())) out(line);
  } else out(`the call report API answered ${rep.statusCode}: ${rep.body}`);
  out('the routing counters from /metrics, as Prometheus reads them:');
  const m = await daemon.app.inject('/metrics');
  for (const line of m.body.split('\n').filter((l) => /^capconduit_calls_(routed|rejected)_total/.test(l)))
    out(line);
  await daemon.stop();
  await sim.stop();
  await carrier.close();
  out('');
  out('The daemon and its console stopped with the demo (`npm run demo -- --duration 0` keeps them up).');
  out('Still there: the demo data (the next run reuses it) and the admin key (the next run replaces it),');
  out("in the database of DATABASE_URL. PostgreSQL and Redis keep running when the project's scripts");
  out('started them, as npm run demo does: stop them with `npm run services:down` (data stays in .data/).');
  return 0;
}

/** The console user the demo makes; each run gives it a new password. */
const DEMO_CONSOLE_EMAIL = 'demo@capconduit.local';

/** Label of the admin key the demo makes; each run replaces the previous run's key. */
export const DEMO_KEY_LABEL = 'capconduit demo';
