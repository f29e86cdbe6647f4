// The console's administration pages in a real headless Chromium against a daemon on real PostgreSQL
// and Redis: the audit log, re-authentication before a user's role or state changes, Numbers (against
// the project's fake carrier), API keys, provider accounts and webhooks, a pool's VICIdial snippet.
// Screenshots go to test-results/console/ like the other browser tests'.
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsoleModule, createConsoleModule } from '../../src/console/index.ts';
import { sellers } from '../../src/db/schema/routing.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { createCallerIdModule } from '../../src/callerid/index.ts';
import { createProvisioningModule, type ProvisioningModule } from '../../src/provisioning/index.ts';
import { FakeCarrier } from '../../src/provisioning/providers/fake/server.ts';
import { SIGNATURE_HEADER, verify } from '../../src/provisioning/webhooks/sign.ts';
import { createRoutingModule } from '../../src/routing/index.ts';
import { type Chromium, launchChromium } from '../helpers/chromium.ts';
import { signInPage } from '../helpers/console.ts';
import { freshDatabase, testConfig } from '../helpers/env.ts';

const log = createLogger({ level: 'silent' });
const PW = 'correct horse battery';
/** Generous: the browser waits on what the page shows, never on the clock; this only bounds a hang. */
const T = { timeout: 60_000 };

