// Whole inbound call flows: simulator (ARI/AMI) + daemon (asterisk + routing modules) + real
// PostgreSQL and Redis.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAsteriskModule } from '../../src/asterisk/index.ts';
import { createApiKey } from '../../src/auth/keys.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { createRoutingModule, type RoutingModule } from '../../src/routing/index.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { freshDatabase, testConfig, journalDir } from '../helpers/env.ts';
import { type LinkFields, seedCampaign, seedSeller } from '../helpers/seed.ts';
import { waitFor } from '../helpers/wait.ts';
import { simEnv } from '../helpers/sim-env.ts';

const log = createLogger({ level: 'silent' });

describe('inbound routing through the simulator', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let sim: Simulator;
  let d: Daemon;
  let cdrDir: string;
  let sellerId: string;
  let n = 0;

  beforeAll(async () => {
    db = await freshDatabase();
    sim = await startSimulator({ ariPort: 0, amiPort: 0 });
    cdrDir = journalDir();
    const config = testConfig({
      DATABASE_URL: db.url,
      ...simEnv(sim),
      CDR_BUFFER_DIR: cdrDir,
    });
    d = await startDaemon(config, log, [createAsteriskModule, createRoutingModule], { listen: false });
    await waitFor(async () => (await d.app.inject('/ready')).statusCode === 200);
    sellerId = await seedSeller(d.ctx.database.db, 'acme');
  });
  afterAll(async () => {
    await d?.stop();
    await sim?.stop();
    await db?.drop();
  });
  afterEach(async () => {
    // No call, and so no slot, may outlive its test.
    await waitFor(() => sim.liveChannels().length === 0 || undefined);
  });

  /** A campaign with one DID and the given clients (endpoint behaviour + link caps). */
  async function campaign(
    strategy: 'priority' | 'round_robin' | 'weighted',
    cls: Array<{
      behaviour: Parameters<Simulator['setEndpoint']>[1];
      link?: LinkFields;
    }>,
    o: { maxAttempts?: number; ringTimeoutS?: number } = {},
  ) {
    const k = ++n;
    const did = `+1415555${String(1000 + k).padStart(4, '0')}`;
    const endpoints = cls.map((cl, i) => {
      const endpoint = `client-${k}-${i}`;
      sim.setEndpoint(endpoint, cl.behaviour);
      return endpoint;
    });
    const c = await seedCampaign(d.ctx.database.db, {
      sellerId,
      campaign: {
        name: `c${k}`,
        strategy,
        maxAttempts: o.maxAttempts ?? 3,
        ringTimeoutS: o.ringTimeoutS ?? 30,
      },
      dids: [did],
      clients: cls.map((cl, i) => ({ endpoint: endpoints[i]!, link: { priority: i, ...cl.link } })),
    });
    const out = c.links.map((l, i) => ({ ...l, endpoint: endpoints[i]! }));
    return { did, campaignId: c.campaignId, clients: out };
  }

  /** The daemon's view of the call on `did` once it is bridged. */
  const bridged = (did: string) =>
    waitFor(() =>
      (d.ctx.modules.get('routing') as RoutingModule)
        .router!.live()
        .find((x) => x.did === did && x.phase === 'bridged'),
    );

  const cdrOf = async (did: string) => {
    await (d.ctx.modules.get('routing') as RoutingModule).cdr.flush();
    return d.ctx.database.sql<
      Array<{
        call_id: string;
        disposition: string;
        client_id: string | null;
        attempts: Array<{ result: string; client_id: string }>;
        billable_s: number;
      }>
    >`select * from call_records where did = ${did} order by started_at`;
  };

  it('answers on the first client, bridges, and records one answered CDR when the caller hangs up', async () => {
    const c = await campaign('priority', [{ behaviour: { answerAfterMs: 20 } }]);
    // The caller hangs up once the call is bridged (an event), never after a wall-clock delay: on
    // a loaded machine the routing can take longer than any fixed delay.
    const caller = sim.placeInboundCall({ did: c.did, callerNumber: '+12125550000' });
    await bridged(c.did);
    sim.hangup(caller);
    const [r] = await waitFor(async () => ((await cdrOf(c.did)).length ? cdrOf(c.did) : undefined));
    expect(r).toMatchObject({ disposition: 'answered', client_id: c.clients[0]!.clientId });
    expect(r!.attempts.map((a) => a.result)).toEqual(['answered']);
  });

  it('a resync judges only calls that existed when the channel list was asked for', async () => {
    // Regression: a call that began while GET /channels was in flight is missing from the list
    // without being over; judging it would hang up a live call (every reconcile, under load).
    // Nobody hangs up on a timer: the call stays bridged until the test has judged it.
    const c = await campaign('priority', [{ behaviour: { answerAfterMs: 20 } }]);
    const router = (d.ctx.modules.get('routing') as RoutingModule).router!;
    // The list is "asked for" strictly before the call begins (the clock must move on first).
    const listedAt = Date.now();
    await waitFor(() => Date.now() > listedAt, 5_000);
    const caller = sim.placeInboundCall({ did: c.did, callerNumber: '+12125550099' });
    const live = await bridged(c.did);
    await router.resync(live.node_id, [], listedAt);
    expect(router.live().some((x) => x.call_id === live.call_id)).toBe(true);
    const slotsInUse = async () =>
      Number(
        /^capconduit_routing_slots_in_use(?:\{[^}]*\})? (\d+)$/m.exec(
          (await d.app.inject('/metrics')).body,
        )?.[1],
      );
    expect(await slotsInUse()).toBe(1);
    sim.hangup(caller);
    const [r] = await waitFor(async () => ((await cdrOf(c.did)).length ? cdrOf(c.did) : undefined));
    expect(r).toMatchObject({ disposition: 'answered' });
    expect(await slotsInUse()).toBe(0);
    expect(r!.billable_s).toBeGreaterThanOrEqual(0);
  });

  it('fails over on busy, no answer and congestion to the client that answers', async () => {
    const c = await campaign(
      'priority',
      [
        { behaviour: { result: 'busy', answerAfterMs: 10 } },
        { behaviour: { result: 'noanswer' } },
        { behaviour: { result: 'congestion', answerAfterMs: 10 } },
        { behaviour: { answerAfterMs: 10, hangupAfterMs: 100 } },
      ],
      { maxAttempts: 4, ringTimeoutS: 1 },
    );
    sim.placeInboundCall({ did: c.did, callerNumber: '+12125550001' });
    const [r] = await waitFor(async () => ((await cdrOf(c.did)).length ? cdrOf(c.did) : undefined));
    expect(r!.attempts.map((a) => a.result)).toEqual(['busy', 'no_answer', 'congestion', 'answered']);
    expect(r).toMatchObject({ disposition: 'answered', client_id: c.clients[3]!.clientId });
  });

  it('cancels the client leg when the caller hangs up while it rings, and frees the slot', async () => {
    const c = await campaign('priority', [
      { behaviour: { result: 'noanswer' }, link: { concurrencyCap: 1 } },
    ]);
    // The caller hangs up once the client leg rings (the daemon has seen it), not after N ms.
    const caller = sim.placeInboundCall({ did: c.did, callerNumber: '+12125550002' });
    await waitFor(() =>
      (d.ctx.modules.get('routing') as RoutingModule)
        .router!.live()
        .find((x) => x.did === c.did && x.phase === 'ringing'),
    );
    sim.hangup(caller);
    const [r] = await waitFor(async () => ((await cdrOf(c.did)).length ? cdrOf(c.did) : undefined));
    expect(r!.disposition).toBe('caller_abandoned');
    expect(r!.attempts.map((a) => a.result)).toEqual(['cancelled']);
    const routing = d.ctx.modules.get('routing') as RoutingModule;
    expect(await routing.slots.live(c.clients[0]!.linkId)).toBe(0);
  });

  it('an Asterisk restart that loses the calls settles them: slots freed, one CDR each', async () => {
    // Invariant 2 on the Asterisk-disconnect path: nobody is left to send events for the lost
    // channels; the resync after the reconnect is what ends the calls.
    const c = await campaign('priority', [{ behaviour: { answerAfterMs: 10 }, link: { concurrencyCap: 3 } }]);
    const routing = d.ctx.modules.get('routing') as RoutingModule;
    for (let i = 0; i < 3; i++)
      sim.placeInboundCall({ did: c.did, callerNumber: `+1213555${1000 + i}`, hangupAfterMs: 60_000 });
    await waitFor(() =>
      routing.router!.live().filter((x) => x.did === c.did && x.phase === 'bridged').length === 3
        ? true
        : undefined,
    );
    expect(await routing.slots.live(c.clients[0]!.linkId)).toBe(3);
    await sim.restart({ keepChannels: false, downMs: 200 });
    const rows = await waitFor(async () => {
      const x = await cdrOf(c.did);
      return x.length === 3 ? x : undefined;
    });
    expect(rows.map((r) => r.disposition)).toEqual(['answered', 'answered', 'answered']);
    expect(await routing.slots.live(c.clients[0]!.linkId)).toBe(0);
    await waitFor(async () => ((await d.app.inject('/ready')).statusCode === 200 ? true : undefined));
  });

  it('50 calls at once on a link with concurrency cap 5: never more than 5 client legs live', async () => {
    const c = await campaign(
      'priority',
      // Answered calls stay up until the test ends them, so no slot frees early on a slow machine.
      [{ behaviour: { answerAfterMs: 50 }, link: { concurrencyCap: 5 } }],
      {
        maxAttempts: 1,
      },
    );
    const ep = c.clients[0]!.endpoint;
    let maxLive = 0;
    const timer = setInterval(() => {
      maxLive = Math.max(maxLive, sim.liveChannels().filter((x) => x.name.startsWith(`PJSIP/${ep}-`)).length);
    }, 2);
    try {
      const callers: string[] = [];
      for (let i = 0; i < 50; i++)
        callers.push(
          sim.placeInboundCall({ did: c.did, callerNumber: `+1212555${String(i).padStart(4, '0')}` }),
        );
      // Every call is either bridged or refused: 45 refusals recorded, 5 calls bridged.
      const router = (d.ctx.modules.get('routing') as RoutingModule).router!;
      await waitFor(async () => {
        const refused = (await cdrOf(c.did)).length;
        const up = router.live().filter((x) => x.did === c.did && x.phase === 'bridged').length;
        return refused === 45 && up === 5 ? true : undefined;
      }, 60_000);
      for (const id of callers) sim.hangup(id);
      const rows = await waitFor(async () => {
        const x = await cdrOf(c.did);
        return x.length === 50 ? x : undefined;
      }, 60_000);
      const by = (disp: string) => rows.filter((r) => r.disposition === disp).length;
      expect(by('answered')).toBe(5);
      expect(by('no_client')).toBe(45);
      expect(maxLive).toBeLessThanOrEqual(5);
      expect(maxLive).toBeGreaterThan(0);
    } finally {
      clearInterval(timer);
    }
  }, 120_000);

  it('rejects an unknown DID with a CDR that says why', async () => {
    sim.placeInboundCall({ did: '+19995550000', callerNumber: '+12125550003' });
    const [r] = await waitFor(async () =>
      (await cdrOf('+19995550000')).length ? cdrOf('+19995550000') : undefined,
    );
    expect(r!.disposition).toBe('unknown_did');
  });

  const answeredBy = async (did: string, n: number) => {
    const rows = await waitFor(async () => {
      const x = await cdrOf(did);
      return x.length === n ? x : undefined;
    }, 60_000);
    const by: Record<string, number> = {};
    for (const r of rows) if (r.disposition === 'answered') by[r.client_id!] = (by[r.client_id!] ?? 0) + 1;
    return { rows, by };
  };

  it('a total cap of 10 under 30 simultaneous arrivals ends at exactly 10 answered', async () => {
    const c = await campaign(
      'priority',
      [{ behaviour: { answerAfterMs: 20, hangupAfterMs: 50 }, link: { totalCap: 10 } }],
      { maxAttempts: 1 },
    );
    for (let i = 0; i < 30; i++) sim.placeInboundCall({ did: c.did, callerNumber: `+1646555${1000 + i}` });
    const { rows, by } = await answeredBy(c.did, 30);
    expect(by[c.clients[0]!.clientId]).toBe(10);
    expect(rows.filter((r) => r.disposition === 'no_client')).toHaveLength(20);
    await (d.ctx.modules.get('routing') as RoutingModule).totals.flush();
    const [l] = await d.ctx.database
      .sql`select total_answered from campaign_links where id = ${c.clients[0]!.linkId}`;
    expect(Number(l!.total_answered)).toBe(10);
  });

  it('round-robin spreads calls evenly and weighted follows the weights', async () => {
    const rr = await campaign(
      'round_robin',
      [0, 1, 2].map(() => ({ behaviour: { answerAfterMs: 10, hangupAfterMs: 30 } })),
    );
    for (let i = 0; i < 30; i++) sim.placeInboundCall({ did: rr.did, callerNumber: `+1718555${1000 + i}` });
    const r1 = await answeredBy(rr.did, 30);
    expect(Object.values(r1.by).sort()).toEqual([10, 10, 10]);

    const w = await campaign('weighted', [
      { behaviour: { answerAfterMs: 10, hangupAfterMs: 30 }, link: { weight: 1 } },
      { behaviour: { answerAfterMs: 10, hangupAfterMs: 30 }, link: { weight: 3 } },
    ]);
    for (let i = 0; i < 200; i++) sim.placeInboundCall({ did: w.did, callerNumber: `+1917555${1000 + i}` });
    const r2 = await answeredBy(w.did, 200);
    const heavy = (r2.by[w.clients[1]!.clientId] ?? 0) / 200;
    expect(heavy).toBeGreaterThan(0.65); // expected 0.75
    expect(heavy).toBeLessThan(0.85);
  }, 120_000);

  it('a call no client took says why, per link: switched off, closed by schedule, capped (which)', async () => {
    const c = await campaign('priority', [
      { behaviour: { answerAfterMs: 20 }, link: { active: false } },
      { behaviour: { answerAfterMs: 20 } },
      { behaviour: { answerAfterMs: 20 }, link: { concurrencyCap: 1 } },
    ]);
    // The second client keeps no hours at all (an empty weekly schedule).
    await d.ctx.database.sql`update clients set schedule = '{}'::jsonb where id = ${c.clients[1]!.clientId}`;
    // The third is busy with a call that holds its one slot.
    const first = sim.placeInboundCall({ did: c.did, callerNumber: '+12125550300' });
    const router = (d.ctx.modules.get('routing') as RoutingModule).router!;
    await waitFor(() => router.live().find((x) => x.did === c.did && x.phase === 'bridged'));
    sim.placeInboundCall({ did: c.did, callerNumber: '+12125550301' });
    const rows = await waitFor(async () => {
      const r = await d.ctx.database.sql<
        Array<{ disposition: string; not_routed: Array<{ link_id: string; reason: string }> }>
      >`
        select disposition, not_routed from call_records where did = ${c.did}`;
      return r.length ? r : undefined;
    });
    sim.hangup(first, 16);
    expect(rows[0]!.disposition).toBe('no_client');
    const why = Object.fromEntries(rows[0]!.not_routed.map((x) => [x.link_id, x.reason]));
    expect(why).toEqual({
      [c.clients[0]!.linkId]: 'inactive',
      [c.clients[1]!.linkId]: 'closed',
      [c.clients[2]!.linkId]: 'concurrency',
    });
  });

  it('sends a repeat caller to the client that took them, or rejects them, per campaign setting', async () => {
    const same = await campaign(
      'round_robin',
      [0, 1, 2].map(() => ({ behaviour: { answerAfterMs: 10, hangupAfterMs: 30 } })),
    );
    await d.ctx.database
      .sql`update campaigns set dup_window_h = 2, dup_policy = 'same_client' where id = ${same.campaignId}`;
    for (let i = 1; i <= 4; i++) {
      sim.placeInboundCall({ did: same.did, callerNumber: '+13125550111' });
      await answeredBy(same.did, i);
    }
    expect(Object.values((await answeredBy(same.did, 4)).by)).toEqual([4]);

    const rej = await campaign('priority', [{ behaviour: { answerAfterMs: 10, hangupAfterMs: 30 } }]);
    await d.ctx.database
      .sql`update campaigns set dup_window_h = 2, dup_policy = 'reject' where id = ${rej.campaignId}`;
    sim.placeInboundCall({ did: rej.did, callerNumber: '+13125550222' });
    await answeredBy(rej.did, 1);
    sim.placeInboundCall({ did: rej.did, callerNumber: '+13125550222' });
    const { rows } = await answeredBy(rej.did, 2);
    expect(rows.map((r) => r.disposition)).toEqual(['answered', 'duplicate_rejected']);
  });

  it('reports calls: filters, cursor pages, CSV, and a seller sees only its own', async () => {
    const dbx = d.ctx.database.db;
    const staff = (await createApiKey(dbx, { role: 'staff' })).key;
    const own = (await createApiKey(dbx, { role: 'seller', sellerId })).key;
    const other = await seedSeller(dbx, 'other');
    const stranger = (await createApiKey(dbx, { role: 'seller', sellerId: other })).key;
    const get = (key: string, url: string) => d.app.inject({ url, headers: { 'x-api-key': key } });
    const all = (await get(staff, '/v1/calls?limit=1000')).json().items as Array<{ call_id: string }>;
    expect(all.length).toBeGreaterThan(50);
    // Walk the pages two at a time: every call exactly once.
    const seen: string[] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const page: { items: Array<{ call_id: string }>; next_cursor: string | null } = (
        await get(staff, `/v1/calls?limit=7${cursor ? `&cursor=${cursor}` : ''}`)
      ).json();
      seen.push(...page.items.map((x: { call_id: string }) => x.call_id));
      cursor = page.next_cursor;
    }
    expect(seen.sort()).toEqual(all.map((x) => x.call_id).sort());
    const answered = (await get(own, '/v1/calls?disposition=answered&limit=1000')).json().items;
    expect(answered.length).toBeGreaterThan(0);
    expect(answered.every((x: { disposition: string }) => x.disposition === 'answered')).toBe(true);
    expect((await get(stranger, '/v1/calls')).json().items).toEqual([]);
    const csv = await get(staff, '/v1/calls?format=csv&limit=3');
    expect(csv.headers['content-type']).toContain('text/csv');
    expect(csv.body.split('\n')[0]).toBe(
      'call_id,started_at,answered_at,ended_at,did,caller_number,seller_id,seller_name,campaign_id,campaign_name,client_id,client_name,link_id,disposition,hangup_cause,duration_s,talk_s,billable_s,converted,payout_micros,revenue_micros,cost_micros,rent_micros,margin_micros,default_route,end_reason,handed_off_at,short_answer,attempts,not_routed,recording_name,recording_s,recording_deleted_at,node_id,did_id',
    );
    expect((await get(staff, '/v1/calls?cursor=%%%')).statusCode).toBe(400);
    const live = (await get(staff, '/v1/calls/live')).json() as {
      calls: unknown[];
      links: Array<{ total: { used: number; cap: number | null }; live: { used: number } }>;
    };
    expect(live.calls).toEqual([]);
    // The link with a total cap of 10 (earlier test) shows it spent; nothing is live now.
    expect(live.links.some((l) => l.total.cap === 10 && l.total.used === 10)).toBe(true);
    expect(live.links.every((l) => l.live.used === 0)).toBe(true);
    expect((await get(stranger, '/v1/calls/live')).json().links).toEqual([]);
  });
});
