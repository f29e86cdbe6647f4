// AMI Originate's outcomes on the simulator, checked against Asterisk's source where the recordings
// say nothing: a dial that fails (busy, congestion, no answer, a far side hanging up, no such
// extension, no format to request) with the channel events main/dial.c, core_unreal.c and
// chan_local publish and the OriginateResponse manager.c's fast_originate sends (pbx.c's
// pbx_dial_reason); Account as the channels' account code (NewAccountCode, CDRs); Codecs.
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { originateFormats } from '../../src/simulator/ami/originate.ts';
import type { AsteriskCdr } from '../../src/simulator/cdr.ts';
import { cleanupEach } from '../helpers/cleanup.ts';
import { type AmiFrame, simAmi } from '../helpers/sim-ami.ts';
import { waitFor } from '../helpers/wait.ts';

const cleanup = cleanupEach();

const DIALPLAN = join(tmpdir(), `sim-originate-outcomes-${process.pid}.conf`);
writeFileSync(
  DIALPLAN,
  `[far]
exten => busy,1,Busy()
exten => congested,1,Congestion()
exten => rings,1,Wait(3600)
exten => hangsup,1,Hangup()
exten => hangsup17,1,Hangup(17)
exten => answer,1,Answer()
 same => n,Wait(3600)
[dest]
exten => s,1,Wait(3600)
[withfailed]
exten => s,1,Wait(3600)
exten => failed,1,NoOp(failed with \${REASON})
 same => n,Hangup()
`,
);

const sim = () => simAmi(cleanup, { dialplanPath: DIALPLAN });

type Ami = Awaited<ReturnType<typeof sim>>['ami'];

/** An async originate of Local/<exten>@far into dest,s; resolves with its OriginateResponse. */
async function originate(ami: Ami, exten: string, fields: Record<string, string> = {}): Promise<AmiFrame> {
  const r = await ami.action('Originate', {
    Channel: `Local/${exten}@far`,
    Context: 'dest',
    Exten: 's',
    Priority: '1',
    Async: 'yes',
    ...fields,
  });
  expect(r.Response).toBe('Success');
  return waitFor(() => ami.frames.find((f) => f.Event === 'OriginateResponse' && f.ActionID === r.ActionID));
}

/** A synchronous originate of Local/<exten>@far into dest,s: its answer's Response and Message. */
async function syncAnswer(ami: Ami, exten: string, fields: Record<string, string> = {}) {
  const r = await ami.action('Originate', {
    Channel: `Local/${exten}@far`,
    Context: 'dest',
    Exten: 's',
    Priority: '1',
    ...fields,
  });
  return [r.Response, r.Message];
}

/** The channel events of the pair made for `exten`, as `Event half cause/status`, in order. */
function pairEvents(ami: Ami, exten: string): string[] {
  const half = (name = '') => (name.endsWith(';2') ? '2' : '1');
  return ami.frames
    .filter(
      (f) =>
        (f.Channel ?? f.DestChannel ?? f.LocalOneChannel ?? '').startsWith(`Local/${exten}@far-`) &&
        /^(Newchannel|LocalBridge|DialBegin|DialEnd|HangupRequest|SoftHangupRequest|Hangup)$/.test(
          f.Event ?? '',
        ),
    )
    .map((f) =>
      f.Event === 'DialEnd'
        ? `DialEnd ${f.DialStatus}`
        : f.Event === 'DialBegin' || f.Event === 'LocalBridge'
          ? f.Event
          : `${f.Event} ${half(f.Channel)}${f.Cause !== undefined ? ` ${f.Cause}` : ''}`,
    );
}

/** Waits until both halves of the pair made for `exten` are gone. */
const bothGone = (ami: Ami, exten: string) =>
  waitFor(
    () =>
      ami.frames.filter((f) => f.Event === 'Hangup' && f.Channel?.startsWith(`Local/${exten}@far-`))
        .length === 2,
  );

