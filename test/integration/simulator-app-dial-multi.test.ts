// Dial() to several destinations at once, its results, and its options U and M, as apps/app_dial.c
// runs them: every destination requested then called (DialBegin each), the first to answer wins
// and the others get DialEnd CANCEL and are hung up answered elsewhere (26, no hangup request);
// DIALSTATUS from what the failures add up to (BUSY if any was busy and all failed, ...); the
// timeout ends every callee still ringing. U runs a subroutine on the answered callee whose
// GOSUB_RESULT decides; M is no option of Asterisk 22's Dial: warned about and ignored.
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AmiFrame } from '../helpers/sim-ami.ts';
import { cleanupEach } from '../helpers/cleanup.ts';
import { simDialplan } from '../helpers/sim-dialplan.ts';
import { waitFor } from '../helpers/wait.ts';

const cleanup = cleanupEach();

const DIALPLAN = join(tmpdir(), `sim-app-dial-multi-${process.pid}.conf`);
writeFileSync(
  DIALPLAN,
  `[calls]
exten => race,1,Dial(PJSIP/slowep&PJSIP/ansep,30)
exten => allbusy,1,Dial(PJSIP/busyep&PJSIP/congep,30)
 same => n,Hangup()
exten => congnone,1,Dial(PJSIP/nosuch&PJSIP/congep,30)
 same => n,Hangup()
exten => nonenone,1,Dial(PJSIP/nosuch&PJSIP/other,30)
 same => n,Hangup()
exten => busyring,1,Dial(PJSIP/busyep&PJSIP/ringep,1)
 same => n,Hangup()
exten => ringring,1,Dial(PJSIP/ringep&PJSIP/ringep,1)
 same => n,Hangup()
exten => cancel,1,Dial(PJSIP/ringep&PJSIP/ringep)
exten => macro,1,Dial(PJSIP/ansep,30,M(oldmacro^x)g)
 same => n,NoOp(after)
 same => n,Hangup()
exten => badopt,1,Dial(PJSIP/ansep,30,gU(sub-continue)
 same => n,NoOp(not reached)
exten => noformat,1,Dial(PJSIP/ansep&PJSIP,30)
 same => n,NoOp(not reached)
exten => continue,1,Dial(PJSIP/longep,30,U(sub-continue^first^second))
 same => n,NoOp(went on)
 same => n,Hangup()
exten => abort,1,Dial(PJSIP/longep,30,U(sub-abort))
 same => n,NoOp(not reached)
exten => gotoit,1,Dial(PJSIP/longep,30,U(sub-goto))
 same => n,NoOp(not reached)
exten => after,1,NoOp(\${GOSUB_RETVAL})
 same => n,Hangup()
exten => busysub,1,Dial(PJSIP/longep,30,U(sub-busy))
 same => n,NoOp(\${DIALSTATUS})
 same => n,Hangup()
exten => plain,1,Dial(PJSIP/ansep,30,U(sub-plain^one)g)
 same => n,NoOp(\${GOSUB_RETVAL})
 same => n,Hangup()
[sub-continue]
exten => s,1,NoOp(\${ARG1}-\${ARG2}-\${ARGC})
 same => n,Set(GOSUB_RESULT=CONTINUE)
 same => n,Return(done)
[sub-abort]
exten => s,1,Set(GOSUB_RESULT=ABORT)
 same => n,Return()
[sub-goto]
exten => s,1,Set(GOSUB_RESULT=GOTO:calls^after^1)
 same => n,Return(went)
[sub-busy]
exten => s,1,Set(GOSUB_RESULT=BUSY)
 same => n,Return()
[sub-plain]
exten => s,1,Return(\${ARG1})
`,
);

