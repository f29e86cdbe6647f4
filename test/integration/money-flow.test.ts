// Money on the CDR through whole simulated calls: conversion by the link's rule, payout and revenue
// of a converted call, billing increments, carrier cost, and the names beside the ids, as
// /v1/calls shows them in JSON and CSV (revenue and cost to staff only).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAsteriskModule } from '../../src/asterisk/index.ts';
import { createApiKey } from '../../src/auth/keys.ts';
import { carrierCost } from '../../src/cdr/money.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { createRoutingModule, type RoutingModule } from '../../src/routing/index.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { freshDatabase, testConfig, journalDir } from '../helpers/env.ts';
import { simEnv } from '../helpers/sim-env.ts';
import { type LinkFields, seedCampaign, seedSeller } from '../helpers/seed.ts';
import { waitFor } from '../helpers/wait.ts';

const log = createLogger({ level: 'silent' });
const RATE = 8_500; // $0.0085 a minute

describe('money on the CDR through the simulator', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let sim: Simulator;
  let d: Daemon;
  let cdrDir: string;
  let sellerId: string;
  let staff: string;
  let sellerKey: string;
  let n = 0;

  beforeAll(async () => {
    db = await freshDatabase();
    sim = await startSimulator({ ariPort: 0, amiPort: 0 });
    cdrDir = journalDir();
    const config = testConfig({ DATABASE_URL: db.url, ...simEnv(sim), CDR_BUFFER_DIR: cdrDir });
    d = await startDaemon(config, log, [createAsteriskModule, createRoutingModule], { listen: false });
    await waitFor(async () => (await d.app.inject('/ready')).statusCode === 200);
    sellerId = await seedSeller(d.ctx.database.db, 'acme');
    staff = (await createApiKey(d.ctx.database.db, { role: 'staff' })).key;
    sellerKey = (await createApiKey(d.ctx.database.db, { role: 'seller', sellerId })).key;
  });
  afterAll(async () => {
    await d?.stop();
    await sim?.stop();
    await db?.drop();
  });
  afterEach(async () => {
    await waitFor(() => sim.liveChannels().length === 0 || undefined);
  });

  const routing = () => d.ctx.modules.get('routing') as RoutingModule;

  async function campaign(link: LinkFields) {
    const k = ++n;
    const did = `+1415556${String(1000 + k).padStart(4, '0')}`;
    const endpoint = `buyer-${k}`;
    sim.setEndpoint(endpoint, { answerAfterMs: 10 });
    const c = await seedCampaign(d.ctx.database.db, {
      sellerId,
      campaign: { name: `money ${k}` },
      dids: [did],
      did: { ratePerMinMicros: RATE },
      clients: [{ name: `Buyer ${k}`, endpoint }],
      link,
    });
    return {
      did,
      campaignId: c.campaignId,
      campaignName: `money ${k}`,
      clientName: `Buyer ${k}`,
      linkId: c.links[0]!.linkId,
    };
  }

  /** Places a call, lets it talk at least `talkMs` once bridged (the clock, not a sleep), hangs up. */
  async function talk(did: string, talkMs: number) {
    const caller = sim.placeInboundCall({ did, callerNumber: '+12125550100' });
    await waitFor(() =>
      routing()
        .router!.live()
        .find((x) => x.did === did && x.phase === 'bridged'),
    );
    const bridgedAt = Date.now();
    await waitFor(() => Date.now() - bridgedAt >= talkMs || undefined, 10_000);
    sim.hangup(caller);
    const [{ n }] = await d.ctx.database.sql<[{ n: number }]>`
      select count(*)::int as n from call_records where did = ${did}`;
    await waitFor(async () => {
      await routing().cdr.flush();
      const [r] = await d.ctx.database.sql<[{ n: number }]>`
        select count(*)::int as n from call_records where did = ${did}`;
      return r.n > n || undefined;
    });
    const res = await d.app.inject({
      url: `/v1/calls?did=${encodeURIComponent(did)}&limit=1`,
      headers: { authorization: `Bearer ${staff}` },
    });
    expect(res.statusCode).toBe(200);
    return res.json().items[0] as Record<string, unknown>;
  }

  it('a call that talks past the rule converts: payout, revenue, 60/60 billing, carrier cost, names', async () => {
    const c = await campaign({
      convertAfterS: 1,
      payoutMicros: 25_000_000,
      revenueMicros: 40_000_000,
      billingIncrement: '60/60',
    });
    const r = await talk(c.did, 1_600);
    expect(r).toMatchObject({
      disposition: 'answered',
      converted: true,
      payout_micros: 25_000_000,
      revenue_micros: 40_000_000,
      billable_s: 60,
      link_id: c.linkId,
      seller_name: 'acme',
      campaign_name: c.campaignName,
      client_name: c.clientName,
    });
    expect(r.talk_s as number).toBeGreaterThanOrEqual(2);
    expect(r.cost_micros).toBe(carrierCost(r.talk_s as number, RATE));
    expect(r.cost_micros as number).toBeGreaterThan(0);
  });

  it('a call shorter than the rule does not convert: no payout, no revenue, still a cost', async () => {
    const c = await campaign({ convertAfterS: 3600, payoutMicros: 25_000_000, revenueMicros: 40_000_000 });
    const r = await talk(c.did, 1_100);
    expect(r).toMatchObject({
      disposition: 'answered',
      converted: false,
      payout_micros: 0,
      revenue_micros: 0,
    });
    expect(r.billable_s).toBe(r.talk_s); // per second by default
    expect(r.cost_micros).toBe(carrierCost(r.talk_s as number, RATE));
  });

  it('CSV carries money and names; a seller key sees its payout but neither revenue nor cost', async () => {
    const c = await campaign({ convertAfterS: 0, payoutMicros: 1_500_000, revenueMicros: 2_000_000 });
    await talk(c.did, 0);
    const csv = await d.app.inject({
      url: `/v1/calls?format=csv&did=${encodeURIComponent(c.did)}`,
      headers: { authorization: `Bearer ${staff}` },
    });
    const [head, row] = csv.body.trim().split('\n');
    const rec = Object.fromEntries(head!.split(',').map((k, i) => [k, row!.split(',')[i]]));
    expect(rec).toMatchObject({
      seller_name: 'acme',
      campaign_name: c.campaignName,
      client_name: c.clientName,
      converted: 'true',
      payout_micros: '1500000',
      revenue_micros: '2000000',
    });
    const mine = await d.app.inject({
      url: `/v1/calls?did=${encodeURIComponent(c.did)}`,
      headers: { authorization: `Bearer ${sellerKey}` },
    });
    expect(mine.json().items[0]).toMatchObject({
      payout_micros: 1_500_000,
      revenue_micros: null,
      cost_micros: null,
    });
  });

  it('caps counting conversions: a call that does not convert gives its hour back, one that converts keeps it', async () => {
    // An hourly cap of 1 counting conversions: a short (unconverted) call leaves room for the next.
    const short = await campaign({ hourlyCap: 1, capsCount: 'converted', convertAfterS: 3600 });
    await talk(short.did, 0);
    const again = await talk(short.did, 0);
    expect(again).toMatchObject({ disposition: 'answered', converted: false, link_id: short.linkId });
    // The same cap counting conversions, every call converting: the second finds the hour used.
    const conv = await campaign({ hourlyCap: 1, capsCount: 'converted', convertAfterS: 0 });
    expect(await talk(conv.did, 0)).toMatchObject({ disposition: 'answered', converted: true });
    sim.placeInboundCall({ did: conv.did, callerNumber: '+12125550101' });
    const refused = await waitFor(async () => {
      await routing().cdr.flush();
      const rows = await d.ctx.database.sql<
        Array<{ disposition: string; not_routed: Array<{ reason: string }> }>
      >`
        select disposition, not_routed from call_records where did = ${conv.did} and disposition <> 'answered'`;
      return rows[0];
    });
    expect(refused).toMatchObject({ disposition: 'no_client', not_routed: [{ reason: 'hourly' }] });
  });

  it('money fields of links and DIDs are staff-only: a seller key gets 403 and nothing changes', async () => {
    const c = await campaign({ payoutMicros: 5 });
    const patch = await d.app.inject({
      method: 'PATCH',
      url: `/v1/links/${c.linkId}`,
      headers: { authorization: `Bearer ${sellerKey}` },
      payload: { payout_micros: 999_000_000 },
    });
    expect(patch.statusCode).toBe(403);
    expect(patch.json().error.code).toBe('FORBIDDEN_ROLE');
    const l = await d.app.inject({
      url: `/v1/links/${c.linkId}`,
      headers: { authorization: `Bearer ${staff}` },
    });
    expect(l.json()).toMatchObject({ payout_micros: 5, revenue_micros: 0, billing_increment: '1/1' });
    const bad = await d.app.inject({
      method: 'PATCH',
      url: `/v1/links/${c.linkId}`,
      headers: { authorization: `Bearer ${staff}` },
      payload: { billing_increment: '6/0' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('VALIDATION_FAILED');
    const ok = await d.app.inject({
      method: 'PATCH',
      url: `/v1/links/${c.linkId}`,
      headers: { authorization: `Bearer ${staff}` },
      payload: { billing_increment: '6/6', convert_after_s: 90, caps_count: 'converted' },
    });
    expect(ok.json()).toMatchObject({
      billing_increment: '6/6',
      convert_after_s: 90,
      caps_count: 'converted',
    });
  });
});
