// Dial() options seen on the wire, as app_dial.c applies them: `m` plays music on hold to the
// caller while the callees ring (AMI MusicOnHoldStart with its class, no ringing indicated) and
// stops it when the dial ends, answered or not (MusicOnHoldStop); `o` gives the callee the caller's
// caller id (or the one named), `f(x)` tells the callee x as its connected line; `c` hangs the
// callees it gives up on up as answered elsewhere; `a` answers the caller before the other callees
// are let go.
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanupEach } from '../helpers/cleanup.ts';
import { simDialplan } from '../helpers/sim-dialplan.ts';
import { waitFor } from '../helpers/wait.ts';

const cleanup = cleanupEach();

const DIALPLAN = join(tmpdir(), `sim-app-dial-options-${process.pid}.conf`);
writeFileSync(
  DIALPLAN,
  `[calls]
exten => moh,1,Dial(PJSIP/ansep,30,m)
exten => mohclass,1,Dial(PJSIP/ringep,1,m(jazz))
 same => n,Hangup()
exten => ring,1,Dial(PJSIP/ansep,30)
exten => clid,1,Dial(PJSIP/ansep,30,o)
exten => clidx,1,Dial(PJSIP/ansep,30,o("Sales" <4155550100>)f("Front desk" <200>))
exten => forwards,1,Dial(PJSIP/ansep,30,f)
exten => elsewhere,1,Dial(PJSIP/ringep,1,c)
 same => n,Hangup()
exten => elsewhere-cancel,1,Dial(PJSIP/ringep,30,c)
exten => answer-first,1,Dial(PJSIP/ansep&PJSIP/ringep,30,a)
exten => answer-late,1,Dial(PJSIP/ansep&PJSIP/ringep,30)
`,
);

async function setup() {
  const sim = await simDialplan(cleanup, {
    dialplanPath: DIALPLAN,
    endpoints: {
      ansep: { result: 'answer', answerAfterMs: 60, hangupAfterMs: 20 },
      ringep: { result: 'noanswer' },
    },
  });
  /** The caller's events by kind (VarSet as its variable), in order. */
  const kinds = (id: string) =>
    sim.ami
      .of(id, 'MusicOnHoldStart', 'MusicOnHoldStop', 'DialBegin', 'DialState', 'Newstate', 'VarSet', 'Hangup')
      .map((f) =>
        f.Event === 'VarSet'
          ? `${f.Variable}=${f.Value}`
          : f.Event === 'Newstate'
            ? f.ChannelStateDesc!
            : f.Event === 'MusicOnHoldStart'
              ? `MusicOnHoldStart:${f.Class}`
              : f.Event!,
      );
  /** The Local `;1` half of the caller: the side that would be told the callee rings. */
  const oneOf = (id: string) => {
    const two = sim.ami.frames.find((f) => f.Event === 'Newchannel' && f.Uniqueid === id)!.Channel!;
    const one = two.replace(/;2$/, ';1');
    return sim.ami.frames.find((f) => f.Event === 'Newchannel' && f.Channel === one)!.Uniqueid!;
  };
  return { ...sim, kinds, oneOf };
}

describe('Dial option m', () => {
  it('music on hold from the calls to the answer instead of ringing, stopped before the caller is answered', async () => {
    const { ami, call, kinds, oneOf } = await setup();
    const id = await call('moh');
    const k = kinds(id);
    expect(k.filter((x) => x.startsWith('MusicOnHold'))).toEqual([
      'MusicOnHoldStart:default',
      'MusicOnHoldStop',
    ]);
    expect(k.indexOf('MusicOnHoldStart:default')).toBeGreaterThan(k.indexOf('DialBegin'));
    expect(k.indexOf('MusicOnHoldStop')).toBeGreaterThan(k.indexOf('DIALSTATUS=ANSWER'));
    expect(k.indexOf('MusicOnHoldStop')).toBeLessThan(k.indexOf('Up'));
    // No ringing reached the caller's `;1` while the callee rang.
    expect(ami.of(oneOf(id), 'Newstate').map((f) => f.ChannelStateDesc)).not.toContain('Ringing');
  });

  it('a class not configured plays `default`; an unanswered dial stops it before DIALSTATUS', async () => {
    const { call, kinds } = await setup();
    const k = kinds(await call('mohclass'));
    expect(k.filter((x) => x.startsWith('MusicOnHold'))).toEqual([
      'MusicOnHoldStart:default',
      'MusicOnHoldStop',
    ]);
    expect(k.indexOf('MusicOnHoldStop')).toBeLessThan(k.indexOf('DIALSTATUS=NOANSWER'));
  });

  it('without m: ringing, no music on hold', async () => {
    const { ami, call, kinds, oneOf } = await setup();
    const id = await call('ring');
    expect(kinds(id).filter((x) => x.startsWith('MusicOnHold'))).toEqual([]);
    await waitFor(() => ami.of(oneOf(id), 'Newstate').some((f) => f.ChannelStateDesc === 'Ringing'));
  });
});

