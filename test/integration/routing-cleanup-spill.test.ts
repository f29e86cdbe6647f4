// The cleanup lane under a burst, through the simulator and the router: with its one connection
// busy, the hangups of the ended calls' client legs and their bridge destroys go over the events
// WebSocket ahead of the work queued there; once the burst is over no leg is left in the simulator,
// no cleanup is pending and no slot is held.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Flow, startFlow } from '../helpers/flow.ts';
import { waitFor } from '../helpers/wait.ts';

const CALLS = 20;

describe('cleanup requests spilling over the events WebSocket', () => {
  let f: Flow;
  beforeAll(async () => {
    f = await startFlow({ ASTERISK_ARI_TRANSPORT: 'websocket', ASTERISK_ARI_CLEANUP_MAX_SOCKETS: '1' });
  });
  afterAll(() => f?.stop());

  const metric = async (name: string) => {
    const m = (await f.d.app.inject('/metrics')).body;
    return m
      .split('\n')
      .filter((l) => l.startsWith(name))
      .reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
  };

  /** Cleanups sent over the WebSocket because the lane was full (not those sent there while it was idle). */
  const laneFull = async () =>
    (await f.d.app.inject('/metrics')).body
      .split('\n')
      .filter(
        (l) =>
          l.startsWith('capconduit_asterisk_cleanups_over_websocket_total{') &&
          l.includes('reason="lane_full"'),
      )
      .reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);

  it('a burst of ended calls: cleanups spill over the WebSocket, then no leg, no pending cleanup, no slot is left', async () => {
    const c = await f.campaign({}, [{ behaviour: { answerAfterMs: 20 } }]);
    const { linkId, endpoint } = c.clients[0]!;
    const legs = () => f.sim.liveChannels().filter((x) => x.name.startsWith(`PJSIP/${endpoint}-`));
    const callers = Array.from({ length: CALLS }, (_, i) =>
      f.sim.placeInboundCall({ did: c.did, callerNumber: `+1212555${6000 + i}` }),
    );
    await waitFor(() => legs().filter((x) => x.state === 'Up').length === CALLS || undefined);
    const spilled = await laneFull();
    // Every caller hangs up at once: 20 client legs and 20 bridges to clean up on one connection.
    for (const caller of callers) f.sim.hangup(caller, 16);
    const rows = await f.cdrsOnce(c.did, CALLS);
    expect(rows.every((r) => r.disposition === 'answered')).toBe(true);
    await waitFor(() => legs().length === 0 || undefined);
    await waitFor(async () =>
      (await metric('capconduit_asterisk_cleanups_pending')) === 0 ? true : undefined,
    );
    expect(await laneFull()).toBeGreaterThan(spilled);
    expect(f.sim.liveChannels()).toHaveLength(0);
    expect(await f.routing.slots.live(linkId)).toBe(0);
  });
});
