// The hold queue through the whole flow: callers finding every link at its concurrency cap wait on
// hold, and are served first come first served as slots free; a wait that runs out ends the call
// with its reason (or takes the default route).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Flow, startFlow } from '../helpers/flow.ts';
import { waitFor } from '../helpers/wait.ts';

describe('hold queue', () => {
  let f: Flow;
  beforeAll(async () => {
    f = await startFlow();
  });
  afterAll(async () => {
    await f?.stop();
  });
  afterEach(async () => {
    await waitFor(() => f.sim.liveChannels().length === 0 || undefined);
  });
  const live = (did: string, caller: string, phase: string) =>
    waitFor(() =>
      f.routing.router!.live().find((x) => x.did === did && x.caller === caller && x.phase === phase),
    );

  it('serves waiting callers first come first served as the slot frees', async () => {
    const c = await f.campaign({ queue_s: 600 }, [
      { behaviour: { answerAfterMs: 10 }, link: { concurrency_cap: 1 } },
    ]);
    const a = f.sim.placeInboundCall({ did: c.did, callerNumber: '+12125550200' });
    await live(c.did, '+12125550200', 'bridged');
    const b = f.sim.placeInboundCall({ did: c.did, callerNumber: '+12125550201' });
    await live(c.did, '+12125550201', 'queued');
    const d = f.sim.placeInboundCall({ did: c.did, callerNumber: '+12125550202' });
    await live(c.did, '+12125550202', 'queued');
    f.sim.hangup(a);
    await live(c.did, '+12125550201', 'bridged');
    expect(f.routing.router!.live().find((x) => x.caller === '+12125550202')?.phase).toBe('queued');
    f.sim.hangup(b);
    await live(c.did, '+12125550202', 'bridged');
    f.sim.hangup(d);
    const rows = await f.cdrsOnce(c.did, 3);
    expect(rows.map((r) => [r.caller_number, r.disposition])).toEqual([
      ['+12125550200', 'answered'],
      ['+12125550201', 'answered'],
      ['+12125550202', 'answered'],
    ]);
    expect(Date.parse(String(rows[1]!.answered_at))).toBeLessThan(Date.parse(String(rows[2]!.answered_at)));
  });

  it('a wait that runs out ends with queue_timeout and the capped links as reasons', async () => {
    const c = await f.campaign({ queue_s: 1 }, [
      { behaviour: { answerAfterMs: 10 }, link: { concurrency_cap: 0 } },
    ]);
    f.sim.placeInboundCall({ did: c.did, callerNumber: '+12125550203' });
    const [r] = await f.cdrsOnce(c.did);
    expect(r!.disposition).toBe('queue_timeout');
    expect(r!.not_routed.map((x) => x.reason)).toEqual(['concurrency']);
  });

  it('then the default route when there is one; links capped otherwise than by concurrency do not queue', async () => {
    const c = await f.campaign({ queue_s: 1, default_route: { kind: 'message', media: ['sound:beep'] } }, [
      { behaviour: { answerAfterMs: 10 }, link: { concurrency_cap: 0 } },
    ]);
    f.sim.placeInboundCall({ did: c.did, callerNumber: '+12125550204' });
    const [r] = await f.cdrsOnce(c.did);
    expect(r).toMatchObject({ disposition: 'default_route', default_route: 'message' });
    const h = await f.campaign({ queue_s: 600 }, [
      { behaviour: { answerAfterMs: 10 }, link: { hourly_cap: 0 } },
    ]);
    f.sim.placeInboundCall({ did: h.did, callerNumber: '+12125550205' });
    const [x] = await f.cdrsOnce(h.did);
    expect(x!.disposition).toBe('no_client');
  });
});