describe('simulator AMI Originate that fails', () => {
  it('busy and congestion: DialEnd, then the dial hangs ;1 up with no cause; reasons 5 and 8', async () => {
    const { ami } = await sim();
    for (const [exten, status, cause, reason] of [
      ['busy', 'BUSY', '17', '5'],
      ['congested', 'CONGESTION', '34', '8'],
    ] as const) {
      const done = await originate(ami, exten);
      await bothGone(ami, exten);
      // fast_originate names a failed channel as it was requested, with no uniqueid.
      expect(done).toMatchObject({
        Response: 'Failure',
        Channel: `Local/${exten}@far`,
        Context: 'dest',
        Exten: 's',
        Reason: reason,
        Uniqueid: '<unknown>',
      });
      expect(pairEvents(ami, exten)).toEqual([
        'Newchannel 1',
        'Newchannel 2',
        'LocalBridge',
        'DialBegin',
        `DialEnd ${status}`,
        'Hangup 1 0',
        // ;1's hangup queues one on ;2 with ;1's cause (none); ;2 keeps its own (Busy/Congestion).
        'HangupRequest 2 0',
        'SoftHangupRequest 2 16',
        `Hangup 2 ${cause}`,
      ]);
    }
  });

  it('no answer within the timeout: cause 19 without a request or a final dial status; reason 3', async () => {
    const { ami } = await sim();
    const done = await originate(ami, 'rings', { Timeout: '200', ChannelId: 'ring-1' });
    await bothGone(ami, 'rings');
    // A ChannelId asked for is reported even though no channel is named.
    expect(done).toMatchObject({
      Response: 'Failure',
      Channel: 'Local/rings@far',
      Reason: '3',
      Uniqueid: 'ring-1',
    });
    expect(pairEvents(ami, 'rings')).toEqual([
      'Newchannel 1',
      'Newchannel 2',
      'LocalBridge',
      'DialBegin',
      'Hangup 1 19',
      'HangupRequest 2 19',
      'SoftHangupRequest 2 16',
      'Hangup 2 19',
    ]);
  });

  it('a far side that hangs up: DialEnd from its cause, reason 0 (the dial keeps no cause)', async () => {
    const { ami } = await sim();
    for (const [exten, cause, status] of [
      ['hangsup', '16', 'NOANSWER'],
      ['hangsup17', '17', 'BUSY'],
    ] as const) {
      const done = await originate(ami, exten);
      await bothGone(ami, exten);
      expect(done).toMatchObject({ Response: 'Failure', Channel: `Local/${exten}@far`, Reason: '0' });
      expect(pairEvents(ami, exten)).toEqual([
        'Newchannel 1',
        'Newchannel 2',
        'LocalBridge',
        'DialBegin',
        `HangupRequest 2 ${cause}`,
        'SoftHangupRequest 2 16',
        `Hangup 2 ${cause}`,
        `HangupRequest 1 ${cause}`,
        `DialEnd ${status}`,
        `Hangup 1 ${cause}`,
      ]);
    }
  });

  it('no such extension for ;2: local_call fails, nothing joined or dialled, ;2 goes first; reason 0', async () => {
    const { ami } = await sim();
    const done = await originate(ami, 'nowhere', { CallerID: '"Ann" <2125550000>' });
    await bothGone(ami, 'nowhere');
    expect(done).toMatchObject({
      Response: 'Failure',
      Channel: 'Local/nowhere@far',
      Reason: '0',
      CallerIDNum: '2125550000',
    });
    expect(pairEvents(ami, 'nowhere')).toEqual(['Newchannel 1', 'Newchannel 2', 'Hangup 2 0', 'Hangup 1 0']);
    // The pair was set up before the failure: ;2 took ;1's connected line as its caller id.
    const two = ami.frames.find((f) => f.Event === 'NewCallerid' && f.Channel?.endsWith(';2'));
    expect(two?.CallerIDNum).toBe('2125550000');
    // Synchronously, the same failure is the action's error.
    expect(await syncAnswer(ami, 'nowhere')).toEqual(['Error', 'Originate failed']);
  });
});

describe('simulator AMI Originate to a context with a `failed` extension', () => {
  it('runs OutgoingSpoolFailed there with REASON and the variables, before the answer or the OriginateResponse', async () => {
    const { ami } = await sim();
    const r = await ami.action('Originate', {
      Channel: 'Local/busy@far',
      Context: 'withfailed',
      Exten: 's',
      Priority: '1',
      Async: 'yes',
      CallerID: '"Ann" <2125550000>',
      Variable: 'X=1',
    });
    const done = await waitFor(() =>
      ami.frames.find((f) => f.Event === 'OriginateResponse' && f.ActionID === r.ActionID),
    );
    expect(done).toMatchObject({ Response: 'Failure', Reason: '5', Channel: 'Local/busy@far' });
    const failed = ami.frames.filter((f) => f.Channel === 'OutgoingSpoolFailed');
    expect(failed[0]).toMatchObject({ Event: 'Newchannel', CallerIDNum: '2125550000', Exten: 'failed' });
    expect(
      failed
        .filter((f) => /^(VarSet|Newexten|Hangup)$/.test(f.Event ?? ''))
        .map((f) => `${f.Event} ${f.Variable ?? f.AppData ?? ''}=${f.Value ?? ''}`),
    ).toEqual(
      expect.arrayContaining(['VarSet REASON=5', 'VarSet X=1', 'Newexten failed with 5=', 'Hangup =']),
    );
    // ast_pbx_run on the originating thread: the PBX is over before the OriginateResponse.
    const at = (f: (typeof ami.frames)[number]) => ami.frames.indexOf(f);
    expect(at(failed.find((f) => f.Event === 'Hangup')!)).toBeLessThan(at(done));
    // An application originate has no such channel.
    const before = ami.frames.filter((f) => f.Channel === 'OutgoingSpoolFailed').length;
    const a = await ami.action('Originate', {
      Channel: 'Local/busy@far',
      Context: 'withfailed',
      Application: 'Wait',
      Data: '1',
      Async: 'yes',
    });
    await waitFor(() => ami.frames.find((f) => f.Event === 'OriginateResponse' && f.ActionID === a.ActionID));
    expect(ami.frames.filter((f) => f.Channel === 'OutgoingSpoolFailed').length).toBe(before);
  });
});

