// The Calls page's totals per campaign, client and seller over CDRs written through the CDR writer
// (which keeps the report rollups), on real PostgreSQL and Redis: the report's figures as the page
// shows them, whole days in the chosen time zone, a seller limited to its own calls and kept from the
// operator's money, sorting and paging on the server, CSV, bad input refused with the API's code.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsoleModule, createConsoleModule } from '../../src/console/index.ts';
import { addDays } from '../../src/console/routes/call-totals.ts';
import { sellers } from '../../src/db/schema/routing.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { createReportsModule } from '../../src/reports/index.ts';
import { createRoutingModule, type RoutingModule } from '../../src/routing/index.ts';
import { signedIn } from '../helpers/console.ts';
import { C1, C2, cdrMaker, S1, S2 } from '../helpers/cdr-rows.ts';
import { freshDatabase, testConfig, journalDir } from '../helpers/env.ts';
import { waitFor } from '../helpers/wait.ts';

const log = createLogger({ level: 'silent' });
const PW = 'correct horse battery';

const cdr = cdrMaker('t-');

describe('console call totals', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let d: Daemon;
  let cdrDir: string;
  let ip = 0;
  const as = (email: string) => signedIn(d.app, `10.3.0.${++ip}`, email, PW);
  /** The rows of the totals table: data-key, then each cell's text. */
  const rowsOf = (body: string) =>
    [...body.matchAll(/<tr data-key="([^"]*)">(.*?)<\/tr>/gs)].map((m) => [
      m[1],
      ...[...m[2]!.matchAll(/<td[^>]*>(.*?)<\/td>/gs)].map((c) => c[1]!.replace(/<[^>]+>/g, '')),
    ]);
  const footOf = (body: string) =>
    [...(/<tfoot>(.*?)<\/tfoot>/s.exec(body)?.[1] ?? '').matchAll(/<td[^>]*>(.*?)<\/td>/gs)].map((c) => c[1]);

  beforeAll(async () => {
    db = await freshDatabase();
    cdrDir = journalDir();
    d = await startDaemon(
      testConfig({ DATABASE_URL: db.url, CDR_BUFFER_DIR: cdrDir }),
      log,
      [createRoutingModule, createReportsModule, createConsoleModule],
      { listen: false },
    );
    await d.ctx.database.db.insert(sellers).values([
      { id: S1, name: 'Acme Leads' },
      { id: S2, name: 'Bolt Media' },
    ]);
    const cdrs = (d.ctx.modules.get('routing') as RoutingModule).cdr;
    // Kolkata (+05:30) midnight of 10 March is 18:30 UTC on the 9th.
    for (const r of [
      cdr('2026-03-09T18:10:00Z'),
      cdr('2026-03-09T18:20:00Z'),
      cdr('2026-03-09T18:40:00Z', { answered: false }),
      cdr('2026-03-10T09:05:00Z', {
        campaign_id: C2,
        campaign_name: 'Home',
        converted: false,
        payout_micros: 0,
      }),
      cdr('2026-03-10T09:10:00Z', {
        seller_id: S2,
        seller_name: 'Bolt Media',
        campaign_id: null,
        campaign_name: null,
      }),
    ])
      await cdrs.write(r);
    await cdrs.flush();
    await waitFor(async () => {
      const [c] = await d.ctx.database.sql<[{ n: number }]>`select count(*)::int n from call_records`;
      return c.n === 5 || undefined;
    });
    const con = d.ctx.modules.get('console') as ConsoleModule;
    await con.services.users.create({ email: 'staff@example.com', password: PW, role: 'staff' });
    await con.services.users.create({
      email: 'seller@bolt.test',
      password: PW,
      role: 'seller',
      seller_id: S2,
    });
  });
  afterAll(async () => {
    await d?.stop();
    await db?.drop();
  });

  it('per campaign over two UTC days: the report’s figures, a totals row, busiest first', async () => {
    const b = await as('staff@example.com');
    const r = await b.get('/console/calls/totals?group_by=campaign&from=2026-03-09&to=2026-03-10&tz=UTC');
    expect(r.statusCode, r.body).toBe(200);
    // Campaign, calls, answered, answer rate, AHT, billable minutes, conversions, payout, revenue, margin.
    expect(rowsOf(r.body)).toEqual([
      [C1, 'Auto', '3', '2', '66.7 %', '60', '2', '2', '20', '50', '29.998'],
      [C2, 'Home', '1', '1', '100.0 %', '60', '1', '0', '0', '25', '24.999'],
      ['', 'no campaign', '1', '1', '100.0 %', '60', '1', '1', '10', '25', '14.999'],
    ]);
    expect(footOf(r.body)).toEqual(['5', '4', '80.0 %', '60', '4', '3', '30', '100', '69.996']);
    expect(r.body).toContain('Calls started from 2026-03-09 00:00 to the end of 2026-03-10, UTC');
  });

  it('whole days in the chosen zone; per client and per seller; a seller filter', async () => {
    const b = await as('staff@example.com');
    // 10 March in Kolkata runs from 18:30 UTC on the 9th: the unanswered 18:40 call and both of the 10th.
    const k = await b.get(
      '/console/calls/totals?group_by=campaign&from=2026-03-10&to=2026-03-10&tz=Asia/Kolkata',
    );
    expect(rowsOf(k.body).map((x) => [x[1], x[2], x[3]])).toEqual([
      ['Auto', '1', '0'],
      ['Home', '1', '1'],
      ['no campaign', '1', '1'],
    ]);
    const c = await b.get('/console/calls/totals?group_by=client&from=2026-03-09&to=2026-03-10&tz=UTC');
    expect(rowsOf(c.body).map((x) => [x[1], x[2]])).toEqual([
      ['Centre One', '4'],
      ['no client', '1'],
    ]);
    const s = await b.get('/console/calls/totals?group_by=seller&from=2026-03-09&to=2026-03-10&tz=UTC');
    expect(rowsOf(s.body).map((x) => [x[0], x[1], x[2]])).toEqual([
      [S1, 'Acme Leads', '4'],
      [S2, 'Bolt Media', '1'],
    ]);
    const one = await b.get(
      `/console/calls/totals?group_by=campaign&from=2026-03-09&to=2026-03-10&seller_id=${S2}`,
    );
    expect(rowsOf(one.body).map((x) => x[2])).toEqual(['1']);
  });

  it('sorted and paged on the server, keeping the period in the links', async () => {
    const b = await as('staff@example.com');
    const q = 'group_by=campaign&from=2026-03-09&to=2026-03-10&tz=UTC';
    const names = async (extra: string) =>
      rowsOf((await b.get(`/console/calls/totals?${q}&${extra}`)).body).map((x) => x[1]);
    expect(await names('sort=name&dir=asc')).toEqual(['Auto', 'Home', 'no campaign']);
    expect(await names('sort=margin_micros&dir=asc')).toEqual(['no campaign', 'Home', 'Auto']);
    expect(await names('sort=nonsense&dir=sideways')).toEqual(['Auto', 'Home', 'no campaign']);
    const p = await b.get(`/console/calls/totals?${q}&sort=name&dir=asc&limit=1&offset=1`);
    expect(rowsOf(p.body).map((x) => x[1])).toEqual(['Home']);
    expect(p.body).toContain('2–2 of 3');
    // The next page's link keeps the grouping, the period, the zone and the order.
    const next = /href="([^"]*offset=2[^"]*)"/.exec(p.body)![1]!.replace(/&amp;/g, '&');
    expect(Object.fromEntries(new URL(next, 'http://x').searchParams)).toMatchObject({
      group_by: 'campaign',
      from: '2026-03-09',
      to: '2026-03-10',
      tz: 'UTC',
      sort: 'name',
      dir: 'asc',
    });
  });

  it('a seller sees its own calls only, without the operator’s revenue and margin', async () => {
    const b = await as('seller@bolt.test');
    // Asking for every seller, or for another seller, still gives its own campaigns only.
    for (const extra of ['group_by=seller', `group_by=campaign&seller_id=${S1}`]) {
      const r = await b.get(`/console/calls/totals?${extra}&from=2026-03-09&to=2026-03-10&tz=UTC`);
      expect(r.statusCode).toBe(200);
      expect(rowsOf(r.body)).toEqual([['', 'no campaign', '1', '1', '100.0 %', '60', '1', '1', '10']]);
      expect(r.body).not.toContain('Revenue');
      expect(r.body).not.toContain('Margin');
      expect(r.body).not.toContain('Acme Leads');
      expect(r.body).not.toContain('name="seller_id"');
    }
    const csv = await b.get('/console/calls/totals.csv?group_by=campaign&from=2026-03-09&to=2026-03-10');
    expect(csv.statusCode).toBe(200);
    const [head, ...lines] = csv.body.trim().split('\n');
    expect(head).toContain('margin_micros');
    expect(lines).toHaveLength(1);
    // The money a seller may not see is empty in the file too.
    expect(lines[0]).toMatch(/,10000000,,,,$/);
  });

  it('CSV of the chosen grouping and period; empty, default and bad periods', async () => {
    const b = await as('staff@example.com');
    const csv = await b.get('/console/calls/totals.csv?group_by=seller&from=2026-03-09&to=2026-03-10');
    expect(csv.headers['content-type']).toContain('text/csv');
    expect(csv.headers['content-disposition']).toContain('calls-by-seller.csv');
    expect(csv.body.trim().split('\n')).toHaveLength(3);
    // No dates: the last seven days up to today, here without calls.
    const none = await b.get('/console/calls/totals');
    expect(none.statusCode).toBe(200);
    expect(none.body).toContain('No calls in this period.');
    expect(none.body).toContain('Per <select name="group_by">');
    // A period ending before it starts, an unknown zone, a day that does not exist: the API's code.
    for (const q of ['from=2026-03-10&to=2026-03-01', 'tz=Mars/Olympus', 'from=2026-02-31&to=2026-03-01']) {
      const r = await b.get(`/console/calls/totals?${q}`);
      expect(r.statusCode, q).toBe(400);
      expect(r.body).toContain('VALIDATION_FAILED');
    }
  });

  it('adds calendar days, leaving a day that does not exist as it is', () => {
    expect(addDays('2026-02-28', 1)).toBe('2026-03-01');
    expect(addDays('2026-03-29', 1)).toBe('2026-03-30');
    expect(addDays('2026-01-01', -6)).toBe('2025-12-26');
    expect(addDays('2026-02-31', 1)).toBe('2026-02-31');
  });
});
