// AMI on TCP as Asterisk 22 speaks it: greeting, Key: Value packets, ActionID echo, permission
// denied before login, a slow refusal of a wrong secret, EventList framing, unsolicited events.
import { createServer, type Server, type Socket } from 'node:net';
import { AmiParser } from '../asterisk/ami.ts';
import { corkUntilTurnEnds } from '../net/cork.ts';
import { CAUSE_TXT, type SimChannel, type SimModel } from './model.ts';

const stateCode = (s: SimChannel['state']) => (s === 'Up' ? 6 : s === 'Ringing' ? 5 : s === 'Ring' ? 4 : 0);

export interface AmiHooks {
  originateLocal(o: {
    exten: string;
    context: string;
    callerNumber: string;
    callerName: string;
    application?: string;
    data?: string;
  }): void;
  /** PJSIP endpoint names as res_pjsip would list them (realtime table or configured). */
  endpointNames(): Promise<string[]>;
}

/** A manager session: login state, the `Events` switch and the session's `Filter` regexes. */
type Session = Socket & {
  loggedIn?: boolean;
  eventsOff?: boolean;
  filters?: { include: RegExp[]; exclude: RegExp[] };
};

const snapshot = (c: SimChannel): Array<[string, string | number]> => [
  ['Channel', c.name],
  ['ChannelState', stateCode(c.state)],
  ['ChannelStateDesc', c.state],
  ['CallerIDNum', c.caller.number || '<unknown>'],
  ['CallerIDName', c.caller.name || '<unknown>'],
  ['ConnectedLineNum', c.connected.number || '<unknown>'],
  ['ConnectedLineName', c.connected.name || '<unknown>'],
  ['Language', 'en'],
  ['AccountCode', ''],
  ['Context', c.dialplan.context],
  ['Exten', c.dialplan.exten],
  ['Priority', c.dialplan.priority],
  ['Uniqueid', c.id],
  ['Linkedid', c.linkedid ?? c.id],
];

/**
 * Asterisk's legacy filter rules, each a regex over the whole event text: none, every event;
 * include filters only, an event must match one; exclude (`!`) filters only, it must match none;
 * both, it must match an include and no exclude.
 */
function passes(f: Session['filters'], text: string): boolean {
  if (!f) return true;
  if (f.include.length && !f.include.some((r) => r.test(text))) return false;
  return !f.exclude.some((r) => r.test(text));
}

/**
 * A POSIX extended regex (what Asterisk compiles filters with, no REG_NEWLINE) as a JS RegExp:
 * `.` matches line ends too, `^`/`$` only at the ends of the text, and bracket classes such as
 * `[[:space:]]` are spelled out.
 */
export function posixRegex(src: string): RegExp {
  const classes: Record<string, string> = {
    space: '\\s',
    digit: '0-9',
    alpha: 'A-Za-z',
    alnum: 'A-Za-z0-9',
    upper: 'A-Z',
    lower: 'a-z',
    xdigit: '0-9A-Fa-f',
    punct: '!-\\/:-@\\[-`{-~',
  };
  const js = src.replace(/\[:([a-z]+):\]/g, (m, name: string) => {
    const c = classes[name];
    if (c === undefined) throw new Error(`unknown class ${m}`);
    return c;
  });
  return new RegExp(js, 's');
}

const packet = (fields: Array<[string, string | number]>) =>
  `${fields.map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`;

export class AmiServer {
  server: Server;
  private sessions = new Set<Session>();
  private started = new Date();
  private reloaded = new Date();

  constructor(
    private model: SimModel,
    private user: string,
    private secret: string,
    private hooks: AmiHooks,
    private badLoginDelayMs = 1000,
  ) {
    this.server = createServer((s) => this.session(s));
    // The channel events of a call as Asterisk sends them to every session that may read the
    // `call` class: each carries the channel snapshot (caller, connected line, state, dialplan
    // location, Linkedid = uniqueid of the oldest channel of the call). Newexten and VarSet, which
    // a real dialplan also produces by the dozen, are not modelled.
    const call = (event: string, c: SimChannel, extra: Array<[string, string | number]> = []) =>
      this.broadcast([['Event', event], ['Privilege', 'call,all'], ...snapshot(c), ...extra]);
    model.on('channel-created', (c: SimChannel) => call('Newchannel', c));
    model.on('state', (c: SimChannel) => call('Newstate', c));
    model.on('hangup-request', (c: SimChannel, cause: number, soft: boolean) =>
      call(soft ? 'SoftHangupRequest' : 'HangupRequest', c, [['Cause', cause]]),
    );
    model.on('channel-destroyed', (c: SimChannel, cause: number) =>
      call('Hangup', c, [
        ['Cause', cause],
        ['Cause-txt', CAUSE_TXT[cause] ?? 'Unknown'],
      ]),
    );
    // ARI's Dial "" / RINGING / ANSWER are AMI's DialBegin / DialState / DialEnd; the caller's
    // snapshot comes plain, the dialled channel's with a Dest prefix.
    model.on('dial', (c: SimChannel, caller: SimChannel | undefined, status: string) => {
      const dest = snapshot(c).map(([k, v]) => [`Dest${k}`, v] as [string, string | number]);
      const event = status === '' ? 'DialBegin' : status === 'ANSWER' ? 'DialEnd' : 'DialState';
      this.broadcast([
        ['Event', event],
        ['Privilege', 'call,all'],
        ...(caller ? snapshot(caller) : []),
        ...dest,
        ['DialString', c.endpoint ?? ''],
        ...(status ? ([['DialStatus', status]] as Array<[string, string]>) : []),
      ]);
    });
    const bridged = (event: string) => (c: SimChannel, bridgeId: string, count: number) =>
      call(event, c, [
        ['BridgeUniqueid', bridgeId],
        ['BridgeType', 'stasis'],
        ['BridgeTechnology', 'simple_bridge'],
        ['BridgeNumChannels', count],
      ]);
    model.on('bridge-enter', bridged('BridgeEnter'));
    model.on('bridge-leave', bridged('BridgeLeave'));
  }

