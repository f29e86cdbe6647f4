// AMI BlindTransfer of a party of app_dial's two-party basic bridge, as main/bridge.c's two-party
// path runs it: `Transfer succeeded`, the transferer taken off hold, BLINDTRANSFER set on both
// parties, a BlindTransfer event naming transferer, transferee and bridge; then the transferee goes
// to the place given and the transferer is removed (a callee is hung up, a caller ends its Dial).
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanupEach } from '../helpers/cleanup.ts';
import { simAriAmi } from '../helpers/sim-ami.ts';
import { simDialplan } from '../helpers/sim-dialplan.ts';
import { waitFor } from '../helpers/wait.ts';

const cleanup = cleanupEach();

const DIALPLAN = join(tmpdir(), `sim-blind-transfer-${process.pid}.conf`);
writeFileSync(
  DIALPLAN,
  `[calls]
exten => answer,1,Dial(PJSIP/ansep,30)
 same => n,NoOp(not reached: Dial hangs the caller up)
exten => goon,1,Dial(PJSIP/ansep,30,g)
 same => n,NoOp(after the call)
 same => n,Wait(3600)
exten => 200,1,NoOp(transferred)
 same => n,Wait(3600)
[elsewhere]
exten => 300,1,NoOp(moved)
 same => n,Wait(3600)
[from-carrier]
exten => _X.,1,Stasis(capconduit,inbound)
 same => n,Hangup()
`,
);

async function bridged(exten: string) {
  const { s, ami, call } = await simDialplan(cleanup, {
    dialplanPath: DIALPLAN,
    endpoints: { ansep: { result: 'answer', answerAfterMs: 10 } },
  });
  const caller = await call(exten, false);
  // Both parties in the basic bridge: the caller joins after the callee.
  const enter = await waitFor(() =>
    ami.frames.find((f) => f.Event === 'BridgeEnter' && f.Uniqueid === caller),
  );
  const callee = ami.frames.find(
    (f) => f.Event === 'BridgeEnter' && f.BridgeUniqueid === enter.BridgeUniqueid && f.Uniqueid !== caller,
  )!;
  const name = (id: string) =>
    ami.frames.find((f) => f.Event === 'Newchannel' && f.Uniqueid === id)!.Channel!;
  const vars = (id: string, v: string) =>
    ami
      .of(id, 'VarSet')
      .filter((f) => f.Variable === v)
      .map((f) => f.Value);
  return { s, ami, caller, callee: callee.Uniqueid!, bridge: enter.BridgeUniqueid!, name, vars };
}

