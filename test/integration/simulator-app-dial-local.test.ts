// Dial(Local/<exten>@<context>) from the dialplan, as app_dial and chan_local run it: the request
// makes a Local pair (both halves with the caller's Linkedid), ast_call on `;1` is local_call (the
// pair's setup, LocalBridge, `;2`'s PBX started) before app_dial's DialBegin, and the line then
// goes as `;2` does: ringing and the answer reach `;1`, a busy or congestion indication is read on
// `;1` (DialEnd, `;1` hung up by app_dial with no cause, which takes `;2` with it), a `;2` hanging
// up hangs `;1` up with its cause, and an extension that does not exist fails the call itself.
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AmiFrame } from '../helpers/sim-ami.ts';
import { cleanupEach } from '../helpers/cleanup.ts';
import { type AriEvent, ariRest, holdApp } from '../helpers/sim-ari.ts';
import { simDialplan } from '../helpers/sim-dialplan.ts';
import { waitFor } from '../helpers/wait.ts';

const cleanup = cleanupEach();

const DIALPLAN = join(tmpdir(), `sim-app-dial-local-${process.pid}.conf`);
writeFileSync(
  DIALPLAN,
  `[calls]
exten => answer,1,Dial(Local/ans@inner,30)
 same => n,NoOp(not reached)
exten => talk,1,Dial(Local/talk@inner,30)
exten => talkn,1,Dial(Local/talk@inner/n,30)
exten => busy,1,Dial(Local/busy@inner,30)
 same => n,Hangup()
exten => cong,1,Dial(Local/cong@inner,30)
 same => n,Hangup()
exten => ring,1,Dial(Local/ring@inner,1)
 same => n,Hangup()
exten => missing,1,Dial(Local/nosuch@inner,30)
 same => n,Hangup()
exten => missingbusy,1,Dial(Local/nosuch@inner&PJSIP/busyep,30)
 same => n,Hangup()
exten => gone,1,Dial(Local/gone@inner,30)
 same => n,Hangup()
exten => race,1,Dial(Local/ring@inner&PJSIP/ansep,30)
[inner]
exten => ans,1,Dial(PJSIP/ansep,30)
exten => talk,1,Answer()
 same => n,Wait(600)
exten => busy,1,Busy()
exten => cong,1,Congestion()
exten => ring,1,Dial(PJSIP/ringep)
exten => gone,1,Dial(PJSIP/other,30)
 same => n,Hangup(3)
`,
);

async function setup() {
  const { s, ami, call } = await simDialplan(cleanup, {
    dialplanPath: DIALPLAN,
    cdrManager: { enabled: true },
    endpoints: {
      ansep: { result: 'answer', answerAfterMs: 20, hangupAfterMs: 40 },
      busyep: { result: 'busy', answerAfterMs: 10 },
      ringep: { result: 'noanswer' },
      other: { result: 'unavailable' },
    },
  });
  const plain = (name: string) => name.replace(/-[0-9a-f]{8}(;\d)?$/, '$1');
  const dialBegins = (id: string) => ami.frames.filter((f) => f.Event === 'DialBegin' && f.Uniqueid === id);
  const dialEnds = (id: string) =>
    ami.frames
      .filter((f) => f.Event === 'DialEnd' && f.Uniqueid === id)
      .map((f) => `${plain(f.DestChannel!)}:${f.DialStatus}`);
  const lastVar = (id: string, name: string) =>
    ami.of(id, 'VarSet').findLast((f) => f.Variable === name)?.Value;
  /** The pair app_dial requested for the caller's first Local destination: [`;1`, `;2`]. */
  const pair = (id: string) => {
    const linked = ami.of(id, 'Newchannel')[0]!.Linkedid;
    const one = ami.frames.find(
      (f) => f.Event === 'Newchannel' && /@inner-[0-9a-f]{8};1$/.test(f.Channel!) && f.Linkedid === linked,
    )!;
    const two = ami.frames.find(
      (f) => f.Event === 'Newchannel' && f.Channel === one.Channel!.replace(/;1$/, ';2'),
    )!;
    return [one, two] as const;
  };
  /** A channel's hangup events, as `HangupRequest:<cause>` and `Hangup:<cause>`. */
  const hangups = (id: string) =>
    ami
      .of(id)
      .filter((f) => f.Event === 'Hangup' || f.Event === 'HangupRequest')
      .map((f) => `${f.Event}:${f.Cause}`);
  const at = (pred: (f: AmiFrame) => boolean) => ami.frames.findIndex(pred);
  const cdrs = (id: string) =>
    ami.frames
      .filter((f) => f.Event === 'Cdr' && f.UniqueID === id)
      .map((f) => `${plain(f.DestinationChannel!)}:${f.Disposition}`);
  return { s, ami, call, plain, dialBegins, dialEnds, lastVar, pair, hangups, at, cdrs };
}

