// The default route through the whole flow: when every link is capped, closed or off, a call goes
// to another campaign, a dialplan context, or a recorded message, and its CDR says so.
import { describe, expect, it } from 'vitest';
import { flowForTests } from '../helpers/flow.ts';
import { waitFor } from '../helpers/wait.ts';

describe('default route', () => {
  const f = flowForTests({ settle: true });
  const talk = { answerAfterMs: 10, hangupAfterMs: 50 };

  it('refuses a default route to a campaign of another seller or to itself', async () => {
    const a = await f.campaign({}, [{ behaviour: talk }]);
    const self = await f.api(f.sellerKey, 'PATCH', `/v1/campaigns/${a.campaignId}`, {
      default_route: { kind: 'campaign', campaign_id: a.campaignId },
    });
    expect(self.statusCode).toBe(400);
    const other = await f.api(f.staffKey, 'POST', '/v1/sellers', { name: 'other seller' });
    const theirs = await f.api(f.staffKey, 'POST', '/v1/campaigns', {
      name: 'theirs',
      seller_id: other.json().id,
    });
    const r = await f.api(f.sellerKey, 'PATCH', `/v1/campaigns/${a.campaignId}`, {
      default_route: { kind: 'campaign', campaign_id: theirs.json().id },
    });
    expect(r.statusCode).toBe(400);
    const msg = await f.api(f.sellerKey, 'PATCH', `/v1/campaigns/${a.campaignId}`, {
      default_route: { kind: 'message', media: ['http://evil'] },
    });
    expect(msg.statusCode).toBe(400);
  });

  it('every link capped: the call goes to the other campaign, whose client answers', async () => {
    const b = await f.campaign({}, [{ behaviour: talk }]);
    const a = await f.campaign({ default_route: { kind: 'campaign', campaign_id: b.campaignId } }, [
      { behaviour: talk, link: { concurrency_cap: 0 } },
      { behaviour: talk, link: { active: false } },
    ]);
    f.sim.placeInboundCall({ did: a.did, callerNumber: '+12125550180' });
    const [r] = await f.cdrsOnce(a.did);
    expect(r).toMatchObject({
      disposition: 'answered',
      campaign_id: a.campaignId,
      client_id: b.clients[0]!.clientId,
      default_route: `campaign:${b.campaignId}`,
    });
    expect(r!.attempts.map((x) => x.link_id)).toEqual([b.clients[0]!.linkId]);
    expect(r!.not_routed.map((x) => x.reason).sort()).toEqual(['concurrency', 'inactive']);
  });

  it('the other campaign capped too: not routed, with every link and its reason', async () => {
    const b = await f.campaign({}, [{ behaviour: talk, link: { hourly_cap: 0 } }]);
    const a = await f.campaign({ default_route: { kind: 'campaign', campaign_id: b.campaignId } }, [
      { behaviour: talk, link: { concurrency_cap: 0 } },
    ]);
    f.sim.placeInboundCall({ did: a.did, callerNumber: '+12125550181' });
    const [r] = await f.cdrsOnce(a.did);
    expect(r).toMatchObject({ disposition: 'no_client', default_route: `campaign:${b.campaignId}` });
    expect(Object.fromEntries(r!.not_routed.map((x) => [x.link_id, x.reason]))).toEqual({
      [a.clients[0]!.linkId]: 'concurrency',
      [b.clients[0]!.linkId]: 'hourly',
    });
  });

  it('every link closed: the call continues in the dialplan context, and its record runs to the caller hanging up there', async () => {
    const a = await f.campaign(
      { default_route: { kind: 'context', context: 'capconduit-test', extension: 'answer', priority: 1 } },
      [{ behaviour: talk, link: { active: false } }],
    );
    const caller = f.sim.placeInboundCall({ did: a.did, callerNumber: '+12125550182' });
    // The caller is out of our app and answered by that context's Answer(), still on the line: no
    // record yet (the call goes on there).
    await waitFor(() => f.sim.liveChannels().find((c) => c.id === caller && c.state === 'Up'));
    await waitFor(() =>
      f.routing.router!.live().find((c) => c.caller === '+12125550182' && c.phase === 'dialplan'),
    );
    expect(await f.cdrs(a.did)).toEqual([]);
    f.sim.hangup(caller);
    const [r] = await f.cdrsOnce(a.did);
    expect(r).toMatchObject({
      disposition: 'default_route',
      default_route: 'context:capconduit-test',
      client_id: null,
      converted: false,
      payout_micros: '0',
      revenue_micros: '0',
      hangup_cause: 16,
    });
    const t = (k: string) => Date.parse(String((r as unknown as Record<string, unknown>)[k]));
    expect(t('handed_off_at')).toBeGreaterThan(0);
    expect(t('ended_at')).toBeGreaterThan(t('handed_off_at'));
  });

  it('from the hold queue to the dialplan context: the wait, the hand-off and the time there on one record, the carrier billed throughout', async () => {
    const a = await f.campaign(
      {
        queue_s: 1,
        default_route: { kind: 'context', context: 'capconduit-test', extension: 'answer', priority: 1 },
      },
      [{ behaviour: talk, link: { concurrency_cap: 0 } }],
    );
    const did = await f.api(f.sellerKey, 'GET', `/v1/dids?campaign_id=${a.campaignId}`);
    const didId = did.json().items[0].id as string;
    expect(
      (await f.api(f.staffKey, 'PATCH', `/v1/dids/${didId}`, { rate_per_min_micros: 60_000 })).statusCode,
    ).toBe(200);
    const caller = f.sim.placeInboundCall({ did: a.did, callerNumber: '+12125550184' });
    await waitFor(() =>
      f.routing.router!.live().find((c) => c.caller === '+12125550184' && c.phase === 'dialplan'),
    );
    f.sim.hangup(caller);
    const [r] = await f.cdrsOnce(a.did);
    expect(r).toMatchObject({ disposition: 'default_route', default_route: 'context:capconduit-test' });
    const v = (k: string) => (r as unknown as Record<string, unknown>)[k];
    const t = (k: string) => Date.parse(String(v(k)));
    // Waited its second on hold (answered for the music) before the hand-off.
    expect(t('handed_off_at') - t('started_at')).toBeGreaterThanOrEqual(1000);
    expect(t('ended_at')).toBeGreaterThanOrEqual(t('handed_off_at'));
    expect(Number(v('cost_micros'))).toBeGreaterThan(0);
    expect(r!.not_routed.map((x) => x.reason)).toEqual(['concurrency']);
  });

  it('every link capped: the caller hears the message, then is hung up', async () => {
    const a = await f.campaign(
      { default_route: { kind: 'message', media: ['sound:hello-world', 'sound:beep'] } },
      [{ behaviour: talk, link: { concurrency_cap: 0 } }],
    );
    const played: string[] = [];
    const onEvent = (_app: string, ev: { type: string; playback?: { media_uri: string; state: string } }) => {
      if (ev.type === 'PlaybackFinished') played.push(ev.playback!.state);
    };
    f.sim.events.on('ari-event', onEvent);
    f.sim.placeInboundCall({ did: a.did, callerNumber: '+12125550183' });
    const [r] = await f.cdrsOnce(a.did);
    f.sim.events.off('ari-event', onEvent);
    expect(r).toMatchObject({ disposition: 'default_route', default_route: 'message' });
    expect(played).toEqual(['done']);
    expect(Number(r!.duration_s)).toBeGreaterThanOrEqual(1); // the message's 1.45 s were heard
  });
});
