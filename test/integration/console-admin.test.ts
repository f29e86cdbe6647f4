// The console's administration pages over their services on real PostgreSQL and Redis, driven
// through the daemon's app as a browser would: the audit log (filters, order, paging, who may read
// it), re-authentication before a user's role or disabled state changes, provider accounts and
// webhook subscriptions, and a caller-ID pool's VICIdial snippet.
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsoleModule, createConsoleModule } from '../../src/console/index.ts';
import { seal } from '../../src/console/totp.ts';
import { sellers } from '../../src/db/schema/routing.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { createProvisioningModule } from '../../src/provisioning/index.ts';
import { createRoutingModule } from '../../src/routing/index.ts';
import { Browser, signedIn } from '../helpers/console.ts';
import { freshDatabase, testConfig } from '../helpers/env.ts';

const log = createLogger({ level: 'silent' });
const PW = 'correct horse battery';

describe('console administration pages', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let d: Daemon;
  let con: ConsoleModule;
  const ids: Record<string, string> = {};
  let n = 0;
  const as = (email: string) => signedIn(d.app, `10.2.0.${++n}`, email, PW);

  beforeAll(async () => {
    db = await freshDatabase();
    d = await startDaemon(
      testConfig({ DATABASE_URL: db.url, WEBHOOK_ALLOW_PRIVATE: 'true' }),
      log,
      [createRoutingModule, createConsoleModule, (ctx) => createProvisioningModule(ctx)],
      {
        listen: false,
      },
    );
    con = d.ctx.modules.get('console') as ConsoleModule;
    const [s] = await d.ctx.database.db.insert(sellers).values({ name: 'acme' }).returning();
    ids.acme = s!.id;
    for (const [email, role] of [
      ['admin@example.com', 'admin'],
      ['staff@example.com', 'staff'],
      ['viewer@example.com', 'viewer'],
    ] as const)
      ids[email] = (await con.services.users.create({ email, password: PW, role })).id;
    await con.services.users.create({
      email: 'seller@acme.test',
      password: PW,
      role: 'seller',
      seller_id: s!.id,
    });
  });
  afterAll(async () => {
    await d?.stop();
    await db?.drop();
  });

  /** The audit ids of the audit table, in page order. */
  const auditIds = (body: string) => [...body.matchAll(/data-audit-id="(\d+)"/g)].map((m) => Number(m[1]));

  describe('audit log', () => {
    it('newest first, named by who made each change; filters by who, kind, entity, action and period; pages', async () => {
      const staff = await as('staff@example.com');
      const csrf = await staff.csrf();
      expect(
        (await staff.post('/console/sellers', { _csrf: csrf, name: 'alpha', active: 'on' })).statusCode,
      ).toBe(303);
      const [alpha] = await d.ctx.database.sql<{ id: string }[]>`select id from sellers where name = 'alpha'`;
      expect(
        (await staff.post(`/console/sellers/${alpha!.id}`, { _csrf: csrf, name: 'alpha two', active: 'on' }))
          .statusCode,
      ).toBe(303);

      const all = await staff.get('/console/audit');
      expect(all.statusCode).toBe(200);
      const rows = auditIds(all.body);
      // The seeded seller (made with no actor named: system), then the console's create and update.
      expect(rows).toHaveLength(3);
      expect([...rows].sort((a, b) => b - a)).toEqual(rows);
      expect(all.body).toContain('staff@example.com');
      expect(all.body).toMatch(/<code>name<\/code>: alpha → alpha two/);
      expect(all.body).toContain('href="/console/audit"');

      const by = async (q: string) => auditIds((await staff.get(`/console/audit?${q}`)).body);
      expect(await by(`who=console_user:${ids['staff@example.com']}`)).toEqual(rows.slice(0, 2));
      expect(await by('who=system')).toEqual(rows.slice(2));
      expect(await by('resource=seller&action=update')).toEqual(rows.slice(0, 1));
      expect(await by('action=delete')).toEqual([]);
      expect(await by(`resource=seller&resource_id=${ids.acme}`)).toEqual(rows.slice(2));
      const today = new Date().toISOString().slice(0, 10);
      const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
      const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
      expect(await by(`from=${today}&to=${today}`)).toEqual(rows);
      expect(await by(`from=${tomorrow}`)).toEqual([]);
      expect(await by(`to=${yesterday}`)).toEqual([]);

      // One a page: the second page holds the second newest, and the pager says where it is (and keeps
      // the order).
      const p2 = await staff.get('/console/audit?limit=1&offset=1&resource=seller');
      expect(auditIds(p2.body)).toEqual(rows.slice(1, 2));
      expect(p2.body).toContain('2–2 of 3');
      expect(p2.body).toContain(
        'href="/console/audit?resource=seller&amp;sort=at&amp;dir=desc&amp;limit=1&amp;offset=2"',
      );
      // The filter's choices: the kinds and the actors that have records.
      expect(all.body).toContain(
        `<option value="console_user:${ids['staff@example.com']}">staff@example.com (console user)</option>`,
      );
      expect(all.body).toContain('<option>seller</option>');

      // A bad filter is the API's 400, as /v1/audit answers it.
      for (const bad of ['who=nobody', 'from=2026-13-45', 'action=erase']) {
        const r = await staff.get(`/console/audit?${bad}`);
        expect(r.statusCode, bad).toBe(400);
        expect(r.body).toContain('VALIDATION_FAILED');
      }
    });

    it('viewers read it; seller users neither see it in the menu nor reach it (the API gives it to staff only)', async () => {
      expect((await (await as('viewer@example.com')).get('/console/audit')).statusCode).toBe(200);
      const seller = await as('seller@acme.test');
      const live = await seller.get('/console/live');
      expect(live.statusCode).toBe(200);
      expect(live.body).not.toContain('href="/console/audit"');
      const r = await seller.get('/console/audit');
      expect(r.statusCode).toBe(403);
      expect(r.body).not.toContain('data-audit-id');
    });
  });

  describe('re-authentication before changing who may do what', () => {
    const target = async (email: string, role: 'staff' | 'viewer' = 'staff') => {
      const u = await con.services.users.create({ email, password: PW, role });
      // Signed in somewhere, so a change that ends its sessions shows.
      await as(email);
      expect(await con.services.sessions.list(u.id)).toHaveLength(1);
      return u;
    };

    it('a role change or disabling needs the admin’s password; refused, nothing changes and the attempt counts', async () => {
      const u = await target('roles@example.com');
      const admin = await as('admin@example.com');
      const _csrf = await admin.csrf();
      const form = await admin.get(`/console/users/${u.id}`);
      expect(form.body).toMatch(
        /action="\/console\/users\/[^"]+"[^>]*>[\s\S]*name="reauth_password"[\s\S]*Save/,
      );
      for (const extra of [{}, { reauth_password: 'not my password' }] as Record<string, string>[]) {
        for (const change of [{ role: 'viewer' }, { role: 'staff', disabled: 'on' }] as Record<
          string,
          string
        >[]) {
          const r = await admin.post(`/console/users/${u.id}`, { _csrf, ...change, ...extra });
          expect(r.statusCode).toBe(403);
          expect(r.body).toContain('REAUTH_FAILED');
        }
      }
      const still = (await con.services.users.repo.byId(u.id))!;
      expect(still.role).toBe('staff');
      expect(still.disabledAt).toBeNull();
      expect(await con.services.sessions.list(u.id)).toHaveLength(1);
      // Each refusal counted as a failed sign-in from this browser: with three free failures, the
      // right password is now made to wait.
      const lockout = con.services.lockout;
      const policies = lockout.policies;
      lockout.policies = { ...policies, device: { ...policies.device, free: 3 } };
      const slowed = await admin.post(`/console/users/${u.id}`, {
        _csrf,
        role: 'viewer',
        reauth_password: PW,
      });
      lockout.policies = policies;
      expect(slowed.statusCode).toBe(429);
      expect(slowed.body).toContain('AUTH_RATE_LIMITED');
      expect((await con.services.users.repo.byId(u.id))!.role).toBe('staff');
      await lockout.clearAccount('admin@example.com');

      const ok = await admin.post(`/console/users/${u.id}`, { _csrf, role: 'viewer', reauth_password: PW });
      expect(ok.statusCode).toBe(303);
      expect((await con.services.users.repo.byId(u.id))!.role).toBe('viewer');
      expect(await con.services.sessions.list(u.id)).toHaveLength(0);
      const off = await admin.post(`/console/users/${u.id}`, {
        _csrf,
        role: 'viewer',
        disabled: 'on',
        reauth_password: PW,
      });
      expect(off.statusCode).toBe(303);
      expect((await con.services.users.repo.byId(u.id))!.disabledAt).not.toBeNull();
      // The form sent back as it stands changes nothing and asks nothing.
      const same = await admin.post(`/console/users/${u.id}`, { _csrf, role: 'viewer', disabled: 'on' });
      expect(same.statusCode).toBe(303);
    });

    it('deleting a user needs it too; with TOTP on, the password alone is not enough', async () => {
      const u = await target('gone@example.com', 'viewer');
      const secret = new Secret();
      const totp = new TOTP({ secret });
      const a = await con.services.users.create({
        email: 'totp-admin@example.com',
        password: PW,
        role: 'admin',
      });
      await con.services.users.repo.update(a.id, {
        totpSecret: seal(con.services.config.masterKey, secret.base32),
      });
      const b = new Browser(d.app, '10.2.9.1');
      await b.signIn('totp-admin@example.com', PW);
      expect((await b.post('/console/sign-in/totp', { code: totp.generate() })).statusCode).toBe(303);
      const _csrf = await b.csrf();
      expect((await b.get(`/console/users/${u.id}`)).body).toContain('name="reauth_code"');
      for (const extra of [{}, { reauth_password: PW }] as Record<string, string>[]) {
        const r = await b.post(`/console/users/${u.id}/delete`, { _csrf, confirm: 'yes', ...extra });
        expect(r.statusCode).toBe(403);
        expect(r.body).toContain('REAUTH_FAILED');
      }
      const r = await b.post(`/console/users/${u.id}`, { _csrf, role: 'staff', reauth_password: PW });
      expect(r.statusCode).toBe(403);
      expect((await con.services.users.repo.byId(u.id))!.role).toBe('viewer');
      const ok = await b.post(`/console/users/${u.id}/delete`, {
        _csrf,
        confirm: 'yes',
        reauth_password: PW,
        reauth_code: totp.generate({ timestamp: Date.now() + 30_000 }),
      });
      expect(ok.statusCode).toBe(303);
      expect(await con.services.users.repo.byId(u.id)).toBeNull();
      expect(await con.services.sessions.list(u.id)).toHaveLength(0);
    });
  });

  describe('provider accounts and webhooks', () => {
    it('accounts: admins change them, staff and viewers look, sellers have none; credentials never on a page', async () => {
      const admin = await as('admin@example.com');
      const _csrf = await admin.csrf();
      const form = {
        _csrf,
        name: 'carrier-one',
        provider: 'vonage',
        rest_url: 'https://rest.example.test',
        api_url: 'https://api.example.test',
        api_key: 'key-one',
        api_secret: 'secret-never-shown',
        use_subaccounts: 'on',
      };
      const bad = await admin.post('/console/numbers/accounts', { ...form, rate_per_s: '500' });
      expect(bad.statusCode).toBe(400);
      expect(bad.body).toContain('VALIDATION_FAILED');
      const made = await admin.post('/console/numbers/accounts', form);
      expect(made.statusCode).toBe(303);
      const page = await admin.get(String(made.headers.location));
      expect(page.statusCode).toBe(200);
      expect(page.body).not.toContain('secret-never-shown');
      expect(page.body).not.toContain('key-one');
      const id = /\/console\/numbers\/accounts\/([0-9a-f-]{36})/.exec(String(made.headers.location))![1]!;
      // Key and secret change together, as in the API.
      const half = await admin.post(`/console/numbers/accounts/${id}/credentials`, {
        _csrf,
        api_key: 'key-two',
      });
      expect(half.statusCode).toBe(400);
      expect(await admin.post(`/console/numbers/accounts/${id}`, { _csrf, rate_per_s: '5' })).toHaveProperty(
        'statusCode',
        303,
      );
      const [row] = await d.ctx.database.sql<{ rate_per_s: number; use_subaccounts: boolean }[]>`
        select rate_per_s, use_subaccounts from provider_accounts where id = ${id}`;
      expect(row).toEqual({ rate_per_s: 5, use_subaccounts: false });

      const staff = await as('staff@example.com');
      const list = await staff.get('/console/numbers/accounts');
      expect(list.body).toContain('carrier-one');
      expect(list.body).not.toContain('account-form');
      expect(
        (await staff.post('/console/numbers/accounts', { ...form, _csrf: await staff.csrf(), name: 'x' }))
          .statusCode,
      ).toBe(403);
      expect(
        (await staff.post(`/console/numbers/accounts/${id}/delete`, { _csrf: await staff.csrf() }))
          .statusCode,
      ).toBe(403);
      expect((await (await as('viewer@example.com')).get('/console/numbers/accounts')).statusCode).toBe(200);
      expect((await (await as('seller@acme.test')).get('/console/numbers/accounts')).statusCode).toBe(403);
      // Disabled and enabled again by admins only, through the API's schema; the audit log names who.
      expect(
        (
          await staff.post(`/console/numbers/accounts/${id}/state`, {
            _csrf: await staff.csrf(),
            active: 'false',
          })
        ).statusCode,
      ).toBe(403);
      expect(
        (await admin.post(`/console/numbers/accounts/${id}/state`, { _csrf, active: 'maybe' })).statusCode,
      ).toBe(400);
      expect(
        (await admin.post(`/console/numbers/accounts/${id}/state`, { _csrf, active: 'false' })).statusCode,
      ).toBe(303);
      const off = await admin.get(`/console/numbers/accounts/${id}`);
      expect(off.body).toMatch(/id="account-state"><strong class="bad">disabled/);
      expect(off.body).toContain('Enable account');
      expect((await staff.get('/console/numbers/accounts')).body).toMatch(
        /data-account="carrier-one">.*disabled/s,
      );
      // The numbers page offers it no more for searches; a search sent anyway is refused.
      expect((await admin.get('/console/numbers')).body).toMatch(
        /value="[^"]+" disabled>carrier-one \(disabled\)/,
      );
      const search = await admin.get(`/console/numbers/search?provider_account_id=${id}&country=US&npa=415`);
      expect(search.statusCode).toBe(409);
      expect(search.body).toContain('is disabled: enable it first');
      const audit = await admin.get('/console/audit?resource=provider_account');
      expect(audit.body).toContain('carrier-one');
      expect(audit.body).toContain('admin@example.com');
      expect(audit.body).not.toMatch(/v1\./);
      expect(
        (await admin.post(`/console/numbers/accounts/${id}/state`, { _csrf, active: 'true' })).statusCode,
      ).toBe(303);
      expect((await admin.get(`/console/numbers/accounts/${id}`)).body).toContain('Disable account');
      expect((await admin.post(`/console/numbers/accounts/${id}/delete`, { _csrf })).statusCode).toBe(303);
      expect(await d.ctx.database.sql`select 1 from provider_accounts where id = ${id}`).toHaveLength(0);
    });

    it('webhooks: a seller’s are its own whatever the form says; viewers change nothing; no change without CSRF', async () => {
      const staff = await as('staff@example.com');
      const s1 = await staff.post('/console/numbers/webhooks', {
        _csrf: await staff.csrf(),
        url: 'http://127.0.0.1:9/all',
        events: 'job.completed',
      });
      expect(s1.statusCode).toBe(201);
      expect(s1.body).toMatch(/data-testid="webhook-secret">whsec_/);
      const seller = await as('seller@acme.test');
      const _csrf = await seller.csrf();
      const [other] = await d.ctx.database.db.insert(sellers).values({ name: 'other-hooks' }).returning();
      const mine = await seller.post('/console/numbers/webhooks', {
        _csrf,
        url: 'http://127.0.0.1:9/acme',
        events: 'number.provisioned',
        seller_id: other!.id,
      });
      expect(mine.statusCode).toBe(201);
      const rows = await d.ctx.database.sql<{ id: string; url: string; seller_id: string | null }[]>`
        select id, url, seller_id from webhook_subscriptions order by created_at`;
      expect(rows.map((r) => [r.url, r.seller_id])).toEqual([
        ['http://127.0.0.1:9/all', null],
        ['http://127.0.0.1:9/acme', ids.acme],
      ]);
      const list = await seller.get('/console/numbers/webhooks');
      expect(list.body).toContain('127.0.0.1:9/acme');
      expect(list.body).not.toContain('127.0.0.1:9/all');
      // Another seller's (or every seller's) subscription is not there for it.
      const all = rows[0]!.id;
      expect((await seller.get(`/console/numbers/webhooks/${all}`)).statusCode).toBe(404);
      expect((await seller.post(`/console/numbers/webhooks/${all}/test`, { _csrf })).statusCode).toBe(404);
      expect((await seller.post(`/console/numbers/webhooks/${all}/delete`, { _csrf })).statusCode).toBe(404);
      // Not a URL, or no event: the API's refusal.
      const bad = await seller.post('/console/numbers/webhooks', {
        _csrf,
        url: 'not a url',
        events: 'job.completed',
      });
      expect(bad.statusCode).toBe(400);
      expect(
        (await seller.post('/console/numbers/webhooks', { _csrf, url: 'http://127.0.0.1:9/none' }))
          .statusCode,
      ).toBe(400);

      // Paused and resumed by its owner, as PATCH /v1/webhooks/{id} does; not by another seller.
      const mineId = rows[1]!.id;
      expect(
        (await seller.post(`/console/numbers/webhooks/${all}/active`, { _csrf, active: 'false' })).statusCode,
      ).toBe(404);
      const pause = await seller.post(`/console/numbers/webhooks/${mineId}/active`, {
        _csrf,
        active: 'false',
        back: 'list',
      });
      expect(pause.statusCode).toBe(303);
      expect(pause.headers.location).toBe('/console/numbers/webhooks?done=saved');
      expect((await seller.get('/console/numbers/webhooks')).body).toMatch(
        /<td><strong>no<\/strong>.*resume/s,
      );
      expect((await seller.get(`/console/numbers/webhooks/${mineId}`)).body).toContain('no: paused');
      expect(
        (await seller.post(`/console/numbers/webhooks/${mineId}/active`, { _csrf, active: 'true' })).headers
          .location,
      ).toBe(`/console/numbers/webhooks/${mineId}?done=saved`);
      const [state] = await d.ctx.database.sql<
        { active: boolean }[]
      >`select active from webhook_subscriptions where id = ${mineId}`;
      expect(state!.active).toBe(true);

      const viewer = await as('viewer@example.com');
      expect((await viewer.get(`/console/numbers/webhooks/${all}`)).body).not.toContain('webhook-test');
      expect(
        (
          await viewer.post(`/console/numbers/webhooks/${all}/active`, {
            _csrf: await viewer.csrf(),
            active: 'false',
          })
        ).statusCode,
      ).toBe(403);
      expect(
        (await seller.post(`/console/numbers/webhooks/${mineId}/active`, { active: 'false' })).statusCode,
      ).toBe(403);
      expect(
        (await viewer.post(`/console/numbers/webhooks/${all}/test`, { _csrf: await viewer.csrf() }))
          .statusCode,
      ).toBe(403);
      expect((await staff.post(`/console/numbers/webhooks/${all}/delete`, {})).statusCode).toBe(403);
      expect(await d.ctx.database.sql`select 1 from webhook_subscriptions`).toHaveLength(2);
      expect(
        (await staff.post(`/console/numbers/webhooks/${all}/delete`, { _csrf: await staff.csrf() }))
          .statusCode,
      ).toBe(303);
      expect(await d.ctx.database.sql`select 1 from webhook_subscriptions`).toHaveLength(1);
    });
  });
});