describe('AMI BlindTransfer of a party of a two-party basic bridge', () => {
  it('the callee transfers the caller: the caller goes on at the place, the callee is hung up', async () => {
    const { ami, caller, callee, bridge, name, vars } = await bridged('answer');
    const r = await ami.action('BlindTransfer', { Channel: name(callee), Exten: '200', Context: 'calls' });
    expect(r).toMatchObject({ Response: 'Success', Message: 'Transfer succeeded' });
    await waitFor(() =>
      ami.of(caller, 'Newexten').some((f) => f.Exten === '200' && f.Application === 'Wait'),
    );
    const frame = ami.ordered.find((f) => f[0]![1] === 'BlindTransfer')!;
    const keys = frame.map(([k]) => k);
    // Transferer, then transferee, then the bridge (blind_transfer_to_ami).
    expect(keys.indexOf('TransfererUniqueid')).toBeLessThan(keys.indexOf('TransfereeChannel'));
    expect(keys.indexOf('TransfereeLinkedid')).toBeLessThan(keys.indexOf('BridgeUniqueid'));
    expect(keys.slice(-3)).toEqual(['IsExternal', 'Context', 'Extension']);
    const ev = Object.fromEntries(frame);
    expect(ev).toMatchObject({
      Result: 'Success',
      TransfererUniqueid: callee,
      TransfereeUniqueid: caller,
      BridgeUniqueid: bridge,
      BridgeType: 'basic',
      BridgeNumChannels: '2',
      IsExternal: 'Yes',
      Context: 'calls',
      Extension: '200',
    });
    // The transferer names its peer, the transferee the transferer; both before the message.
    expect(vars(callee, 'BLINDTRANSFER')).toEqual([name(caller)]);
    expect(vars(caller, 'BLINDTRANSFER')).toEqual([name(callee)]);
    const at = (pred: (f: Record<string, string>) => boolean) => ami.frames.findIndex(pred);
    const msg = at((f) => f.Event === 'BlindTransfer');
    expect(at((f) => f.Event === 'Unhold' && f.Uniqueid === callee)).toBeLessThan(msg);
    expect(at((f) => f.Variable === 'BLINDTRANSFER')).toBeLessThan(msg);
    expect(at((f) => f.Event === 'BridgeLeave')).toBeGreaterThan(msg);
    // The callee goes without a hangup request; the bridge is destroyed.
    await waitFor(() => ami.of(callee, 'Hangup').length === 1);
    expect(ami.of(callee, 'HangupRequest', 'SoftHangupRequest')).toEqual([]);
    await waitFor(() => ami.frames.some((f) => f.Event === 'BridgeDestroy' && f.BridgeUniqueid === bridge));
    // The caller was sent elsewhere: no end_bridge_callback times, DIALSTATUS once more, and not
    // the priority after Dial.
    expect(vars(caller, 'ANSWEREDTIME')).toEqual(['']);
    expect(vars(caller, 'DIALSTATUS')).toEqual(['', 'ANSWER', 'ANSWER']);
    expect(ami.of(caller, 'Newexten').map((f) => f.Application)).not.toContain('NoOp(not reached');
    expect(ami.of(caller, 'Hangup')).toEqual([]);
  });

  it('the caller transfers the callee: the callee runs the place, the caller ends its Dial and is hung up', async () => {
    const { ami, caller, callee, name, vars } = await bridged('answer');
    const r = await ami.action('BlindTransfer', {
      Channel: name(caller),
      Exten: '300',
      Context: 'elsewhere',
    });
    expect(r.Message).toBe('Transfer succeeded');
    const ev = await waitFor(() => ami.frames.find((f) => f.Event === 'BlindTransfer'));
    expect(ev).toMatchObject({
      TransfererUniqueid: caller,
      TransfereeUniqueid: callee,
      Context: 'elsewhere',
    });
    await waitFor(() =>
      ami.of(callee, 'Newexten').some((f) => f.Context === 'elsewhere' && f.Exten === '300'),
    );
    await waitFor(() => ami.of(caller, 'Hangup').length === 1);
    // end_bridge_callback's times, then DIALSTATUS; Dial returned -1 (no `g`).
    expect(vars(caller, 'ANSWEREDTIME')).toHaveLength(2);
    expect(vars(caller, 'DIALSTATUS').at(-1)).toBe('ANSWER');
    expect(ami.of(callee, 'Hangup')).toEqual([]);
    expect(ami.of(callee, 'Newexten').at(-1)).toMatchObject({ Application: 'Wait', Context: 'elsewhere' });
  });

  it("with `g` the transferring caller goes on after its Dial; no Context is the transferer's", async () => {
    const { ami, caller, callee, name } = await bridged('goon');
    await ami.action('BlindTransfer', { Channel: name(caller), Exten: '200' });
    const ev = await waitFor(() => ami.frames.find((f) => f.Event === 'BlindTransfer'));
    expect(ev).toMatchObject({ Context: 'calls', TransfererContext: 'calls' });
    await waitFor(() =>
      ami.of(callee, 'Newexten').some((f) => f.Exten === '200' && f.Application === 'Wait'),
    );
    await waitFor(() => ami.of(caller, 'Newexten').some((f) => f.AppData === 'after the call'));
    expect(ami.of(caller, 'Hangup')).toEqual([]);
  });
});