async function setup() {
  const { s, ami, call } = await simDialplan(cleanup, {
    dialplanPath: DIALPLAN,
    cdrManager: { enabled: true },
    endpoints: {
      ansep: { result: 'answer', answerAfterMs: 20, hangupAfterMs: 40 },
      slowep: { result: 'answer', answerAfterMs: 60_000 },
      busyep: { result: 'busy', answerAfterMs: 10 },
      congep: { result: 'congestion', answerAfterMs: 15 },
      ringep: { result: 'noanswer' },
      other: { result: 'unavailable' },
      longep: { result: 'answer', answerAfterMs: 20 },
    },
  });
  /** The callees app_dial called for the caller, in DialBegin order. */
  const callees = (id: string) =>
    ami.frames.filter((f) => f.Event === 'DialBegin' && f.Uniqueid === id).map((f) => f.DestUniqueid!);
  const dialEnds = (id: string) =>
    ami.frames
      .filter((f) => f.Event === 'DialEnd' && f.Uniqueid === id)
      .map((f) => `${f.DestChannel!.replace(/-[0-9a-f]{8}$/, '')}:${f.DialStatus}`);
  const lastVar = (id: string, name: string) =>
    ami.of(id, 'VarSet').findLast((f) => f.Variable === name)?.Value;
  /** A callee's events, as `Event` or `Event:Cause`. */
  const events = (id: string) =>
    ami
      .of(id)
      .filter((f) => !['DeviceStateChange', 'VarSet', 'NewCallerid', 'NewConnectedLine'].includes(f.Event!))
      .map((f) =>
        f.Event === 'Hangup' || f.Event === 'HangupRequest'
          ? `${f.Event}:${f.Cause}`
          : f.Event === 'Newstate'
            ? `Newstate:${f.ChannelStateDesc}`
            : String(f.Event),
      );
  /** The caller's posted records (AMI Cdr), as `dstchannel:disposition` in the order posted. */
  const cdrs = (id: string) =>
    ami.frames
      .filter((f) => f.Event === 'Cdr' && f.UniqueID === id)
      .map((f) => `${f.DestinationChannel!.replace(/-[0-9a-f]{8}$/, '')}:${f.Disposition}`);
  return { s, ami, call, callees, dialEnds, lastVar, events, cdrs };
}

