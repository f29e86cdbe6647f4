// The console's forms for the newer routing features, driven through the daemon's app as a browser
// would, on real PostgreSQL and Redis: seller and DID caps, buyer groups and their members, a link's
// concurrency by hour of the week, revenue recovery and money, a campaign's caller filters and
// default route, blocklists. Each form sends the API's body to the API's schema: the same errors,
// the same staff-only fields, nothing changed by a refused form.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsoleModule, createConsoleModule } from '../../src/console/index.ts';
import { concurrencyFromForm, microsFromText, microsText } from '../../src/console/pages/routing-fields.ts';
import { campaigns, clients, dids, links, sellers } from '../../src/db/schema/routing.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { createRoutingModule, type RoutingModule } from '../../src/routing/index.ts';
import { signedIn } from '../helpers/console.ts';
import { freshDatabase, testConfig } from '../helpers/env.ts';
import fc from 'fast-check';

const log = createLogger({ level: 'silent' });
const PW = 'correct horse battery';

describe('amounts and the hour grid as forms carry them (pure)', () => {
  it('an amount in micro-units goes to text and back unchanged', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 9_999_999_999_999 }), (m) => {
        expect(microsFromText(microsText(m))).toBe(m);
      }),
      { numRuns: 500 },
    );
    expect(microsFromText('25.5')).toBe(25_500_000);
    expect(microsFromText('0.000001')).toBe(1);
    expect(microsFromText('1,000')).toBe(1_000_000_000);
    // Not an amount: passed on as text for the schema to refuse.
    expect(microsFromText('0.0000001')).toBe('0.0000001');
    expect(microsFromText('-1')).toBe('-1');
  });
  it('the grid: empty days left out, nothing filled is no schedule, a bad cell kept for the schema', () => {
    expect(concurrencyFromForm({})).toBeNull();
    const s = concurrencyFromForm({ cs_1_9: '5', cs_1_10: ' 7 ', cs_3_0: 'x' });
    expect(Object.keys(s!)).toEqual(['1', '3']);
    expect(s!['1']![9]).toBe(5);
    expect(s!['1']![10]).toBe(7);
    expect(s!['1']!.filter((v) => v === null).length).toBe(22);
    expect(s!['3']![0]).toBe('x');
  });
});

