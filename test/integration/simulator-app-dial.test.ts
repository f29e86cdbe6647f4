// Dial() in the simulator's dialplan sets the caller's variables as apps/app_dial.c does, in its
// order (each an AMI VarSet): every dial variable emptied first, RINGTIME when the callee rings,
// DIALSTATUS/DIALEDPEERNAME/DIALEDPEERNUMBER on the answer, ANSWEREDTIME/DIALEDTIME (and their _MS
// forms) when the bridged call ends, then DIALSTATUS again; an unanswered dial sets only its final
// DIALSTATUS (BUSY, CHANUNAVAIL, CANCEL when the caller hangs up first). Also AMI Getvar/Setvar of
// dialplan functions (CALLERID, CDR, one Asterisk does not have) and of built-in variables.
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AmiFrame } from '../helpers/sim-ami.ts';
import { cleanupEach } from '../helpers/cleanup.ts';
import { holdApp } from '../helpers/sim-ari.ts';
import { simDialplan } from '../helpers/sim-dialplan.ts';
import { waitFor } from '../helpers/wait.ts';

const cleanup = cleanupEach();

const DIALPLAN = join(tmpdir(), `sim-app-dial-${process.pid}.conf`);
writeFileSync(
  DIALPLAN,
  `[calls]
exten => answer,1,Dial(PJSIP/ansep,30)
 same => n,NoOp(not reached: Dial hangs the caller up after a bridged call)
exten => busy,1,Dial(PJSIP/busyep,30)
 same => n,Hangup()
exten => ring,1,Dial(PJSIP/ringep)
exten => none,1,Dial(PJSIP/nosuch,30)
 same => n,Hangup()
exten => trunk,1,Dial(PJSIP/4155550100@ansep,30)
exten => goon,1,Dial(PJSIP/ansep,30,g)
 same => n,NoOp(after the call)
 same => n,Hangup()
exten => limit,1,Dial(PJSIP/longep,30,gL(150))
 same => n,NoOp(after the limit)
 same => n,Hangup()
exten => short,1,Dial(PJSIP/ringep,1)
 same => n,Hangup()
[hold]
exten => wait,1,Answer()
 same => n,Wait(3600)
`,
);

const EMPTIED = [
  'DIALSTATUS',
  'DIALEDPEERNUMBER',
  'DIALEDPEERNAME',
  'ANSWEREDTIME',
  'ANSWEREDTIME_MS',
  'DIALEDTIME',
  'DIALEDTIME_MS',
  'RINGTIME',
  'RINGTIME_MS',
  'PROGRESSTIME',
  'PROGRESSTIME_MS',
].map((v) => `${v}=`);

async function setup() {
  const { s, ami, call } = await simDialplan(cleanup, {
    dialplanPath: DIALPLAN,
    endpoints: {
      ansep: { result: 'answer', answerAfterMs: 20, hangupAfterMs: 40 },
      busyep: { result: 'busy', answerAfterMs: 10 },
      ringep: { result: 'noanswer' },
      longep: { result: 'answer', answerAfterMs: 20 },
    },
  });
  const vars = (id: string) => ami.of(id, 'VarSet').map((f) => `${f.Variable}=${f.Value}`);
  return { s, ami, call, vars };
}

const dialVars = (all: string[]) => all.filter((v) => !v.startsWith('STASIS') && !v.startsWith('BRIDGE'));

