// The console's pages over the domains' services on real PostgreSQL and Redis, driven through the
// daemon's app as a browser would: what each role sees and may change, a seller limited to its own
// rows, sorting and filters on the server, CSRF on every change, the API's error codes.
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/auth/keys.ts';
import { type CallerIdModule, createCallerIdModule } from '../../src/callerid/index.ts';
import { type ConsoleModule, createConsoleModule } from '../../src/console/index.ts';
import { callRecords } from '../../src/db/schema/cdr.ts';
import { campaigns, clients, sellers } from '../../src/db/schema/routing.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { createPbxModule, type PbxModule } from '../../src/pbx/index.ts';
import { FakeCarrier } from '../../src/provisioning/providers/fake/server.ts';
import { createProvisioningModule, type ProvisioningModule } from '../../src/provisioning/index.ts';
import { createRoutingModule } from '../../src/routing/index.ts';
import { seal } from '../../src/console/totp.ts';
import { Browser, signedIn } from '../helpers/console.ts';
import { freshDatabase, testConfig } from '../helpers/env.ts';

const log = createLogger({ level: 'silent' });
const PW = 'correct horse battery';

describe('console pages', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let d: Daemon;
  let con: ConsoleModule;
  const ids: Record<string, string> = {};
  let n = 0;
  const fake = new FakeCarrier({ apiKey: 'vkey0001', apiSecret: 'vonage-Secret-77', inventoryPerNpa: 6 });
  const as = (email: string) => signedIn(d.app, `10.1.0.${++n}`, email, PW);

  beforeAll(async () => {
    db = await freshDatabase();
    await fake.listen();
    d = await startDaemon(
      testConfig({ DATABASE_URL: db.url }),
      log,
      [
        createRoutingModule,
        createPbxModule,
        (ctx) => createCallerIdModule(ctx),
        createConsoleModule,
        (ctx) => createProvisioningModule(ctx),
      ],
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
    await fake.close();
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

  describe('caller IDs', () => {
    const cid = () => (d.ctx.modules.get('callerid') as CallerIdModule).service;
    const numbers = (body: string) => [...body.matchAll(/data-number="([^"]+)"/g)].map((m) => m[1]);

    it('staff make a pool, import pasted CSV with a bad line listed, see usage and limits, sort, delete', async () => {
      const b = await as('staff@example.com');
      const _csrf = await b.csrf();
      const bad = await b.post('/console/caller-ids/pools', { _csrf, id: 'no spaces allowed' });
      expect(bad.statusCode).toBe(400);
      expect(bad.body).toContain('VALIDATION_FAILED');
      expect(
        (
          await b.post('/console/caller-ids/pools', {
            _csrf,
            id: 'east',
            name: 'East',
            health_min_answer_rate: '0.25',
          })
        ).statusCode,
      ).toBe(303);
      expect((await cid().getPool('east')).health_min_answer_rate).toBe(0.25);
      const csv = [
        'caller_id,daily_limit,hourly_limit',
        '+14155550100,100,10',
        'not a number,5,5',
        '+14155550111,50,',
        '+12125550122,,3',
      ].join('\n');
      const r = await b.post('/console/caller-ids/import', { _csrf, pool: 'east', csv });
      expect(r.statusCode).toBe(200);
      expect(r.body).toMatch(/<strong>3<\/strong> of 4 line\(s\) imported/);
      expect(r.body).toMatch(
        /<li>line 3: caller_id &quot;not a number&quot; is not a valid phone number<\/li>/,
      );
      expect((await cid().listNumbers('east', 10, 0)).total).toBe(3);

      const page = await b.get('/console/caller-ids?pool=east');
      expect(page.statusCode).toBe(200);
      expect(numbers(page.body)).toEqual(['+12125550122', '+14155550100', '+14155550111']);
      expect(page.body).toContain('0 / 100'); // today's uses against the daily limit
      expect(numbers((await b.get('/console/caller-ids?pool=east&sort=daily_limit&dir=desc')).body)).toEqual([
        '+12125550122', // no limit: nulls first when descending, as PostgreSQL orders them
        '+14155550100',
        '+14155550111',
      ]);
      expect(page.body).toContain('data-pool="east"');
      expect(page.body).toContain('below 25% answered');

      // A number added by hand into a pool that does not exist: the service's NOT_FOUND.
      const missing = await b.post('/console/caller-ids/numbers', {
        _csrf,
        number: '+13055550100',
        pools: 'nope',
      });
      expect(missing.statusCode).toBe(404);
      expect(missing.body).toContain('NOT_FOUND');
      expect(
        (
          await b.post('/console/caller-ids/numbers', {
            _csrf,
            number: '+1 305 555 0100',
            pools: 'east',
            daily_limit: '7',
          })
        ).statusCode,
      ).toBe(303);
      expect((await cid().getNumber('+13055550100')).daily_limit).toBe(7);
      expect(
        (await b.post(`/console/caller-ids/numbers/${encodeURIComponent('+13055550100')}/delete`, { _csrf }))
          .statusCode,
      ).toBe(303);
      await expect(cid().getNumber('+13055550100')).rejects.toThrow();
    });

    it('a streamed file is imported with the header token; without it nothing is', async () => {
      const b = await as('admin@example.com');
      const csv = 'caller_id,pool\n+16175550100,west\n+1617555,west\n';
      const refused = await b.postRaw('/console/caller-ids/import', csv, 'text/csv');
      expect(refused.statusCode).toBe(403);
      expect(refused.json().error.code).toBe('CSRF_REFUSED');
      await expect(cid().getNumber('+16175550100')).rejects.toThrow();
      const ok = await b.postRaw('/console/caller-ids/import', csv, 'text/csv', {
        'x-csrf-token': await b.csrf(),
      });
      expect(ok.statusCode).toBe(200);
      expect(ok.json()).toMatchObject({ lines: 2, imported: 1, rejected_total: 1, pools_created: ['west'] });
      expect(ok.json().rejected[0].line).toBe(3);
      expect((await cid().getNumber('+16175550100')).pools).toEqual(['west']);
    });

    it('a viewer looks but changes nothing; a seller has no caller IDs', async () => {
      const v = await as('viewer@example.com');
      const page = await v.get('/console/caller-ids');
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('data-pool="east"');
      expect(page.body).not.toContain('action="/console/caller-ids/import"');
      expect(page.body).not.toContain('/delete');
      const _csrf = await v.csrf();
      for (const [url, form] of [
        ['/console/caller-ids/pools', { id: 'viewer-pool' }],
        ['/console/caller-ids/import', { csv: 'caller_id\n+14155550199\n' }],
        [`/console/caller-ids/numbers/${encodeURIComponent('+14155550100')}/delete`, {}],
      ] as const) {
        const r = await v.post(url, { _csrf, ...form });
        expect(r.statusCode, url).toBe(403);
        expect(r.body).toContain('FORBIDDEN_ROLE');
      }
      await expect(cid().getPool('viewer-pool')).rejects.toThrow();
      await expect(cid().getNumber('+14155550199')).rejects.toThrow();
      expect((await cid().getNumber('+14155550100')).number).toBe('+14155550100');
      const s = await as('seller@acme.test');
      expect((await s.get('/console/caller-ids')).statusCode).toBe(403);
      expect((await s.get('/console/calls')).body).not.toContain('href="/console/caller-ids"');
    });
    it('pools page, sort and filter on the server (page and API); live figures only for the page shown', async () => {
      // east and west are there; four more, one of them with a number.
      for (const [id, name] of [
        ['alpha', 'Zed 100%'],
        ['beta-2', 'Beta'],
        ['gamma', null],
        ['delta', 'east coast'],
      ] as const)
        await cid().createPool({ id, ...(name ? { name } : {}) });
      await cid().createNumber('+13125550100', { pools: ['gamma'] });
      const { key } = await createApiKey(d.ctx.database.db, { role: 'staff' });
      const api = async (q: string) => {
        const r = await d.app.inject({
          method: 'GET',
          url: `/v1/cid-pools?${q}`,
          headers: { 'x-api-key': key },
        });
        return { status: r.statusCode, json: r.json() as { items: Array<{ id: string }>; total: number } };
      };
      const ids = async (q: string) => {
        const r = await api(q);
        expect(r.status, JSON.stringify(r.json)).toBe(200);
        return r.json.items.map((p) => p.id);
      };
      expect(await ids('')).toEqual(['alpha', 'beta-2', 'delta', 'east', 'gamma', 'west']);
      expect(await ids('sort=id&dir=desc&limit=2&offset=1')).toEqual(['gamma', 'east']);
      expect((await api('limit=2')).json.total).toBe(6);
      // By member count (east 3, west 1, gamma 1; ties by id), most first.
      expect((await ids('sort=numbers&dir=desc')).slice(0, 3)).toEqual(['east', 'west', 'gamma']);
      // By the figures the usage flush stores: members resting, and their uses ever.
      await d.ctx.database.sql`update caller_ids set rested_until = null, total_uses = 0`;
      await d.ctx.database.sql`update caller_ids set rested_until = now() + interval '1 hour', total_uses = 7
        where number = '+13125550100'`;
      expect((await ids('sort=resting&dir=desc'))[0]).toBe('gamma');
      expect((await ids('sort=total_uses&dir=desc'))[0]).toBe('gamma');
      expect((await ids('sort=total_uses&dir=asc')).at(-1)).toBe('gamma');
      expect(await ids('q=EAST')).toEqual(['delta', 'east']);
      expect(await ids('q=100%25')).toEqual(['alpha']);
      expect(await ids('q=_')).toEqual([]);
      for (const q of ['sort=available', 'dir=sideways', `q=${'x'.repeat(101)}`, 'limit=501']) {
        const r = await api(q);
        expect(r.status, q).toBe(400);
        expect((r.json as unknown as { error: { code: string } }).error.code, q).toBe('VALIDATION_FAILED');
      }

      const b = await as('staff@example.com');
      const pools = (body: string) => [...body.matchAll(/<tr data-pool="([^"]+)">/g)].map((m) => m[1]);
      const first = await b.get('/console/caller-ids?plimit=2');
      expect(pools(first.body)).toEqual(['alpha', 'beta-2']);
      expect(first.body).toContain('1–2 of 6');
      // Every pool is still offered in the forms, not only the page's.
      expect(first.body).toContain('<option>west</option>');
      const f = await b.get('/console/caller-ids?pq=east&psort=id&pdir=desc&pool=east&sort=number&dir=desc');
      expect(pools(f.body)).toEqual(['east', 'delta']);
      expect(numbers(f.body)).toEqual(['+14155550111', '+14155550100', '+12125550122']);
      // The pools' header keeps the numbers' pool and order, and the numbers' header the pools' filter.
      expect(f.body).toMatch(
        /<a href="\/console\/caller-ids\?pool=east&amp;sort=number&amp;dir=desc[^"]*pq=east&amp;psort=name/,
      );
      expect(f.body).toMatch(
        /<a href="\/console\/caller-ids\?pq=east&amp;psort=id&amp;pdir=desc[^"]*pool=east&amp;sort=carrier/,
      );
      expect(pools((await b.get('/console/caller-ids?psort=resting&pdir=desc&plimit=1')).body)).toEqual([
        'gamma',
      ]);
      const g = await b.get('/console/caller-ids?pq=gam');
      expect(g.body).toMatch(/<tr data-pool="gamma">.*?<td class="num">1<\/td>\s*<td class="num">1<\/td>/s);
      expect((await b.get('/console/caller-ids?pq=nothing')).body).toContain('No pools match this filter.');
      // A column the page does not sort by (a live figure) is the default column, in the direction asked.
      expect(pools((await b.get('/console/caller-ids?psort=uses_day&pdir=desc&plimit=3')).body)).toEqual([
        'west',
        'gamma',
        'east',
      ]);
    });
  });

  describe('PBX', () => {
    const pbx = () => (d.ctx.modules.get('pbx') as PbxModule).service;
    const password = (body: string) => /data-testid="sip-password">([^<]+)</.exec(body)?.[1];

    it('a new user’s credentials are shown once; the change is audited under the console user', async () => {
      const b = await as('staff@example.com');
      const _csrf = await b.csrf();
      const r = await b.post('/console/pbx/users', { _csrf, name: 'Ann Agent', email: 'ann@example.com' });
      expect(r.statusCode).toBe(201);
      const pw = password(r.body);
      expect(pw).toMatch(/^.{16,}$/);
      expect(r.body).toContain('data-testid="sip-username">1000<');
      // Never again: not on the list, not when the same user is asked for twice.
      const list = await b.get('/console/pbx');
      expect(list.body).toContain('data-extension="1000"');
      expect(list.body).not.toContain(pw);
      const again = await b.post('/console/pbx/users', {
        _csrf,
        name: 'Ann Agent',
        email: 'ann@example.com',
      });
      expect(again.statusCode).toBe(409);
      expect(again.body).toContain('DUPLICATE');
      expect(password(again.body)).toBeUndefined();
      const audit = await pbx().audit.list({ limit: 10, offset: 0, action: 'user.create' });
      expect(audit.items.map((a) => [a.result, a.actorLabel])).toEqual([
        ['error', 'console:staff@example.com'],
        ['ok', 'console:staff@example.com'],
      ]);
      const page = await b.get('/console/pbx/audit?action=user.create');
      expect(page.body).toContain('console:staff@example.com');
      expect(page.body).not.toContain(pw);
      // Deleting asks nothing more of the server than the form: the user and its extension go.
      const u = (await pbx().users.list({ limit: 10, offset: 0 })).items[0]!;
      expect((await b.post(`/console/pbx/users/${u.id}/delete`, { _csrf })).statusCode).toBe(303);
      expect(await pbx().users.get(u.id)).toBeNull();
    });

    it('client endpoints and seller trunks with the API’s validation; apply reports per node', async () => {
      const b = await as('admin@example.com');
      const _csrf = await b.csrf();
      const reg = await b.post('/console/pbx/clients', {
        _csrf,
        client_id: ids['acme-client']!,
        kind: 'registration',
      });
      expect(reg.statusCode).toBe(201);
      const user = /data-testid="sip-username">([^<]+)</.exec(reg.body)![1]!;
      expect((await pbx().endpoints.ofClient(ids['acme-client']!))!.endpoint).toBe(user);
      const badIp = await b.post('/console/pbx/clients', {
        _csrf,
        client_id: ids['other-client']!,
        kind: 'ip',
        ips: '10.0.0.300',
        host: 'pbx.example.com',
      });
      expect(badIp.statusCode).toBe(400);
      expect(badIp.body).toContain('VALIDATION_FAILED');
      expect(await pbx().endpoints.ofClient(ids['other-client']!)).toBeNull();
      const ip = await b.post('/console/pbx/clients', {
        _csrf,
        client_id: ids['other-client']!,
        kind: 'ip',
        name: 'other-pbx',
        ips: '203.0.113.10, 198.51.100.0/24',
        host: 'pbx.other.example',
        port: '5080',
      });
      expect(ip.statusCode).toBe(303);
      const trunk = await b.post('/console/pbx/trunks', {
        _csrf,
        seller_id: ids.acme!,
        name: 'acme-trunk',
        ips: '192.0.2.7',
      });
      expect(trunk.statusCode).toBe(303);
      const list = await b.get('/console/pbx?sort=kind&dir=desc');
      expect([...list.body.matchAll(/data-endpoint="([^"]+)"/g)].map((m) => m[1])).toEqual([
        'acme-trunk',
        user,
        'other-pbx',
      ]);
      expect(list.body).toContain('sip:pbx.other.example:5080');
      expect(list.body).toContain('seller acme');
      const applied = await b.post('/console/pbx/apply', { _csrf });
      expect(applied.statusCode).toBe(200);
      expect(applied.body).toContain('3 endpoint(s), 0 node(s)');
      const audit = await pbx().audit.list({ limit: 1, offset: 0, action: 'apply' });
      expect(audit.items[0]!.actorLabel).toBe('console:admin@example.com');
    });

    it('a viewer looks and changes nothing; a seller has no PBX; no change without the CSRF token', async () => {
      const v = await as('viewer@example.com');
      const page = await v.get('/console/pbx');
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('acme-trunk');
      expect(page.body).not.toContain('action="/console/pbx/users"');
      expect(page.body).not.toContain('/delete');
      const r = await v.post('/console/pbx/users', {
        _csrf: await v.csrf(),
        name: 'V',
        email: 'v@pbx.example',
      });
      expect(r.statusCode).toBe(403);
      expect((await v.post('/console/pbx/apply', { _csrf: await v.csrf() })).statusCode).toBe(403);
      const s = await as('seller@acme.test');
      expect((await s.get('/console/pbx')).statusCode).toBe(403);
      expect((await s.get('/console/pbx/audit')).statusCode).toBe(403);
      const staff = await as('staff@example.com');
      const refused = await staff.post('/console/pbx/users', { name: 'X', email: 'x@pbx.example' });
      expect(refused.statusCode).toBe(403);
      expect(refused.body).toContain('CSRF_REFUSED');
      expect((await pbx().users.list({ limit: 50, offset: 0 })).items.map((u) => u.email)).not.toContain(
        'x@pbx.example',
      );
    });
  });

  describe('numbers', () => {
    const prov = () => (d.ctx.modules.get('provisioning') as ProvisioningModule).service;
    let account: string;
    const jobOf = (location: unknown) =>
      /\/console\/numbers\/jobs\/([0-9a-f-]{36})$/.exec(String(location))![1]!;

    beforeAll(async () => {
      const a = await prov().createAccount(
        {
          name: 'vonage-main',
          provider: 'vonage',
          rest_url: fake.url,
          api_url: fake.url,
          api_key: 'vkey0001',
          api_secret: 'vonage-Secret-77',
          voice: { type: 'sip', value: 'sip:{e164}@198.51.100.7' },
        },
        null,
      );
      account = a.id;
    });

    it('staff search an area code, buy two for a seller as a job with progress, release one after confirming', async () => {
      const b = await as('staff@example.com');
      const _csrf = await b.csrf();
      expect((await b.get('/console/numbers')).body).toContain('id="number-search"');
      const bad = await b.get(`/console/numbers/search?provider_account_id=${account}&npa=123`);
      expect(bad.statusCode).toBe(400);
      expect(bad.body).toContain('VALIDATION_FAILED');
      const found = await b.get(`/console/numbers/search?provider_account_id=${account}&npa=415&country=US`);
      expect(found.statusCode).toBe(200);
      expect(found.body).toContain('6 number(s) for sale in 415');
      expect(found.body).toContain('data-confirm="Buy these numbers?');
      const buy = await b.post('/console/numbers/buy', {
        _csrf,
        provider_account_id: account,
        country: 'US',
        npa: '415',
        seller_id: ids.acme!,
        count: '2',
      });
      expect(buy.statusCode).toBe(303);
      const job = jobOf(buy.headers.location);
      expect((await prov().waitJob(job, 60_000)).status).toBe('completed');
      const page = await b.get(`/console/numbers/jobs/${job}`);
      expect(page.body).toContain('data-status="completed"');
      expect(page.body).toContain('aria-label="2 of 2 done"');
      expect(page.headers.refresh).toBeUndefined();
      const list = await b.get('/console/numbers?sort=e164&dir=asc');
      const owned = [...list.body.matchAll(/data-number="([^"]+)"/g)].map((m) => m[1]!);
      expect(owned).toHaveLength(2);
      expect(owned).toEqual([...owned].sort());
      expect(list.body).toContain('<td>acme</td>');
      const rel = await b.post(`/console/numbers/${encodeURIComponent(owned[0]!)}/release`, { _csrf });
      expect(rel.statusCode).toBe(303);
      expect((await prov().waitJob(jobOf(rel.headers.location), 60_000)).status).toBe('completed');
      expect(await prov().repo.liveNumber(owned[0]!)).toBeNull();
      const again = await b.post(`/console/numbers/${encodeURIComponent(owned[0]!)}/release`, { _csrf });
      expect(again.statusCode).toBe(404);
      expect(again.body).toContain('NOT_FOUND');
    });

    it('the jobs list pages on the server, ten at a time, newest first, keeping the numbers list’s order', async () => {
      const b = await as('admin@example.com');
      // Jobs written without workers' help: only their rows matter to the list.
      for (let i = 0; i < 11; i++)
        await prov().repo.createJob(
          {
            kind: 'release',
            accountId: account,
            sellerId: ids.acme!,
            keyId: null,
            idem: null,
            hash: `page-${i}`,
          },
          [{ e164: `+1212555${String(i).padStart(4, '0')}` }],
        );
      const total = (await prov().repo.listJobs(null, { limit: 1, offset: 0 })).total;
      const jobsOf = (body: string) => [...body.matchAll(/<tr data-job="([^"]+)">/g)].map((m) => m[1]!);
      const first = await b.get('/console/numbers?sort=e164&dir=asc');
      expect(jobsOf(first.body)).toHaveLength(10);
      expect(first.body).toContain(`1–10 of ${total}`);
      const older = /href="([^"]*joffset=10[^"]*)"/.exec(first.body)![1]!.replace(/&amp;/g, '&');
      expect(Object.fromEntries(new URL(older, 'http://x').searchParams)).toMatchObject({
        sort: 'e164',
        dir: 'asc',
      });
      const second = await b.get(older);
      expect(jobsOf(second.body)).toHaveLength(Math.min(10, total - 10));
      expect(jobsOf(second.body).some((j) => jobsOf(first.body).includes(j))).toBe(false);
      expect(second.body).toContain('← newer');
    });

    it('a seller sees its own numbers and jobs only and buys nothing; a viewer releases nothing', async () => {
      const staff = await as('admin@example.com');
      const buy = await staff.post('/console/numbers/buy', {
        _csrf: await staff.csrf(),
        provider_account_id: account,
        npa: '212',
        seller_id: ids.other!,
        count: '1',
      });
      const otherJob = jobOf(buy.headers.location);
      await prov().waitJob(otherJob, 60_000);
      const [otherNumber] = (
        await prov().repo.listNumbers({ sellerId: ids.other!, status: 'owned' }, { limit: 5, offset: 0 })
      ).items;
      const s = await as('seller@acme.test');
      const page = await s.get('/console/numbers');
      expect(page.statusCode).toBe(200);
      expect(page.body).not.toContain(otherNumber!.e164);
      expect(page.body).not.toContain(otherJob);
      expect(page.body).not.toContain('number-search');
      expect((await s.get(`/console/numbers/jobs/${otherJob}`)).statusCode).toBe(404);
      const _csrf = await s.csrf();
      const sb = await s.post('/console/numbers/buy', {
        _csrf,
        provider_account_id: account,
        npa: '212',
        seller_id: ids.acme!,
        count: '1',
      });
      expect(sb.statusCode).toBe(403);
      const v = await as('viewer@example.com');
      expect((await v.get('/console/numbers')).body).toContain(otherNumber!.e164);
      const vr = await v.post(`/console/numbers/${encodeURIComponent(otherNumber!.e164)}/release`, {
        _csrf: await v.csrf(),
      });
      expect(vr.statusCode).toBe(403);
      expect(await prov().repo.liveNumber(otherNumber!.e164)).not.toBeNull();
    });
  });

  describe('API keys', () => {
    const whoami = (key: string) =>
      d.app.inject({ method: 'GET', url: '/v1/whoami', headers: { 'x-api-key': key } });

    it('an admin creates a key shown once, which works until revoked', async () => {
      const b = await as('admin@example.com');
      const _csrf = await b.csrf();
      const bad = await b.post('/console/api-keys', {
        _csrf,
        role: 'seller',
        label: 'no seller',
        reauth_password: PW,
      });
      expect(bad.statusCode).toBe(400);
      expect(bad.body).toContain('VALIDATION_FAILED');
      const badIp = await b.post('/console/api-keys', {
        _csrf,
        role: 'dialer',
        allow_ips: '10.0.0.300',
        reauth_password: PW,
      });
      expect(badIp.statusCode).toBe(400);
      const unconfirmed = await b.post('/console/api-keys', {
        _csrf,
        role: 'admin',
        label: 'unconfirmed',
        reauth_password: 'not it at all',
      });
      expect(unconfirmed.statusCode).toBe(403);
      expect(unconfirmed.body).toContain('REAUTH_FAILED');
      expect(await d.ctx.database.sql`select 1 from api_keys where label = 'unconfirmed'`).toHaveLength(0);
      const r = await b.post('/console/api-keys', {
        _csrf,
        role: 'seller',
        seller_id: ids.acme!,
        label: 'acme-dialer',
        reauth_password: PW,
      });
      expect(r.statusCode, r.body.slice(0, 2000)).toBe(201);
      const key = /data-testid="api-key">([^<]+)</.exec(r.body)![1]!;
      expect((await whoami(key)).json()).toMatchObject({ role: 'seller', seller_id: ids.acme });
      const list = await b.get('/console/api-keys');
      expect(list.body).toContain('acme-dialer');
      expect(list.body).not.toContain(key);
      const id = (await d.ctx.database.sql`select id from api_keys where label = 'acme-dialer'`)[0]!
        .id as string;
      expect((await b.post(`/console/api-keys/${id}/revoke`, { _csrf })).statusCode).toBe(303);
      expect((await whoami(key)).statusCode).toBe(401);
      expect((await b.post(`/console/api-keys/${id}/revoke`, { _csrf })).statusCode).toBe(404);
    });

    it('only admins: staff, viewers and sellers neither see nor change keys; CSRF refused', async () => {
      for (const email of ['staff@example.com', 'viewer@example.com', 'seller@acme.test']) {
        const b = await as(email);
        expect((await b.get('/console/api-keys')).statusCode, email).toBe(403);
        expect((await b.post('/console/api-keys', { _csrf: await b.csrf(), role: 'admin' })).statusCode).toBe(
          403,
        );
      }
      const a = await as('admin@example.com');
      const refused = await a.post('/console/api-keys', {
        role: 'admin',
        label: 'csrf-less',
        reauth_password: PW,
      });
      expect(refused.statusCode).toBe(403);
      expect(refused.body).toContain('CSRF_REFUSED');
      expect(await d.ctx.database.sql`select 1 from api_keys where label = 'csrf-less'`).toHaveLength(0);
    });
  });

  it('turning two-factor sign-in off asks for the password and a current code, counted as failures', async () => {
    const u = await con.services.users.create({ email: 'totp@example.com', password: PW, role: 'staff' });
    const secret = new Secret();
    const totp = new TOTP({ secret });
    // On without spending a time step (as set-up would), so the codes below are all unused.
    await con.services.users.repo.update(u.id, {
      totpSecret: seal(con.services.config.masterKey, secret.base32),
    });
    const b = new Browser(d.app, '10.1.8.1');
    await b.signIn('totp@example.com', PW);
    const step2 = await b.post('/console/sign-in/totp', { code: totp.generate() });
    expect(step2.statusCode).toBe(303);
    const account = await b.get('/console/account');
    expect(account.body).toContain('name="reauth_code"');
    const _csrf = await b.csrf();
    for (const form of [
      {} as Record<string, string>,
      { reauth_password: PW },
      { reauth_password: 'wrong password', reauth_code: totp.generate({ timestamp: Date.now() - 30_000 }) },
    ]) {
      const r = await b.post('/console/account/totp-off', { _csrf, ...form });
      expect(r.statusCode).toBe(403);
      expect(r.body).toContain('REAUTH_FAILED');
      expect((await con.services.users.get(u.id))!.totp).toBe(true);
    }
    const ok = await b.post('/console/account/totp-off', {
      _csrf,
      reauth_password: PW,
      reauth_code: totp.generate({ timestamp: Date.now() + 30_000 }),
    });
    expect(ok.statusCode).toBe(303);
    expect((await con.services.users.get(u.id))!.totp).toBe(false);
  });
});