describe('Dial() to several destinations', () => {
  it('all are requested, then all called; the first to answer wins, the other is cancelled and hung up answered elsewhere', async () => {
    const { ami, call, callees, dialEnds, lastVar, events } = await setup();
    const id = await call('race');
    const [slow, fast] = callees(id);
    await waitFor(() => ami.of(slow!, 'Hangup').length === 1 && ami.of(fast!, 'Hangup').length === 1);
    // Both channels exist before either is called.
    const order = ami.frames
      .filter(
        (f) =>
          (f.Event === 'Newchannel' && (f.Uniqueid === slow || f.Uniqueid === fast)) ||
          (f.Event === 'DialBegin' && f.Uniqueid === id),
      )
      .map((f) => `${f.Event}:${f.Uniqueid === slow || f.DestUniqueid === slow ? 'slow' : 'fast'}`);
    expect(order).toEqual(['Newchannel:slow', 'Newchannel:fast', 'DialBegin:slow', 'DialBegin:fast']);
    expect(dialEnds(id)).toEqual(['PJSIP/slowep:CANCEL', 'PJSIP/ansep:ANSWER']);
    // The loser: rang, then hung up by app_dial with cause 26 and no hangup request.
    expect(events(slow!)).toEqual(['Newchannel', 'Newexten', 'Newstate:Ringing', 'Hangup:26']);
    expect(ami.of(slow!, 'Hangup')[0]!['Cause-txt']).toBe('Answered elsewhere');
    // Its hangup comes before the winner's DialEnd (hanguptree before the ANSWER is published).
    const at = (pred: (f: AmiFrame) => boolean) => ami.frames.findIndex(pred);
    expect(at((f) => f.Event === 'Hangup' && f.Uniqueid === slow)).toBeLessThan(
      at((f) => f.Event === 'DialEnd' && f.DestUniqueid === fast && f.DialStatus === 'ANSWER'),
    );
    expect(lastVar(id, 'DIALSTATUS')).toBe('ANSWER');
    expect(lastVar(id, 'DIALEDPEERNAME')).toMatch(/^PJSIP\/ansep-/);
    // One RINGTIME, from the first to ring.
    expect(ami.of(id, 'VarSet').filter((f) => f.Variable === 'RINGTIME' && f.Value !== '')).toHaveLength(1);
  });

  it('DIALSTATUS when none answers: BUSY if all failed and one was busy, else CONGESTION, else CHANUNAVAIL; the timeout is NOANSWER', async () => {
    const { call, dialEnds, lastVar, ami } = await setup();
    const allbusy = await call('allbusy');
    expect(dialEnds(allbusy)).toEqual(['PJSIP/busyep:BUSY', 'PJSIP/congep:CONGESTION']);
    expect(lastVar(allbusy, 'DIALSTATUS')).toBe('BUSY');
    // Each refusal: chan_pjsip's hangup request with the cause, app_dial's DialEnd, then the Hangup.
    for (const callee of ami.frames.filter((f) => f.Event === 'DialBegin' && f.Uniqueid === allbusy)) {
      const at = (pred: (f: AmiFrame) => boolean) => ami.frames.findIndex(pred);
      const dest = callee.DestUniqueid;
      const order = [
        at((f) => f.Event === 'HangupRequest' && f.Uniqueid === dest),
        at((f) => f.Event === 'DialEnd' && f.DestUniqueid === dest),
        at((f) => f.Event === 'Hangup' && f.Uniqueid === dest),
      ];
      expect(order.every((i) => i >= 0)).toBe(true);
      expect([...order].sort((x, y) => x - y)).toEqual(order);
    }
    // The caller keeps the cause of the last callee to fail; Hangup() without a cause uses it.
    expect(ami.of(allbusy, 'Hangup')[0]!.Cause).toBe('34');

    const congnone = await call('congnone');
    expect(dialEnds(congnone)).toEqual(['PJSIP/congep:CONGESTION']);
    expect(lastVar(congnone, 'DIALSTATUS')).toBe('CONGESTION');

    // Nothing could be requested: CHANUNAVAIL, and the last destination's cause (3) on the caller.
    const nonenone = await call('nonenone');
    expect(ami.frames.filter((f) => f.Event === 'DialBegin' && f.Uniqueid === nonenone)).toEqual([]);
    expect(lastVar(nonenone, 'DIALSTATUS')).toBe('CHANUNAVAIL');
    expect(ami.of(nonenone, 'Hangup')[0]!.Cause).toBe('3');

    // One busy, one ringing until the timeout: not all failed, so NOANSWER.
    const busyring = await call('busyring');
    expect(dialEnds(busyring)).toEqual(['PJSIP/busyep:BUSY', 'PJSIP/ringep:NOANSWER']);
    expect(lastVar(busyring, 'DIALSTATUS')).toBe('NOANSWER');
  });

  it('the timeout applies to all: each still ringing ends NOANSWER, then each is hung up with no cause', async () => {
    const { ami, call, callees, dialEnds, lastVar, events } = await setup();
    const id = await call('ringring');
    expect(dialEnds(id)).toEqual(['PJSIP/ringep:NOANSWER', 'PJSIP/ringep:NOANSWER']);
    const [a, b] = callees(id);
    await waitFor(() => ami.of(b!, 'Hangup').length === 1);
    for (const c of [a!, b!])
      expect(events(c)).toEqual(['Newchannel', 'Newexten', 'Newstate:Ringing', 'Hangup:0']);
    // Both DialEnds before either hangup (publish_dial_end_event, then hanguptree).
    const ends = ami.frames
      .map((f, i) => (f.Event === 'DialEnd' && f.Uniqueid === id ? i : -1))
      .filter((i) => i >= 0);
    const hangups = [a!, b!].map((c) =>
      ami.frames.findIndex((f) => f.Event === 'Hangup' && f.Uniqueid === c),
    );
    expect(Math.max(...ends)).toBeLessThan(Math.min(...hangups));
    expect(lastVar(id, 'DIALSTATUS')).toBe('NOANSWER');
  });

  it('the caller hanging up cancels every callee (CANCEL each, then each hung up, cause 16)', async () => {
    const { s, ami, call, callees, dialEnds, lastVar } = await setup();
    const id = await call('cancel', false);
    await waitFor(() => ami.of(id, 'DialState').length === 2);
    s.hangup(id, 16);
    await waitFor(() => ami.of(id, 'Hangup').length === 1);
    expect(dialEnds(id)).toEqual(['PJSIP/ringep:CANCEL', 'PJSIP/ringep:CANCEL']);
    for (const c of callees(id)) expect(ami.of(c, 'Hangup')[0]!.Cause).toBe('16');
    expect(lastVar(id, 'DIALSTATUS')).toBe('CANCEL');
  });
});