describe('Dial(Local/...) from the dialplan', () => {
  it('makes a Local pair whose `;2` runs the dialplan; its answer reaches Dial through `;1`, which is bridged with the caller', async () => {
    const { ami, call, plain, dialBegins, dialEnds, lastVar, pair, at, cdrs } = await setup();
    const id = await call('answer');
    const [one, two] = pair(id);
    expect(one.Channel).toMatch(/^Local\/ans@inner-[0-9a-f]{8};1$/);
    // Both halves take the caller's Linkedid (ast_request with the caller as requestor).
    expect(two.Linkedid).toBe(ami.of(id, 'Newchannel')[0]!.Linkedid);
    expect(one.Linkedid).toBe(two.Linkedid);
    // local_call joins the pair before app_dial reports the dial; `;2` dials on its own.
    const [begin] = dialBegins(id);
    expect(begin!.DestUniqueid).toBe(one.Uniqueid);
    expect(begin!.DialString).toBe('ans@inner');
    const bridged = at((f) => f.Event === 'LocalBridge' && f.LocalOneUniqueid === one.Uniqueid);
    expect(bridged).toBeGreaterThanOrEqual(0);
    expect(bridged).toBeLessThan(at((f) => f.Event === 'DialBegin' && f.Uniqueid === id));
    expect(ami.frames[bridged]!.LocalOptimization).toBe('Yes');
    expect(dialBegins(two.Uniqueid!).map((f) => plain(f.DestChannel!))).toEqual(['PJSIP/ansep']);
    // Ringing and the answer travel from `;2` to `;1`: DialState RINGING, then DialEnd ANSWER.
    expect(
      ami.frames
        .filter((f) => (f.Event === 'DialState' || f.Event === 'DialEnd') && f.Uniqueid === id)
        .map((f) => `${f.Event}:${f.DialStatus}`),
    ).toEqual(['DialState:RINGING', 'DialEnd:ANSWER']);
    expect(dialEnds(id)).toEqual(['Local/ans@inner;1:ANSWER']);
    expect(lastVar(id, 'DIALSTATUS')).toBe('ANSWER');
    expect(lastVar(id, 'DIALEDPEERNAME')).toBe(one.Channel);
    expect(lastVar(id, 'DIALEDPEERNUMBER')).toBe('ans@inner');
    // The caller and `;1` shared app_dial's basic bridge; the far end hung up, so all went.
    const bridge = ami.frames.find((f) => f.Event === 'BridgeEnter' && f.Uniqueid === one.Uniqueid);
    expect(
      ami.frames.some(
        (f) => f.Event === 'BridgeEnter' && f.Uniqueid === id && f.BridgeUniqueid === bridge?.BridgeUniqueid,
      ),
    ).toBe(true);
    await waitFor(
      () => ami.of(one.Uniqueid!, 'Hangup').length === 1 && ami.of(two.Uniqueid!, 'Hangup').length === 1,
    );
    expect(ami.of(id, 'Newexten').some((f) => f.AppData === 'not reached')).toBe(false);
    // The caller's record of the dial names `;1`, answered, as for a PJSIP destination.
    await waitFor(() => cdrs(id).length === 1);
    expect(cdrs(id)).toEqual(['Local/ans@inner;1:ANSWERED']);
  });

  it('a bridged call through the pair ends from either side', async () => {
    const { s, ami, call, pair } = await setup();
    for (const who of ['caller', 'far'] as const) {
      const id = await call('talk', false);
      await waitFor(() => ami.of(id, 'BridgeEnter').length === 1);
      const [one, two] = pair(id);
      s.hangup(who === 'caller' ? id : two.Uniqueid!, 16);
      await waitFor(() => [id, one.Uniqueid!, two.Uniqueid!].every((x) => ami.of(x, 'Hangup').length === 1));
      expect(ami.of(id, 'Hangup')[0]!.Cause).toBe('16');
    }
  });

  it('option `n` is read off the destination: the pair goes to its extension and says it may not optimise', async () => {
    const { s, ami, call, pair, dialBegins, lastVar } = await setup();
    const id = await call('talkn', false);
    await waitFor(() => ami.of(id, 'BridgeEnter').length === 1);
    const [one] = pair(id);
    expect(one.Channel).toMatch(/^Local\/talk@inner-[0-9a-f]{8};1$/);
    expect(
      ami.frames.find((f) => f.Event === 'LocalBridge' && f.LocalOneUniqueid === one.Uniqueid),
    ).toMatchObject({
      Context: 'inner',
      Exten: 'talk',
      LocalOptimization: 'No',
    });
    expect(dialBegins(id)[0]!.DialString).toBe('talk@inner/n');
    expect(lastVar(id, 'DIALEDPEERNUMBER')).toBe('talk@inner/n');
    s.hangup(id, 16);
    await waitFor(() => ami.of(one.Uniqueid!, 'Hangup').length === 1);
  });

  it('busy or congestion indicated by `;2` ends the line: DialEnd, `;1` hung up by app_dial (no cause), `;2` with its own', async () => {
    const { ami, call, dialEnds, lastVar, pair, hangups, at, cdrs } = await setup();
    for (const [exten, status, cause] of [
      ['busy', 'BUSY', '17'],
      ['cong', 'CONGESTION', '34'],
    ] as const) {
      const id = await call(exten);
      const [one, two] = pair(id);
      await waitFor(() => ami.of(two.Uniqueid!, 'Hangup').length === 1);
      expect(dialEnds(id)).toEqual([`Local/${exten}@inner;1:${status}`]);
      expect(lastVar(id, 'DIALSTATUS')).toBe(status);
      expect(hangups(one.Uniqueid!)).toEqual(['Hangup:0']);
      expect(hangups(two.Uniqueid!)).toEqual(['HangupRequest:0', `Hangup:${cause}`]);
      expect(at((f) => f.Event === 'DialEnd' && f.Uniqueid === id)).toBeLessThan(
        at((f) => f.Event === 'Hangup' && f.Uniqueid === one.Uniqueid),
      );
      // The caller took `;1`'s cause (none), not the 17 or 34 a PJSIP refusal leaves: Hangup()
      // without a cause then says normal clearing.
      expect(ami.of(id, 'Hangup')[0]!.Cause).toBe('16');
    }
    const busy = ami.frames.find((f) => f.Event === 'DialEnd' && f.DialStatus === 'BUSY')!.Uniqueid!;
    await waitFor(() => cdrs(busy).length === 1);
    expect(cdrs(busy)).toEqual(['Local/busy@inner;1:BUSY']);
  });

  it('the timeout ends a line whose `;2` still rings: NOANSWER, `;1` hung up with no cause, `;2` told so', async () => {
    const { ami, call, dialEnds, lastVar, pair, hangups } = await setup();
    const id = await call('ring');
    const [one, two] = pair(id);
    await waitFor(() => ami.of(two.Uniqueid!, 'Hangup').length === 1);
    expect(
      ami.frames
        .filter((f) => (f.Event === 'DialState' || f.Event === 'DialEnd') && f.Uniqueid === id)
        .map((f) => `${f.Event}:${f.DialStatus}`),
    ).toEqual(['DialState:RINGING', 'DialEnd:NOANSWER']);
    expect(dialEnds(id)).toEqual(['Local/ring@inner;1:NOANSWER']);
    expect(lastVar(id, 'DIALSTATUS')).toBe('NOANSWER');
    expect(hangups(one.Uniqueid!)).toEqual(['Hangup:0']);
    expect(hangups(two.Uniqueid!)).toEqual(['HangupRequest:0', 'Hangup:0']);
  });

  it('a `;2` that hangs up ends the line with its cause; after its own Dial, `;1` gets CHANLOCALSTATUS', async () => {
    const { ami, call, dialEnds, lastVar, pair, hangups } = await setup();
    const id = await call('gone');
    const [one, two] = pair(id);
    expect(dialEnds(id)).toEqual(['Local/gone@inner;1:CHANUNAVAIL']);
    expect(lastVar(id, 'DIALSTATUS')).toBe('CHANUNAVAIL');
    expect(lastVar(two.Uniqueid!, 'DIALSTATUS')).toBe('CHANUNAVAIL');
    expect(lastVar(one.Uniqueid!, 'CHANLOCALSTATUS')).toBe('CHANUNAVAIL');
    expect(hangups(one.Uniqueid!)).toEqual(['HangupRequest:3', 'Hangup:3']);
    expect(ami.of(id, 'Hangup')[0]!.Cause).toBe('3');
  });

  it('a missing extension fails the call: no LocalBridge, no DialBegin, both halves hung up (`;2` first), CHANUNAVAIL', async () => {
    const { s, ami, call, dialBegins, dialEnds, lastVar, pair, hangups, at } = await setup();
    const id = await call('missing');
    const [one, two] = pair(id);
    expect(dialBegins(id)).toEqual([]);
    expect(ami.frames.some((f) => f.Event === 'LocalBridge' && f.LocalOneUniqueid === one.Uniqueid)).toBe(
      false,
    );
    expect(hangups(one.Uniqueid!)).toEqual(['Hangup:0']);
    expect(hangups(two.Uniqueid!)).toEqual(['Hangup:0']);
    expect(at((f) => f.Event === 'Hangup' && f.Uniqueid === two.Uniqueid)).toBeLessThan(
      at((f) => f.Event === 'Hangup' && f.Uniqueid === one.Uniqueid),
    );
    // local_call's setup ran: `;2` got `;1`'s caller id crossed over before it went.
    expect(ami.of(two.Uniqueid!, 'NewCallerid').length).toBeGreaterThan(0);
    expect(lastVar(id, 'DIALSTATUS')).toBe('CHANUNAVAIL');
    expect(s.logged()).toContainEqual({
      level: 'NOTICE',
      message: 'No such extension/context nosuch@inner while calling Local channel',
    });
    // The failed call is no line of the dial's: the busy destination beside it decides.
    const mixed = await call('missingbusy');
    expect(dialEnds(mixed)).toEqual(['PJSIP/busyep:BUSY']);
    expect(lastVar(mixed, 'DIALSTATUS')).toBe('BUSY');
  });

  it('several destinations: a PJSIP answer wins over a ringing Local line, whose `;1` is hung up answered elsewhere', async () => {
    const { s, ami, call, dialEnds, pair, hangups } = await setup();
    const id = await call('race', false);
    await waitFor(() => dialEnds(id).length === 2);
    const [one, two] = pair(id);
    expect(dialEnds(id)).toEqual(['Local/ring@inner;1:CANCEL', 'PJSIP/ansep:ANSWER']);
    await waitFor(() => ami.of(two.Uniqueid!, 'Hangup').length === 1);
    expect(hangups(one.Uniqueid!)).toEqual(['Hangup:26']);
    expect(hangups(two.Uniqueid!)).toEqual(['HangupRequest:26', 'Hangup:26']);
    s.hangup(id, 16);
  });
});

