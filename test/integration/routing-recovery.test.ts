// Revenue recovery through the whole flow: a client hanging up within its link's window sends the
// caller on to the next link, once per allowed reroute; one CDR lists every attempt, the short one
// flagged and counted as answered for its link's caps.
import { describe, expect, it } from 'vitest';
import { capBuckets } from '../../src/routing/decide.ts';
import { flowForTests } from '../helpers/flow.ts';

describe('revenue recovery', () => {
  const f = flowForTests({ settle: true });
  // Each client answers, then hangs up at once: far inside a 300 s window on any machine.
  const short = { answerAfterMs: 10, hangupAfterMs: 20 };

  it('reroutes once and stops at max_reroutes; one CDR with every attempt', async () => {
    const c = await f.campaign({ max_reroutes: 1 }, [
      { behaviour: short, link: { recovery_s: 300 } },
      { behaviour: short, link: { recovery_s: 300 } },
      { behaviour: short, link: { recovery_s: 300 } },
    ]);
    const camp = await f.api(f.sellerKey, 'GET', `/v1/campaigns/${c.campaignId}`);
    expect(camp.json().max_reroutes).toBe(1);
    f.sim.placeInboundCall({ did: c.did, callerNumber: '+12125550190' });
    const rows = await f.cdrsOnce(c.did);
    expect(rows).toHaveLength(1);
    const [r] = rows;
    expect(r!.attempts.map((a) => [a.link_id, a.result, a.short_answer ?? false])).toEqual([
      [c.clients[0]!.linkId, 'answered', true],
      [c.clients[1]!.linkId, 'answered', false],
    ]);
    expect(r).toMatchObject({ disposition: 'answered', client_id: c.clients[1]!.clientId });
    // The short answer counted as answered for its link's caps.
    const b = capBuckets('UTC', new Date());
    expect((await f.routing.slots.counters(c.clients[0]!.linkId, b)).hourly).toBe(1);
    expect(await f.routing.slots.live(c.clients[0]!.linkId)).toBe(0);
  });

  it('max_reroutes 2 goes on to the third client; a link without a window ends the call', async () => {
    const c = await f.campaign({ max_reroutes: 2 }, [
      { behaviour: short, link: { recovery_s: 300 } },
      { behaviour: short, link: { recovery_s: 300 } },
      { behaviour: short }, // no window: its short answer is final
      { behaviour: short, link: { recovery_s: 300 } },
    ]);
    f.sim.placeInboundCall({ did: c.did, callerNumber: '+12125550191' });
    const [r] = await f.cdrsOnce(c.did);
    expect(r!.attempts.map((a) => a.short_answer ?? false)).toEqual([true, true, false]);
    expect(r!.client_id).toBe(c.clients[2]!.clientId);
  });

  it('off by default: a client that hangs up at once ends the call', async () => {
    const c = await f.campaign({}, [{ behaviour: short }, { behaviour: short }]);
    f.sim.placeInboundCall({ did: c.did, callerNumber: '+12125550192' });
    const [r] = await f.cdrsOnce(c.did);
    expect(r!.attempts).toHaveLength(1);
  });
});