describe("the caller's CDRs of a dial", () => {
  it('one record per destination, in the order dialled: the loser NO ANSWER, the winner ANSWERED', async () => {
    const { ami, call, cdrs } = await setup();
    const id = await call('race');
    await waitFor(() => cdrs(id).length === 2);
    expect(cdrs(id)).toEqual(['PJSIP/slowep:NO ANSWER', 'PJSIP/ansep:ANSWERED']);
    const [loser, winner] = ami.frames.filter((f) => f.Event === 'Cdr' && f.UniqueID === id);
    // Both Dial; the loser's record ended at its cancel, the winner's is the caller's bridged call.
    expect([loser!.LastApplication, winner!.LastApplication]).toEqual(['Dial', 'Dial']);
    expect(loser!.AnswerTime).toBe('');
    expect(winner!.AnswerTime).not.toBe('');
    expect(loser!.EndTime! <= winner!.EndTime!).toBe(true);
    // The callees are nobody's party A: no record of their own.
    expect(
      ami.frames.filter((f) => f.Event === 'Cdr' && f.UniqueID !== id && f.Channel?.startsWith('PJSIP/')),
    ).toEqual([]);
  });

  it('an unanswered dial is recorded with its callee and the dial status as disposition', async () => {
    const { call, cdrs } = await setup();
    const busy = await call('allbusy');
    await waitFor(() => cdrs(busy).length === 2);
    // CONGESTION is FAILED with cdr.conf's congestion off (Asterisk's default).
    expect(cdrs(busy)).toEqual(['PJSIP/busyep:BUSY', 'PJSIP/congep:FAILED']);
    const timeout = await call('ringring');
    await waitFor(() => cdrs(timeout).length === 2);
    expect(cdrs(timeout)).toEqual(['PJSIP/ringep:NO ANSWER', 'PJSIP/ringep:NO ANSWER']);
  });
});

describe('Dial() options Asterisk 22 does not take', () => {
  it('M (the macro option, removed in Asterisk 21) is warned about and ignored, its argument skipped', async () => {
    const { s, ami, call, dialEnds } = await setup();
    const id = await call('macro', false);
    await waitFor(() => ami.of(id, 'Newexten').some((f) => f.AppData === 'after'));
    expect(dialEnds(id)).toEqual(['PJSIP/ansep:ANSWER']);
    expect(s.logged()).toContainEqual({ level: 'WARNING', message: "Unrecognized option: 'M'" });
  });

  it('an option without its closing parenthesis fails the dial before it starts: DIALSTATUS empty, caller hung up', async () => {
    const { ami, call, lastVar } = await setup();
    const id = await call('badopt');
    expect(ami.frames.filter((f) => f.Event === 'DialBegin' && f.Uniqueid === id)).toEqual([]);
    expect(
      ami
        .of(id, 'VarSet')
        .filter((f) => f.Variable === 'DIALSTATUS')
        .map((f) => f.Value),
    ).toEqual(['', '']);
    expect(ami.of(id, 'Newexten').map((f) => f.AppData)).not.toContain('not reached');
    expect(lastVar(id, 'DIALSTATUS')).toBe('');
    const nofmt = await call('noformat');
    // The destination requested before the bad one is hung up uncalled.
    expect(ami.frames.filter((f) => f.Event === 'DialBegin' && f.Uniqueid === nofmt)).toEqual([]);
    const made = ami.frames.find((f) => f.Event === 'Newchannel' && f.Channel?.startsWith('PJSIP/ansep-'));
    await waitFor(() => ami.of(made!.Uniqueid!, 'Hangup').length === 1);
    expect(ami.of(nofmt, 'Newexten').map((f) => f.AppData)).not.toContain('not reached');
  });
});