describe('app_dial variables', () => {
  it('an answered dial: emptied, RINGTIME, ANSWER with the peer, then the times and ANSWER again as the callee hangs up', async () => {
    const { ami, call, vars } = await setup();
    const id = await call('answer');
    const got = dialVars(vars(id));
    expect(got.slice(0, 11)).toEqual(EMPTIED);
    const names = got.slice(11).map((v) => v.slice(0, v.indexOf('=')));
    expect(names).toEqual([
      'RINGTIME',
      'RINGTIME_MS',
      'DIALSTATUS',
      'DIALEDPEERNAME',
      'DIALEDPEERNUMBER',
      'ANSWEREDTIME',
      'ANSWEREDTIME_MS',
      'DIALEDTIME',
      'DIALEDTIME_MS',
      'DIALSTATUS',
    ]);
    const value = (name: string, nth = 0) =>
      got.filter((v) => v.startsWith(`${name}=`))[nth]!.slice(name.length + 1);
    expect(value('DIALSTATUS', 1)).toBe('ANSWER');
    expect(value('DIALSTATUS', 2)).toBe('ANSWER');
    expect(value('DIALEDPEERNAME', 1)).toMatch(/^PJSIP\/ansep-[0-9a-f]{8}$/);
    expect(value('DIALEDPEERNUMBER', 1)).toBe('ansep');
    // Seconds are the milliseconds rounded down; the call lasted at least the callee's 40 ms.
    for (const t of ['RINGTIME', 'ANSWEREDTIME', 'DIALEDTIME'])
      expect(Number(value(t, 1))).toBe(Math.floor(Number(value(`${t}_MS`, 1)) / 1000));
    expect(Number(value('ANSWEREDTIME_MS', 1))).toBeGreaterThanOrEqual(39);
    expect(Number(value('DIALEDTIME_MS', 1))).toBeGreaterThanOrEqual(Number(value('ANSWEREDTIME_MS', 1)));
    // The answer comes after the peer variables; the caller is hung up by Dial, not the next step.
    const kinds = ami
      .of(id, 'VarSet', 'Newstate', 'Newexten', 'Hangup')
      .map((f) =>
        f.Event === 'VarSet' ? f.Variable : f.Event === 'Newstate' ? f.ChannelStateDesc : f.Event,
      );
    expect(kinds.indexOf('Up')).toBeGreaterThan(kinds.indexOf('DIALEDPEERNUMBER'));
    expect(ami.of(id, 'Newexten').some((f) => f.Application === 'NoOp')).toBe(false);
    expect(kinds.at(-1)).toBe('Hangup');
  });

  it('a number through a trunk endpoint is the DIALEDPEERNUMBER as dialled', async () => {
    const { call, vars } = await setup();
    const id = await call('trunk');
    expect(vars(id)).toContain('DIALEDPEERNUMBER=4155550100@ansep');
    expect(vars(id).find((v) => v.startsWith('DIALEDPEERNAME=P'))).toMatch(/^DIALEDPEERNAME=PJSIP\/ansep-/);
  });

  it('busy: only RINGTIME and the final DIALSTATUS after the emptying; unavailable: CHANUNAVAIL alone', async () => {
    const { call, vars } = await setup();
    const busy = dialVars(vars(await call('busy')));
    expect(busy.slice(0, 11)).toEqual(EMPTIED);
    expect(busy.slice(11).map((v) => v.replace(/=\d+$/, '=n'))).toEqual([
      'RINGTIME=n',
      'RINGTIME_MS=n',
      'DIALSTATUS=BUSY',
    ]);
    const none = dialVars(vars(await call('none')));
    expect(none).toEqual([...EMPTIED, 'DIALSTATUS=CHANUNAVAIL']);
  });

  it('a caller hanging up while the callee rings: DIALSTATUS=CANCEL before its Hangup', async () => {
    const { s, ami, call, vars } = await setup();
    const id = await call('ring', false);
    await waitFor(() => vars(id).some((v) => v.startsWith('RINGTIME_MS=')));
    s.hangup(id, 16);
    await waitFor(() => ami.of(id, 'Hangup').length === 1);
    expect(dialVars(vars(id)).at(-1)).toBe('DIALSTATUS=CANCEL');
    const order = ami.of(id, 'VarSet', 'Hangup').map((f) => f.Event);
    expect(order.at(-1)).toBe('Hangup');
  });
});

