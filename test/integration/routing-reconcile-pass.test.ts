// A reconcile pass is bounded: it settles what the channel list shows and judges the slots once the
// work it handed to calls has run, not once every call is idle. Under steady traffic some call
// always has work in progress; here one call's request is held in Asterisk's line (the simulator
// stalls the events WebSocket, and the request's bound is far beyond the test) while a pass runs.
import { beforeAll, describe, expect, it } from 'vitest';
import type { AsteriskModule } from '../../src/asterisk/index.ts';
import type { AriChannel } from '../../src/asterisk/types.ts';
import { flowForTests } from '../helpers/flow.ts';
import { waitFor } from '../helpers/wait.ts';

describe('a reconcile pass while calls keep working', () => {
  const flow = flowForTests({
    over: {
      ASTERISK_ARI_TRANSPORT: 'websocket',
      // The held request gets no answer within the test: only the pass may end meanwhile.
      ASTERISK_ARI_TIMEOUT_MS: '600000',
      // Nothing is shed for the held request: B must be routed while it waits.
      ASTERISK_ARI_OVERLOAD_WAIT_MS: '600000',
      // No periodic pass: the test runs its own.
      RECONCILE_INTERVAL_S: '3600',
    },
  });
  const destroyed = new Set<string>();

  const callOf = (number: string) => flow.routing.router!.live().find((x) => x.caller === number);
  const cdrOf = async (caller: string) => {
    await flow.routing.cdr.flush();
    return flow.d.ctx.database.sql<Array<{ disposition: string }>>`
      select disposition from call_records where caller_number = ${caller}`;
  };

  beforeAll(() => {
    flow.sim.events.on('channel-destroyed', (id: string) => destroyed.add(id));
  });

  it('ends, settling a call whose caller is gone from the list, while another call waits on a request held in Asterisk', async () => {
    const { sim, routing } = flow;
    const {
      did,
      clients: [link],
    } = await flow.campaign({ strategy: 'priority' }, [
      { behaviour: { answerAfterMs: 10 }, link: { concurrency_cap: 10 } },
    ]);

    // A: bridged. It will be judged by the pass: its caller is left out of the list below.
    const a = sim.placeInboundCall({ did, callerNumber: '+12125553001' });
    const callA = await waitFor(() => {
      const x = callOf('+12125553001');
      return x?.phase === 'bridged' && x;
    });
    // Its requests all served (the bridge made), so that none of A's own waits in the line below.
    await waitFor(() => sim.hears(a) === 'bridge');
    const node = (flow.d.ctx.modules.get('asterisk') as AsteriskModule).nodes.get(callA.node_id)!;

    const release = sim.stallWebSocketRequests();
    let b: string;
    try {
      // B: its client leg's create waits in Asterisk's line, unanswered: B's work is in progress.
      b = sim.placeInboundCall({ did, callerNumber: '+12125553002' });
      await waitFor(() => callOf('+12125553002')?.phase === 'dialing');
      await waitFor(() => node.ari.load().websocket.inFlight > 0);

      // The list as asked for now, without A's caller (gone while we were not looking).
      const listedAt = Date.now();
      await waitFor(() => Date.now() > listedAt, 5_000);
      const channels = (sim.liveChannels() as unknown as AriChannel[]).filter((ch) => ch.id !== a);
      await routing.router!.resync(callA.node_id, channels, listedAt);

      // The pass ended with B's request still held: it did not wait for B.
      expect(callOf('+12125553002')?.phase).toBe('dialing');
      expect(node.ari.load().websocket.inFlight).toBeGreaterThan(0);
      // A was settled by it: ended, its leg hung up (over HTTP), one CDR; B's slot stays taken.
      expect(callOf('+12125553001')).toBeUndefined();
      await waitFor(() => destroyed.has(`${callA.call_id}-1`));
      expect(await cdrOf('+12125553001')).toEqual([{ disposition: 'answered' }]);
      expect(await routing.slots.live(link!.linkId)).toBe(1);
    } finally {
      release();
    }
    // A's caller, left out of the list, now really leaves (the pass took it for gone already).
    sim.hangup(a, 16);
    // B goes on once the line runs again, and ends with nothing left.
    await waitFor(() => callOf('+12125553002')?.phase === 'bridged');
    sim.hangup(b, 16);
    await waitFor(async () => (await cdrOf('+12125553002')).length > 0);
    await waitFor(async () => (await routing.slots.live(link!.linkId)) === 0);
    await waitFor(() => sim.channelCount() === 0);
  });
});