describe('simulator AMI Originate Account and Codecs', () => {
  it("Account is both halves' account code: NewAccountCode between the caller id and the connected line; CDRs carry it", async () => {
    const { s, ami } = await sim();
    const cdrs: AsteriskCdr[] = [];
    s.events.on('cdr', (c: AsteriskCdr) => cdrs.push(c));
    const done = await originate(ami, 'answer', {
      Account: 'acct-7',
      CallerID: '"Ann" <2125550000>',
      ChannelId: 'a-1',
    });
    expect(done).toMatchObject({ Response: 'Success', Reason: '4', Uniqueid: 'a-1' });
    const seq = (id: string) =>
      ami.frames
        .filter((f) => f.Uniqueid === id && /^New(AccountCode|Callerid|ConnectedLine)$/.test(f.Event ?? ''))
        .map(
          (f) =>
            `${f.Event} ${f.AccountCode}${f.OldAccountCode !== undefined ? ` old=${f.OldAccountCode}` : ''}`,
        );
    expect(seq('a-1')).toEqual([
      'NewAccountCode acct-7 old=',
      'NewCallerid acct-7',
      'NewConnectedLine acct-7',
    ]);
    // chan_local crosses the peer account over: ;2's account code is ;1's peeraccount, in the
    // pair's one staged snapshot.
    expect(seq('a-1;2')).toEqual([
      'NewCallerid acct-7',
      'NewAccountCode acct-7 old=',
      'NewConnectedLine acct-7',
    ]);
    const acct = await ami.action('Getvar', { Channel: done.Channel!, Variable: 'CDR(accountcode)' });
    expect(acct.Value).toBe('acct-7');
    await ami.action('Hangup', { Channel: done.Channel! });
    await waitFor(() => cdrs.length >= 2);
    expect(cdrs.map((c) => [c.uniqueid, c.accountcode])).toEqual(
      expect.arrayContaining([
        ['a-1', 'acct-7'],
        ['a-1;2', 'acct-7'],
      ]),
    );
    // Without Account nothing is reported and the code stays empty.
    const plain = await originate(ami, 'answer');
    expect(ami.frames.filter((f) => f.Event === 'NewAccountCode' && f.Uniqueid === plain.Uniqueid)).toEqual(
      [],
    );
  });

  it('Codecs: unknown names are skipped (a warning in Asterisk, not a refusal); none left fails the request', async () => {
    const { ami } = await sim();
    const ok = await originate(ami, 'answer', { Codecs: 'ulaw,nosuchcodec' });
    expect(ok).toMatchObject({ Response: 'Success', Reason: '4' });
    const bad = await originate(ami, 'answer', { Codecs: 'nosuchcodec,!ulaw' });
    expect(bad).toMatchObject({
      Response: 'Failure',
      Channel: 'Local/answer@far',
      Reason: '0',
      Uniqueid: '<unknown>',
    });
    // chan_local made ;1, found no format for it and released it: no ;2, no dial.
    const okPair = ok.Channel!.slice(0, -2);
    const names = ami.frames
      .filter((f) => /^(Newchannel|Hangup|DialBegin|DialEnd|LocalBridge)$/.test(f.Event ?? ''))
      .filter((f) => !(f.Channel ?? f.DestChannel ?? f.LocalOneChannel ?? '').startsWith(okPair))
      .map((f) => `${f.Event} ${f.Channel?.slice(-2)} ${f.Cause ?? ''}`.trim());
    expect(names).toEqual(['Newchannel ;1', 'Hangup ;1 0']);
    expect(await syncAnswer(ami, 'answer', { Codecs: 'bogus' })).toEqual(['Error', 'Originate failed']);
  });

  it('reads Codecs as ast_format_cap_update_by_allow_disallow does', () => {
    expect([...originateFormats('ULAW, alaw:20 |gsm')]).toEqual(['ulaw', 'alaw', 'gsm']);
    expect([...originateFormats('(ulaw|alaw)')]).toEqual(['ulaw', 'alaw']);
    expect([...originateFormats('all,!ulaw')]).not.toContain('ulaw');
    expect([...originateFormats('ulaw:x,alaw:,gsm:-1')]).toEqual(['alaw']);
    expect(originateFormats('nosuch,!all').size).toBe(0);
    const known = fc.constantFrom('ulaw', 'alaw', 'gsm', 'g722', 'opus', 'h264', 'slin16');
    const unknown = fc
      .stringMatching(/^[a-z][a-z0-9]{0,8}$/)
      .filter((s) => !originateFormats(s).size && s !== 'all');
    fc.assert(
      fc.property(fc.array(fc.oneof(known, unknown), { maxLength: 8 }), (names) => {
        const got = originateFormats(names.join(','));
        // Unknown names change nothing: what is left is exactly the known names allowed.
        expect([...got].sort()).toEqual([...new Set(names.filter((n) => originateFormats(n).size))].sort());
      }),
      { numRuns: 200 },
    );
  });
});