describe('app_dial callee channel', () => {
  /** The callee's events (by its Uniqueid, from the caller's DialBegin), as `Event` or `Event:detail`. */
  const calleeOf = (ami: { frames: AmiFrame[] }, callerId: string) => {
    const begin = ami.frames.find((f) => f.Event === 'DialBegin' && f.Uniqueid === callerId)!;
    const id = begin.DestUniqueid!;
    return {
      begin,
      id,
      events: () =>
        ami.frames
          .filter((f) => f.Uniqueid === id)
          .map((f) =>
            f.Event === 'Newstate'
              ? `Newstate:${f.ChannelStateDesc}`
              : f.Event === 'VarSet'
                ? `VarSet:${f.Variable}=${f.Value}`
                : f.Event === 'Hangup' || f.Event === 'HangupRequest'
                  ? `${f.Event}:${f.Cause}`
                  : String(f.Event),
          )
          .filter((e) => !e.startsWith('DeviceStateChange') && !/VarSet:BRIDGEP/.test(e)),
    };
  };

  it('answered: a PJSIP channel of its own, dialled, bridged in a basic bridge with the caller, hung up by the far end', async () => {
    const { ami, call } = await setup();
    const id = await call('answer');
    const callee = calleeOf(ami, id);
    await waitFor(() => ami.of(callee.id, 'Hangup').length === 1);
    expect(callee.begin.DestChannel).toMatch(/^PJSIP\/ansep-[0-9a-f]{8}$/);
    expect(callee.begin.DialString).toBe('ansep');
    expect(callee.events()).toEqual([
      'Newchannel',
      'VarSet:DIALEDPEERNUMBER=ansep',
      'Newexten',
      'NewCallerid',
      'NewConnectedLine',
      'Newstate:Ringing',
      'Newstate:Up',
      'BridgeEnter',
      'HangupRequest:16',
      'BridgeLeave',
      'Hangup:16',
    ]);
    const first = ami.of(callee.id)[0]!;
    // Same call: the caller's Linkedid; AppDial's placeholder; the caller's extension as its caller
    // id, the caller as its connected line (dial_exec_full).
    expect(first.Linkedid).toBe(ami.of(id)[0]!.Linkedid);
    const exten = ami.of(callee.id, 'Newexten')[0]!;
    expect([exten.Application, exten.AppData, exten.Exten]).toEqual(['AppDial', '(Outgoing Line)', 'answer']);
    expect(ami.of(callee.id, 'NewConnectedLine')[0]!.ConnectedLineNum).toBe('12125550100');
    expect(ami.of(callee.id, 'NewCallerid')[0]!.CallerIDNum).toBe('answer');
    expect(ami.of(id, 'DialEnd').map((f) => f.DialStatus)).toEqual(['ANSWER']);
    expect(ami.of(id, 'DialState').map((f) => f.DialStatus)).toEqual(['RINGING']);
    // The bridge: basic, the callee imparted first; dissolved when the callee left.
    const bridge = ami.frames.filter((f) => f.Event?.startsWith('Bridge'));
    expect(
      bridge.map((f) => `${f.Event}:${f.Uniqueid === id ? 'caller' : f.Uniqueid ? 'callee' : '-'}`),
    ).toEqual([
      'BridgeCreate:-',
      'BridgeEnter:callee',
      'BridgeEnter:caller',
      'BridgeLeave:callee',
      'BridgeLeave:caller',
      'BridgeDestroy:-',
    ]);
    expect([bridge[0]!.BridgeType, bridge[0]!.BridgeCreator, bridge[0]!.BridgeVideoSourceMode]).toEqual([
      'basic',
      '<unknown>',
      'none',
    ]);
    // The caller: answered after DialEnd ANSWER, hung up by Dial after the bridge (no `g`).
    const caller = ami
      .of(id, 'Newstate', 'DialEnd', 'BridgeEnter', 'BridgeLeave', 'Hangup')
      .map((f) => f.Event);
    expect(caller).toEqual(['DialEnd', 'Newstate', 'BridgeEnter', 'BridgeLeave', 'Hangup']);
  });

  it('g: the dialplan goes on after the bridged call; L(x) without warnings hangs the callee up x ms after the answer', async () => {
    const { ami, call } = await setup();
    const id = await call('goon', false);
    await waitFor(() => ami.of(id, 'Newexten').some((f) => f.AppData === 'after the call'));
    const limited = await call('limit', false);
    await waitFor(() => ami.of(limited, 'Newexten').some((f) => f.AppData === 'after the limit'));
    const callee = calleeOf(ami, limited);
    // Its own timeout: no hangup request; the cause set at the answer.
    expect(callee.events().slice(-3)).toEqual(['BridgeEnter', 'BridgeLeave', 'Hangup:16']);
    const up = ami.of(callee.id, 'Newstate').find((f) => f.ChannelStateDesc === 'Up')!;
    expect(up).toBeDefined();
    // The caller's times were set before it went on.
    expect(ami.of(limited, 'VarSet').some((f) => f.Variable === 'ANSWEREDTIME_MS')).toBe(true);
  });

  it('busy, timeout and cancel: the dial ends with BUSY, NOANSWER or CANCEL and the callee is hung up', async () => {
    const { s, ami, call } = await setup();
    const busy = calleeOf(ami, await call('busy'));
    expect(busy.events().slice(-2)).toEqual(['HangupRequest:17', 'Hangup:17']);
    expect(ami.frames.find((f) => f.Event === 'DialEnd' && f.DestUniqueid === busy.id)!.DialStatus).toBe(
      'BUSY',
    );
    const short = calleeOf(ami, await call('short'));
    expect(short.events().slice(-1)).toEqual(['Hangup:0']);
    expect(ami.frames.find((f) => f.Event === 'DialEnd' && f.DestUniqueid === short.id)!.DialStatus).toBe(
      'NOANSWER',
    );
    const ringing = await call('ring', false);
    await waitFor(() => ami.of(ringing, 'DialState').length === 1);
    s.hangup(ringing, 16);
    await waitFor(() => ami.of(ringing, 'Hangup').length === 1);
    const cancelled = calleeOf(ami, ringing);
    await waitFor(() => ami.of(cancelled.id, 'Hangup').length === 1);
    expect(cancelled.events().slice(-2)).toEqual(['Newstate:Ringing', 'Hangup:16']);
    expect(ami.of(ringing, 'DialEnd').map((f) => f.DialStatus)).toEqual(['CANCEL']);
  });

  it('the app holding a Local pair hears the Dial events of its `;2` running Dial(), and `;1` rings', async () => {
    const { s } = await setup();
    const ws = await holdApp(s, 'dialer', cleanup);
    type Snap = { id: string; name: string; state: string };
    type Ev = {
      type: string;
      dialstatus?: string;
      dialstring?: string;
      caller?: Snap;
      peer?: Snap;
      channel?: Snap;
    };
    const events: Ev[] = [];
    ws.on('message', (d) => events.push(JSON.parse(String(d))));
    const ari = (method: string, path: string) =>
      fetch(`${s.ariUrl}/ari/${path}&api_key=asterisk:asterisk`, { method }).then(async (r) =>
        r.status === 204 ? null : r.json(),
      );
    // An originate subscribes the app to both halves: it hears `;2` as app_dial's caller.
    const one = (await ari('POST', 'channels?endpoint=Local/ring@calls&app=dialer')) as { id: string };
    await waitFor(() => events.some((e) => e.type === 'Dial' && e.dialstatus === 'RINGING' && e.caller));
    const dials = events.filter((e) => e.type === 'Dial' && e.caller);
    expect(
      dials.map((e) => [
        e.dialstatus,
        e.dialstring,
        e.caller?.name.endsWith(';2'),
        e.peer?.name.startsWith('PJSIP/ringep-'),
      ]),
    ).toEqual([
      ['', 'ringep', true, true],
      ['RINGING', '', true, true],
    ]);
    await waitFor(() =>
      events.some(
        (e) => e.type === 'ChannelStateChange' && e.channel?.id === one.id && e.channel.state === 'Ringing',
      ),
    );
  });
});

