// GET /v1/reports/calls over CDRs written through the CDR writer (which keeps the rollups): every
// dimension, zones with half- and quarter-hour offsets, rent spread, seller scoping, CSV, bad input;
// and the rollups agree with the same sums taken straight from call_records.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/auth/keys.ts';
import { dids, sellers } from '../../src/db/schema/routing.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { createReportsModule } from '../../src/reports/index.ts';
import { createRoutingModule, type RoutingModule } from '../../src/routing/index.ts';
import { C1, C2, cdrMaker, K1, S1, S2 } from '../helpers/cdr-rows.ts';
import { freshDatabase, testConfig, journalDir } from '../helpers/env.ts';
import { waitFor } from '../helpers/wait.ts';

const log = createLogger({ level: 'silent' });
const L1 = 'b1111111-1111-4111-8111-111111111111';
const DID1 = '+14155550101';
const DID2 = '+14155550202';

const cdr = cdrMaker('r-', L1);

describe('call reports', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let d: Daemon;
  let cdrDir: string;
  let staff: string;
  let seller2: string;

  const get = async (key: string, qs: string) =>
    d.app.inject({ url: `/v1/reports/calls?${qs}`, headers: { authorization: `Bearer ${key}` } });
  const report = async (qs: string, key = staff) => {
    const r = await get(key, qs);
    expect(r.statusCode, r.body).toBe(200);
    return r.json() as { items: Array<Record<string, unknown>>; totals: Record<string, unknown> };
  };

  beforeAll(async () => {
    db = await freshDatabase();
    cdrDir = journalDir();
    d = await startDaemon(
      testConfig({ DATABASE_URL: db.url, CDR_BUFFER_DIR: cdrDir }),
      log,
      [createRoutingModule, createReportsModule],
      { listen: false },
    );
    const dbx = d.ctx.database.db;
    await dbx.insert(sellers).values([
      { id: S1, name: 'Acme Leads' },
      { id: S2, name: 'Bolt Media' },
    ]);
    // DID1 rents for 3.00 a month: spread over its calls of that month.
    await dbx.insert(dids).values([
      { number: DID1, sellerId: S1, monthlyRentMicros: 3_000_000 },
      { number: DID2, sellerId: S2 },
    ]);
    staff = (await createApiKey(dbx, { role: 'staff' })).key;
    seller2 = (await createApiKey(dbx, { role: 'seller', sellerId: S2 })).key;
    const cdrs = (d.ctx.modules.get('routing') as RoutingModule).cdr;
    const rows = [
      // Kolkata (+05:30) midnight of 10 March is 18:30 UTC on the 9th; Kathmandu (+05:45) 18:15.
      cdr('2026-03-09T18:10:00Z'),
      cdr('2026-03-09T18:20:00Z'),
      cdr('2026-03-09T18:40:00Z', { answered: false }),
      cdr('2026-03-10T09:05:00Z', {
        campaign_id: C2,
        campaign_name: 'Home',
        converted: false,
        payout_micros: 0,
        revenue_micros: 0,
      }),
      cdr('2026-03-10T09:10:00Z', {
        seller_id: S2,
        seller_name: 'Bolt Media',
        did: DID2,
        campaign_id: null,
        campaign_name: null,
      }),
    ];
    for (const r of rows) await cdrs.write(r);
    await cdrs.flush();
    // A replayed journal line adds nothing (the insert skips it, so the rollup does too).
    await cdrs.write(rows[0]!);
    await cdrs.flush();
    await waitFor(async () => {
      const [c] = await d.ctx.database.sql<[{ n: number }]>`select count(*)::int n from call_records`;
      return c.n === 5 || undefined;
    });
  });
  afterAll(async () => {
    await d?.stop();
    await db?.drop();
  });

  const period = 'from=2026-03-01&to=2026-04-01';

  it('by seller: counts, rates, averages, money, rent spread, margin; totals', async () => {
    const r = await report(`group_by=seller&${period}`);
    expect(r.items).toEqual([
      expect.objectContaining({
        key: S1,
        name: 'Acme Leads',
        calls: 4,
        answered: 3,
        answer_rate: 0.75,
        aht_s: 60,
        billable_minutes: 3,
        conversions: 2,
        payout_micros: 20_000_000,
        revenue_micros: 50_000_000,
        cost_micros: 3_000,
        // All four March calls of DID1 are in the period: the whole 3.00 of rent.
        rent_micros: 3_000_000,
        margin_micros: 50_000_000 - 20_000_000 - 3_000 - 3_000_000,
      }),
      expect.objectContaining({ key: S2, name: 'Bolt Media', calls: 1, rent_micros: 0 }),
    ]);
    expect(r.totals).toMatchObject({ calls: 5, answered: 4, conversions: 3, rent_micros: 3_000_000 });
  });

  it("call records carry each call's rent share and margin, adding up to the report's rent", async () => {
    const calls = async (qs: string, key = staff) => {
      const r = await d.app.inject({ url: `/v1/calls?${qs}`, headers: { authorization: `Bearer ${key}` } });
      expect(r.statusCode, r.body).toBe(200);
      return r;
    };
    const march = 'from=2026-03-01T00:00:00Z&to=2026-04-01T00:00:00Z';
    const items = (await calls(`${march}&did=${encodeURIComponent(DID1)}`)).json().items as Array<
      Record<string, number>
    >;
    // DID1's 3.00 over its four March calls, answered or not.
    expect(items.map((i) => i.rent_micros)).toEqual([750_000, 750_000, 750_000, 750_000]);
    for (const i of items)
      expect(i.margin_micros).toBe(i.revenue_micros! - i.payout_micros! - i.cost_micros! - i.rent_micros!);
    const byDid = await report(`group_by=did&${period}`);
    const rent = items.reduce((n, i) => n + i.rent_micros!, 0);
    expect(rent).toBe(byDid.items.find((i) => i.key === DID1)!.rent_micros);
    // The report's margin is the calls' margins summed.
    const margin = items.reduce((n, i) => n + i.margin_micros!, 0);
    expect(margin).toBe(byDid.items.find((i) => i.key === DID1)!.margin_micros);
    // A DID without rent: none on its calls.
    const other = (await calls(`${march}&did=${encodeURIComponent(DID2)}`)).json().items;
    expect(other.map((i: Record<string, unknown>) => [i.rent_micros, i.margin_micros])).toEqual([
      [0, 25_000_000 - 10_000_000 - 1_000],
    ]);
    // A seller sees neither (its own call), and the CSV carries both columns.
    const own = (await calls(march, seller2)).json().items;
    expect(own.map((i: Record<string, unknown>) => [i.rent_micros, i.margin_micros])).toEqual([[null, null]]);
    const csv = (await calls(`${march}&did=${encodeURIComponent(DID1)}&format=csv`)).body.trim().split('\n');
    const head = csv[0]!.split(',');
    const cell = (line: string, k: string) => line.split(',')[head.indexOf(k)];
    expect(csv.slice(1).map((l) => cell(l, 'rent_micros'))).toEqual(['750000', '750000', '750000', '750000']);
  });

  it('by campaign, client, link and DID', async () => {
    const byCampaign = await report(`group_by=campaign&${period}`);
    expect(byCampaign.items.map((i) => [i.key, i.name, i.calls])).toEqual(
      expect.arrayContaining([
        [C1, 'Auto', 3],
        [C2, 'Home', 1],
        [null, null, 1],
      ]),
    );
    const byClient = await report(`group_by=client&${period}`);
    expect(byClient.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ key: K1, name: 'Centre One', calls: 4, rent_micros: null }),
        expect.objectContaining({ key: null, calls: 1, answered: 0 }),
      ]),
    );
    const byLink = await report(`group_by=link&${period}`);
    expect(byLink.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ key: L1, campaign_id: C1, client_id: K1, name: 'Auto / Centre One' }),
      ]),
    );
    const byDid = await report(`group_by=did&${period}`);
    expect(byDid.items.map((i) => [i.key, i.calls, i.rent_micros])).toEqual([
      [DID1, 4, 3_000_000],
      [DID2, 1, 0],
    ]);
  });

  it('by day in UTC, Asia/Kolkata and Asia/Kathmandu: the midnight moves with the zone', async () => {
    const days = async (tz: string) =>
      (await report(`group_by=day&from=2026-03-09&to=2026-03-11&tz=${encodeURIComponent(tz)}`)).items.map(
        (i) => [i.key, i.calls],
      );
    expect(await days('UTC')).toEqual([
      ['2026-03-09', 3],
      ['2026-03-10', 2],
    ]);
    // 18:10 and 18:20 UTC are before Kolkata's midnight (18:30); 18:40 is after.
    expect(await days('Asia/Kolkata')).toEqual([
      ['2026-03-09', 2],
      ['2026-03-10', 3],
    ]);
    // Kathmandu's midnight is 18:15 UTC: only 18:10 is on the 9th.
    expect(await days('Asia/Kathmandu')).toEqual([
      ['2026-03-09', 1],
      ['2026-03-10', 4],
    ]);
  });

  it('by hour in a quarter-hour zone: local hours from quarter-hour buckets', async () => {
    const r = await report('group_by=hour&from=2026-03-10&to=2026-03-11&tz=Asia/Kathmandu');
    // 18:20 UTC = 00:05, 18:40 UTC = 00:25 local; 09:05 / 09:10 UTC = 14:50 / 14:55 local.
    expect(r.items.map((i) => [i.key, i.calls])).toEqual([
      ['2026-03-10T00:00', 2],
      ['2026-03-10T14:00', 2],
    ]);
  });

  it('a seller key sees its own calls only, and none of the operator money', async () => {
    const r = await report(`group_by=seller&${period}&seller_id=${S1}`, seller2);
    expect(r.items).toEqual([
      expect.objectContaining({
        key: S2,
        calls: 1,
        payout_micros: 10_000_000,
        revenue_micros: null,
        margin_micros: null,
      }),
    ]);
    expect(r.totals).toMatchObject({ calls: 1, cost_micros: null, rent_micros: null });
  });

  it('CSV: a header and one line per group', async () => {
    const r = await get(staff, `group_by=did&${period}&format=csv`);
    expect(r.headers['content-type']).toMatch(/^text\/csv/);
    const lines = r.body.trim().split('\n');
    expect(lines[0]).toBe(
      'key,name,calls,answered,answer_rate,aht_s,billable_minutes,conversions,payout_micros,revenue_micros,cost_micros,rent_micros,margin_micros',
    );
    // A DID in E.164 form is not taken for a formula.
    expect(lines[1]).toBe(`${DID1},,4,3,0.75,60,3,2,20000000,50000000,3000,3000000,26997000`);
  });

  it('the rollups agree with the same sums straight from call_records', async () => {
    const [direct] = await d.ctx.database.sql<
      [{ calls: number; answered: number; payout: number; talk: number }]
    >`
      select count(*)::int calls, count(answered_at)::int answered, sum(payout_micros)::bigint payout, sum(talk_s)::int talk
      from call_records`;
    const r = await report(`group_by=day&${period}&tz=Asia/Kathmandu`);
    expect(r.totals).toMatchObject({
      calls: direct.calls,
      answered: direct.answered,
      payout_micros: Number(direct.payout),
    });
  });

  it('bad input: 400 VALIDATION_FAILED naming the field, and no key: 401', async () => {
    for (const [qs, field] of [
      ['group_by=week&from=2026-03-01&to=2026-03-02', 'group_by'],
      ['group_by=day&from=2026-03-01&to=2026-03-02&tz=Mars/Olympus', 'tz'],
      ['group_by=day&from=2026-03-01&to=2026-03-02&tz=%2B05:30', 'tz'],
      ['group_by=day&from=2026-02-30&to=2026-03-02', 'from'],
      ['group_by=day&from=2026-03-02&to=2026-03-01', 'to'],
      ['group_by=day&from=2026-03-01T10:07:00Z&to=2026-03-02', 'from'],
      ['group_by=day&from=2024-01-01&to=2026-03-02', 'to'],
      ['group_by=hour&from=2026-01-01&to=2026-06-01', 'to'],
    ] as const) {
      const r = await get(staff, qs);
      expect(r.statusCode, qs).toBe(400);
      expect(r.json().error.code).toBe('VALIDATION_FAILED');
      expect(JSON.stringify(r.json().error.details), qs).toContain(field);
    }
    const anon = await d.app.inject({ url: `/v1/reports/calls?group_by=day&${period}` });
    expect(anon.statusCode).toBe(401);
  });

  // Last: it adds calls (in 2025, outside every other test's period) and changes a rent.
  it('rent as it was: a rent changed today leaves past months alone; a month is spread at the rent it ended with', async () => {
    const DID3 = '+14155550303';
    const sql = d.ctx.database.sql;
    await d.ctx.database.db.insert(dids).values({ number: DID3, sellerId: S1, monthlyRentMicros: 4_000_000 });
    const cdrs = (d.ctx.modules.get('routing') as RoutingModule).cdr;
    for (const at of [
      '2025-04-03T10:00:00Z',
      '2025-04-20T10:00:00Z',
      '2025-05-05T10:00:00Z',
      '2025-05-25T10:00:00Z',
    ])
      await cdrs.write(cdr(at, { did: DID3 }));
    await cdrs.flush();
    const rentOf = async (from: string, to: string) =>
      (await report(`group_by=did&from=${from}&to=${to}`)).items.find((i) => i.key === DID3)?.rent_micros;
    await waitFor(async () => ((await rentOf('2025-05-01', '2025-06-01')) === 4_000_000 ? true : undefined));
    // Changed now (any writer: the trigger on dids keeps the history): April and May keep 4.00.
    await sql`update dids set monthly_rent_micros = 8000000 where number = ${DID3}`;
    expect(await rentOf('2025-04-01', '2025-05-01')).toBe(4_000_000);
    expect(await rentOf('2025-05-01', '2025-06-01')).toBe(4_000_000);
    const rows = await sql<{ monthly_rent_micros: string }[]>`
      select monthly_rent_micros from did_rents where did = ${DID3} order by effective_from`;
    expect(rows.map((r) => Number(r.monthly_rent_micros))).toEqual([4_000_000, 8_000_000]);
    // A rent that took effect on 10 May is May's (the month ended with it), not April's; half of
    // May's calls fall in the period, so half of its rent.
    await sql`insert into did_rents (did, effective_from, monthly_rent_micros)
      values (${DID3}, '2025-05-10T00:00:00Z', 6000000)`;
    expect(await rentOf('2025-04-01', '2025-05-01')).toBe(4_000_000);
    expect(await rentOf('2025-05-01', '2025-06-01')).toBe(6_000_000);
    expect(await rentOf('2025-05-01', '2025-05-15')).toBe(3_000_000);
    // The calls' own shares are spread the same way: 4.00 over April's two, 6.00 over May's two.
    const r = await d.app.inject({
      url: `/v1/calls?from=2025-04-01T00:00:00Z&to=2025-06-01T00:00:00Z&did=${encodeURIComponent(DID3)}`,
      headers: { authorization: `Bearer ${staff}` },
    });
    expect(r.json().items.map((i: { rent_micros: number }) => i.rent_micros)).toEqual([
      3_000_000, 3_000_000, 2_000_000, 2_000_000,
    ]);
    // An update that leaves the rent as it was adds no row.
    await sql`update dids set rate_per_min_micros = 1 where number = ${DID3}`;
    const [{ n }] = await sql<[{ n: number }]>`select count(*)::int n from did_rents where did = ${DID3}`;
    expect(n).toBe(3);
  });
});
