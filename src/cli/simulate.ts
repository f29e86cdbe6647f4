import { createLogger } from '../platform/logger.ts';
import { type Crash, startSimulator } from '../simulator/index.ts';
import { runTraffic } from '../simulator/traffic.ts';
import { parseCli } from './args.ts';
import { UsageError } from './errors.ts';
import { ensurePortsFree } from './ports.ts';

export const usage = `usage: capconduit simulate [--ari-port 8088] [--ami-port 5038] [--host 127.0.0.1]
                          [--user asterisk] [--password asterisk] [--dialplan asterisk/extensions.conf]
                          [--database-url <url>] [--endpoint name[:answer|busy|noanswer|congestion|unavailable]]...
                          [--session-limit 100] [--no-limits]
                          [--rate <calls/s> --did <number>... [--caller <number>]... [--duration <s>] [--talk-ms MIN-MAX]]

Runs the Asterisk simulator: ARI (REST and events WebSocket) and AMI as Asterisk 22 speaks them,
running the dialplan file. PJSIP endpoints come from --endpoint and from the ps_endpoints table of
--database-url (default DATABASE_URL). Asterisk's limits under load are on at its defaults: 100
HTTP sessions (--session-limit), REST over one WebSocket served one request at a time, and a
WebSocket frame larger than Asterisk's thread stack kills it: the simulator then exits with status
139, as a segfaulted Asterisk does. --no-limits turns them all off. Point a daemon at it with ASTERISK_ARI_URL=http://127.0.0.1:8088,
ASTERISK_ARI_USER/PASSWORD and ASTERISK_AMI_* = the --user/--password above. --rate places inbound
calls itself. Stops on SIGINT/SIGTERM.
`;

const port = (s: string | undefined, d: number, name: string) => {
  if (s === undefined) return d;
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--${name} must be a port number`);
  return n;
};

/** `capconduit simulate`: a standalone Asterisk simulator (ARI + AMI) on loopback. */
export async function run(argv: string[]): Promise<number> {
  const { values } = parseCli(argv, {
    'ari-port': { type: 'string' },
    'ami-port': { type: 'string' },
    user: { type: 'string' },
    password: { type: 'string' },
    host: { type: 'string' },
    endpoint: { type: 'string', multiple: true },
    'database-url': { type: 'string' },
    dialplan: { type: 'string' },
    rate: { type: 'string' },
    duration: { type: 'string' },
    did: { type: 'string', multiple: true },
    caller: { type: 'string', multiple: true },
    'talk-ms': { type: 'string' },
    'channel-var': { type: 'string', multiple: true },
    'session-limit': { type: 'string' },
    'no-limits': { type: 'boolean' },
  });
  const log = createLogger({ level: 'info', name: 'simulator' });
  const endpoints: Record<
    string,
    { result?: 'answer' | 'busy' | 'noanswer' | 'congestion' | 'unavailable' }
  > = {};
  // --endpoint name[:answer|busy|noanswer|congestion|unavailable]
  for (const e of values.endpoint ?? []) {
    const [name, result] = e.split(':');
    if (!name || (result && !['answer', 'busy', 'noanswer', 'congestion', 'unavailable'].includes(result)))
      throw new UsageError(`--endpoint ${e}: expected name[:answer|busy|noanswer|congestion|unavailable]`);
    endpoints[name] = result ? { result: result as 'answer' } : {};
  }
  const host = values.host ?? '127.0.0.1';
  const ariPort = port(values['ari-port'], 8088, 'ari-port');
  const amiPort = port(values['ami-port'], 5038, 'ami-port');
  await ensurePortsFree([
    { host, port: ariPort, setting: '--ari-port' },
    { host, port: amiPort, setting: '--ami-port' },
  ]);
  const sessionLimit = values['session-limit'] === undefined ? 100 : Number(values['session-limit']);
  if (!Number.isInteger(sessionLimit) || sessionLimit < 1)
    throw new UsageError('--session-limit must be a whole number of sessions, at least 1');
  const sim = await startSimulator({
    host,
    ariPort,
    amiPort,
    user: values.user ?? 'asterisk',
    password: values.password ?? 'asterisk',
    endpoints,
    // ari.conf `channelvars`: none unless asked for, as in a stock Asterisk.
    channelVars: values['channel-var'] ?? [],
    limits: values['no-limits']
      ? {
          httpSessions: Number.POSITIVE_INFINITY,
          serialWebSocketRequests: false,
          wsMaxIncomingFrame: Number.POSITIVE_INFINITY,
          wsFrameStackBytes: Number.POSITIVE_INFINITY,
        }
      : { httpSessions: sessionLimit },
    ...(values.dialplan ? { dialplanPath: values.dialplan } : {}),
    // PJSIP endpoints from the realtime tables, like res_config_pgsql (default: DATABASE_URL).
    ...(values['database-url'] || process.env.DATABASE_URL
      ? { databaseUrl: values['database-url'] ?? process.env.DATABASE_URL }
      : {}),
  });
  log.info(
    { ari: `${sim.ariUrl}/ari`, amiPort: sim.amiPort, endpoints: Object.keys(endpoints) },
    'Asterisk simulator listening',
  );
  // Optional inbound traffic: --rate N [--duration S] --did +1... [--caller +1...] [--talk-ms MIN-MAX]
  const rate = values.rate === undefined ? 0 : Number(values.rate);
  if (!Number.isFinite(rate) || rate < 0) throw new UsageError('--rate must be calls per second');
  let traffic: ReturnType<typeof runTraffic> | null = null;
  if (rate > 0) {
    if (!values.did?.length) throw new UsageError('--rate needs at least one --did');
    const [lo, hi] = (values['talk-ms'] ?? '2000-8000').split('-').map(Number);
    if (!Number.isFinite(lo) || !Number.isFinite(hi ?? lo))
      throw new UsageError('--talk-ms must be MIN-MAX milliseconds');
    traffic = runTraffic(
      sim,
      {
        ratePerS: rate,
        durationS: Number(values.duration ?? 0),
        dids: values.did,
        callers: values.caller?.length ? values.caller : ['+12125550100'],
        talkMs: [lo!, hi ?? lo!],
      },
      (r) =>
        log.info({ started: r.started, answered: r.answered, failedByCause: r.failedByCause }, 'traffic'),
    );
    void traffic.done.then((r) => log.info(r, 'traffic finished'));
  }
  const crash = await new Promise<Crash | null>((resolve) => {
    process.once('SIGINT', () => resolve(null));
    process.once('SIGTERM', () => resolve(null));
    sim.events.once('crashed', (c: Crash) => resolve(c));
  });
  traffic?.stop();
  if (crash) log.fatal({ frameBytes: crash.frameBytes }, `Asterisk would have crashed: ${crash.reason}`);
  await sim.stop();
  // 128 + SIGSEGV: what a shell or a supervisor sees of a segfaulted Asterisk.
  return crash ? 139 : 0;
}