describe('AMI AbsoluteTimeout', () => {
  it('checks as manager.c does, then hangs the channel up by itself with no hangup request', async () => {
    const { s, ami } = await setup();
    const id = s.placeInboundCall({ did: 'wait', callerNumber: '12125550100', context: 'hold' });
    await waitFor(() => ami.of(id, 'Newstate').some((f) => f.ChannelStateDesc === 'Up'));
    const name = ami.of(id)[0]!.Channel!;
    const answer = async (fields: Record<string, string>) => {
      const r = await ami.action('AbsoluteTimeout', fields);
      return [r.Response, r.Message];
    };
    expect(await answer({ Timeout: '1' })).toEqual(['Error', 'No channel specified']);
    expect(await answer({ Channel: name, Timeout: '0' })).toEqual(['Error', 'No timeout specified']);
    expect(await answer({ Channel: name })).toEqual(['Error', 'No timeout specified']);
    expect(await answer({ Channel: 'PJSIP/nobody-00000000', Timeout: '1' })).toEqual([
      'Error',
      'No such channel',
    ]);
    expect(await answer({ Channel: name, Timeout: '0.2' })).toEqual(['Success', 'Timeout Set']);
    await waitFor(() => ami.of(id, 'Hangup').length === 1);
    expect(ami.of(id, 'HangupRequest')).toEqual([]);
  });
});