describe('the console’s administration pages in a browser', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let d: Daemon;
  let con: ConsoleModule;
  let ui: Chromium;
  let base: string;
  const fake = new FakeCarrier({ apiKey: 'vkey0001', apiSecret: 'vonage-Secret-77', inventoryPerNpa: 6 });
  const prov = () => (d.ctx.modules.get('provisioning') as ProvisioningModule).service;
  // A webhook receiver on loopback: every request it gets, with its signature header.
  const received: Array<{ body: string; signature: string }> = [];
  let receiver: Server;
  let receiverUrl: string;

  beforeAll(async () => {
    // The browser starts while the database, the carrier and the daemon do.
    const launching = launchChromium();
    launching.catch(() => {}); // its failure is met where it is awaited, not as an unhandled one
    db = await freshDatabase();
    await fake.listen();
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push({ body, signature: String(req.headers[SIGNATURE_HEADER] ?? '') });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hooks`;
    d = await startDaemon(
      testConfig({ DATABASE_URL: db.url, API_HOST: '127.0.0.1', WEBHOOK_ALLOW_PRIVATE: 'true' }),
      log,
      [
        createRoutingModule,
        (ctx) => createCallerIdModule(ctx),
        createConsoleModule,
        (ctx) => createProvisioningModule(ctx),
      ],
    );
    base = d.address.replace('[::1]', '127.0.0.1');
    con = d.ctx.modules.get('console') as ConsoleModule;
    const [acme] = await d.ctx.database.db.insert(sellers).values({ name: 'acme' }).returning();
    await d.ctx.database.db.insert(sellers).values({ name: 'other' });
    await con.services.users.create({ email: 'admin@example.com', password: PW, role: 'admin' });
    await con.services.users.create({ email: 'staff@example.com', password: PW, role: 'staff' });
    await con.services.users.create({
      email: 'seller@acme.test',
      password: PW,
      role: 'seller',
      seller_id: acme!.id,
    });
    ui = await launching;
  });
  afterAll(async () => {
    await ui?.close();
    await d?.stop();
    await fake.close();
    receiver?.close();
    await db?.drop();
  });

  const signIn = async (email: string) => {
    await ui.context.clearCookies();
    // Signed in to a quiet page: the live floor would open its stream only for the test to leave it.
    await signInPage(ui.page, base, email, PW, '/console/account');
  };

  it('audit log: changes made in the pages are listed newest first with who made them, filtered and paged', async () => {
    const { page } = ui;
    await signIn('admin@example.com');
    // Two changes through the pages: a seller made, then renamed.
    await page.click('nav a[href="/console/sellers"]');
    await page.fill('form[action="/console/sellers"] input[name=name]', 'browser-seller');
    await page.click('form[action="/console/sellers"] button[type=submit]');
    await page.getByText('Created.').waitFor(T);
    const edit = page.locator('form:has(input[name=name][value="browser-seller"])');
    await edit.locator('input[name=name]').fill('browser-seller-renamed');
    await edit.locator('button[type=submit]').click();
    await page.getByText('Saved.').waitFor(T);

    await page.click('nav a[href="/console/audit"]');
    const rows = page.locator('#audit tbody tr');
    await rows.first().waitFor(T);
    expect(await rows.count()).toBe(4);
    // Newest first: the rename, then the creation, then the seeded sellers (no actor: system).
    expect(await rows.nth(0).textContent()).toContain('browser-seller → browser-seller-renamed');
    expect(await rows.nth(0).textContent()).toContain('admin@example.com');
    expect(await rows.nth(1).textContent()).toContain('create');
    expect(await rows.nth(2).textContent()).toContain('system');
    expect(await rows.nth(3).textContent()).toContain('system');
    await ui.shot('audit');

    // Who, kind and action from the form's choices: the admin's updates of sellers only.
    await page.selectOption('#audit-filter select[name=who]', { label: 'admin@example.com (console user)' });
    await page.selectOption('#audit-filter select[name=resource]', 'seller');
    await page.selectOption('#audit-filter select[name=action]', 'update');
    await page.click('#audit-filter button[type=submit]');
    await page.waitForURL(/action=update/, T);
    expect(await rows.count()).toBe(1);
    // The entity's link lists every record of that seller: its creation and its rename.
    await rows.first().locator('td:nth-child(4) a').click();
    await page.waitForURL(/resource_id=/, T);
    expect(await rows.count()).toBe(2);
    expect(await page.inputValue('#audit-filter input[name=resource_id]')).toMatch(/^[0-9a-f-]{36}$/);
    // Oldest first by the When header (the server's order, the filter kept): the creation, then the rename.
    await page.click('#audit thead a:has-text("When")');
    await page.waitForURL(/resource_id=.*sort=at&dir=asc/, T);
    expect(await rows.nth(0).textContent()).toContain('create');
    expect(await rows.nth(1).textContent()).toContain('browser-seller → browser-seller-renamed');
    // A period that holds nothing.
    await page.fill('#audit-filter input[name=to]', '2020-01-01');
    await page.click('#audit-filter button[type=submit]');
    await page.getByText('No audit records match.').waitFor(T);
    // One a page: the pager walks them.
    await page.goto(`${base}/console/audit?limit=1`);
    await page.getByText('1–1 of 4').waitFor(T);
    await page.click('.pager a:has-text("next")');
    await page.getByText('2–2 of 4').waitFor(T);
    expect(await rows.first().textContent()).toContain('create');
    expect(ui.problems).toEqual([]);
  });

  it('users: a role change and disabling ask for the admin’s password again', async () => {
    const { page } = ui;
    await signIn('admin@example.com');
    await page.click('nav a[href="/console/users"]');
    await page.click('table tr:has-text("staff@example.com") a:has-text("Edit")');
    const form = page.locator('form:has(select[name=role])');
    await form.locator('select[name=role]').selectOption('viewer');
    await form.locator('input[name=reauth_password]').fill('not my password');
    await form.locator('button[type=submit]').click();
    await page.getByText('REAUTH_FAILED').waitFor(T);
    await page.goBack();
    await form.locator('select[name=role]').selectOption('viewer');
    await form.locator('input[name=reauth_password]').fill(PW);
    await ui.shot('user-edit');
    await form.locator('button[type=submit]').click();
    await page.getByText('Saved.').waitFor(T);
    expect(await form.locator('select[name=role]').inputValue()).toBe('viewer');
    await form.locator('input[name=disabled]').check();
    await form.locator('input[name=reauth_password]').fill(PW);
    await form.locator('button[type=submit]').click();
    await page.getByText('Saved.').waitFor(T);
    await page.click('nav a[href="/console/users"]');
    expect(await page.locator('table tr:has-text("staff@example.com")').textContent()).toContain('disabled');

    // The list sorts and filters on the server: by email going down, then the disabled ones only.
    const rows = page.locator('#users-list tbody tr');
    await page.click('#users-list th a:has-text("Email")');
    await page.locator('#users-list th[aria-sort=descending]', { hasText: 'Email' }).waitFor(T);
    expect(await rows.first().getAttribute('data-user')).toBe('staff@example.com');
    await page.selectOption('#user-filters select[name=state]', 'disabled');
    await page.click('#user-filters button[type=submit]');
    await page.waitForURL(/state=disabled/, T);
    expect(await rows.evaluateAll((trs) => trs.map((t) => t.getAttribute('data-user')))).toEqual([
      'staff@example.com',
    ]);
    // The order chosen is kept by the filter form.
    expect(new URL(page.url()).searchParams.get('dir')).toBe('desc');
    await ui.shot('users-filtered');
    await page.fill('#user-filters input[name=email]', 'nobody');
    await page.click('#user-filters button[type=submit]');
    await page.getByText('No users match this filter.').waitFor(T);
    expect(ui.problems).toEqual([]);
  });

  it('audit log: a seller user has no audit log (the API gives it to staff only)', async () => {
    const { page } = ui;
    await signIn('seller@acme.test');
    expect(await page.locator('nav[aria-label=main]').textContent()).not.toContain('Audit');
    expect((await page.goto(`${base}/console/audit`))!.status()).toBe(403);
    expect(await page.locator('#audit').count()).toBe(0);
    expect(ui.problems).toEqual([]);
  });

  it('numbers: search an area code, buy for a seller with a progress bar, release after confirming; a seller sees its own', async () => {
    const { page } = ui;
    const account = await prov().createAccount(
      {
        name: 'vonage-main',
        provider: 'vonage',
        rest_url: fake.url,
        api_url: fake.url,
        api_key: 'vkey0001',
        api_secret: 'vonage-Secret-77',
      },
      null,
    );
    await signIn('admin@example.com');
    const dialogs: string[] = [];
    const accept = (dl: import('playwright-core').Dialog) => {
      dialogs.push(dl.message());
      void dl.accept();
    };
    page.on('dialog', accept);
    try {
      await page.click('nav a[href="/console/numbers"]');
      await page.getByText('No numbers yet.').waitFor(T);
      await page.selectOption('#number-search select[name=provider_account_id]', account.id);
      await page.fill('#number-search input[name=npa]', '415');
      await page.click('#number-search button[type=submit]');
      await page.getByText('6 number(s) for sale in 415').waitFor(T);
      expect(await page.locator('#search-results tbody tr').count()).toBeGreaterThan(0);
      await page.selectOption('#number-buy select[name=seller_id]', { label: 'acme' });
      await page.fill('#number-buy input[name=count]', '2');
      await page.click('#number-buy button[type=submit]');
      // The job's page follows it (it reloads itself until the job has completed).
      await page.locator('#job-status[data-status=completed]').waitFor(T);
      expect(await page.locator('#job-status progress').getAttribute('value')).toBe('2');
      expect(await page.locator('#job-items tbody tr').count()).toBe(2);
      await ui.shot('numbers-job');
      await page.click('main a[href="/console/numbers"]');
      const rows = page.locator('#numbers tbody tr');
      await rows.first().waitFor(T);
      expect(await rows.count()).toBe(2);
      expect(await rows.first().textContent()).toContain('acme');
      expect(await page.locator('#jobs tbody tr').first().textContent()).toContain('completed');
      await ui.shot('numbers');
      const number = (await rows.first().getAttribute('data-number'))!;
      // Release asks first, then runs as a job.
      await rows.first().locator('button:has-text("Release")').click();
      await page.locator('#job-status[data-status=completed]').waitFor(T);
      expect(dialogs).toEqual([
        'Buy these numbers? The carrier charges for them.',
        `Release ${number}? It goes back to the carrier and its DID stops routing.`,
      ]);
      expect(await prov().repo.liveNumber(number)).toBeNull();
      await page.click('main a[href="/console/numbers"]');
      await page.locator(`#numbers tr[data-number="${number}"]`, { hasText: 'released' }).waitFor(T);
    } finally {
      page.off('dialog', accept);
    }
    // Another seller's number, bought through the service: the seller user sees its own only.
    const [own] = (
      await prov().repo.listNumbers({ sellerId: null, status: 'owned' }, { limit: 5, offset: 0 })
    ).items;
    const otherId = (
      await d.ctx.database.sql<{ id: string }[]>`select id from sellers where name = 'other'`
    )[0]!.id;
    const body = {
      provider_account_id: account.id,
      seller_id: otherId,
      country: 'US',
      items: [{ npa: '212', count: 1 }],
    };
    const { job } = await prov().createJob(
      { kind: 'provision', accountId: account.id, sellerId: otherId, keyId: null, idem: null },
      { kind: 'provision', body },
      [{ npa: '212', country: 'US' }],
    );
    expect((await prov().waitJob(job.id, 60_000)).status).toBe('completed');
    const [theirs] = (
      await prov().repo.listNumbers({ sellerId: otherId, status: 'owned' }, { limit: 5, offset: 0 })
    ).items;
    await signIn('seller@acme.test');
    await page.click('nav a[href="/console/numbers"]');
    await page.locator(`#numbers tr[data-number="${own!.e164}"]`).waitFor(T);
    expect(await page.locator('#number-search').count()).toBe(0);
    expect(await page.locator('#numbers button:has-text("Release")').count()).toBe(0);
    const text = await page.locator('main').textContent();
    expect(text).not.toContain(theirs!.e164);
    expect(text).not.toContain(job.id.slice(0, 8));
    await ui.shot('numbers-seller');
    expect(ui.problems).toEqual([]);
  });

  it('API keys: a new key is shown once and works; revoked after confirming, it stops', async () => {
    const { page } = ui;
    const whoami = (key: string) => fetch(`${base}/v1/whoami`, { headers: { 'x-api-key': key } });
    await signIn('admin@example.com');
    await page.click('nav a[href="/console/api-keys"]');
    await page.getByText('No API keys.').waitFor(T);
    const form = page.locator('#api-key-form');
    await form.locator('select[name=role]').selectOption('seller');
    await form.locator('select[name=seller_id]').selectOption({ label: 'acme' });
    await form.locator('input[name=label]').fill('browser-dialer');
    await form.locator('input[name=allow_ips]').fill('127.0.0.1/32, ::1');
    // A wrong password first: refused, no key made.
    await form.locator('input[name=reauth_password]').fill('not my password');
    await form.locator('button[type=submit]').click();
    await page.getByText('REAUTH_FAILED').waitFor(T);
    await page.goBack();
    await form.locator('select[name=role]').selectOption('seller');
    await form.locator('select[name=seller_id]').selectOption({ label: 'acme' });
    await form.locator('input[name=label]').fill('browser-dialer');
    await form.locator('input[name=reauth_password]').fill(PW);
    await form.locator('button[type=submit]').click();
    const shown = page.locator('[data-testid=api-key]');
    await shown.waitFor(T);
    const key = (await shown.textContent())!.trim();
    expect(key).toMatch(/^cc_/);
    await ui.shot('api-key-created');
    expect(await (await whoami(key)).json()).toMatchObject({ role: 'seller' });

    await page.click('main a[href="/console/api-keys"]');
    const row = page.locator('#api-keys tbody tr', { hasText: 'browser-dialer' });
    await row.waitFor(T);
    expect(await page.content()).not.toContain(key);
    expect(await page.locator('#api-keys tbody tr').count()).toBe(1);
    await ui.shot('api-keys');
    let asked = '';
    page.once('dialog', (dl) => {
      asked = dl.message();
      void dl.accept();
    });
    await row.locator('button:has-text("Revoke")').click();
    await page.getByText('Revoked.').waitFor(T);
    expect(asked).toContain('Revoke key browser-dialer?');
    expect((await whoami(key)).status).toBe(401);
    // Revoked keys are hidden until asked for.
    expect(await page.locator('#api-keys').count()).toBe(0);
    await page.check('#key-filters input[name=revoked]');
    await page.click('#key-filters button[type=submit]');
    await row.waitFor(T);
    expect(await row.locator('button:has-text("Revoke")').count()).toBe(0);
    expect(ui.problems).toEqual([]);
  });

  it('provider accounts: credentials go in and never come out; the carrier’s 403 "unprovisioned" says what to do', async () => {
    const { page } = ui;
    await signIn('admin@example.com');
    const accept = (dl: import('playwright-core').Dialog) => void dl.accept();
    page.on('dialog', accept);
    try {
      await page.click('nav a[href="/console/numbers"]');
      await page.click('nav.tabs a:has-text("Provider accounts")');
      const form = page.locator('#account-form');
      await form.locator('input[name=name]').fill('fake-carrier');
      await form.locator('input[name=rest_url]').fill(fake.url);
      await form.locator('input[name=api_url]').fill(fake.url);
      await form.locator('input[name=api_key]').fill('vkey0001');
      await form.locator('input[name=api_secret]').fill('vonage-Secret-77');
      await form.locator('button[type=submit]').click();
      await page.getByText('Created.').waitFor(T);
      expect(await page.content()).not.toContain('vonage-Secret-77');
      await ui.shot('provider-account');
      const accountUrl = page.url();

      // New credentials the carrier refuses: a search says so; the right ones again, and it works.
      const rotate = async (secret: string) => {
        await page.goto(accountUrl);
        await page.fill('#account-credentials input[name=api_key]', 'vkey0001');
        await page.fill('#account-credentials input[name=api_secret]', secret);
        await page.click('#account-credentials button[type=submit]');
        await page.getByText('Saved.').waitFor(T);
      };
      const search = async () => {
        await page.goto(`${base}/console/numbers`);
        await page.selectOption('#number-search select[name=provider_account_id]', { label: 'fake-carrier' });
        await page.fill('#number-search input[name=npa]', '646');
        await page.click('#number-search button[type=submit]');
      };
      await rotate('rotated-wrong-secret');
      await search();
      await page.getByText("the carrier refused the account's credentials").waitFor(T);
      await rotate('vonage-Secret-77');
      await search();
      await page.getByText('number(s) for sale in 646').waitFor(T);
      expect(await page.content()).not.toContain('vonage-Secret-77');

      // The carrier has no Subaccounts API for the account: the job says so and links the way out.
      fake.setFaults({ notProvisioned: true });
      await page.selectOption('#number-buy select[name=seller_id]', { label: 'acme' });
      await page.click('#number-buy button[type=submit]');
      await page.locator('#job-status[data-status=completed]').waitFor(T);
      await page.locator('#not-provisioned').waitFor(T);
      expect(await page.locator('#not-provisioned').textContent()).toContain('403 "unprovisioned"');
      await ui.shot('numbers-not-provisioned');
      await page.click('#not-provisioned a');
      await page.locator('#account-settings input[name=use_subaccounts]').uncheck();
      await page.click('#account-settings button[type=submit]');
      await page.getByText('Saved.').waitFor(T);
      await page.click('nav.tabs a:has-text("Provider accounts")');
      expect(await page.locator('#accounts tr[data-account="fake-carrier"]').textContent()).toContain('off');
      // Numbers stay on the primary account now: the same purchase goes through.
      await search();
      await page.selectOption('#number-buy select[name=seller_id]', { label: 'acme' });
      await page.click('#number-buy button[type=submit]');
      await page.locator('#job-status[data-status=completed]').waitFor(T);
      expect(await page.locator('#not-provisioned').count()).toBe(0);
      expect(await page.locator('#job-items').textContent()).toContain('provisioned');

      // Disabled (after a confirmation): no longer offered for searches; a job made before waits and
      // says why, and goes on once the account is enabled again.
      await page.goto(accountUrl);
      await page.click('#account-toggle button');
      await page.getByText('Saved.').waitFor(T);
      expect(await page.locator('#account-state').textContent()).toBe('disabled');
      await ui.shot('provider-account-disabled');
      const a = await prov().repo.account(new URL(accountUrl).pathname.split('/').pop()!);
      const acme = (
        await d.ctx.database.sql<{ id: string }[]>`select id from sellers where name = 'acme'`
      )[0]!.id;
      const waiting = await prov().repo.createJob(
        { kind: 'provision', accountId: a!.id, sellerId: acme, keyId: null, idem: null, hash: 'browser' },
        [{ npa: '646', country: 'US' }],
      );
      await prov().resume(waiting!);
      await page.goto(`${base}/console/numbers`);
      expect(await page.locator('#number-search option', { hasText: 'fake-carrier' }).isDisabled()).toBe(
        true,
      );
      await page
        .locator(`#jobs tr[data-job="${waiting!.id}"]`, { hasText: 'waiting: account disabled' })
        .waitFor(T);
      await page.goto(`${base}/console/numbers/jobs/${waiting!.id}`);
      await page.locator('#account-disabled').waitFor(T);
      await ui.shot('job-account-disabled');
      await page.click('#account-disabled a');
      await page.click('#account-toggle button');
      await page.getByText('Saved.').waitFor(T);
      expect(await page.locator('#account-state').textContent()).toBe('active');
      await page.goto(`${base}/console/numbers/jobs/${waiting!.id}`);
      await page.locator('#job-status[data-status=completed]').waitFor(T);
      expect(await page.locator('#account-disabled').count()).toBe(0);
    } finally {
      fake.setFaults({ notProvisioned: false });
      page.off('dialog', accept);
    }
    expect(ui.problems).toEqual([]);
  });

  it('webhooks: a subscription’s secret is shown once, a test delivery arrives signed with it and shows in the log', async () => {
    const { page } = ui;
    await signIn('admin@example.com');
    await page.goto(`${base}/console/numbers/webhooks`);
    await page.getByText('No webhook subscriptions.').waitFor(T);
    await page.fill('#webhook-form input[name=url]', receiverUrl);
    await page.uncheck('#webhook-form input[value="subaccount.created"]');
    await page.click('#webhook-form button[type=submit]');
    const shown = page.locator('[data-testid=webhook-secret]');
    await shown.waitFor(T);
    const secret = (await shown.textContent())!.trim();
    expect(secret).toMatch(/^whsec_/);
    await ui.shot('webhook-created');
    await page.click('main a:has-text("Deliveries of this subscription")');
    await page.getByText('Nothing delivered yet.').waitFor(T);
    expect(await page.content()).not.toContain(secret);
    await page.click('#webhook-test button');
    await page.getByText('Test delivery queued.').waitFor(T);
    // The page reloads itself while the delivery waits.
    await page.locator('#deliveries tr[data-status=delivered]', { hasText: 'webhook.test' }).waitFor(T);
    expect(await page.locator('#deliveries tbody tr').first().textContent()).toContain('200');
    await ui.shot('webhook-deliveries');
    const got = received.find((r) => r.body.includes('webhook.test'))!;
    expect(verify(secret, got.signature, got.body)).toBe(true);
    // Paused from its page, and resumed from the list.
    await page.click('#webhook-active button:has-text("pause")');
    await page.getByText('Saved.').waitFor(T);
    expect(await page.locator('#webhook-active').textContent()).toContain('no: paused');
    await page.click('nav.tabs a:has-text("Webhooks")');
    const row = page.locator('#webhooks tbody tr', { hasText: receiverUrl });
    await ui.shot('webhooks-paused');
    await row.locator('button:has-text("resume")').click();
    await page.getByText('Saved.').waitFor(T);
    expect(await row.locator('button:has-text("pause")').count()).toBe(1);
    expect(await row.textContent()).toContain('every seller');
    expect(await row.textContent()).not.toContain('subaccount.created');
    expect(await page.content()).not.toContain(secret);
    // The list filters on the server: no paused subscription now, the active one by its state.
    await page.selectOption('#webhook-filter select[name=active]', 'false');
    await page.click('#webhook-filter button[type=submit]');
    await page.getByText('No subscription matches the filter.').waitFor(T);
    await page.selectOption('#webhook-filter select[name=active]', 'true');
    await page.click('#webhook-filter button[type=submit]');
    await page.waitForURL(/active=true/, T);
    await row.waitFor(T);
    await page.click('#webhooks thead a:has-text("URL")');
    await page.waitForURL(/active=true&sort=url&dir=asc/, T);
    expect(await page.locator('#webhooks thead th[aria-sort=ascending]').textContent()).toContain('URL');

    // A seller user: its own subscriptions only, made for its own seller; no provider accounts.
    await signIn('seller@acme.test');
    await page.goto(`${base}/console/numbers/webhooks`);
    await page.getByText('No webhook subscriptions.').waitFor(T);
    expect(await page.locator('#webhook-form select[name=seller_id]').count()).toBe(0);
    await page.fill('#webhook-form input[name=url]', `${receiverUrl}/acme`);
    await page.click('#webhook-form button[type=submit]');
    await page.locator('[data-testid=webhook-secret]').waitFor(T);
    await page.goto(`${base}/console/numbers/webhooks`);
    await page.locator('#webhooks tbody tr', { hasText: `${receiverUrl}/acme` }).waitFor(T);
    expect(await page.locator('#webhooks tbody tr').count()).toBe(1);
    expect((await page.goto(`${base}/console/numbers/accounts`))!.status()).toBe(403);
    // Deleting asks first.
    await page.goto(`${base}/console/numbers/webhooks`);
    page.once('dialog', (dl) => void dl.accept());
    await page.click('#webhooks button:has-text("Delete")');
    await page.getByText('Deleted.').waitFor(T);
    await page.getByText('No webhook subscriptions.').waitFor(T);
    expect(ui.problems).toEqual([]);
  });

  it('caller IDs: a pool’s VICIdial snippet, ready to paste, copied by its button', async () => {
    const { page, context } = ui;
    await signIn('admin@example.com');
    await page.click('nav a[href="/console/caller-ids"]');
    await page.click('summary:has-text("New pool")');
    await page.fill('form[action="/console/caller-ids/pools"] input[name=id]', 'SALES01');
    await page.fill('form[action="/console/caller-ids/pools"] input[name=fallback_number]', '+12125550199');
    await page.click('form[action="/console/caller-ids/pools"] button[type=submit]');
    await page.locator('#pools tr[data-pool="SALES01"]').waitFor(T);
    await page.click('#pools tr[data-pool="SALES01"] a:has-text("VICIdial snippet")');
    const pre = page.locator('#vicidial-snippet');
    await pre.waitFor(T);
    const text = (await pre.textContent())!;
    expect(text).toContain(`CAPCONDUIT_URL=${base}\n`);
    expect(text).toContain('CID_FALLBACK=+12125550199');
    expect(text).toContain('Gosub(capconduit-cid,s,1(SALES01,');
    expect(text).toContain('Authorization: Bearer');
    await ui.shot('caller-ids-vicidial');
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
    await page.click('button[data-copy=vicidial-snippet]');
    await page.locator('#copy-status', { hasText: 'Copied.' }).waitFor(T);
    // A string: the test's own types have no DOM.
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(text);
    expect(ui.problems).toEqual([]);
  });

  it('layout: an admin’s whole menu on one row at 1280×800; at a phone’s width it folds behind a button', async () => {
    const { page } = ui;
    // An admin has every entry; a long email is cut short rather than pushing the menu to a second row.
    await con.services.users.create({
      email: 'a.very.long.operator.address@operations.example.com',
      password: PW,
      role: 'admin',
    });
    await signIn('a.very.long.operator.address@operations.example.com');
    await page.setViewportSize({ width: 1280, height: 800 });
    const boxes = async () =>
      page.locator('nav[aria-label=main] a').evaluateAll((as) =>
        as.map((a) => {
          const r = a.getBoundingClientRect();
          return {
            text: a.textContent,
            top: Math.round(r.top),
            bottom: Math.round(r.bottom),
            right: r.right,
            width: r.width,
          };
        }),
      );
    const wide = await boxes();
    expect(wide.map((b) => b.text)).toContain('Users');
    expect(wide).toHaveLength(14);
    expect(new Set(wide.map((b) => b.top)).size).toBe(1); // one row
    const header = await page.locator('header.top').boundingBox();
    const me = await page.locator('header.top .me').boundingBox();
    expect(header!.height).toBeLessThan(70);
    expect(me!.y + me!.height).toBeLessThanOrEqual(header!.y + header!.height);
    expect(me!.x + me!.width).toBeLessThanOrEqual(1280);
    for (const b of wide) expect(b.right).toBeLessThanOrEqual(me!.x);
    expect(await page.locator('button.nav-toggle').isVisible()).toBe(false);
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(1280);
    await ui.shot('layout-1280');

    // A phone: the menu is behind its button, then a column of full-width entries, nothing wider than the screen.
    await page.setViewportSize({ width: 390, height: 844 });
    const toggle = page.locator('button.nav-toggle');
    expect(await toggle.isVisible()).toBe(true);
    expect(await toggle.getAttribute('aria-expanded')).toBe('false');
    expect(await page.locator('nav[aria-label=main]').isVisible()).toBe(false);
    await ui.shot('layout-phone');
    await toggle.click();
    expect(await toggle.getAttribute('aria-expanded')).toBe('true');
    const narrow = await boxes();
    expect(narrow).toHaveLength(14);
    for (const b of narrow) {
      expect(b.right).toBeLessThanOrEqual(390);
      expect(b.width).toBeGreaterThan(300); // a whole row to tap
      expect(b.bottom - b.top).toBeGreaterThanOrEqual(36);
    }
    expect(new Set(narrow.map((b) => b.top)).size).toBe(14); // one entry a row
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await ui.shot('layout-phone-menu');
    await page.click('nav[aria-label=main] a:has-text("Calls")');
    await page.waitForURL(/\/console\/calls$/, T);
    expect(await page.locator('nav[aria-label=main]').isVisible()).toBe(false);
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await page.setViewportSize({ width: 1280, height: 800 });
    expect(ui.problems).toEqual([]);
  });
});
