// TIMEOUT(absolute) written over ARI, as func_timeout.c and channel.c behave in Asterisk 22: the
// channel hangs up by itself when its time comes, with no hangup request and no cause set (0), after
// leaving its bridge and Stasis; reading it gives the seconds left; 0 cancels; no ChannelVarset.
import { describe, expect, it } from 'vitest';
import type { AnyAriEvent } from '../../src/asterisk/types.ts';
import { cleanupEach } from '../helpers/cleanup.ts';
import { startSim } from '../helpers/sim-ari.ts';
import { ariClient, connected } from '../helpers/sim-clients.ts';
import { waitFor } from '../helpers/wait.ts';

const cleanup = cleanupEach();

type Ev = AnyAriEvent & { channel?: { id: string }; cause?: number; variable?: string; value?: string };

async function setup() {
  const s = await startSim(cleanup, { endpoints: { talker: { answerAfterMs: 5 } } });
  const { c: ari, events } = ariClient<Ev>(s.ariUrl, cleanup, { apps: ['app'] });
  await connected(ari);
  /** A PJSIP leg of the app, dialled and answered, in a bridge. */
  const answeredLeg = async (id: string) => {
    await ari.channels.create({ endpoint: 'PJSIP/talker', app: 'app', channelId: id });
    await waitFor(() => events.find((e) => e.type === 'StasisStart' && e.channel?.id === id));
    await ari.channels.dial(id, { timeout: 30 });
    await waitFor(async () => ((await ari.channels.get(id)).state === 'Up' ? true : undefined));
    await ari.bridges.create({ bridgeId: `b-${id}`, type: 'mixing' });
    await ari.bridges.addChannel(`b-${id}`, id);
  };
  return { ari, events, answeredLeg };
}

describe('TIMEOUT(absolute) on the simulator', () => {
  it('hangs the channel up by itself: left bridge, StasisEnd, ChannelDestroyed cause 0, no hangup request', async () => {
    const { ari, events, answeredLeg } = await setup();
    await answeredLeg('leg-1');
    await ari.channels.setVariable('leg-1', 'TIMEOUT(absolute)', '1');
    const left = Number(await ari.channels.getVariable('leg-1', 'TIMEOUT(absolute)'));
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThanOrEqual(1);
    const gone = await waitFor(() =>
      events.find((e) => e.type === 'ChannelDestroyed' && e.channel?.id === 'leg-1'),
    );
    expect(gone.cause).toBe(0);
    const mine = events.filter((e) => e.channel?.id === 'leg-1');
    const types = mine.map((e) => e.type);
    const tail = types.slice(types.indexOf('ChannelEnteredBridge') + 1);
    // The Stasis application ends as usual (STASISSTATUS=SUCCESS, to the owner).
    expect(tail).toEqual(['ChannelLeftBridge', 'StasisEnd', 'ChannelVarset', 'ChannelDestroyed']);
    // Writing the function is no variable set.
    expect(mine.filter((e) => e.type === 'ChannelVarset').map((e) => `${e.variable}=${e.value}`)).toEqual([
      'STASISSTATUS=',
      'STASISSTATUS=SUCCESS',
    ]);
    // The bridge stays (a Stasis bridge lives until it is deleted).
    expect((await ari.bridges.get('b-leg-1')).channels).toEqual([]);
  });

  it('0 (or no number) cancels; reading a channel without one answers 0', async () => {
    const { ari, answeredLeg } = await setup();
    await answeredLeg('leg-2');
    expect(await ari.channels.getVariable('leg-2', 'TIMEOUT(absolute)')).toBe('0');
    await ari.channels.setVariable('leg-2', 'TIMEOUT(absolute)', '30');
    expect(Number(await ari.channels.getVariable('leg-2', 'TIMEOUT(absolute)'))).toBeGreaterThan(29);
    await ari.channels.setVariable('leg-2', 'TIMEOUT(absolute)', '0');
    expect(await ari.channels.getVariable('leg-2', 'TIMEOUT(absolute)')).toBe('0');
    await ari.channels.setVariable('leg-2', 'TIMEOUT(absolute)', '5');
    await ari.channels.setVariable('leg-2', 'TIMEOUT(absolute)', 'never');
    expect(await ari.channels.getVariable('leg-2', 'TIMEOUT(absolute)')).toBe('0');
  });
});