describe('Dial() option U: a subroutine on the answered callee, before the bridge', () => {
  it('CONTINUE: the subroutine runs on the callee with its arguments, the callee is hung up and the caller goes on', async () => {
    const { ami, call, callees, dialEnds, lastVar, events } = await setup();
    const id = await call('continue');
    const [callee] = callees(id);
    await waitFor(() => ami.of(callee!, 'Hangup').length === 1);
    expect(ami.of(callee!, 'Newexten').map((f) => `${f.Context}:${f.Application}(${f.AppData})`)).toEqual([
      'default:AppDial((Outgoing Line))',
      'sub-continue:NoOp(first-second-2)',
      'sub-continue:Set(GOSUB_RESULT=CONTINUE)',
      'sub-continue:Return(done)',
    ]);
    expect(ami.of(callee!, 'VarSet').map((f) => `${f.Variable}=${f.Value}`)).toEqual([
      'DIALEDPEERNUMBER=longep',
      'LOCAL(ARG1)=first',
      'LOCAL(ARG2)=second',
      'LOCAL(ARGC)=2',
      'GOSUB_RESULT=CONTINUE',
      'GOSUB_RETVAL=done',
    ]);
    // Never bridged: hung up by app_dial with the cause of the answer (16), no request.
    expect(events(callee!).slice(-2)).toEqual(['Newexten', 'Hangup:16']);
    expect(dialEnds(id)).toEqual(['PJSIP/longep:CONTINUE']);
    expect(ami.of(id, 'Newexten').map((f) => f.AppData)).toContain('went on');
    expect(lastVar(id, 'GOSUB_RETVAL')).toBe('done');
    expect(lastVar(id, 'DIALSTATUS')).toBe('ANSWER');
    // The caller was never answered (no bridge, no pre_bridge_setup).
    expect(ami.of(id, 'Newstate').map((f) => f.ChannelStateDesc)).not.toContain('Up');
  });

  it('ABORT hangs both up (no g); GOTO sends the caller to the place given; BUSY is the DIALSTATUS', async () => {
    const { ami, call, dialEnds, lastVar } = await setup();
    const abort = await call('abort');
    expect(dialEnds(abort)).toEqual(['PJSIP/longep:ABORT']);
    expect(ami.of(abort, 'Newexten').map((f) => f.AppData)).not.toContain('not reached');

    const gone = await call('gotoit');
    // The DialEnd shows the place with its `^` already turned into commas.
    expect(dialEnds(gone)).toEqual(['PJSIP/longep:GOTO:calls,after,1']);
    const after = ami.of(gone, 'Newexten').filter((f) => f.Exten === 'after');
    expect(after.map((f) => f.AppData)).toEqual(['went', '']);

    const busy = await call('busysub');
    expect(dialEnds(busy)).toEqual(['PJSIP/longep:BUSY']);
    expect(ami.of(busy, 'Newexten').map((f) => f.AppData)).toContain('BUSY');
    expect(lastVar(busy, 'DIALSTATUS')).toBe('BUSY');
  });

  it('no GOSUB_RESULT: the call is bridged as usual and GOSUB_RETVAL stays the callee’s', async () => {
    const { ami, call, dialEnds, lastVar } = await setup();
    const id = await call('plain', false);
    await waitFor(() => ami.of(id, 'Newexten').length >= 2 && ami.of(id, 'Hangup').length === 1);
    expect(dialEnds(id)).toEqual(['PJSIP/ansep:ANSWER']);
    expect(ami.of(id, 'BridgeEnter')).toHaveLength(1);
    expect(lastVar(id, 'GOSUB_RETVAL')).toBeUndefined();
  });
});
