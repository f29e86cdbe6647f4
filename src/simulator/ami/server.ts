// AMI on TCP as Asterisk 22 speaks it: greeting, Key: Value packets, ActionID echo, permission
// denied before login, the action table (actions.ts), EventList framing, and the channel events of
// the model sent to every logged-in session, through its filters.
import { createServer, type Server } from 'node:net';
import { AmiParser } from '../../asterisk/ami.ts';
import { corkUntilTurnEnds } from '../../net/cork.ts';
import { CAUSE_TXT, presentation, type SimBridge, type SimChannel, type SimModel } from '../model.ts';
import type { AsteriskCdr } from '../cdr.ts';
import { ACTIONS } from './actions.ts';
import { registered, unmodelled } from './commands.ts';
import { passes } from './filters.ts';
import { channelGone } from './mixmonitor.ts';
import { loadQueues } from './queues.ts';
import { cdrEvent } from './cdr.ts';
import { BEFORE_LOGIN, notLoggedIn, refusedAsInUse, unknownAction } from './auth.ts';
import {
  bridgeFields,
  classMask,
  EVENT_CLASS,
  escapeC,
  type Fields,
  lines,
  packet,
  prefixed,
  snapshot,
  snapshotLines,
} from './protocol.ts';
import type { ActionContext, AmiCore, AmiHooks, Session } from './session.ts';
import { type AmiUserOptions, resolveAmiUser } from './user.ts';

export type { AmiHooks } from './session.ts';
import type { ContactStatus } from '../pjsip/registrar.ts';

const CALL = EVENT_CLASS.call!;
const DIALPLAN = EVENT_CLASS.dialplan!;

/** An event's packet: its first fields, a channel's snapshot, then its own fields. */
const withSnapshot = (head: Fields, c: SimChannel, tail: Fields = []) =>
  `${lines(head)}${snapshotLines(c)}${lines(tail)}\r\n`;

/** Snapshot fields under a prefix (`Dest`, `LocalOne`, ...), as AMI names a second channel's. */

export class AmiServer {
  server: Server;
  private sessions = new Set<Session>();
  private sessionSeq = 0;
  private core: AmiCore;

  /** Sessions not logged in yet (manager.c's unauth_sessions, held to `authlimit`). */
  private unauthenticated = 0;