describe('console routing forms', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let d: Daemon;
  let con: ConsoleModule;
  const ids: Record<string, string> = {};
  let n = 0;
  const as = (email: string) => signedIn(d.app, `10.2.0.${++n}`, email, PW);
  const svc = () => (d.ctx.modules.get('routing') as RoutingModule).service;

  beforeAll(async () => {
    db = await freshDatabase();
    d = await startDaemon(
      testConfig({ DATABASE_URL: db.url }),
      log,
      [createRoutingModule, createConsoleModule],
      {
        listen: false,
      },
    );
    con = d.ctx.modules.get('console') as ConsoleModule;
    const x = d.ctx.database.db;
    for (const name of ['acme', 'other']) {
      const [s] = await x.insert(sellers).values({ name }).returning();
      const [c] = await x
        .insert(campaigns)
        .values({ sellerId: s!.id, name: `${name}-campaign` })
        .returning();
      const [c2] = await x
        .insert(campaigns)
        .values({ sellerId: s!.id, name: `${name}-overflow` })
        .returning();
      const [cl] = await x
        .insert(clients)
        .values({ name: `${name}-centre`, endpoint: `${name}-centre` })
        .returning();
      const [l] = await x.insert(links).values({ campaignId: c!.id, clientId: cl!.id }).returning();
      const [dd] = await x
        .insert(dids)
        .values({
          number: name === 'acme' ? '+14155550801' : '+14155550802',
          sellerId: s!.id,
          campaignId: c!.id,
        })
        .returning();
      Object.assign(ids, {
        [name]: s!.id,
        [`${name}-campaign`]: c!.id,
        [`${name}-overflow`]: c2!.id,
        [`${name}-client`]: cl!.id,
        [`${name}-link`]: l!.id,
        [`${name}-did`]: dd!.id,
      });
    }
    await con.services.users.create({ email: 'staff@example.com', password: PW, role: 'staff' });
    await con.services.users.create({ email: 'viewer@example.com', password: PW, role: 'viewer' });
    await con.services.users.create({
      email: 'seller@acme.test',
      password: PW,
      role: 'seller',
      seller_id: ids.acme!,
    });
  });
  afterAll(async () => {
    await d?.stop();
    await db?.drop();
  });

  it('seller caps: set on the seller page, refused with the API error, cleared by an empty field', async () => {
    const b = await as('staff@example.com');
    const _csrf = await b.csrf();
    const page = await b.get(`/console/sellers/${ids.acme}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('name="concurrency_cap"');
    const form = {
      _csrf,
      name: 'acme',
      active: 'on',
      concurrency_cap: '7',
      hourly_cap: '',
      daily_cap: '300',
    };
    expect((await b.post(`/console/sellers/${ids.acme}`, form)).statusCode).toBe(303);
    expect(await svc().seller(ids.acme!)).toMatchObject({
      concurrencyCap: 7,
      hourlyCap: null,
      dailyCap: 300,
    });
    const bad = await b.post(`/console/sellers/${ids.acme}`, {
      ...form,
      concurrency_cap: '-1',
      daily_cap: '1.5',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('VALIDATION_FAILED');
    expect(bad.body).toContain('concurrency_cap');
    expect(bad.body).toContain('daily_cap');
    expect(await svc().seller(ids.acme!)).toMatchObject({ concurrencyCap: 7, dailyCap: 300 });
    expect((await b.get('/console/sellers')).body).toContain('7 · – · 300 · – · –');
    // The list's row form (name and active only) leaves the caps alone.
    await b.post(`/console/sellers/${ids.acme}`, { _csrf, name: 'acme', active: 'on' });
    expect(await svc().seller(ids.acme!)).toMatchObject({ concurrencyCap: 7, dailyCap: 300 });
    await b.post(`/console/sellers/${ids.acme}`, { ...form, concurrency_cap: '', daily_cap: '' });
    expect(await svc().seller(ids.acme!)).toMatchObject({ concurrencyCap: null, dailyCap: null });
    // A viewer reads the page, its fields disabled, and may not post.
    const v = await as('viewer@example.com');
    expect((await v.get(`/console/sellers/${ids.acme}`)).body).toMatch(/name="daily_cap"[^>]*disabled/);
    expect(
      (await v.post(`/console/sellers/${ids.acme}`, { ...form, _csrf: await v.csrf() })).statusCode,
    ).toBe(403);
  });

  it('buyer groups: created with caps and a zone, members added and taken out, deleted only after confirming', async () => {
    const b = await as('staff@example.com');
    const _csrf = await b.csrf();
    const badZone = await b.post('/console/groups', { _csrf, name: 'Acme Calls', timezone: 'Mars/Base' });
    expect(badZone.statusCode).toBe(400);
    expect(badZone.body).toContain('unknown IANA time zone');
    const made = await b.post('/console/groups', {
      _csrf,
      name: 'Acme Calls',
      timezone: 'Asia/Kolkata',
      hourly_cap: '30',
      total_cap: '1000',
    });
    expect(made.statusCode).toBe(303);
    const gid = /\/console\/groups\/([0-9a-f-]{36})/.exec(made.headers.location as string)![1]!;
    expect(await svc().group(gid)).toMatchObject({ timezone: 'Asia/Kolkata', hourlyCap: 30, totalCap: 1000 });
    const dup = await b.post('/console/groups', { _csrf, name: 'Acme Calls' });
    expect(dup.statusCode).toBe(409);
    expect(dup.body).toContain('DUPLICATE');

    expect(
      (await b.post(`/console/groups/${gid}/members`, { _csrf, client_id: ids['acme-client']! })).statusCode,
    ).toBe(303);
    expect((await b.post(`/console/groups/${gid}/members`, { _csrf, client_id: 'nope' })).statusCode).toBe(
      400,
    );
    expect((await svc().client(ids['acme-client']!)).groupId).toBe(gid);
    const page = await b.get(`/console/groups/${gid}`);
    expect(page.body).toMatch(/id="group-members"[\s\S]*acme-centre/);
    expect((await b.get('/console/clients')).body).toContain('Acme Calls');
    // The client's own page keeps its group when saved, and can move it out.
    const clientForm = { _csrf, name: 'acme-centre', endpoint: 'acme-centre', active: 'on' };
    await b.post(`/console/clients/${ids['acme-client']}`, { ...clientForm, group_id: gid });
    expect((await svc().client(ids['acme-client']!)).groupId).toBe(gid);

    // Deleting a group with a member asks first, then ungroups it.
    const ask = await b.post(`/console/groups/${gid}/delete`, { _csrf });
    expect(ask.statusCode).toBe(409);
    expect(ask.body).toContain('1 client(s) leave the group');
    expect((await svc().group(gid)).id).toBe(gid);
    expect((await b.post(`/console/groups/${gid}/delete`, { _csrf, cascade: 'true' })).statusCode).toBe(303);
    expect((await svc().client(ids['acme-client']!)).groupId).toBeNull();
    // Groups are staff's: a seller user has no such page.
    const s = await as('seller@acme.test');
    expect((await s.get('/console/groups')).statusCode).toBe(403);
  });

  it('deleting a client or a campaign that has links asks first, says what goes, then deletes it all', async () => {
    const x = d.ctx.database.db;
    const [c] = await x
      .insert(campaigns)
      .values({ sellerId: ids.acme!, name: 'doomed-campaign' })
      .returning();
    const [cl] = await x.insert(clients).values({ name: 'doomed-centre', endpoint: 'doomed' }).returning();
    await x.insert(links).values({ campaignId: c!.id, clientId: cl!.id });
    const [c2] = await x
      .insert(campaigns)
      .values({ sellerId: ids.acme!, name: 'doomed-campaign-2' })
      .returning();
    await x.insert(links).values({ campaignId: c2!.id, clientId: ids['acme-client']! });
    const b = await as('staff@example.com');
    const _csrf = await b.csrf();

    const ask = await b.post(`/console/clients/${cl!.id}/delete`, { _csrf });
    expect(ask.statusCode).toBe(409);
    expect(ask.body).toContain('1 link(s) to campaigns are removed');
    expect(ask.body).toContain(`action="/console/clients/${cl!.id}/delete"`);
    expect(ask.body).toContain(`href="/console/clients/${cl!.id}"`);
    expect((await svc().linksOfCampaign(c!.id, null)).length).toBe(1);
    const gone = await b.post(`/console/clients/${cl!.id}/delete`, { _csrf, cascade: 'true' });
    expect(gone.statusCode).toBe(303);
    expect(gone.headers.location).toBe('/console/clients?done=deleted');
    await expect(svc().client(cl!.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await svc().linksOfCampaign(c!.id, null)).length).toBe(0);

    const askC = await b.post(`/console/campaigns/${c2!.id}/delete`, { _csrf });
    expect(askC.statusCode).toBe(409);
    expect(askC.body).toContain('1 link(s) to clients are removed');
    expect(askC.body).toContain('0 DID(s) are detached');
    expect((await svc().campaign(c2!.id, null)).id).toBe(c2!.id);
    const goneC = await b.post(`/console/campaigns/${c2!.id}/delete`, { _csrf, cascade: 'true' });
    expect(goneC.headers.location).toBe('/console/campaigns?done=deleted');
    await expect(svc().campaign(c2!.id, null)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    // Nothing to take along: deleted at once.
    expect((await b.post(`/console/campaigns/${c!.id}/delete`, { _csrf })).statusCode).toBe(303);
  });

  it("a link's settings: hour-of-week concurrency, recovery, caps count and money in currency units; a seller's form never carries money", async () => {
    const b = await as('staff@example.com');
    const _csrf = await b.csrf();
    const url = `/console/links/${ids['acme-link']}/settings`;
    const base = {
      _csrf,
      priority: '1',
      weight: '2',
      active: 'on',
      concurrency_cap: '10',
      caps_count: 'converted',
    };
    const r = await b.post(url, {
      ...base,
      recovery_s: '15',
      convert_after_s: '90',
      payout: '25.5',
      revenue: '40',
      billing_increment: '6/6',
      cs_1_9: '3',
      cs_1_10: '0',
    });
    expect(r.statusCode, r.body).toBe(303);
    const l = await svc().link(ids['acme-link']!, null);
    expect(l).toMatchObject({
      recoveryS: 15,
      capsCount: 'converted',
      convertAfterS: 90,
      payoutMicros: 25_500_000,
      revenueMicros: 40_000_000,
      billingIncrement: '6/6',
      concurrencyCap: 10,
    });
    expect(Object.keys(l.concurrencySchedule!)).toEqual(['1']);
    expect(l.concurrencySchedule!['1']!.slice(8, 12)).toEqual([null, 3, 0, null]);
    const page = await b.get(`/console/links/${ids['acme-link']}`);
    expect(page.body).toContain('value="25.5"');
    expect(page.body).toMatch(/name="cs_1_9"[^>]*value="3"/);

    // Each refused with the API's message, nothing changed.
    for (const [field, value, says] of [
      ['billing_increment', '7', 'billing increment'],
      ['recovery_s', '601', 'recovery_s'],
      ['cs_2_5', '-1', 'concurrency_schedule'],
      ['payout', '1.0000001', 'payout_micros'],
      ['caps_count', 'calls', 'caps_count'],
    ] as const) {
      const bad = await b.post(url, { ...base, billing_increment: '6/6', [field]: value });
      expect(bad.statusCode, field).toBe(400);
      expect(bad.body).toContain(says);
    }
    expect((await svc().link(ids['acme-link']!, null)).payoutMicros).toBe(25_500_000);

    // A seller user: the page shows the payout, not the revenue; its post changes no money.
    const s = await as('seller@acme.test');
    const sp = await s.get(`/console/links/${ids['acme-link']}`);
    expect(sp.statusCode).toBe(200);
    expect(sp.body).not.toContain('name="revenue"');
    expect(sp.body).toMatch(/name="payout"[^>]*disabled/);
    const sr = await s.post(url, {
      ...base,
      _csrf: await s.csrf(),
      recovery_s: '20',
      payout: '999',
      revenue: '0',
      convert_after_s: '1',
    });
    expect(sr.statusCode).toBe(303);
    expect(await svc().link(ids['acme-link']!, null)).toMatchObject({
      recoveryS: 20,
      payoutMicros: 25_500_000,
      revenueMicros: 40_000_000,
      convertAfterS: 90,
      // No cell sent: the schedule is off again.
      concurrencySchedule: null,
    });
    // Another seller's link does not exist for it.
    expect((await s.get(`/console/links/${ids['other-link']}`)).statusCode).toBe(404);
  });

  it("a campaign's caller filters, recovery, hold queue and default route", async () => {
    const b = await as('staff@example.com');
    const _csrf = await b.csrf();
    const url = `/console/campaigns/${ids['acme-campaign']}`;
    const base = {
      _csrf,
      name: 'acme-campaign',
      strategy: 'priority',
      ring_timeout_s: '30',
      max_attempts: '3',
    };
    const ok = await b.post(url, {
      ...base,
      active: 'on',
      reject_anonymous: 'on',
      repeat_window_s: '120',
      use_blocklist: 'on',
      caller_regions: 'us-ny, US-NJ',
      max_reroutes: '2',
      queue_s: '45',
      max_call_s: '3600',
      dr_kind: 'campaign',
      dr_campaign_id: ids['acme-overflow']!,
    });
    expect(ok.statusCode, ok.body).toBe(303);
    expect(await svc().campaign(ids['acme-campaign']!, null)).toMatchObject({
      rejectAnonymous: true,
      repeatWindowS: 120,
      useBlocklist: true,
      callerRegions: ['US-NY', 'US-NJ'],
      maxReroutes: 2,
      queueS: 45,
      maxCallS: 3600,
      defaultRoute: { kind: 'campaign', campaign_id: ids['acme-overflow'] },
    });
    const page = await b.get(url);
    expect(page.body).toMatch(/name="reject_anonymous" checked/);
    expect(page.body).toMatch(/<option value="campaign" selected>/);

    const refused = [
      [{ dr_kind: 'campaign', dr_campaign_id: ids['other-overflow']! }, 'no campaign of this seller'],
      [{ dr_kind: 'campaign', dr_campaign_id: ids['acme-campaign']! }, 'its own default route'],
      [{ dr_kind: 'context', dr_context: 'bad context!' }, 'a dialplan context name'],
      [{ dr_kind: 'message', dr_media: 'beep.wav' }, 'sound:&lt;name&gt; or recording:&lt;name&gt;'],
      [{ max_reroutes: '6' }, 'max_reroutes'],
      [{ caller_regions: 'Narnia' }, 'a country'],
      [{ repeat_window_s: '0' }, 'repeat_window_s'],
      [{ max_call_s: '86401' }, 'max_call_s'],
    ] as const;
    for (const [fields, says] of refused) {
      const r = await b.post(url, { ...base, ...fields });
      expect(r.statusCode, JSON.stringify(fields)).toBe(400);
      expect(r.body).toContain(says);
    }
    expect((await svc().campaign(ids['acme-campaign']!, null)).maxReroutes).toBe(2);

    await b.post(url, {
      ...base,
      dr_kind: 'context',
      dr_context: 'overflow',
      dr_extension: 's',
      dr_priority: '2',
    });
    const c = await svc().campaign(ids['acme-campaign']!, null);
    expect(c.defaultRoute).toEqual({ kind: 'context', context: 'overflow', extension: 's', priority: 2 });
    // Unticked and emptied: the filters are off again, the queue too.
    expect(c).toMatchObject({
      rejectAnonymous: false,
      useBlocklist: false,
      callerRegions: null,
      queueS: null,
    });
    await b.post(url, {
      ...base,
      dr_kind: 'message',
      dr_media: 'sound:all-circuits-busy-now, recording:closed',
    });
    expect((await svc().campaign(ids['acme-campaign']!, null)).defaultRoute).toEqual({
      kind: 'message',
      media: ['sound:all-circuits-busy-now', 'recording:closed'],
    });
    await b.post(url, { ...base, dr_kind: '' });
    expect((await svc().campaign(ids['acme-campaign']!, null)).defaultRoute).toBeNull();
  });

  it("DID caps and carrier costs are staff's; a seller user routes its DID and sees its caps", async () => {
    const b = await as('staff@example.com');
    const _csrf = await b.csrf();
    const url = `/console/dids/${ids['acme-did']}/settings`;
    const r = await b.post(url, {
      _csrf,
      campaign_id: ids['acme-campaign']!,
      concurrency_cap: '2',
      monthly_cap: '500',
      rate_per_min: '0.012',
      monthly_rent: '1.5',
    });
    expect(r.statusCode, r.body).toBe(303);
    expect(await svc().did(ids['acme-did']!, null)).toMatchObject({
      concurrencyCap: 2,
      monthlyCap: 500,
      ratePerMinMicros: 12_000,
      monthlyRentMicros: 1_500_000,
    });
    const bad = await b.post(url, { _csrf, campaign_id: ids['acme-campaign']!, concurrency_cap: 'lots' });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('concurrency_cap');
    expect((await b.get('/console/dids')).body).toContain('2 · – · – · 500 · –');

    const s = await as('seller@acme.test');
    const page = await s.get(`/console/dids/${ids['acme-did']}`);
    expect(page.body).toMatch(/name="concurrency_cap"[^>]*value="2"[^>]*disabled/);
    expect(page.body).not.toContain('rate_per_min');
    const moved = await s.post(url, {
      _csrf: await s.csrf(),
      campaign_id: ids['acme-overflow']!,
      concurrency_cap: '99',
      rate_per_min: '0',
    });
    expect(moved.statusCode).toBe(303);
    expect(await svc().did(ids['acme-did']!, null)).toMatchObject({
      campaignId: ids['acme-overflow'],
      concurrencyCap: 2,
      ratePerMinMicros: 12_000,
    });
    expect((await s.get(`/console/dids/${ids['other-did']}`)).statusCode).toBe(404);
  });

  it("blocklists: staff add to the global list or a seller's, import a CSV with a bad line; a seller keeps to its own", async () => {
    const b = await as('staff@example.com');
    const _csrf = await b.csrf();
    expect(
      (
        await b.post('/console/blocklist', {
          _csrf,
          number: '+1 (212) 555-0100',
          seller_id: 'global',
          note: 'spam',
        })
      ).statusCode,
    ).toBe(303);
    expect(
      (await b.post('/console/blocklist', { _csrf, number: '+12125550101', seller_id: ids.other! }))
        .statusCode,
    ).toBe(303);
    const bad = await b.post('/console/blocklist', { _csrf, number: '12', seller_id: 'global' });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('not a valid phone number');
    const imp = await b.post('/console/blocklist/import', {
      _csrf,
      seller_id: ids.acme!,
      csv: 'number,note\n+12125550102,angry\nnot-a-number,x\n+12125550100,\n',
    });
    expect(imp.statusCode).toBe(200);
    expect(imp.body).toContain('2 added');
    expect(imp.body).toMatch(/line 3: /);
    const all = await b.get('/console/blocklist');
    for (const num of ['+12125550100', '+12125550101', '+12125550102']) expect(all.body).toContain(num);
    expect((await b.get('/console/blocklist?list=global')).body).not.toContain('+12125550102');

    // A seller user: its own list only, whatever it asks for; the global list is staff's.
    const s = await as('seller@acme.test');
    const mine = await s.get(`/console/blocklist?list=${ids.other}`);
    expect(mine.body).toContain('+12125550102');
    expect(mine.body).not.toContain('+12125550101');
    const sc = await s.csrf();
    expect(
      (await s.post('/console/blocklist', { _csrf: sc, number: '+12125550103', seller_id: 'global' }))
        .statusCode,
    ).toBe(403);
    expect((await s.post('/console/blocklist', { _csrf: sc, number: '+12125550103' })).statusCode).toBe(303);
    const theirs = await svc().listCallerBlocks({ limit: 10, offset: 0, sellerId: ids.other }, null);
    const other = theirs.items[0]!;
    expect((await s.post(`/console/blocklist/${other.id}/delete`, { _csrf: sc })).statusCode).toBe(404);
    const own = (await svc().listCallerBlocks({ limit: 10, offset: 0, number: '+12125550103' }, ids.acme!))
      .items[0]!;
    expect((await s.post(`/console/blocklist/${own.id}/delete`, { _csrf: sc })).statusCode).toBe(303);
    expect(
      (await svc().listCallerBlocks({ limit: 10, offset: 0, number: '+12125550103' }, ids.acme!)).total,
    ).toBe(0);
  });

  it('lists sort on the server by an allowed column, stable across pages, kept in the links; anything else is the default order', async () => {
    const b = await as('staff@example.com');
    const x = d.ctx.database.db;
    // Ten campaigns of one seller with only two distinct strategies: many ties to break.
    for (let i = 0; i < 10; i++)
      await x
        .insert(campaigns)
        .values({ sellerId: ids.other!, name: `sort-${i}`, strategy: i % 2 ? 'weighted' : 'priority' });
    const names = (body: string) =>
      [...body.matchAll(/<a href="\/console\/campaigns\/[0-9a-f-]{36}">([^<]+)<\/a>/g)].map((m) => m[1]!);
    const asc = names(
      (await b.get(`/console/campaigns?seller_id=${ids.other}&sort=name&dir=asc&limit=100`)).body,
    );
    expect(asc).toEqual([...asc].sort());
    const desc = names(
      (await b.get(`/console/campaigns?seller_id=${ids.other}&sort=name&dir=desc&limit=100`)).body,
    );
    expect(desc).toEqual([...asc].reverse());
    // By a column with ties, one row a page: every campaign exactly once, in strategy order.
    const seen: string[] = [];
    for (let offset = 0; offset < 12; offset++) {
      const page = await b.get(
        `/console/campaigns?seller_id=${ids.other}&sort=strategy&dir=asc&limit=1&offset=${offset}`,
      );
      seen.push(...names(page.body));
      if (offset === 0) {
        // The pager and the headers keep the filter and the order.
        expect(page.body).toContain(
          `seller_id=${ids.other}&amp;sort=strategy&amp;dir=asc&amp;limit=1&amp;offset=1`,
        );
        expect(page.body).toMatch(/<th aria-sort="ascending"><a href="[^"]*sort=strategy&amp;dir=desc/);
      }
    }
    expect(seen.length).toBe(12);
    expect(new Set(seen).size).toBe(12);
    const all = await svc().listCampaigns({ limit: 100, offset: 0, sellerId: ids.other });
    const strategyOf = new Map(all.items.map((c) => [c.name, c.strategy]));
    expect(seen.map((n) => strategyOf.get(n))).toEqual([...seen.map((n) => strategyOf.get(n))].sort());
    // Not on the allow-list (a column name, SQL): the default order, newest first, no error.
    for (const sort of ['seller_id', 'name;drop table campaigns', 'created_at desc']) {
      const r = await b.get(
        `/console/campaigns?seller_id=${ids.other}&sort=${encodeURIComponent(sort)}&limit=100`,
      );
      expect(r.statusCode).toBe(200);
      expect(names(r.body)[0]).toBe('sort-9');
    }
    // The other lists, each by name or number.
    const sellersAsc = (await b.get('/console/sellers?sort=name&dir=asc')).body;
    expect(sellersAsc.indexOf('value="acme"')).toBeLessThan(sellersAsc.indexOf('value="other"'));
    const sellersDesc = (await b.get('/console/sellers?sort=name&dir=desc')).body;
    expect(sellersDesc.indexOf('value="acme"')).toBeGreaterThan(sellersDesc.indexOf('value="other"'));
    const clientsDesc = (await b.get('/console/clients?sort=name&dir=desc')).body;
    expect(clientsDesc.indexOf('acme-centre')).toBeGreaterThan(clientsDesc.indexOf('other-centre'));
    const didsDesc = (await b.get('/console/dids?sort=number&dir=desc')).body;
    expect(didsDesc.indexOf('+14155550801')).toBeGreaterThan(didsDesc.indexOf('+14155550802'));
    const didsAsc = (await b.get('/console/dids?sort=number&dir=asc')).body;
    expect(didsAsc.indexOf('+14155550801')).toBeLessThan(didsAsc.indexOf('+14155550802'));
  });
});
