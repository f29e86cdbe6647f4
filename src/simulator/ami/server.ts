// AMI on TCP as Asterisk 22 speaks it: greeting, Key: Value packets, ActionID echo, permission
// denied before login, the action table (actions.ts), EventList framing, and the channel events of
// the model sent to every logged-in session, through its filters.
import { createServer, type Server } from 'node:net';
import { AmiParser } from '../../asterisk/ami.ts';
import { corkUntilTurnEnds } from '../../net/cork.ts';
import { CAUSE_TXT, type SimBridge, type SimChannel, type SimModel } from '../model.ts';
import { ACTIONS } from './actions.ts';
import { BEFORE_LOGIN, notLoggedIn, unknownAction } from './auth.ts';
import { classMask, type Fields, packet, snapshot } from './protocol.ts';
import type { ActionContext, AmiCore, AmiHooks, Session } from './session.ts';

export type { AmiHooks } from './session.ts';

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

export class AmiServer {
  server: Server;
  private sessions = new Set<Session>();
  private sessionSeq = 0;
  private core: AmiCore;

  constructor(model: SimModel, user: string, secret: string, hooks: AmiHooks, badLoginDelayMs = 1000) {
    this.core = {
      model,
      hooks,
      user,
      secret,
      badLoginDelayMs,
      started: new Date(),
      reloaded: new Date(),
      processedCalls: 0,
    };
    this.server = createServer((s) => this.session(s as Session));
    // The channel events of a call as Asterisk sends them to every session that may read the
    // `call` class: each carries the channel snapshot (caller, connected line, state, dialplan
    // location, Linkedid = uniqueid of the oldest channel of the call). Newexten and VarSet, which
    // a real dialplan also produces by the dozen, are not modelled.
    const call = (event: string, c: SimChannel, extra: Fields = []) =>
      this.broadcast([['Event', event], ['Privilege', 'call,all'], ...snapshot(c), ...extra]);
    model.on('channel-created', (c: SimChannel) => {
      this.core.processedCalls++;
      call('Newchannel', c);
    });
    model.on('state', (c: SimChannel) => call('Newstate', c));
    model.on('hangup-request', (c: SimChannel, cause: number, soft: boolean) =>
      call(soft ? 'SoftHangupRequest' : 'HangupRequest', c, [['Cause', cause]]),
    );
    model.on('pbx-softhangup', (c: SimChannel) => call('SoftHangupRequest', c, [['Cause', 16]]));
    model.on('channel-destroyed', (c: SimChannel, cause: number) =>
      call('Hangup', c, [
        ['Cause', cause],
        ['Cause-txt', CAUSE_TXT[cause] ?? 'Unknown'],
      ]),
    );
    // ARI's Dial "" / RINGING / final status are AMI's DialBegin / DialState / DialEnd; the
    // caller's snapshot comes plain, the dialled channel's with a Dest prefix.
    model.on('dial', (c: SimChannel, caller: SimChannel | undefined, status: string, dialstring: string) => {
      const dest = snapshot(c).map(([k, v]) => [`Dest${k}`, v] as [string, string | number]);
      const event = status === '' ? 'DialBegin' : status === 'RINGING' ? 'DialState' : 'DialEnd';
      this.broadcast([
        ['Event', event],
        ['Privilege', 'call,all'],
        ...(caller ? snapshot(caller) : []),
        ...dest,
        ...((status === '' ? [['DialString', dialstring]] : [['DialStatus', status]]) as Fields),
      ]);
    });
    const bridgeFields = (b: SimBridge, count: number): Fields => [
      ['BridgeUniqueid', b.id],
      ['BridgeType', 'stasis'],
      ['BridgeTechnology', 'simple_bridge'],
      ['BridgeCreator', 'Stasis'],
      ['BridgeName', b.name || '<unknown>'],
      ['BridgeNumChannels', count],
      ['BridgeVideoSourceMode', 'talker'],
    ];
    const bridged = (event: string) => (c: SimChannel, bridgeId: string, count: number) => {
      const b = model.bridges.get(bridgeId);
      if (b)
        this.broadcast([
          ['Event', event],
          ['Privilege', 'call,all'],
          ...bridgeFields(b, count),
          ...snapshot(c),
        ]);
    };
    model.on('bridge-enter', bridged('BridgeEnter'));
    model.on('bridge-leave', bridged('BridgeLeave'));
    const bridgeLife = (event: string) => (b: SimBridge) =>
      this.broadcast([['Event', event], ['Privilege', 'call,all'], ...bridgeFields(b, b.channels.size)]);
    model.on('bridge-created', bridgeLife('BridgeCreate'));
    model.on('bridge-destroyed', bridgeLife('BridgeDestroy'));
  }

  dropAll(): void {
    for (const s of this.sessions) s.destroy();
  }

  /**
   * An event to every session sent its classes (all of the `Privilege` line's, as manager.c
   * requires) and passing its filters. A session not logged in is sent none.
   */
  private broadcast(fields: Fields): void {
    let text: string | null = null;
    const privilege = String(fields.find(([k]) => k === 'Privilege')?.[1] ?? '');
    const category = classMask(privilege.replace(/,all$/, ''));
    for (const s of this.sessions) {
      if (!s.loggedIn || (s.sendEvents & category) !== category) continue;
      text ??= packet(fields);
      if (!passes(s.filters, text)) continue;
      corkUntilTurnEnds(s); // a turn's events leave in one write (see the ARI side)
      s.write(text);
    }
  }

  private session(s: Session): void {
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
      for (const m of parser.push(d)) this.action(s, m.fields);
    });
  }

  private action(s: Session, f: Record<string, string>): void {
    const id: Fields = f.actionid !== undefined ? [['ActionID', f.actionid]] : [];
    const ctx: ActionContext = {
      core: this.core,
      session: s,
      f,
      reply: (fields) => void s.write(packet([...fields.slice(0, 1), ...id, ...fields.slice(1)])),
      listEvent: (fields) => void s.write(packet([...fields.slice(0, 1), ...id, ...fields.slice(1)])),
      actionId: id,
      event: (fields) => this.broadcast(fields),
    };
    const name = (f.action ?? '').toLowerCase();
    if (!name) return unknownAction(ctx);
    if (!s.loggedIn && !BEFORE_LOGIN.has(name)) return notLoggedIn(ctx);
    (ACTIONS[name] ?? unknownAction)(ctx);
  }
}