describe('AMI BlindTransfer of a party of a Stasis bridge', () => {
  async function stasisBridge() {
    const { ami, ari, call, events } = await simAriAmi(cleanup, { dialplanPath: DIALPLAN });
    const a = await call();
    const b = await call();
    const bridge = (await ari('POST', 'bridges?type=mixing')).body as { id: string };
    expect((await ari('POST', `bridges/${bridge.id}/addChannel?channel=${a},${b}`)).status).toBe(204);
    const name = async (id: string) =>
      (await waitFor(() => ami.frames.find((f) => f.Event === 'Newchannel' && f.Uniqueid === id))).Channel!;
    return { ami, ari, events, a, b, bridge: bridge.id, name };
  }
  const idOf = (x: unknown) => (x as { id: string }).id;

  it("a Local channel to the place takes the transferer's place in the bridge; the transferer stays in Stasis", async () => {
    const { ami, ari, events, a, b, bridge, name } = await stasisBridge();
    const r = await ami.action('BlindTransfer', { Channel: await name(a), Exten: '200', Context: 'calls' });
    expect(r).toMatchObject({ Response: 'Success', Message: 'Transfer succeeded' });
    const ev = await waitFor(() => ami.frames.find((f) => f.Event === 'BlindTransfer'));
    expect(ev).toMatchObject({
      Result: 'Success',
      TransfererUniqueid: a,
      TransfereeUniqueid: b,
      BridgeUniqueid: bridge,
      BridgeType: 'stasis',
      BridgeNumChannels: '2',
      Context: 'calls',
      Extension: '200',
    });
    // The app hears the transfer with the Local `;1` as the replacement, then `;1` in Stasis
    // naming the transferer it replaces, the transferer out of the bridge and `;1` in.
    const msg = await waitFor(() => events.find((e) => e.type === 'BridgeBlindTransfer'));
    expect(msg).toMatchObject({ result: 'Success', exten: '200', context: 'calls', is_external: true });
    expect(idOf(msg.channel)).toBe(a);
    expect(idOf(msg.transferee)).toBe(b);
    expect(idOf(msg.bridge)).toBe(bridge);
    const one = msg.replace_channel as { id: string; name: string };
    expect(one.name).toMatch(/^Local\/200@calls-[0-9a-f]{8};1$/);
    const start = await waitFor(() =>
      events.find((e) => e.type === 'StasisStart' && idOf(e.channel) === one.id),
    );
    expect(idOf(start.replace_channel)).toBe(a);
    await waitFor(() => events.some((e) => e.type === 'ChannelEnteredBridge' && idOf(e.channel) === one.id));
    const types = events.map((e) => `${e.type}:${idOf(e.channel ?? {})}`);
    expect(types.indexOf(`ChannelLeftBridge:${a}`)).toBeGreaterThan(types.indexOf(`StasisStart:${one.id}`));
    expect(types.indexOf(`ChannelLeftBridge:${a}`)).toBeLessThan(
      types.indexOf(`ChannelEnteredBridge:${one.id}`),
    );
    const now = (await ari('GET', `bridges/${bridge}`)).body as { channels: string[] };
    expect(now.channels.sort()).toEqual([b, one.id].sort());
    expect(events.some((e) => e.type === 'StasisEnd' && idOf(e.channel) === a)).toBe(false);
    // `;1` carries BLINDTRANSFER (the transferer's name), which `;2` inherits; `;2` runs the place.
    const vars = (id: string) =>
      ami
        .of(id, 'VarSet')
        .filter((f) => f.Variable === 'BLINDTRANSFER')
        .map((f) => f.Value);
    expect(vars(one.id)).toEqual([await name(a)]);
    expect(vars(a)).toEqual([await name(b)]);
    expect(vars(b)).toEqual([await name(a)]);
    const two = await waitFor(() =>
      ami.frames.find(
        (f) =>
          f.Event === 'Newexten' && f.Channel === one.name.replace(/;1$/, ';2') && f.Application === 'Wait',
      ),
    );
    expect(vars(two.Uniqueid!)).toEqual([await name(a)]);
    expect(ami.frames.find((f) => f.Event === 'Newchannel' && f.Uniqueid === one.id)!.Linkedid).toBe(
      ami.frames.find((f) => f.Event === 'Newchannel' && f.Uniqueid === a)!.Linkedid,
    );
  });

  it('no such extension: the Local channel is hung up and the transfer fails', async () => {
    const { ami, ari, events, a, b, bridge, name } = await stasisBridge();
    const r = await ami.action('BlindTransfer', { Channel: await name(a), Exten: '999', Context: 'calls' });
    expect(r).toMatchObject({ Response: 'Error', Message: 'Transfer failed' });
    const msg = await waitFor(() => events.find((e) => e.type === 'BridgeBlindTransfer'));
    expect(msg.result).toBe('Fail');
    const one = msg.replace_channel as { id: string };
    await waitFor(() => ami.of(one.id, 'Hangup').length === 1);
    const now = (await ari('GET', `bridges/${bridge}`)).body as { channels: string[] };
    expect(now.channels.sort()).toEqual([a, b].sort());
  });
});