describe('AMI PlayDTMF', () => {
  it('checks as app_senddtmf does; Receive queues the digit on the channel, which reads it', async () => {
    const { s, ami } = await setup();
    const id = s.placeInboundCall({ did: 'wait', callerNumber: '12125550100', context: 'hold' });
    await waitFor(() => ami.of(id, 'Newstate').some((f) => f.ChannelStateDesc === 'Up'));
    const name = ami.of(id)[0]!.Channel!;
    const answer = async (fields: Record<string, string>) => {
      const r = await ami.action('PlayDTMF', fields);
      return [r.Response, r.Message];
    };
    expect(await answer({ Channel: 'nosuch', Digit: '1' })).toEqual(['Error', 'Channel not found']);
    expect(await answer({ Channel: name })).toEqual(['Error', 'No digit specified']);
    expect(await answer({ Channel: name, Digit: '1', Duration: 'long' })).toEqual([
      'Error',
      'Could not convert Duration parameter',
    ]);
    expect(await answer({ Channel: name, Digit: '5', Duration: '150', Receive: 'yes' })).toEqual([
      'Success',
      'DTMF successfully queued',
    ]);
    await waitFor(() => ami.of(id, 'DTMFEnd').length === 1);
    const frames = ami.of(id, 'DTMFBegin', 'DTMFEnd');
    expect(frames.map((f) => [f.Event, f.Digit, f.Direction, f.DurationMs])).toEqual([
      ['DTMFBegin', '5', 'Received', undefined],
      ['DTMFEnd', '5', 'Received', '150'],
    ]);
  });
});