  /** The few CLI commands operators run over AMI `Command`. */
  private cli(cmd: string): string[] {
    const c = cmd.trim().toLowerCase();
    if (c === 'core show uptime')
      return [`System uptime: ${Math.round((Date.now() - this.started.getTime()) / 1000)} seconds`];
    if (c === 'core show channels count' || c === 'core show channels')
      return [`${this.model.channels.size} active channels`, `${this.model.channels.size} active calls`];
    if (c.startsWith('pjsip reload') || c === 'module reload res_pjsip.so') {
      this.reloaded = new Date();
      return ["Module 'res_pjsip.so' reloaded successfully."];
    }
    return [
      `No such command '${cmd}' (type 'core show help ${cmd.split(' ')[0]}' for other possible commands)`,
    ];
  }

  dropAll(): void {
    for (const s of this.sessions) s.destroy();
  }

  private broadcast(fields: Array<[string, string | number]>): void {
    let text: string | null = null;
    for (const s of this.sessions) {
      if (!s.loggedIn || s.eventsOff) continue;
      text ??= packet(fields);
      if (!passes(s.filters, text)) continue;
      corkUntilTurnEnds(s); // a turn's events leave in one write (see the ARI side)
      s.write(text);
    }
  }

  private session(s: Session): void {
    this.sessions.add(s);
    s.on('close', () => this.sessions.delete(s));
    s.on('error', () => {});
    s.write('Asterisk Call Manager/11.0.0\r\n');
    const parser = new AmiParser();
    parser.greeting = ''; // clients send no greeting
    s.on('data', (d: Buffer) => {
      for (const m of parser.push(d)) this.action(s, m.fields);
    });
  }

