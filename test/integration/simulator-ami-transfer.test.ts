// AMI BlindTransfer and Atxfer as manager.c answers them: the checks in their order; a channel in
// no bridge, or alone in one, is an invalid blind transfer, published (AMI BlindTransfer, ARI
// BridgeBlindTransfer) with its result; Atxfer finds no attended-transfer feature code in the stock
// features.conf. A channel with a party to transfer: simulator-ami-blind-transfer.test.ts.
import { describe, expect, it } from 'vitest';
import { simAriAmi } from '../helpers/sim-ami.ts';
import { cleanupEach } from '../helpers/cleanup.ts';
import { waitFor } from '../helpers/wait.ts';

const cleanup = cleanupEach();

async function setup() {
  const { ami, ...a } = await simAriAmi(cleanup);
  /** The channel's name as AMI reports it. */
  const nameOf = async (id: string) => {
    await waitFor(() => ami.of(id, 'Newchannel').length === 1);
    return ami.of(id, 'Newchannel')[0]!.Channel!;
  };
  return { ...a, ami, nameOf };
}

describe('AMI BlindTransfer', () => {
  it('checks Channel, Exten and the channel in that order', async () => {
    const { ami } = await setup();
    expect((await ami.action('BlindTransfer', { Exten: '100' })).Message).toBe('No channel specified');
    expect((await ami.action('BlindTransfer', { Channel: 'PJSIP/x-00000001' })).Message).toBe(
      'No extension specified',
    );
    expect((await ami.action('BlindTransfer', { Channel: 'PJSIP/x-00000001', Exten: '100' })).Message).toBe(
      'Channel specified does not exist',
    );
    // Anything the actions published would be in before a later action's answer.
    await ami.action('Ping');
    expect(ami.frames.filter((f) => f.Event === 'BlindTransfer')).toEqual([]);
  });

  it('a channel in no bridge: Transfer invalid, published with its context and no bridge', async () => {
    const { ami, call, events, nameOf } = await setup();
    const id = await call();
    const name = await nameOf(id);
    const r = await ami.action('BlindTransfer', { Channel: name, Exten: '200' });
    expect(r).toMatchObject({ Response: 'Error', Message: 'Transfer invalid' });
    const ev = await waitFor(() => ami.frames.find((f) => f.Event === 'BlindTransfer'));
    const frame = ami.ordered.find((f) => f[0]![1] === 'BlindTransfer')!;
    // Result, the transferer's snapshot prefixed, then IsExternal, Context, Extension.
    expect(frame.map(([k]) => k)).toEqual([
      'Event',
      'Privilege',
      'Result',
      'TransfererChannel',
      'TransfererChannelState',
      'TransfererChannelStateDesc',
      'TransfererCallerIDNum',
      'TransfererCallerIDName',
      'TransfererConnectedLineNum',
      'TransfererConnectedLineName',
      'TransfererLanguage',
      'TransfererAccountCode',
      'TransfererContext',
      'TransfererExten',
      'TransfererPriority',
      'TransfererUniqueid',
      'TransfererLinkedid',
      'IsExternal',
      'Context',
      'Extension',
    ]);
    expect(ev).toMatchObject({
      Privilege: 'call,all',
      Result: 'Invalid',
      TransfererUniqueid: id,
      IsExternal: 'Yes',
      Context: ami.of(id, 'Newexten').at(-1)!.Context,
      Extension: '200',
    });
    // No hold was lifted: the channel has no bridge channel.
    expect(ami.of(id, 'Unhold')).toEqual([]);
    // The app holding the transferer hears it too.
    const ari = await waitFor(() => events.find((e) => e.type === 'BridgeBlindTransfer'));
    expect(ari).toMatchObject({ result: 'Invalid', exten: '200', is_external: true });
    expect((ari.channel as { id: string }).id).toBe(id);
    expect(ari.bridge).toBeUndefined();
  });

  it('a channel alone in a bridge: taken off hold, then Transfer invalid, published with the bridge', async () => {
    const { ami, ari, call, events, nameOf } = await setup();
    const id = await call();
    const name = await nameOf(id);
    const bridge = (await ari('POST', 'bridges?type=mixing')).body as { id: string };
    expect((await ari('POST', `bridges/${bridge.id}/addChannel?channel=${id}`)).status).toBe(204);
    const r = await ami.action('BlindTransfer', { Channel: name, Exten: '300', Context: 'elsewhere' });
    expect(r.Message).toBe('Transfer invalid');
    const ev = await waitFor(() => ami.frames.find((f) => f.Event === 'BlindTransfer'));
    expect(ev).toMatchObject({
      Result: 'Invalid',
      BridgeUniqueid: bridge.id,
      BridgeType: 'stasis',
      BridgeNumChannels: '1',
      Context: 'elsewhere',
      Extension: '300',
    });
    const at = (event: string) =>
      ami.frames.findIndex((f) => f.Event === event && (f.Uniqueid ?? f.TransfererUniqueid) === id);
    expect(at('Unhold')).toBeGreaterThan(-1);
    expect(at('Unhold')).toBeLessThan(at('BlindTransfer'));
    await waitFor(() => events.some((e) => e.type === 'BridgeBlindTransfer'));
    const types = events.map((e) => e.type);
    expect(types.indexOf('ChannelUnhold')).toBeLessThan(types.indexOf('BridgeBlindTransfer'));
    expect((events.find((e) => e.type === 'BridgeBlindTransfer')!.bridge as { id: string }).id).toBe(
      bridge.id,
    );
  });
});

describe('AMI Atxfer', () => {
  it('checks Channel, Exten and the channel, then finds no attended-transfer code in the stock featuremap', async () => {
    const { ami, call, nameOf } = await setup();
    expect((await ami.action('Atxfer', { Exten: '100' })).Message).toBe('No channel specified');
    expect((await ami.action('Atxfer', { Channel: 'PJSIP/x-00000001' })).Message).toBe(
      'No extension specified',
    );
    expect((await ami.action('Atxfer', { Channel: 'PJSIP/x-00000001', Exten: '1' })).Message).toBe(
      'Channel specified does not exist',
    );
    const id = await call();
    const r = await ami.action('Atxfer', { Channel: await nameOf(id), Exten: '100', Context: 'x' });
    expect(r).toMatchObject({ Response: 'Error', Message: 'No attended transfer feature code found' });
    // Nothing queued: no digit reaches the channel, TRANSFER_CONTEXT is not set.
    await ami.action('Ping');
    expect(ami.of(id, 'DTMFEnd', 'DTMFBegin')).toEqual([]);
    expect(ami.of(id, 'VarSet').filter((f) => f.Variable === 'TRANSFER_CONTEXT')).toEqual([]);
  });
});
