// AMI's bridge events for a bridge of three channels, checked against manager_bridges.c and
// bridge.c where the recordings (two parties at most) say nothing: BridgeCreate, a BridgeEnter per
// channel in the order they join (the bridge's count after the join, its technology before the
// join reconfigures it), a BridgeLeave per hangup (the count after), BridgeDestroy.
import { describe, expect, it } from 'vitest';
import { simAriAmi } from '../helpers/sim-ami.ts';
import { cleanupEach } from '../helpers/cleanup.ts';
import { waitFor } from '../helpers/wait.ts';

const cleanup = cleanupEach();

describe('simulator AMI bridge events, three channels', () => {
  it('enters in join order, leaves on each hangup, destroys with the bridge', async () => {
    const { ari, call, ami } = await simAriAmi(cleanup);
    const ids = [await call(), await call(), await call()];
    const b = await ari('POST', 'bridges', { type: 'mixing', bridgeId: 'conf-1' });
    expect(b.status).toBe(200);
    for (const id of ids)
      expect((await ari('POST', `bridges/conf-1/addChannel`, { channel: id })).status).toBe(204);
    const bridgeEvents = () =>
      ami.frames
        .filter((f) => f.BridgeUniqueid === 'conf-1')
        .map((f) =>
          [f.Event, f.Uniqueid ? ids.indexOf(f.Uniqueid) : '-', f.BridgeNumChannels, f.BridgeTechnology].join(
            ' ',
          ),
        );
    await waitFor(() => bridgeEvents().length === 4);
    for (const id of [ids[1], ids[0], ids[2]])
      expect((await ari('DELETE', `channels/${id}`)).status).toBe(204);
    await waitFor(() => bridgeEvents().length === 7);
    expect((await ari('DELETE', 'bridges/conf-1')).status).toBe(204);
    await waitFor(() => bridgeEvents().length === 8);
    // A mixing bridge starts as simple_bridge (native_rtp needs two PJSIP channels), turns softmix
    // once a third channel has joined and back when one leaves: each event shows the count after
    // the change and the technology from before the reconfiguration it causes.
    expect(bridgeEvents()).toEqual([
      'BridgeCreate - 0 simple_bridge',
      'BridgeEnter 0 1 simple_bridge',
      'BridgeEnter 1 2 simple_bridge',
      'BridgeEnter 2 3 simple_bridge',
      'BridgeLeave 1 2 softmix',
      'BridgeLeave 0 1 simple_bridge',
      'BridgeLeave 2 0 simple_bridge',
      'BridgeDestroy - 0 simple_bridge',
    ]);
    // Each channel leaves the bridge before its Hangup.
    for (const id of ids) {
      const mine = ami.frames
        .filter((f) => f.Uniqueid === id && /^(BridgeLeave|Hangup)$/.test(f.Event ?? ''))
        .map((f) => f.Event);
      expect(mine).toEqual(['BridgeLeave', 'Hangup']);
    }
  });
});
