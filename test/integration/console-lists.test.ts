// Lists that page, sort and filter on the server, in the API and in the console pages over the same
// repositories, on real PostgreSQL and Redis: buyer groups, webhook subscriptions, provider accounts
// and the audit trail. Each order comes from an allow-list (the API refuses anything else with its
// 400; a page falls back to the list's default), the id breaks ties so the pages of one order hold
// every row once, and a seller key or user sees its own subscriptions whatever the filter says.
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditModule } from '../../src/audit/index.ts';
import { createApiKey, revokeApiKey } from '../../src/auth/keys.ts';
import { type ConsoleModule, createConsoleModule } from '../../src/console/index.ts';
import { pbxAudit, pbxEndpoints, pbxUsers } from '../../src/db/schema/pbx.ts';
import {
  providerAccounts,
  provisionedNumbers,
  webhookSubscriptions,
} from '../../src/db/schema/provisioning.ts';
import {
  buyerGroups,
  callerBlocks,
  campaigns,
  clients,
  dids,
  links,
  sellers,
} from '../../src/db/schema/routing.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { createPbxModule } from '../../src/pbx/index.ts';
import { createProvisioningModule } from '../../src/provisioning/index.ts';
import { createRoutingModule } from '../../src/routing/index.ts';
import { type Browser, signedIn } from '../helpers/console.ts';
import { freshDatabase, redisPrefix, testConfig } from '../helpers/env.ts';

const log = createLogger({ level: 'silent' });
const PW = 'correct horse battery';

