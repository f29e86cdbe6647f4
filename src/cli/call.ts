// `capconduit call --did <number>`: a test inbound call as a carrier would send it. AMI Originate of
// Local/<did>@from-carrier (the sample dialplan hands it to the Stasis app) into Wait, so the
// originating half stays up for --talk seconds once a call centre answers; then it follows the
// call's AMI events and says what happened to it.
import { type AmiEvent, AmiClient } from '../asterisk/ami.ts';
import { type AsteriskNodeConfig, loadAsteriskNodes } from '../config.ts';
import { createLogger } from '../platform/logger.ts';
import { parseCli } from './args.ts';
import { UsageError } from './errors.ts';

export const usage = `usage: capconduit call --did <number> [--from <caller>] [--context from-carrier]
                      [--node <id>] [--talk 5] [--ring-timeout 30]

Places a test inbound call on an Asterisk node (or the simulator) over AMI: Originate of
Local/<did>@<context> with --from as the caller ID, into Wait(<talk>), as a carrier's call would
arrive. The dialplan of asterisk/extensions.conf hands it to CapConduit, which routes it. Prints what
happened (answered, by whom when Asterisk says so, how it ended and why) and where to find its CDR.
The node is the one of ASTERISK_AMI_* (or --node <id> of ASTERISK_NODES); the AMI user needs the
originate right. Use --context from-carrier-broadcast with STASIS_BROADCAST=true.
Exit status 0 when the call was answered, 3 when it was not, 1 when it could not be placed.
`;