describe('Dial options o and f', () => {
  /** The callee's caller id and connected line as its staged snapshot published them (AMI prints an
   * empty name as `<unknown>`). */
  const callee = async (sim: Awaited<ReturnType<typeof setup>>, exten: string) => {
    const id = await sim.call(exten, false);
    const tc = (await waitFor(() => sim.ami.frames.find((f) => f.Event === 'DialBegin' && f.Uniqueid === id)))
      .DestUniqueid!;
    const cid = await waitFor(() => sim.ami.of(tc, 'NewConnectedLine')[0]);
    return {
      cid: `${cid.CallerIDName}|${cid.CallerIDNum}`,
      connected: `${cid.ConnectedLineName}|${cid.ConnectedLineNum}`,
    };
  };

  it("without them the callee calls as the caller's extension and is told the caller", async () => {
    const sim = await setup();
    expect(await callee(sim, 'ring')).toEqual({ cid: '<unknown>|ring', connected: '<unknown>|12125550100' });
    // `f` alone only applies to forwarded calls.
    expect(await callee(sim, 'forwards')).toEqual({
      cid: '<unknown>|forwards',
      connected: '<unknown>|12125550100',
    });
  });

  it("o: the caller's own caller id; o(x) and f(x): the ones named", async () => {
    const sim = await setup();
    expect((await callee(sim, 'clid')).cid).toBe('<unknown>|12125550100');
    expect(await callee(sim, 'clidx')).toEqual({ cid: 'Sales|4155550100', connected: 'Front desk|200' });
  });
});

describe('Dial option c', () => {
  const calleeOf = async (sim: Awaited<ReturnType<typeof setup>>, id: string) =>
    (await waitFor(() => sim.ami.frames.find((f) => f.Event === 'DialBegin' && f.Uniqueid === id)))
      .DestUniqueid!;

  it('the timeout and the caller hanging up end the callees with cause 26 (answered elsewhere)', async () => {
    const sim = await setup();
    const timedOut = await calleeOf(sim, await sim.call('elsewhere', false));
    const hung = await waitFor(() => sim.ami.of(timedOut, 'Hangup')[0]);
    expect(hung).toMatchObject({ Cause: '26', 'Cause-txt': 'Answered elsewhere' });
    const caller = await sim.call('elsewhere-cancel', false);
    const tc = await calleeOf(sim, caller);
    await waitFor(() => sim.ami.of(tc, 'Newstate').some((f) => f.ChannelStateDesc === 'Ringing'));
    sim.s.hangup(caller, 16);
    expect(await waitFor(() => sim.ami.of(tc, 'Hangup')[0])).toMatchObject({ Cause: '26' });
    expect(sim.ami.frames.find((f) => f.Event === 'DialEnd' && f.DestUniqueid === tc)!.DialStatus).toBe(
      'CANCEL',
    );
  });
});

describe('Dial option a', () => {
  it('the caller is up once the ringing callee is told CANCEL, before it is hung up; without a, after', async () => {
    const sim = await setup();
    /** Where, in the stream, the caller went Up, the ringing callee got DialEnd CANCEL and hung up. */
    const places = async (exten: string) => {
      const id = await sim.call(exten, false);
      const at = (pred: (f: Record<string, string>) => boolean) => sim.ami.frames.findIndex(pred);
      const up = await waitFor(() => {
        const i = at((f) => f.Event === 'Newstate' && f.Uniqueid === id && f.ChannelStateDesc === 'Up');
        return i >= 0 ? i : undefined;
      });
      const end = sim.ami.frames.find(
        (f) => f.Event === 'DialEnd' && f.Uniqueid === id && f.DialStatus === 'CANCEL',
      )!;
      const hangup = at((f) => f.Event === 'Hangup' && f.Uniqueid === end.DestUniqueid);
      return { up, cancel: sim.ami.frames.indexOf(end), hangup };
    };
    const first = await places('answer-first');
    expect(first.cancel).toBeLessThan(first.up);
    expect(first.up).toBeLessThan(first.hangup);
    const late = await places('answer-late');
    expect(late.hangup).toBeGreaterThan(-1);
    expect(late.up).toBeGreaterThan(late.hangup);
  });
});