describe('server-side lists: groups, webhooks, provider accounts, audit', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let d: Daemon;
  let staffKey: string;
  let acmeKey: string;
  let staff: Browser;
  let seller: Browser;
  const ids: Record<string, string> = {};

  const api = async (key: string, url: string) => {
    const r = await d.app.inject({ method: 'GET', url, headers: { 'x-api-key': key } });
    return { status: r.statusCode, body: r.json() as { items: Record<string, unknown>[]; total: number } };
  };
  const page = async (b: Browser, url: string) => {
    const r = await b.get(url);
    expect(r.statusCode, r.body).toBe(200);
    return r.body;
  };
  const all = (body: string, re: RegExp) => [...body.matchAll(re)].map((m) => m[1]!);

  beforeAll(async () => {
    db = await freshDatabase();
    d = await startDaemon(
      testConfig({ DATABASE_URL: db.url, REDIS_KEY_PREFIX: redisPrefix() }),
      log,
      [
        createRoutingModule,
        createAuditModule,
        createPbxModule,
        createConsoleModule,
        (ctx) => createProvisioningModule(ctx, { workers: false }),
      ],
      { listen: false },
    );
    const x = d.ctx.database.db;
    const [acme] = await x.insert(sellers).values({ name: 'acme' }).returning();
    const [bolt] = await x.insert(sellers).values({ name: 'bolt' }).returning();
    ids.acme = acme!.id;
    ids.bolt = bolt!.id;
    staffKey = (await createApiKey(x, { role: 'staff' })).key;
    acmeKey = (await createApiKey(x, { role: 'seller', sellerId: acme!.id })).key;
    const con = d.ctx.modules.get('console') as ConsoleModule;
    await con.services.users.create({ email: 'staff@example.com', password: PW, role: 'staff' });
    await con.services.users.create({
      email: 'seller@acme.test',
      password: PW,
      role: 'seller',
      seller_id: acme!.id,
    });
    staff = await signedIn(d.app, '10.7.0.1', 'staff@example.com', PW);
    seller = await signedIn(d.app, '10.7.0.2', 'seller@acme.test', PW);

    // Groups made in the order c, a, b; two share a zone (a tie broken by id).
    for (const [name, timezone] of [
      ['gamma', 'Europe/Paris'],
      ['alpha', 'America/New_York'],
      ['beta', 'Europe/Paris'],
    ] as const)
      await x.insert(buyerGroups).values({ name, timezone });
    // Subscriptions: acme's two, bolt's one, one to every seller's events; one paused.
    const subs = [
      ['https://c.example/hook', acme!.id, ['number.provisioned'], true],
      ['https://a.example/hook', acme!.id, ['job.completed'], false],
      ['https://d.example/hook', bolt!.id, ['number.provisioned', 'job.completed'], true],
      ['https://b.example/hook', null, ['job.completed'], true],
    ] as const;
    for (const [url, sellerId, events, active] of subs)
      await x
        .insert(webhookSubscriptions)
        .values({ url, sellerId, events: [...events], active, secret: 'sealed' });
    for (const [name, active] of [
      ['vonage-b', true],
      ['vonage-c', false],
      ['vonage-a', true],
    ] as const)
      await x.insert(providerAccounts).values({
        name,
        provider: 'vonage',
        restUrl: 'https://rest.example',
        apiUrl: 'https://api.example',
        credentials: 'sealed',
        active,
      });
  });
  afterAll(async () => {
    await d?.stop();
    await db?.drop();
  });

  describe('buyer groups (console)', () => {
    const names = (body: string) => all(body, /<a href="\/console\/groups\/[0-9a-f-]{36}">([^<]+)<\/a>/g);

    it('newest first by default; by name, zone or since either way; an unknown order is the default', async () => {
      expect(names(await page(staff, '/console/groups'))).toEqual(['beta', 'alpha', 'gamma']);
      expect(names(await page(staff, '/console/groups?sort=name&dir=asc'))).toEqual([
        'alpha',
        'beta',
        'gamma',
      ]);
      expect(names(await page(staff, '/console/groups?sort=name&dir=desc'))).toEqual([
        'gamma',
        'beta',
        'alpha',
      ]);
      expect(names(await page(staff, '/console/groups?sort=created_at&dir=asc'))).toEqual([
        'gamma',
        'alpha',
        'beta',
      ]);
      expect(names(await page(staff, '/console/groups?sort=name;drop&dir=up'))).toEqual([
        'beta',
        'alpha',
        'gamma',
      ]);
      // The zone ties (gamma, beta) are one page each, in id order, and together hold both.
      const byZone = [0, 1, 2].map(async (o) =>
        names(await page(staff, `/console/groups?sort=timezone&dir=asc&limit=1&offset=${o}`)),
      );
      const pages = (await Promise.all(byZone)).flat();
      expect(pages[0]).toBe('alpha');
      expect(new Set(pages.slice(1))).toEqual(new Set(['gamma', 'beta']));
      // The header of the current order links to the other direction; the pager keeps the order.
      const body = await page(staff, '/console/groups?sort=name&dir=asc&limit=2');
      expect(body).toContain('href="/console/groups?sort=name&amp;dir=desc"');
      expect(body).toMatch(/href="\/console\/groups\?sort=name&amp;dir=asc&amp;limit=2&amp;offset=2"/);
    });
  });

  describe('webhook subscriptions', () => {
    const urls = (r: { body: { items: Record<string, unknown>[] } }) => r.body.items.map((i) => i.url);

    it('API: paged with a total, filtered by state, event and seller, sorted by an allow-listed column', async () => {
      const first = await api(staffKey, '/v1/webhooks?limit=2&sort=url');
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({ limit: 2, offset: 0, total: 4 });
      expect(urls(first)).toEqual(['https://a.example/hook', 'https://b.example/hook']);
      const second = await api(staffKey, '/v1/webhooks?limit=2&offset=2&sort=url');
      expect(urls(second)).toEqual(['https://c.example/hook', 'https://d.example/hook']);
      expect(urls(await api(staffKey, '/v1/webhooks?sort=url&dir=desc&active=true'))).toEqual([
        'https://d.example/hook',
        'https://c.example/hook',
        'https://b.example/hook',
      ]);
      expect(urls(await api(staffKey, '/v1/webhooks?sort=url&event=number.provisioned'))).toEqual([
        'https://c.example/hook',
        'https://d.example/hook',
      ]);
      expect(urls(await api(staffKey, `/v1/webhooks?seller_id=${ids.bolt}`))).toEqual([
        'https://d.example/hook',
      ]);
      expect(urls(await api(staffKey, '/v1/webhooks?seller_id=every'))).toEqual(['https://b.example/hook']);
      // Newest first without an order.
      expect(urls(await api(staffKey, '/v1/webhooks'))[0]).toBe('https://b.example/hook');
      for (const bad of ['sort=secret', 'sort=url&dir=up', 'event=nope', 'active=maybe', 'seller_id=x'])
        expect((await api(staffKey, `/v1/webhooks?${bad}`)).status, bad).toBe(400);
    });

    it('API: a seller key sees its own, whatever the seller filter says', async () => {
      const own = await api(acmeKey, `/v1/webhooks?sort=url&seller_id=${ids.bolt}`);
      expect(own.status).toBe(200);
      expect(urls(own)).toEqual(['https://a.example/hook', 'https://c.example/hook']);
      expect(own.body.total).toBe(2);
    });

    it('console: filters and headers on the server, kept by the pager; a seller user sees its own', async () => {
      const rows = (body: string) => all(body, /<tr data-webhook="[^"]+"><td><a href="[^"]+">([^<]+)</g);
      expect(rows(await page(staff, '/console/numbers/webhooks?sort=url&dir=asc'))).toEqual([
        'https://a.example/hook',
        'https://b.example/hook',
        'https://c.example/hook',
        'https://d.example/hook',
      ]);
      expect(rows(await page(staff, '/console/numbers/webhooks?active=false'))).toEqual([
        'https://a.example/hook',
      ]);
      expect(
        rows(await page(staff, `/console/numbers/webhooks?seller_id=${ids.acme}&sort=url&dir=desc`)),
      ).toEqual(['https://c.example/hook', 'https://a.example/hook']);
      const p1 = await page(staff, '/console/numbers/webhooks?event=job.completed&sort=url&dir=asc&limit=2');
      expect(rows(p1)).toEqual(['https://a.example/hook', 'https://b.example/hook']);
      const next = /href="([^"]+)">next →/.exec(p1)?.[1]?.replaceAll('&amp;', '&');
      expect(next).toBe('/console/numbers/webhooks?event=job.completed&sort=url&dir=asc&limit=2&offset=2');
      expect(rows(await page(staff, next!))).toEqual(['https://d.example/hook']);
      expect(await page(staff, '/console/numbers/webhooks?event=number.released&active=false')).toContain(
        'No subscription matches the filter.',
      );
      // A bad filter is the API's refusal, not an empty page.
      const bad = await staff.get('/console/numbers/webhooks?event=nope');
      expect(bad.statusCode).toBe(400);
      expect(bad.body).toContain('VALIDATION_FAILED');
      // A seller user: its own only, even when the query names another seller; no seller filter shown.
      const mine = await page(seller, `/console/numbers/webhooks?seller_id=${ids.bolt}&sort=url&dir=asc`);
      expect(rows(mine)).toEqual(['https://a.example/hook', 'https://c.example/hook']);
      expect(mine).not.toContain('name="seller_id"><option');
    });
  });

  describe('provider accounts', () => {
    it('API: by name by default; filtered by state and carrier; sorted; paged', async () => {
      const r = await api(staffKey, '/v1/provider-accounts');
      expect(r.status).toBe(200);
      expect(r.body.items.map((a) => a.name)).toEqual(['vonage-a', 'vonage-b', 'vonage-c']);
      expect(r.body.total).toBe(3);
      expect(JSON.stringify(r.body)).not.toContain('sealed');
      const off = await api(staffKey, '/v1/provider-accounts?active=false');
      expect(off.body.items.map((a) => a.name)).toEqual(['vonage-c']);
      const desc = await api(staffKey, '/v1/provider-accounts?sort=created_at&dir=desc&limit=1&offset=1');
      expect(desc.body.items.map((a) => a.name)).toEqual(['vonage-c']);
      expect(desc.body.total).toBe(3);
      expect((await api(staffKey, '/v1/provider-accounts?provider=vonage')).body.total).toBe(3);
      for (const bad of ['sort=credentials', 'provider=twilio', 'limit=0'])
        expect((await api(staffKey, `/v1/provider-accounts?${bad}`)).status, bad).toBe(400);
    });

    it('console: sorted by a header, filtered to the disabled ones, paged', async () => {
      const rows = (body: string) => all(body, /<tr data-account="([^"]+)">/g);
      expect(rows(await page(staff, '/console/numbers/accounts'))).toEqual([
        'vonage-a',
        'vonage-b',
        'vonage-c',
      ]);
      expect(rows(await page(staff, '/console/numbers/accounts?sort=name&dir=desc'))).toEqual([
        'vonage-c',
        'vonage-b',
        'vonage-a',
      ]);
      // Active sorts false first ascending; ties (a, b) by id.
      const byState = rows(await page(staff, '/console/numbers/accounts?sort=active&dir=asc'));
      expect(byState[0]).toBe('vonage-c');
      const body = await page(staff, '/console/numbers/accounts?active=false');
      expect(rows(body)).toEqual(['vonage-c']);
      expect(body).toContain('<option value="false" selected>disabled</option>');
      const p2 = await page(staff, '/console/numbers/accounts?limit=2&offset=2');
      expect(rows(p2)).toEqual(['vonage-c']);
      expect(p2).toContain('3–3 of 3');
      expect(
        await page(staff, '/console/numbers/accounts?active=false&provider=vonage&offset=5'),
      ).not.toContain('No provider account yet');
    });
  });

  describe('blocklist (console)', () => {
    const numbers = (body: string) => all(body, /<tr><td>(\+\d+)<\/td>/g);

    it('newest first by default; by number, note or added either way, ties across pages; a seller its own list; a filter that matches nothing says so', async () => {
      const x = d.ctx.database.db;
      // Added in this order; two notes tie ('a'), one has none.
      for (const [number, sellerId, note] of [
        ['+12125550003', ids.acme, 'b'],
        ['+12125550001', ids.acme, 'a'],
        ['+12125550002', null, 'a'],
        ['+12125550004', ids.bolt, null],
      ] as const)
        await x.insert(callerBlocks).values({ number, sellerId: sellerId ?? null, note });
      const staffList = async (q: string) => numbers(await page(staff, `/console/blocklist${q}`));
      expect(await staffList('')).toEqual(['+12125550004', '+12125550002', '+12125550001', '+12125550003']);
      expect(await staffList('?sort=number&dir=asc')).toEqual([
        '+12125550001',
        '+12125550002',
        '+12125550003',
        '+12125550004',
      ]);
      expect(await staffList('?sort=created_at&dir=asc')).toEqual([
        '+12125550003',
        '+12125550001',
        '+12125550002',
        '+12125550004',
      ]);
      expect(await staffList('?sort=seller_id;drop&dir=up')).toEqual(await staffList(''));
      // The tied notes are one page each and together hold both; no note comes last.
      const byNote = await Promise.all(
        [0, 1, 2, 3].map((o) => staffList(`?sort=note&dir=asc&limit=1&offset=${o}`)),
      );
      expect(new Set(byNote.slice(0, 2).flat())).toEqual(new Set(['+12125550001', '+12125550002']));
      expect(byNote.slice(2).flat()).toEqual(['+12125550003', '+12125550004']);
      // The header links to the other direction and the pager keeps the order and the filter.
      const body = await page(staff, `/console/blocklist?list=${ids.acme}&sort=number&dir=asc&limit=1`);
      expect(numbers(body)).toEqual(['+12125550001']);
      expect(body).toContain(`href="/console/blocklist?list=${ids.acme}&amp;sort=number&amp;dir=desc"`);
      expect(body).toContain(
        `href="/console/blocklist?list=${ids.acme}&amp;sort=number&amp;dir=asc&amp;limit=1&amp;offset=1"`,
      );
      // A seller user: its own list only, whatever the order or the list asked.
      expect(numbers(await page(seller, `/console/blocklist?sort=number&dir=desc&list=${ids.bolt}`))).toEqual(
        ['+12125550003', '+12125550001'],
      );
      const none = await page(staff, '/console/blocklist?number=%2B12125550009');
      expect(none).toContain('No blocked caller matches this filter.');
      expect(none).not.toContain('<table id="blocklist"');
    });
  });

  describe('API keys (console)', () => {
    const labels = (body: string) => all(body, /<tr data-key="[^"]+">(?:<td>.*?<\/td>){3}<td>([^<]*)<\/td>/g);

    it('newest first by default; by label or role either way, ties across pages; filtered by role and seller; revoked ones on request', async () => {
      const x = d.ctx.database.db;
      const con = d.ctx.modules.get('console') as ConsoleModule;
      await con.services.users.create({ email: 'admin@example.com', password: PW, role: 'admin' });
      const admin = await signedIn(d.app, '10.7.0.3', 'admin@example.com', PW);
      // Besides the two keys made first (staff and acme's, no label): two dialers, a bolt key, one revoked.
      await createApiKey(x, { role: 'dialer', label: 'k-dialer-b' });
      await createApiKey(x, { role: 'dialer', label: 'k-dialer-a' });
      await createApiKey(x, { role: 'seller', sellerId: ids.bolt, label: 'k-bolt' });
      const gone = await createApiKey(x, { role: 'staff', label: 'k-gone' });
      await revokeApiKey(x, gone.id);
      const list = async (q: string) => labels(await page(admin, `/console/api-keys${q}`));
      expect(await list('')).toEqual(['k-bolt', 'k-dialer-a', 'k-dialer-b', '', '']);
      expect(await list('?sort=label&dir=asc&role=dialer')).toEqual(['k-dialer-a', 'k-dialer-b']);
      expect(await list('?sort=label&dir=desc&role=dialer')).toEqual(['k-dialer-b', 'k-dialer-a']);
      expect(await list(`?seller_id=${ids.bolt}`)).toEqual(['k-bolt']);
      expect(await list('?revoked=true&role=staff')).toEqual(['k-gone', '']);
      expect(await list('?sort=hash;drop&dir=up')).toEqual(await list(''));
      // Two dialers tie on role: a page each, both held once; the pager keeps order and filter.
      const byRole = await Promise.all(
        [0, 1].map((o) => list(`?sort=role&dir=asc&role=dialer&limit=1&offset=${o}`)),
      );
      expect(new Set(byRole.flat())).toEqual(new Set(['k-dialer-a', 'k-dialer-b']));
      const body = await page(admin, '/console/api-keys?role=dialer&sort=label&dir=asc&limit=1');
      expect(body).toContain(
        'href="/console/api-keys?role=dialer&amp;sort=label&amp;dir=asc&amp;limit=1&amp;offset=1"',
      );
      expect(body).toContain('href="/console/api-keys?role=dialer&amp;sort=label&amp;dir=desc"');
      const none = await page(admin, '/console/api-keys?role=admin');
      expect(none).toContain('No API key matches this filter.');
      expect(none).not.toContain('<table id="api-keys"');
    });
  });

  describe('PBX audit trail', () => {
    it('API and console: newest first by default; by action, target or result either way; the order kept by the pager', async () => {
      const x = d.ctx.database.db;
      const at = (m: number) => new Date(Date.UTC(2026, 11, 1, 12, m));
      await x.insert(pbxAudit).values([
        { at: at(1), action: 'user.create', target: '1002', result: 'ok' },
        { at: at(2), action: 'apply', target: null, result: 'error' },
        { at: at(3), action: 'user.create', target: '1001', result: 'ok' },
      ]);
      const api = async (q: string) => {
        const r = await d.app.inject({
          method: 'GET',
          url: `/v1/pbx/audit?${q}`,
          headers: { 'x-api-key': staffKey },
        });
        expect(r.statusCode, r.body).toBe(200);
        return (r.json() as { items: Array<{ action: string; target: string | null }> }).items.map(
          (i) => `${i.action}:${i.target ?? ''}`,
        );
      };
      expect(await api('')).toEqual(['user.create:1001', 'apply:', 'user.create:1002']);
      expect(await api('sort=at')).toEqual(['user.create:1002', 'apply:', 'user.create:1001']);
      // Same action: the id breaks the tie in the same direction.
      expect(await api('sort=action&dir=desc')).toEqual(['user.create:1001', 'user.create:1002', 'apply:']);
      expect(await api('sort=target&dir=asc')).toEqual(['user.create:1001', 'user.create:1002', 'apply:']);
      const bad = await d.app.inject({
        method: 'GET',
        url: '/v1/pbx/audit?sort=detail',
        headers: { 'x-api-key': staffKey },
      });
      expect(bad.statusCode).toBe(400);

      const rows = (body: string) =>
        all(body, /<tr data-pbx-audit="\d+"><td>[^<]*<\/td><td>[^<]*<\/td><td>([^<]*)<\/td>/g);
      expect(rows(await page(staff, '/console/pbx/audit'))).toEqual(['user.create', 'apply', 'user.create']);
      expect(rows(await page(staff, '/console/pbx/audit?sort=result&dir=asc'))[0]).toBe('apply');
      const p1 = await page(staff, '/console/pbx/audit?sort=at&dir=asc&limit=1&action=user.create');
      expect(p1).toContain('<input type="hidden" name="sort" value="at">');
      expect(p1).toMatch(
        /href="\/console\/pbx\/audit\?action=user.create&amp;sort=at&amp;dir=asc&amp;limit=1&amp;offset=1"/,
      );
      expect(rows(await page(staff, '/console/pbx/audit?sort=nope'))).toEqual([
        'user.create',
        'apply',
        'user.create',
      ]);
    });
  });

  describe('DIDs', () => {
    // Filtered in the query by part of the number, seller, campaign, routed or not and the provider
    // account the number is held at, in the API and the page alike.
    const nums = async (key: string, q: string) => {
      const r = await api(key, `/v1/dids?${q}`);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      return r.body.items.map((i) => i.number);
    };
    let sales = '';
    let vonageA = '';

    beforeAll(async () => {
      const x = d.ctx.database.db;
      const [c] = await x.insert(campaigns).values({ name: 'sales', sellerId: ids.acme! }).returning();
      sales = c!.id;
      const at = (m: number) => new Date(Date.UTC(2026, 10, 1, 0, m));
      const made = await x
        .insert(dids)
        .values([
          { number: '+14155550101', sellerId: ids.acme!, campaignId: sales, createdAt: at(1) },
          { number: '+14155550102', sellerId: ids.acme!, campaignId: null, createdAt: at(2) },
          { number: '+12125550199', sellerId: ids.bolt!, campaignId: null, createdAt: at(3) },
        ])
        .returning();
      const [acc] = await x.select().from(providerAccounts).where(eq(providerAccounts.name, 'vonage-a'));
      vonageA = acc!.id;
      await x.insert(provisionedNumbers).values([
        {
          e164: '+14155550101',
          country: 'US',
          providerAccountId: vonageA,
          sellerId: ids.acme!,
          didId: made[0]!.id,
        },
        // Released: no longer held there.
        {
          e164: '+12125550199',
          country: 'US',
          providerAccountId: vonageA,
          sellerId: ids.bolt!,
          didId: made[2]!.id,
          status: 'released',
          releasedAt: at(4),
        },
      ]);
    });

    it('API: by part of the number, seller, campaign, routed, provider account; sorted; bad filters 400', async () => {
      expect(await nums(staffKey, '')).toEqual(['+12125550199', '+14155550102', '+14155550101']);
      expect(await nums(staffKey, 'sort=number')).toEqual(['+12125550199', '+14155550101', '+14155550102']);
      expect(await nums(staffKey, 'number=(415)%20555-01')).toEqual(['+14155550102', '+14155550101']);
      expect(await nums(staffKey, 'number=0199')).toEqual(['+12125550199']);
      expect(await nums(staffKey, `seller_id=${ids.bolt}`)).toEqual(['+12125550199']);
      expect(await nums(staffKey, 'routed=false&sort=number&dir=desc')).toEqual([
        '+14155550102',
        '+12125550199',
      ]);
      expect(await nums(staffKey, 'routed=true')).toEqual(['+14155550101']);
      expect(await nums(staffKey, `campaign_id=${sales}`)).toEqual(['+14155550101']);
      expect(await nums(staffKey, `provider_account_id=${vonageA}`)).toEqual(['+14155550101']);
      expect(await nums(staffKey, 'provider_account_id=manual')).toEqual(['+12125550199', '+14155550102']);
      // A seller key sees its own, whatever the seller filter names.
      expect(await nums(acmeKey, `seller_id=${ids.bolt}`)).toEqual(['+14155550102', '+14155550101']);
      const p = await api(staffKey, '/v1/dids?sort=number&limit=1&offset=1');
      expect([p.body.items.map((i) => i.number), p.body.total]).toEqual([['+14155550101'], 3]);
      for (const q of [
        'number=abc',
        'number=%25',
        'routed=maybe',
        'sort=rate',
        'provider_account_id=vonage',
        'seller_id=x',
      ]) {
        const r = await api(staffKey, `/v1/dids?${q}`);
        expect(r.status, q).toBe(400);
        expect((r.body as unknown as { error: { code: string } }).error.code, q).toBe('VALIDATION_FAILED');
      }
    });

    it('console: the filter form, kept by the headers and the pager; a seller user its own; no match said so', async () => {
      const rows = (body: string) => all(body, /<a href="\/console\/dids\/[0-9a-f-]+">([^<]+)<\/a>/g);
      expect(rows(await page(staff, '/console/dids'))).toEqual([
        '+12125550199',
        '+14155550102',
        '+14155550101',
      ]);
      const f = await page(staff, `/console/dids?number=415+555&routed=false&account=&seller_id=${ids.acme}`);
      expect(rows(f)).toEqual(['+14155550102']);
      expect(f).toContain('<option value="false" selected>nowhere</option>');
      expect(f).toContain(`<option value="${vonageA}">held at vonage-a</option>`);
      // The header keeps the filter.
      expect(f).toMatch(
        /href="\/console\/dids\?seller_id=[0-9a-f-]+&amp;routed=false&amp;number=415\+555&amp;sort=number&amp;dir=asc"/,
      );
      expect(rows(await page(staff, `/console/dids?account=${vonageA}`))).toEqual(['+14155550101']);
      expect(rows(await page(staff, '/console/dids?account=manual&sort=number&dir=asc'))).toEqual([
        '+12125550199',
        '+14155550102',
      ]);
      const p1 = await page(staff, '/console/dids?number=555&sort=number&dir=asc&limit=1');
      expect(rows(p1)).toEqual(['+12125550199']);
      expect(p1).toMatch(
        /href="\/console\/dids\?number=555&amp;sort=number&amp;dir=asc&amp;limit=1&amp;offset=1"/,
      );
      expect(await page(staff, '/console/dids?number=999999')).toContain('No DIDs match this filter.');
      // Choices the form does not offer are no filter; a number that is not one is the API's 400.
      expect(rows(await page(staff, '/console/dids?routed=maybe&account=x&seller_id=y'))).toHaveLength(3);
      const bad = await staff.get('/console/dids?number=four');
      expect(bad.statusCode).toBe(400);
      expect(bad.body).toContain('VALIDATION_FAILED');
      // A seller user: its own DIDs, no seller or account filter offered.
      const own = await page(seller, `/console/dids?seller_id=${ids.bolt}&account=manual`);
      expect(rows(own)).toEqual(['+14155550102', '+14155550101']);
      expect(own).not.toContain('name="seller_id"><option');
      expect(own).not.toContain('name="account"');
    });
  });

  describe('PBX users and endpoints', () => {
    // Read, ordered, filtered and paged in their queries (they were read whole and sliced in the
    // daemon): the API and the console page give the same rows.
    const apiOf = async (path: string, q: string) => {
      const r = await d.app.inject({
        method: 'GET',
        url: `${path}?${q}`,
        headers: { 'x-api-key': staffKey },
      });
      return { status: r.statusCode, json: r.json() as { items: Record<string, unknown>[]; total: number } };
    };
    const users = async (q: string) => {
      const r = await apiOf('/v1/pbx/users', q);
      expect(r.status, JSON.stringify(r.json)).toBe(200);
      return { exts: r.json.items.map((u) => u.extension), total: r.json.total };
    };
    const eps = async (q: string) => {
      const r = await apiOf('/v1/pbx/endpoints', q);
      expect(r.status, JSON.stringify(r.json)).toBe(200);
      return r.json.items.map((e) => e.endpoint);
    };

    beforeAll(async () => {
      const x = d.ctx.database.db;
      const made = await x
        .insert(pbxUsers)
        .values([
          { name: 'Sam Able', email: 'sam.a@pbx.test', extension: 1002 },
          { name: 'Ann Baker', email: 'ann@pbx.test', extension: 1010 },
          { name: 'Sam Able', email: 'sam.b@pbx.test', extension: 1001 },
          { name: 'Zed 100%', email: 'zed@other.test', extension: 2000 },
        ])
        .returning();
      const [zeta] = await x
        .insert(clients)
        .values({ name: 'zeta', endpoint: 'PJSIP/client-zeta' })
        .returning();
      await x.insert(pbxEndpoints).values([
        { endpoint: 'client-zeta', kind: 'client_ip', clientId: zeta!.id },
        { endpoint: 'trunk-acme', kind: 'seller_trunk', sellerId: ids.acme },
        { endpoint: 'a-bolt-trunk', kind: 'seller_trunk', sellerId: ids.bolt },
        { endpoint: '1010', kind: 'user', userId: made[1]!.id, username: '1010' },
      ]);
    });

    it('API: users by extension by default, by name with ties across pages, filtered by name, email or extension', async () => {
      expect(await users('')).toEqual({ exts: [1001, 1002, 1010, 2000], total: 4 });
      expect((await users('sort=extension&dir=desc')).exts).toEqual([2000, 1010, 1002, 1001]);
      expect((await users('sort=email')).exts).toEqual([1010, 1002, 1001, 2000]);
      // Two users named alike: one page at a time, every user once.
      const byName = await users('sort=name&dir=desc');
      const paged: unknown[] = [];
      for (let o = 0; o < 4; o++) paged.push(...(await users(`sort=name&dir=desc&limit=1&offset=${o}`)).exts);
      expect(paged).toEqual(byName.exts);
      expect([byName.exts[0], byName.exts[3]]).toEqual([2000, 1010]);
      expect(new Set(byName.exts.slice(1, 3))).toEqual(new Set([1001, 1002]));
      expect(await users('q=sam')).toEqual({ exts: [1001, 1002], total: 2 });
      expect((await users('q=PBX.TEST&sort=extension&dir=desc')).exts).toEqual([1010, 1002, 1001]);
      // The extension from its start: 10 is 1001-1010, not 2000 (whose name holds "100").
      expect((await users('q=101')).exts).toEqual([1010]);
      expect((await users('q=100%25')).exts).toEqual([2000]);
      expect((await users('q=_')).exts).toEqual([]);
      expect(await users('q=%20%20')).toEqual({ exts: [1001, 1002, 1010, 2000], total: 4 });
      expect((await users('q=sam&limit=1&offset=1')).exts).toEqual([1002]);
      for (const q of ['sort=password', 'dir=up', `q=${'x'.repeat(101)}`, 'limit=0', 'offset=-1']) {
        const r = await apiOf('/v1/pbx/users', q);
        expect(r.status, q).toBe(400);
        expect((r.json as unknown as { error: { code: string } }).error.code, q).toBe('VALIDATION_FAILED');
      }
    });

    it('API: endpoints by name by default, by whom they serve, filtered by kind and by name or owner', async () => {
      expect(await eps('')).toEqual(['1010', 'a-bolt-trunk', 'client-zeta', 'trunk-acme']);
      // "PBX user" < "client zeta" < "seller acme" < "seller bolt"
      expect(await eps('sort=owner')).toEqual(['1010', 'client-zeta', 'trunk-acme', 'a-bolt-trunk']);
      // The two trunks tie on their kind: their ids decide, either way round.
      const byKind = await eps('sort=kind&dir=desc');
      expect([byKind[0], byKind[3]]).toEqual(['1010', 'client-zeta']);
      expect(new Set(byKind.slice(1, 3))).toEqual(new Set(['trunk-acme', 'a-bolt-trunk']));
      expect(await eps('kind=seller_trunk&sort=endpoint&dir=desc')).toEqual(['trunk-acme', 'a-bolt-trunk']);
      expect(await eps('q=ACME')).toEqual(['trunk-acme']);
      expect(await eps('q=zeta')).toEqual(['client-zeta']);
      expect(await eps('q=pbx user')).toEqual(['1010']);
      expect(await eps('q=bolt&kind=client_ip')).toEqual([]);
      const p = await apiOf('/v1/pbx/endpoints', 'sort=owner&limit=2&offset=2');
      expect(p.json.items.map((e) => e.endpoint)).toEqual(['trunk-acme', 'a-bolt-trunk']);
      expect(p.json.total).toBe(4);
      for (const q of ['sort=owner_id', 'kind=phone', `q=${'x'.repeat(101)}`]) {
        const r = await apiOf('/v1/pbx/endpoints', q);
        expect(r.status, q).toBe(400);
        expect((r.json as unknown as { error: { code: string } }).error.code, q).toBe('VALIDATION_FAILED');
      }
    });

    it('console: each list filtered, sorted and paged on the server, each keeping the other', async () => {
      const userRows = (body: string) => all(body, /<tr data-extension="(\d+)">/g);
      const epRows = (body: string) => all(body, /<tr data-endpoint="([^"]+)">/g);
      const b = await page(staff, '/console/pbx');
      expect(userRows(b)).toEqual(['1001', '1002', '1010', '2000']);
      expect(epRows(b)).toEqual(['1010', 'a-bolt-trunk', 'client-zeta', 'trunk-acme']);
      expect(b).toContain('<td>seller acme</td>');
      const f = await page(
        staff,
        '/console/pbx?uq=sam&usort=extension&udir=desc&ulimit=1&q=trunk&sort=owner',
      );
      expect(userRows(f)).toEqual(['1002']);
      expect(epRows(f)).toEqual(['trunk-acme', 'a-bolt-trunk']);
      // The users' next page keeps both filters and both orders.
      expect(f).toMatch(
        /href="\/console\/pbx\?q=trunk&amp;sort=owner&amp;dir=asc&amp;limit=50&amp;offset=0&amp;uq=sam&amp;usort=extension&amp;udir=desc&amp;ulimit=1&amp;uoffset=1"/,
      );
      expect(
        userRows(await page(staff, '/console/pbx?uq=sam&usort=extension&udir=desc&ulimit=1&uoffset=1')),
      ).toEqual(['1001']);
      // A header of one list keeps the other's filter.
      expect(f).toMatch(/<a href="\/console\/pbx\?q=trunk&amp;sort=owner[^"]*uq=sam[^"]*usort=name/);
      const none = await page(staff, '/console/pbx?uq=nobody&kind=client_registration');
      expect(none).toContain('No PBX users match this filter.');
      expect(none).toContain('No endpoints match this filter.');
      // An unknown order or kind is the default, not an error page.
      const odd = await page(staff, '/console/pbx?usort=password&sort=secret&kind=phone');
      expect(userRows(odd)).toEqual(['1001', '1002', '1010', '2000']);
      expect(epRows(odd)).toEqual(['1010', 'a-bolt-trunk', 'client-zeta', 'trunk-acme']);
    });
  });

  describe('audit trail', () => {
    it('API and console: newest first by default, oldest first or by kind or action when asked', async () => {
      const r = await api(staffKey, '/v1/audit?limit=500');
      expect(r.status).toBe(200);
      const newest = r.body.items.map((a) => a.id as number);
      expect(newest.length).toBeGreaterThan(5);
      const oldest = (await api(staffKey, '/v1/audit?limit=500&sort=at&dir=asc')).body.items.map((a) => a.id);
      expect(oldest).toEqual([...newest].reverse());
      const byKind = (await api(staffKey, '/v1/audit?limit=500&sort=resource')).body.items.map(
        (a) => a.resource as string,
      );
      expect(byKind).toEqual([...byKind].sort());
      expect((await api(staffKey, '/v1/audit?sort=before')).status).toBe(400);

      const ids = (body: string) => all(body, /data-audit-id="(\d+)"/g).map(Number);
      expect(ids(await page(staff, '/console/audit?limit=200'))).toEqual(newest.slice(0, 200));
      expect(ids(await page(staff, '/console/audit?limit=200&sort=at&dir=asc'))).toEqual(
        oldest.slice(0, 200),
      );
      const filtered = await page(staff, '/console/audit?resource=buyer_group&sort=at&dir=asc');
      const groupIds = (await api(staffKey, '/v1/audit?resource=buyer_group&sort=at&dir=asc')).body.items.map(
        (a) => a.id,
      );
      expect(ids(filtered)).toEqual(groupIds);
      // The filter form keeps the order; the header of the current order links to the other one.
      expect(filtered).toContain('<input type="hidden" name="sort" value="at">');
      expect(filtered).toMatch(/href="\/console\/audit\?resource=buyer_group&amp;sort=at&amp;dir=desc"/);
      expect(ids(await page(staff, '/console/audit?sort=secret'))).toEqual(newest.slice(0, 50));
    });
  });

  describe("a seller's delete", () => {
    // Asked first on a page counting what names the seller; refused (as in the API, with the counts)
    // while anything must go first, else done with what goes with it.
    const del = async (id: string, form: Record<string, string> = {}) =>
      staff.post(`/console/sellers/${id}/delete`, { _csrf: await staff.csrf(), ...form });
    const sellerRow = async (id: string) =>
      (await d.ctx.database.db.select().from(sellers).where(eq(sellers.id, id))).length;

    it('one that still has campaigns, DIDs, a user, a key and a trunk: every count shown, nothing deleted, the API says the same', async () => {
      const x = d.ctx.database.db;
      // acme: the "sales" campaign with a link, two DIDs, a console user, a key, a trunk (above).
      const [cl] = await x
        .insert(clients)
        .values({ name: 'acme-centre', endpoint: 'PJSIP/acme-centre' })
        .returning();
      const [camp] = await x.select().from(campaigns).where(eq(campaigns.sellerId, ids.acme!));
      await x.insert(links).values({ campaignId: camp!.id, clientId: cl!.id });
      for (const form of [{}, { confirm: 'true' }] as Array<Record<string, string>>) {
        const r = await del(ids.acme!, form);
        expect(r.statusCode).toBe(409);
        const items = all(r.body, /<li>(.*?)<\/li>/gs).map((l) => l.replace(/<[^>]+>/g, ''));
        expect(items).toEqual([
          "1 campaign with 1 link: delete them or their links first (a campaign's delete lists its links and DIDs)",
          "2 DIDs: delete them (their calls keep the seller's name only while it exists)",
          '1 console user bound to it: delete them or bind them elsewhere',
          '1 API key not revoked: revoke them',
          "1 number held or once held at a carrier for it (the carrier's record)",
          '1 PBX trunk: delete them on the PBX page (that removes them from Asterisk too)',
        ]);
        expect(r.body).toContain(`href="/console/dids?seller_id=${ids.acme}"`);
        expect(r.body).toContain('Nothing was deleted.');
        expect(r.body).not.toContain('name="confirm"');
      }
      expect(await sellerRow(ids.acme!)).toBe(1);
      const api = await d.app.inject({
        method: 'DELETE',
        url: `/v1/sellers/${ids.acme}`,
        headers: { 'x-api-key': staffKey },
      });
      expect(api.statusCode).toBe(409);
      expect(api.json().error.code).toBe('IN_USE');
      expect(api.json().error.details.kept).toMatchObject({
        campaigns: 1,
        links: 1,
        dids: 2,
        console_users: 1,
        api_keys: 1,
        carrier_numbers: 1,
        pbx_trunks: 1,
      });
    });

    it('a seller kept only by a console user is refused with IN_USE (it was a foreign-key error)', async () => {
      const x = d.ctx.database.db;
      const [s] = await x.insert(sellers).values({ name: 'only-a-user' }).returning();
      const con = d.ctx.modules.get('console') as ConsoleModule;
      await con.services.users.create({
        email: 'u@only.test',
        password: PW,
        role: 'seller',
        seller_id: s!.id,
      });
      const api = await d.app.inject({
        method: 'DELETE',
        url: `/v1/sellers/${s!.id}`,
        headers: { 'x-api-key': staffKey },
      });
      expect(api.statusCode).toBe(409);
      expect(api.json().error).toMatchObject({ code: 'IN_USE', message: 'seller still has 1 console users' });
      expect(await sellerRow(s!.id)).toBe(1);
    });

    it('one with only its blocklist and a webhook: what goes with it listed, deleted once confirmed; a viewer cannot', async () => {
      const x = d.ctx.database.db;
      const [s] = await x.insert(sellers).values({ name: 'leaving' }).returning();
      await x.insert(callerBlocks).values([
        { sellerId: s!.id, number: '+15550001111' },
        { sellerId: s!.id, number: '+15550002222' },
      ]);
      await x
        .insert(webhookSubscriptions)
        .values({ url: 'https://l.example/h', sellerId: s!.id, events: ['job.completed'], secret: 'sealed' });
      const ask = await del(s!.id);
      expect(ask.statusCode).toBe(200);
      expect(ask.body).toContain('Deleting the seller also removes:');
      expect(all(ask.body, /<li>(.*?)<\/li>/g)).toEqual([
        '2 numbers on its blocklist',
        '1 webhook subscription',
      ]);
      expect(ask.body).toContain('<input type="hidden" name="confirm" value="true">');
      expect(await sellerRow(s!.id)).toBe(1);
      const done = await del(s!.id, { confirm: 'true' });
      expect(done.statusCode).toBe(303);
      expect(done.headers.location).toBe('/console/sellers?done=deleted');
      expect(await sellerRow(s!.id)).toBe(0);
      expect(await x.select().from(callerBlocks).where(eq(callerBlocks.sellerId, s!.id))).toEqual([]);

      const [bare] = await x.insert(sellers).values({ name: 'bare' }).returning();
      expect((await del(bare!.id)).body).toContain('Nothing else names this seller');
      const con = d.ctx.modules.get('console') as ConsoleModule;
      await con.services.users.create({ email: 'viewer@example.com', password: PW, role: 'viewer' });
      const viewer = await signedIn(d.app, '10.7.0.9', 'viewer@example.com', PW);
      const refused = await viewer.post(`/console/sellers/${bare!.id}/delete`, {
        _csrf: await viewer.csrf(),
        confirm: 'true',
      });
      expect(refused.statusCode).toBe(403);
      expect(await sellerRow(bare!.id)).toBe(1);
    });
  });
});