describe('ARI dial of a Local channel whose extension does not exist', () => {
  it('fails the call as local_call does: no LocalBridge, no Dial, `;1` soft-hung-up unannounced, `;2` first, no cause', async () => {
    const { s, ami, hangups, at } = await setup();
    const ws = await holdApp(s, 'dialer', cleanup);
    const events: AriEvent[] = [];
    ws.on('message', (d) => events.push(JSON.parse(String(d)) as AriEvent));
    const ari = ariRest(s);
    const made = await ari('POST', 'channels/create?endpoint=Local/nosuch@inner&app=dialer');
    expect(made.status).toBe(200);
    const one = made.body.id as string;
    expect((await ari('POST', `channels/${one}/dial`)).status).toBe(204);
    await waitFor(() =>
      events.some((e) => e.type === 'ChannelDestroyed' && (e.channel as { id: string }).id === one),
    );
    const mine = events.filter(
      (e) => (e.channel as { id?: string } | undefined)?.id === one || e.type === 'Dial',
    );
    expect(mine.map((e) => e.type).filter((t) => t === 'Dial' || t === 'ChannelHangupRequest')).toEqual([]);
    expect(mine.find((e) => e.type === 'ChannelDestroyed')!.cause).toBe(0);
    const name = ami.of(one, 'Newchannel')[0]!.Channel!;
    const two = ami.frames.find((f) => f.Event === 'Newchannel' && f.Channel === name.replace(/;1$/, ';2'))!;
    expect(ami.frames.some((f) => f.Event === 'LocalBridge')).toBe(false);
    expect(ami.frames.some((f) => f.Event === 'DialBegin')).toBe(false);
    await waitFor(() => ami.of(one, 'Hangup').length === 1);
    expect(hangups(two.Uniqueid!)).toEqual(['Hangup:0']);
    expect(hangups(one)).toEqual(['Hangup:0']);
    expect(at((f) => f.Event === 'Hangup' && f.Uniqueid === two.Uniqueid)).toBeLessThan(
      at((f) => f.Event === 'Hangup' && f.Uniqueid === one),
    );
    expect(s.logged()).toContainEqual({
      level: 'NOTICE',
      message: 'No such extension/context nosuch@inner while calling Local channel',
    });
  });
});
