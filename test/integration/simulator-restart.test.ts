// restart() replaces the simulator's ARI and AMI servers: the model listeners of the old ones go
// with them, so restarting many times leaves as many listeners as one start did (each left behind
// ran for every model event, and the AMI ones built events for sessions long gone).
import { describe, expect, it } from 'vitest';
import { amiSession } from '../helpers/sim-ami.ts';
import { cleanupEach } from '../helpers/cleanup.ts';
import { startSim } from '../helpers/sim-ari.ts';
import { waitFor } from '../helpers/wait.ts';

const cleanup = cleanupEach();

describe('simulator restart', () => {
  it('leaves the model with as many listeners after five restarts as after the first start', async () => {
    const s = await startSim(cleanup, { badLoginDelayMs: 10 });
    const first = s.listenerCount();
    expect(first).toBeGreaterThan(0);
    for (let i = 0; i < 5; i++) {
      await s.restart({ keepChannels: i % 2 === 1 });
      expect(s.listenerCount()).toBe(first);
    }
    // And the servers that are left still work: one session, each event once.
    const ami = await amiSession(s.amiPort, cleanup);
    const id = s.placeInboundCall({ did: '14155550100', callerNumber: '12125550100' });
    await waitFor(() => ami.of(id, 'Hangup').length === 1);
    expect(ami.of(id, 'Newchannel')).toHaveLength(1);
    expect(s.listenerCount()).toBe(first);
  });
});