describe('AMI Getvar and Setvar of functions and built-in variables', () => {
  const ok = (f: AmiFrame) => [f.Response, f.Message ?? f.Value];

  it('CALLERID, CDR and a function Asterisk does not have, with and without a channel', async () => {
    const { s, ami } = await setup();
    const id = s.placeInboundCall({ did: 'wait', callerNumber: '12125550100', context: 'hold' });
    await waitFor(() => ami.of(id, 'Newstate').some((f) => f.ChannelStateDesc === 'Up'));
    const name = ami.of(id)[0]!.Channel!;
    const get = async (Variable: string, Channel?: string) =>
      ok(await ami.action('Getvar', { Variable, ...(Channel ? { Channel } : {}) }));
    const set = async (Variable: string, Value: string, Channel?: string) =>
      ok(await ami.action('Setvar', { Variable, Value, ...(Channel ? { Channel } : {}) }));

    expect(await set('CALLERID(num)', '14155550199', name)).toEqual(['Success', 'Variable Set']);
    await waitFor(() => ami.of(id, 'NewCallerid').some((f) => f.CallerIDNum === '14155550199'));
    expect(await get('CALLERID(num)', name)).toEqual(['Success', '14155550199']);
    expect(await set('CALLERID(all)', '"Sales" <100>', name)).toEqual(['Success', 'Variable Set']);
    expect(await get('CALLERID(all)', name)).toEqual(['Success', '"Sales" <100>']);
    // Written functions are never VarSet.
    expect(ami.of(id, 'VarSet').some((f) => f.Variable?.includes('('))).toBe(false);
    // CALLERID needs a channel: written without one it fails; read on Getvar's dummy channel, empty.
    expect(await set('CALLERID(num)', '1', undefined)).toEqual(['Error', 'Variable not set']);
    expect(await get('CALLERID(num)')).toEqual(['Success', '']);
    // A function Asterisk does not have: the write fails, the read answers empty all the same.
    expect(await set('NOSUCHFUNC(x)', '1', name)).toEqual(['Error', 'Variable not set']);
    expect(await get('NOSUCHFUNC(x)', name)).toEqual(['Success', '']);
    // Names are case-sensitive, as ast_custom_function_find compares them.
    expect(await set('callerid(num)', '1', name)).toEqual(['Error', 'Variable not set']);

    // CDR: userfield and the record's own variables are written; a read-only field is refused
    // silently (the write still answers Success); built-in fields read the live record.
    expect(await set('CDR(userfield)', 'vip', name)).toEqual(['Success', 'Variable Set']);
    expect(await set('CDR(campaign)', 'SALES01', name)).toEqual(['Success', 'Variable Set']);
    expect(await set('CDR(src)', '999', name)).toEqual(['Success', 'Variable Set']);
    expect(await get('CDR(userfield)', name)).toEqual(['Success', 'vip']);
    expect(await get('CDR(campaign)', name)).toEqual(['Success', 'SALES01']);
    expect(await get('CDR(src)', name)).toEqual(['Success', '100']);
    expect(await get('CDR(channel)', name)).toEqual(['Success', name]);
    expect(await get('CDR(disposition)', name)).toEqual(['Success', 'ANSWERED']);
    expect(await get('CDR(uniqueid)', name)).toEqual(['Success', id]);
    expect(await set('CDR(campaign)', 'x', undefined)).toEqual(['Error', 'Variable not set']);

    // Built-in variables (pbx_retrieve_variable), then the channel's, then the globals.
    expect(await get('CHANNEL', name)).toEqual(['Success', name]);
    expect(await get('UNIQUEID', name)).toEqual(['Success', id]);
    expect(await get('CONTEXT', name)).toEqual(['Success', 'hold']);
    expect(await set('SHARED', 'global', undefined)).toEqual(['Success', 'Variable Set']);
    expect(await get('SHARED', name)).toEqual(['Success', 'global']);
    expect(await set('SHARED', 'mine', name)).toEqual(['Success', 'Variable Set']);
    expect(await get('SHARED', name)).toEqual(['Success', 'mine']);
    expect(await get('SHARED')).toEqual(['Success', 'global']);
  });

  it('CDR variables and the userfield reach the posted record', async () => {
    const { s, ami } = await setup();
    const cdrs: Array<{ channel: string; userfield: string; variables?: Record<string, string> }> = [];
    s.events.on('cdr', (c) => cdrs.push(c));
    const id = s.placeInboundCall({ did: 'wait', callerNumber: '12125550100', context: 'hold' });
    await waitFor(() => ami.of(id, 'Newstate').some((f) => f.ChannelStateDesc === 'Up'));
    const name = ami.of(id)[0]!.Channel!;
    await ami.action('Setvar', { Channel: name, Variable: 'CDR(userfield)', Value: 'vip' });
    await ami.action('Setvar', { Channel: name, Variable: 'CDR(campaign)', Value: 'SALES01' });
    s.hangup(id, 16);
    await waitFor(() => cdrs.some((c) => c.channel === name));
    expect(cdrs.find((c) => c.channel === name)).toMatchObject({
      userfield: 'vip',
      variables: { campaign: 'SALES01' },
    });
  });
});