/** Q.850 causes a test call commonly ends with, in words, with what they mean here. */
const CAUSES: Record<string, string> = {
  '16': 'normal clearing',
  '17': 'busy',
  '18': 'no user responding',
  '19': 'no answer',
  '20': 'subscriber absent',
  '21': 'call rejected',
  '1': 'unallocated number (no such extension in that context)',
  '3': 'no route',
  '34': 'no circuit available (in the sample dialplan: no CapConduit instance holds the Stasis app)',
  '38': 'network out of order',
};

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCli(argv, {
    did: { type: 'string' },
    from: { type: 'string' },
    context: { type: 'string' },
    node: { type: 'string' },
    talk: { type: 'string' },
    'ring-timeout': { type: 'string' },
  });
  const did = values.did;
  if (!did || !/^\+?[0-9]{3,20}$/.test(did))
    throw new UsageError('--did <number> is required (digits, optional +)');
  const from = values.from ?? '+12025550123';
  if (!/^\+?[0-9]{3,20}$/.test(from)) throw new UsageError('--from must be a number (digits, optional +)');
  const context = values.context ?? 'from-carrier';
  if (!/^[A-Za-z0-9_-]+$/.test(context)) throw new UsageError('--context must be a dialplan context name');
  const seconds = (s: string | undefined, d: number, name: string) => {
    const n = s === undefined ? d : Number(s);
    if (!Number.isFinite(n) || n < 0 || n > 3600) throw new UsageError(`--${name} must be seconds (0-3600)`);
    return n;
  };
  const talk = seconds(values.talk, 5, 'talk');
  const ring = seconds(values['ring-timeout'], 30, 'ring-timeout');
  const node = pickNode(loadAsteriskNodes(), values.node);

  const out = (s: string) => process.stdout.write(`${s}\n`);
  const ami = new AmiClient({
    host: node.amiHost,
    port: node.amiPort,
    user: node.amiUser,
    secret: node.amiSecret,
    log: createLogger({ level: 'silent' }),
    eventNames: () => ['Newchannel', 'Newstate', 'Hangup', 'OriginateResponse'],
  });
  const events: AmiEvent[] = [];
  let wake: (() => void) | null = null;
  ami.on('event', (ev: AmiEvent) => {
    events.push(ev);
    wake?.();
  });
  const nextEvent = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  try {
    ami.start();
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(
        () =>
          reject(
            new Error(
              `cannot log in to AMI at ${node.amiHost}:${node.amiPort} as ${node.amiUser}: ${ami.lastError ?? 'no answer'} (node ${node.id})`,
            ),
          ),
        20_000, // a loaded host can take seconds to answer a login; a wrong secret fails sooner
      );
      ami.once('connected', () => {
        clearTimeout(t);
        resolve();
      });
    });
    const channel = `Local/${did}@${context}`;
    out(`calling ${did} from ${from} on node ${node.id}: ${channel}, talking ${talk} s once answered`);
    const t0 = Date.now();
    const at = () => `${((Date.now() - t0) / 1000).toFixed(2)} s`;
    await ami.action(
      'Originate',
      {
        Channel: channel,
        Application: 'Wait',
        Data: String(talk),
        CallerID: `"CapConduit test" <${from}>`,
        Timeout: ring * 1000,
        Async: 'true',
      },
      { timeoutMs: 20_000 },
    );
    // The originating half (;1) names the call: every channel of it carries its Linkedid.
    const prefix = `${channel}-`.toLowerCase();
    let linkedid: string | null = null;
    const live = new Set<string>();
    let answered = false;
    let cause: string | null = null;
    const deadline = t0 + (ring + talk + 15) * 1000;
    let seen = 0;
    while (Date.now() < deadline) {
      while (seen < events.length) {
        const ev = events[seen++]!;
        const f = ev.fields;
        const name = f.channel ?? '';
        if (
          !linkedid &&
          ev.event === 'Newchannel' &&
          name.toLowerCase().startsWith(prefix) &&
          name.endsWith(';1')
        )
          linkedid = f.linkedid ?? f.uniqueid ?? null;
        if (ev.event === 'OriginateResponse' && f.response?.toLowerCase() === 'failure' && !answered) {
          out(`${at()}  Asterisk could not complete the call (OriginateResponse reason ${f.reason ?? '?'})`);
        }
        if (!linkedid || f.linkedid !== linkedid) continue;
        if (ev.event === 'Newchannel') {
          live.add(name);
          if (!name.startsWith('Local/')) out(`${at()}  new channel ${name}`);
        } else if (
          ev.event === 'Newstate' &&
          f.channelstatedesc === 'Up' &&
          name.endsWith(';1') &&
          !answered
        ) {
          answered = true;
          out(`${at()}  answered (a call centre took it; CapConduit bridged the caller)`);
        } else if (ev.event === 'Hangup') {
          live.delete(name);
          const c = f.cause ?? '';
          if (name.endsWith(';2') || cause === null) cause = c;
          out(`${at()}  ${name} hung up: cause ${c} (${f['cause-txt'] ?? CAUSES[c] ?? 'unknown'})`);
        }
      }
      if (linkedid && live.size === 0 && cause !== null) break;
      await nextEvent(Math.max(1, Math.min(1000, deadline - Date.now())));
    }
    if (!linkedid) {
      out(
        `no channel appeared for ${channel} within ${ring + talk + 15} s: check the context exists on the node`,
      );
      return 1;
    }
    if (live.size) out(`still up after ${ring + talk + 15} s: ${[...live].join(', ')}`);
    out(
      answered
        ? `the call was answered and ended after ${at()}`
        : `the call was not answered (cause ${cause ?? '?'}, ${CAUSES[cause ?? ''] ?? 'see Asterisk'}): its CDR's disposition says why (unknown_did, no_client, all_failed, ...)`,
    );
    out(
      `its CDR: GET /v1/calls?did=${encodeURIComponent(normalise(did))} (the daemon writes it when the call ends)`,
    );
    return answered ? 0 : 3;
  } finally {
    await ami.stop();
  }
}

function pickNode(nodes: AsteriskNodeConfig[], id: string | undefined): AsteriskNodeConfig {
  if (!nodes.length)
    throw new UsageError(
      'no Asterisk node configured: set ASTERISK_ARI_URL, ASTERISK_ARI_USER/PASSWORD and ASTERISK_AMI_HOST/PORT/USER/SECRET (or ASTERISK_NODES)',
    );
  if (!id) return nodes[0]!;
  const n = nodes.find((x) => x.id === id);
  if (!n) throw new UsageError(`--node ${id}: not configured (nodes: ${nodes.map((x) => x.id).join(', ')})`);
  return n;
}

/** The DID as the daemon stores it: E.164 with +, 10 digits read as North American. */
function normalise(did: string): string {
  if (did.startsWith('+')) return did;
  return did.length === 10 ? `+1${did}` : `+${did}`;
}