  constructor(
    model: SimModel,
    user: string,
    secret: string,
    hooks: AmiHooks,
    badLoginDelayMs = 1000,
    userOptions: AmiUserOptions = {},
  ) {
    this.core = {
      model,
      hooks,
      user,
      secret,
      options: resolveAmiUser(userOptions),
      badLoginDelayMs,
      started: new Date(),
      reloaded: new Date(),
      processedCalls: 0,
      queues: loadQueues(hooks.queues ?? []),
    };
    this.server = createServer((s) => this.session(s as Session));
    // The channel events of a call as Asterisk sends them to every session that may read the
    // `call` class: each carries the channel snapshot (caller, connected line, state, dialplan
    // location, Linkedid = uniqueid of the oldest channel of the call).
    const call = (event: string, c: SimChannel, extra: Fields = []) =>
      this.send(CALL, () =>
        withSnapshot(
          [
            ['Event', event],
            ['Privilege', 'call,all'],
          ],
          c,
          extra,
        ),
      );
    // The dialplan class: each step (Newexten) and each variable set (VarSet, a global one naming
    // no channel). A dialplan sends them by the dozen per call: nothing is built unless some
    // session reads the class.
    const dialplan = (event: string, c: SimChannel | null, extra: () => Fields) =>
      this.send(DIALPLAN, () => {
        const head: Fields = [
          ['Event', event],
          ['Privilege', 'dialplan,all'],
        ];
        if (c) return withSnapshot(head, c, extra());
        return packet([...head, ['Channel', 'none'], ['Uniqueid', 'none'], ...extra()]);
      });
    model.on('newexten', (c: SimChannel) =>
      dialplan('Newexten', c, () => [
        ['Extension', c.dialplan.exten],
        ['Application', c.dialplan.app_name],
        ['AppData', c.dialplan.app_data],
      ]),
    );
    model.on('varset', (c: SimChannel | null, name: string, value: string) =>
      dialplan('VarSet', c, () => [
        ['Variable', name],
        ['Value', escapeC(value)],
      ]),
    );
    // DTMF read from or written to a channel (manager_channels.c, class `dtmf`): built only when
    // some session reads the class.
    model.on('dtmf-frame', (c: SimChannel, digit: string, direction: string, durationMs: number | null) =>
      this.send(EVENT_CLASS.dtmf!, () =>
        packet([
          ['Event', durationMs === null ? 'DTMFBegin' : 'DTMFEnd'],
          ['Privilege', 'dtmf,all'],
          ...snapshot(c),
          ['Digit', digit],
          ...(durationMs === null ? [] : ([['DurationMs', durationMs]] as Fields)),
          ['Direction', direction],
        ]),
      ),
    );
    // Caller id and connected line changes (manager_channels.c).
    model.on('callerid', (c: SimChannel) => {
      const [pres, txt] = presentation(c);
      call('NewCallerid', c, [['CID-CallingPres', `${pres} (${txt})`]]);
    });
    model.on('accountcode', (c: SimChannel, old: string) =>
      call('NewAccountCode', c, [['OldAccountCode', old]]),
    );
    model.on('connectedline', (c: SimChannel) => call('NewConnectedLine', c));
    // Music on hold started (its class) and stopped on a channel (manager_channels.c).
    model.on('moh', (c: SimChannel, cls: string | null) =>
      cls === null ? call('MusicOnHoldStop', c) : call('MusicOnHoldStart', c, [['Class', cls]]),
    );
    model.on('channel-created', (c: SimChannel) => {
      this.core.processedCalls++;
      call('Newchannel', c);
    });
    model.on('state', (c: SimChannel) => call('Newstate', c));
    model.on('device-state', (device: string) => this.deviceState(device));
    // res_pjsip's contact and endpoint reachability (class `system`), from pjsip/registrar.ts.
    model.on('contact-status', (c: ContactStatus) =>
      this.broadcast([
        ['Event', 'ContactStatus'],
        ['Privilege', 'system,all'],
        ['URI', c.uri],
        ['ContactStatus', c.status],
        ['AOR', c.aor],
        ['EndpointName', c.endpoint],
        ['RoundtripUsec', c.roundtripUsec],
      ]),
    );
    model.on('peer-status', (endpoint: string, status: string) =>
      this.broadcast([
        ['Event', 'PeerStatus'],
        ['Privilege', 'system,all'],
        ['ChannelType', 'PJSIP'],
        ['Peer', `PJSIP/${endpoint}`],
        ['PeerStatus', status],
      ]),
    );
    // chan_local's local_call: both halves' snapshots, where `;2` goes, and whether the pair may
    // optimize itself away (unless made with option `n`).
    model.on('local-call', (one: SimChannel, two: SimChannel) =>
      this.send(CALL, () =>
        packet([
          ['Event', 'LocalBridge'],
          ['Privilege', 'call,all'],
          ...prefixed('LocalOne', snapshot(one)),
          ...prefixed('LocalTwo', snapshot(two)),
          ['Context', two.dialplan.context],
          ['Exten', two.dialplan.exten],
          ['LocalOptimization', two.noOptimize ? 'No' : 'Yes'],
        ]),
      ),
    );
    model.on('hangup-request', (c: SimChannel, cause: number, soft: boolean) =>
      call(soft ? 'SoftHangupRequest' : 'HangupRequest', c, [['Cause', cause]]),
    );
    model.on('pbx-softhangup', (c: SimChannel) => call('SoftHangupRequest', c, [['Cause', 16]]));
    model.on('channel-destroyed', (c: SimChannel, cause: number) => {
      channelGone(hooks.storeFile, c);
      call('Hangup', c, [
        ['Cause', cause],
        ['Cause-txt', CAUSE_TXT[cause] ?? 'Unknown'],
      ]);
    });
    // ARI's Dial "" / RINGING / final status are AMI's DialBegin / DialState / DialEnd; the
    // caller's snapshot comes plain, the dialled channel's with a Dest prefix.
    model.on('dial', (c: SimChannel, caller: SimChannel | undefined, status: string, dialstring: string) => {
      const event = status === '' ? 'DialBegin' : status === 'RINGING' ? 'DialState' : 'DialEnd';
      this.send(CALL, () =>
        [
          lines([
            ['Event', event],
            ['Privilege', 'call,all'],
          ]),
          caller ? snapshotLines(caller) : '',
          lines(prefixed('Dest', snapshot(c))),
          lines(status === '' ? [['DialString', dialstring]] : [['DialStatus', status]]),
          '\r\n',
        ].join(''),
      );
    });
    const bridged = (event: string) => (c: SimChannel, bridgeId: string, count: number) => {
      const b = model.bridges.get(bridgeId);
      if (b)
        this.send(CALL, () =>
          withSnapshot([['Event', event], ['Privilege', 'call,all'], ...bridgeFields(b, count)], c),
        );
    };
    model.on('bridge-enter', bridged('BridgeEnter'));
    model.on('bridge-leave', bridged('BridgeLeave'));
    const bridgeLife = (event: string) => (b: SimBridge) =>
      this.send(CALL, () =>
        packet([['Event', event], ['Privilege', 'call,all'], ...bridgeFields(b, b.channels.size)]),
      );
    model.on('bridge-created', bridgeLife('BridgeCreate'));
    model.on('bridge-destroyed', bridgeLife('BridgeDestroy'));
    // cdr_manager: every record the CDR engine posts, when the module is enabled.
    const cdrManager = hooks.cdrManager;
    if (cdrManager?.enabled)
      model.on('cdr', (cdr: AsteriskCdr) => {
        // Posted after the channel's own events (the engine dispatches records on its own thread).
        setImmediate(() => this.send(EVENT_CLASS.cdr!, () => packet(cdrEvent(cdr, cdrManager))));
      });
  }

