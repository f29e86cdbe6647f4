// The console's pages over the domains' services on real PostgreSQL and Redis, driven through the
// daemon's app as a browser would: what each role sees and may change, a seller limited to its own
// rows, sorting and filters on the server, CSRF on every change, the API's error codes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsoleModule, createConsoleModule } from '../../src/console/index.ts';
import { callRecords } from '../../src/db/schema/cdr.ts';
import { campaigns, clients, sellers } from '../../src/db/schema/routing.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { createRoutingModule } from '../../src/routing/index.ts';
import { Browser } from '../helpers/console.ts';
import { freshDatabase, testConfig } from '../helpers/env.ts';

const log = createLogger({ level: 'silent' });
const PW = 'correct horse battery';

describe('console pages', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let d: Daemon;
  let con: ConsoleModule;
  const ids: Record<string, string> = {};
  let n = 0;
  const as = async (email: string) => {
    const b = new Browser(d.app, `10.1.0.${++n}`);
    expect((await b.signIn(email, PW)).statusCode).toBe(303);
    return b;
  };

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
      const [cl] = await x
        .insert(clients)
        .values({ name: `${name}-centre`, endpoint: `${name}-centre` })
        .returning();
      ids[name] = s!.id;
      ids[`${name}-campaign`] = c!.id;
      ids[`${name}-client`] = cl!.id;
    }
    // Calls: acme's three (one refused by a cap), other's two; durations tell the order apart.
    const call = (i: number, seller: string, disposition: string, durationS: number, did: string) => ({
      callId: `call-${i}`,
      nodeId: 'node-1',
      sellerId: ids[seller]!,
      campaignId: ids[`${seller}-campaign`]!,
      did,
      callerNumber: `+1212555000${i}`,
      clientId: disposition === 'answered' ? ids[`${seller}-client`]! : null,
      startedAt: new Date(Date.UTC(2026, 10, 10 + i, 12)),
      answeredAt: null,
      endedAt: new Date(Date.UTC(2026, 10, 10 + i, 12, 1)),
      durationS,
      billableS: disposition === 'answered' ? durationS : 0,
      disposition,
      hangupCause: 16,
      attempts: [],
      notRouted:
        disposition === 'no_client'
          ? [
              {
                link_id: '00000000-0000-0000-0000-000000000001',
                client_id: ids[`${seller}-client`]!,
                reason: 'hourly',
              },
            ]
          : [],
    });
    await x
      .insert(callRecords)
      .values([
        call(1, 'acme', 'answered', 30, '+14155550101'),
        call(2, 'acme', 'no_client', 0, '+14155550101'),
        call(3, 'acme', 'answered', 90, '+14155550101'),
        call(4, 'other', 'answered', 60, '+14155550202'),
        call(5, 'other', 'caller_abandoned', 5, '+14155550202'),
      ]);
    await con.services.users.create({ email: 'admin@example.com', password: PW, role: 'admin' });
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

  /** The call ids of the calls table, in page order. */
  const callIds = (body: string) => [...body.matchAll(/data-call-id="([^"]+)"/g)].map((m) => m[1]);

  describe('calls', () => {
    it('staff see every seller’s calls with names, newest first; sorting and filters on the server', async () => {
      const b = await as('staff@example.com');
      const r = await b.get('/console/calls');
      expect(r.statusCode).toBe(200);
      expect(callIds(r.body)).toEqual(['call-5', 'call-4', 'call-3', 'call-2', 'call-1']);
      expect(r.body).toContain('other-campaign');
      expect(r.body).toContain('acme-centre');
      // The links not offered a call, and why, by client name.
      expect(r.body).toMatch(/acme-centre: <strong>hourly<\/strong>/);
      expect(callIds((await b.get('/console/calls?sort=duration&dir=asc')).body)).toEqual([
        'call-2',
        'call-5',
        'call-1',
        'call-4',
        'call-3',
      ]);
      expect(callIds((await b.get('/console/calls?sort=campaign&dir=asc&limit=2')).body)).toEqual([
        'call-1',
        'call-2',
      ]);
      const page2 = await b.get('/console/calls?sort=campaign&dir=asc&limit=2&offset=2');
      expect(callIds(page2.body)).toEqual(['call-3', 'call-4']);
      expect(page2.body).toContain('3–4 of 5');
      // An unknown order falls back to the default rather than failing.
      expect(callIds((await b.get('/console/calls?sort=nope&dir=sideways')).body)[0]).toBe('call-5');
      expect(callIds((await b.get(`/console/calls?seller_id=${ids.other}`)).body)).toEqual([
        'call-5',
        'call-4',
      ]);
      expect(callIds((await b.get('/console/calls?disposition=answered&sort=did&dir=asc')).body)).toEqual([
        'call-1',
        'call-3',
        'call-4',
      ]);
      // Days are UTC and `to` is included.
      expect(callIds((await b.get('/console/calls?from=2026-11-12&to=2026-11-13')).body)).toEqual([
        'call-3',
        'call-2',
      ]);
      expect(callIds((await b.get(`/console/calls?client_id=${ids['other-client']}`)).body)).toEqual([
        'call-4',
      ]);
    });

    it('a filter the API refuses is a 400 with its code; nothing listed', async () => {
      const b = await as('staff@example.com');
      for (const q of ['campaign_id=not-a-uuid', 'from=2026-13-01', 'from=yesterday']) {
        const r = await b.get(`/console/calls?${q}`);
        expect(r.statusCode, q).toBe(400);
        expect(r.body).toContain('VALIDATION_FAILED');
        expect(callIds(r.body)).toEqual([]);
      }
    });

    it('a seller sees only its own calls, whatever it asks for, in the page and in the CSV', async () => {
      const b = await as('seller@acme.test');
      const r = await b.get('/console/calls');
      expect(callIds(r.body)).toEqual(['call-3', 'call-2', 'call-1']);
      expect(r.body).not.toContain('other-campaign');
      expect(r.body).not.toContain('other-centre');
      expect(r.body).not.toContain('name="seller_id"');
      expect(callIds((await b.get(`/console/calls?seller_id=${ids.other}`)).body)).toEqual([
        'call-3',
        'call-2',
        'call-1',
      ]);
      expect(callIds((await b.get(`/console/calls?campaign_id=${ids['other-campaign']}`)).body)).toEqual([]);
      const csv = await b.get(`/console/calls.csv?seller_id=${ids.other}&sort=duration&dir=desc`, 'text/csv');
      expect(csv.statusCode).toBe(200);
      expect(csv.headers['content-type']).toMatch(/^text\/csv/);
      const lines = csv.body.trim().split('\n');
      expect(lines[0]).toMatch(/^call_id,started_at,/);
      expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(['call-3', 'call-1', 'call-2']);
      expect(csv.body).not.toContain('+14155550202');
    });

    it('the CSV follows the filter for staff; signed out, neither page nor CSV', async () => {
      const b = await as('viewer@example.com');
      const csv = await b.get('/console/calls.csv?disposition=caller_abandoned', 'text/csv');
      expect(
        csv.body
          .trim()
          .split('\n')
          .slice(1)
          .map((l) => l.split(',')[0]),
      ).toEqual(['call-5']);
      const anon = new Browser(d.app, '10.1.9.9');
      expect((await anon.get('/console/calls')).statusCode).toBe(303);
      expect((await anon.get('/console/calls.csv', 'text/csv')).statusCode).toBe(401);
    });
  });
});