  private action(s: Session, f: Record<string, string>): void {
    const id: Array<[string, string]> = f.actionid !== undefined ? [['ActionID', f.actionid]] : [];
    const reply = (fields: Array<[string, string | number]>): void => {
      s.write(packet([...fields.slice(0, 1), ...id, ...fields.slice(1)]));
    };
    const action = (f.action ?? '').toLowerCase();
    if (action === 'login') {
      if (f.username === this.user && f.secret === this.secret) {
        s.loggedIn = true;
        return reply([
          ['Response', 'Success'],
          ['Message', 'Authentication accepted'],
        ]);
      }
      // Asterisk answers a wrong secret after about a second, then closes the connection.
      setTimeout(() => {
        reply([
          ['Response', 'Error'],
          ['Message', 'Authentication failed'],
        ]);
        s.end();
      }, this.badLoginDelayMs);
      return;
    }
    if (!s.loggedIn)
      return reply([
        ['Response', 'Error'],
        ['Message', 'Permission denied'],
      ]);
    switch (action) {
      case 'logoff':
        reply([
          ['Response', 'Goodbye'],
          ['Message', 'Thanks for all the fish.'],
        ]);
        s.end();
        return;
      case 'filter': {
        // Session filters (Asterisk 10+), legacy form: a regex over the whole event text, `!` first
        // for an exclude. Asterisk asks for the `system` permission; the simulator's one user has it.
        if ((f.operation ?? '').toLowerCase() !== 'add')
          return reply([
            ['Response', 'Error'],
            ['Message', 'Unknown operation'],
          ]);
        const raw = f.filter ?? '';
        const exclude = raw.startsWith('!');
        let re: RegExp;
        try {
          re = posixRegex(exclude ? raw.slice(1) : raw);
        } catch {
          return reply([
            ['Response', 'Error'],
            ['Message', 'Filter did not compile.  Check the syntax of the filter given.'],
          ]);
        }
        s.filters ??= { include: [], exclude: [] };
        (exclude ? s.filters.exclude : s.filters.include).push(re);
        return reply([
          ['Response', 'Success'],
          ['Message', 'Success'],
        ]);
      }
      case 'events': {
        // EventMask: on / off (or a class list, which the simulator treats as on: it only sends
        // `call` events).
        const mask = (f.eventmask ?? '').trim().toLowerCase();
        s.eventsOff = mask === 'off' || mask === '' || mask === 'none';
        return reply([
          ['Response', 'Success'],
          ['Events', s.eventsOff ? 'Off' : 'On'],
        ]);
      }
      case 'ping':
        return reply([
          ['Response', 'Success'],
          ['Ping', 'Pong'],
          ['Timestamp', (Date.now() / 1000).toFixed(6)],
        ]);
      case 'coreshowchannels': {
        const chans = [...this.model.channels.values()];
        reply([
          ['Response', 'Success'],
          ['EventList', 'start'],
          ['Message', 'Channels will follow'],
        ]);
        for (const c of chans)
          s.write(
            packet([
              ['Event', 'CoreShowChannel'],
              ...id,
              ['Channel', c.name],
              ['ChannelState', stateCode(c.state)],
              ['ChannelStateDesc', c.state],
              ['CallerIDNum', c.caller.number || '<unknown>'],
              ['Context', c.dialplan.context],
              ['Exten', c.dialplan.exten],
              ['Uniqueid', c.id],
              ['Application', c.app ? 'Stasis' : ''],
            ]),
          );
        s.write(
          packet([
            ['Event', 'CoreShowChannelsComplete'],
            ...id,
            ['EventList', 'Complete'],
            ['ListItems', chans.length],
          ]),
        );
        return;
      }
      case 'originate': {
        const local = /^Local\/([^@]+)@([\w-]+)$/.exec(f.channel ?? '');
        if (!local)
          return reply([
            ['Response', 'Error'],
            ['Message', 'Originate failed'],
          ]);
        const cid = /^(?:"?([^"<]*)"?\s*)?<?([+\d]*)>?$/.exec(f.callerid ?? '');
        reply([
          ['Response', 'Success'],
          ['Message', 'Originate successfully queued'],
        ]);
        this.hooks.originateLocal({
          exten: local[1]!,
          context: local[2]!,
          callerNumber: cid?.[2] ?? '',
          callerName: cid?.[1]?.trim() ?? '',
          ...(f.application ? { application: f.application, data: f.data ?? '' } : {}),
        });
        return;
      }
      case 'corestatus':
        return reply([
          ['Response', 'Success'],
          ['CoreStartupDate', this.started.toISOString().slice(0, 10)],
          ['CoreStartupTime', this.started.toISOString().slice(11, 19)],
          ['CoreReloadDate', this.reloaded.toISOString().slice(0, 10)],
          ['CoreReloadTime', this.reloaded.toISOString().slice(11, 19)],
          ['CoreCurrentCalls', this.model.channels.size],
        ]);
      case 'reload':
        this.reloaded = new Date();
        return reply([
          ['Response', 'Success'],
          ['Message', 'Module Reloaded'],
        ]);
      case 'command': {
        // Asterisk 22 answers with one `Output:` line per line of CLI output.
        const out = this.cli(f.command ?? '');
        return reply([
          ['Response', 'Success'],
          ['Message', 'Command output follows'],
          ...out.map((l) => ['Output', l] as [string, string]),
        ]);
      }
      case 'pjsipshowendpoints':
      case 'pjsipshowendpoint': {
        void this.hooks.endpointNames().then((names) => {
          const wanted = action === 'pjsipshowendpoint' ? (f.endpoint ?? '') : null;
          const list = wanted === null ? names : names.filter((n) => n === wanted);
          if (wanted !== null && list.length === 0)
            return reply([
              ['Response', 'Error'],
              ['Message', `Unable to retrieve endpoint ${wanted}`],
            ]);
          reply([
            ['Response', 'Success'],
            ['EventList', 'start'],
            [
              'Message',
              wanted === null
                ? 'A listing of Endpoints follows, presented as EndpointList events'
                : 'Following are Events for each object associated with the Endpoint',
            ],
          ]);
          for (const n of list)
            s.write(
              packet([
                ['Event', wanted === null ? 'EndpointList' : 'EndpointDetail'],
                ...id,
                ['ObjectType', 'endpoint'],
                ['ObjectName', n],
                ['DeviceState', 'Not in use'],
              ]),
            );
          s.write(
            packet([
              ['Event', wanted === null ? 'EndpointListComplete' : 'EndpointDetailComplete'],
              ...id,
              ['EventList', 'Complete'],
              ['ListItems', list.length],
            ]),
          );
        });
        return;
      }
      default:
        return reply([
          ['Response', 'Error'],
          ['Message', 'Invalid/unknown command'],
        ]);
    }
  }
}