  /**
   * DeviceStateChange for a device, as Asterisk publishes one after every state change and every
   * destruction of one of its channels (ast_setstate, ast_channel_destructor) and when a PJSIP
   * endpoint goes online or offline, with the state asked of the channel driver then (devices.ts).
   */
  private deviceState(device: string): void {
    this.send(CALL, () =>
      packet([
        ['Event', 'DeviceStateChange'],
        ['Privilege', 'call,all'],
        ['Device', device],
        ['State', this.core.model.deviceState(device)],
      ]),
    );
  }

  dropAll(): void {
    for (const s of this.sessions) s.destroy();
  }

  /**
   * An event to every session sent its classes (all of the `Privilege` line's, as manager.c
   * requires) and passing its filters. A session not logged in is sent none.
   */
  private broadcast(fields: Fields): void {
    const privilege = String(fields.find(([k]) => k === 'Privilege')?.[1] ?? '');
    this.send(classMask(privilege.replace(/,all$/, '')), () => packet(fields));
  }

  /**
   * `broadcast` for an event of the `category` classes whose text `build` makes, called (at once)
   * only if some session is sent the classes: a call's dozens of events cost nothing when no
   * session reads them.
   */
  private send(category: number, build: () => string): void {
    let text: string | null = null;
    for (const s of this.sessions) {
      if (!s.loggedIn || (s.sendEvents & category) !== category) continue;
      text ??= build();
      if (!passes(s.filters, text)) continue;
      corkUntilTurnEnds(s); // a turn's events leave in one write (see the ARI side)
      s.write(text);
    }
  }

  private session(s: Session): void {
    // One session past `authlimit` not logged in is closed before anything is written.
    if (this.unauthenticated >= this.core.options.authLimit) {
      s.on('error', () => {});
      s.destroy();
      return;
    }
    this.unauthenticated++;
    // A session that has not logged in within `authtimeout` is dropped, with nothing said.
    const authTimer = setTimeout(() => {
      if (!s.loggedIn) s.destroy();
    }, this.core.options.authTimeoutMs);
    authTimer.unref();
    let counted = true;
    const authenticated = () => {
      if (!counted) return;
      counted = false;
      this.unauthenticated--;
      clearTimeout(authTimer);
    };
    s.once('close', authenticated);
    s.once('authenticated', authenticated);
    s.sendEvents = 0;
    s.username = '';
    s.startedAt = new Date(0);
    s.sessionId = `0x7f${(0x5b48001580 + ++this.sessionSeq * 0x2a0).toString(16)}`;
    this.sessions.add(s);
    s.on('close', () => this.sessions.delete(s));
    s.on('error', () => {});
    s.write('Asterisk Call Manager/11.0.0\r\n');
    const parser = new AmiParser();
    parser.greeting = ''; // clients send no greeting
    s.on('data', (d: Buffer) => {
      for (const m of parser.push(d)) this.action(s, m.fields, m.multi);
    });
  }

  private action(s: Session, f: Record<string, string>, multi: Record<string, string[]> = {}): void {
    const id: Fields = f.actionid !== undefined ? [['ActionID', f.actionid]] : [];
    const ctx: ActionContext = {
      core: this.core,
      session: s,
      f,
      multi,
      reply: (fields) => void s.write(packet([...fields.slice(0, 1), ...id, ...fields.slice(1)])),
      listEvent: (fields) => void s.write(packet([...fields.slice(0, 1), ...id, ...fields.slice(1)])),
      actionId: id,
      event: (fields) => this.broadcast(fields),
      channelEvent: (event, c, extra = []) =>
        this.send(CALL, () =>
          withSnapshot(
            [
              ['Event', event],
              ['Privilege', 'call,all'],
            ],
            c,
            extra,
          ),
        ),
      inUse: (user) => [...this.sessions].some((x) => x !== s && x.loggedIn && x.username === user),
    };
    const name = (f.action ?? '').toLowerCase();
    if (!name) return unknownAction(ctx);
    if (!s.loggedIn && !BEFORE_LOGIN.has(name)) return notLoggedIn(ctx);
    if (!s.loggedIn && (name === 'login' || name === 'challenge') && refusedAsInUse(ctx)) return;
    (ACTIONS[name] ?? (registered(name) ? unmodelled : unknownAction))(ctx);
    if (s.loggedIn) s.emit('authenticated');
  }
}
