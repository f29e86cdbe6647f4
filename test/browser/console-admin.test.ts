// The console's administration pages in a real headless Chromium against a daemon on real PostgreSQL
// and Redis: the audit log, re-authentication before a user's role or state changes. Screenshots go to test-results/console/ like the other browser tests'.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsoleModule, createConsoleModule } from '../../src/console/index.ts';
import { sellers } from '../../src/db/schema/routing.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { createRoutingModule } from '../../src/routing/index.ts';
import { type Chromium, launchChromium } from '../helpers/chromium.ts';
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

  beforeAll(async () => {
    db = await freshDatabase();
    d = await startDaemon(testConfig({ DATABASE_URL: db.url, API_HOST: '127.0.0.1' }), log, [
      createRoutingModule,
      createConsoleModule,
    ]);
    base = d.address.replace('[::1]', '127.0.0.1');
    con = d.ctx.modules.get('console') as ConsoleModule;
    const [acme] = await d.ctx.database.db.insert(sellers).values({ name: 'acme' }).returning();
    await con.services.users.create({ email: 'admin@example.com', password: PW, role: 'admin' });
    await con.services.users.create({ email: 'staff@example.com', password: PW, role: 'staff' });
    await con.services.users.create({
      email: 'seller@acme.test',
      password: PW,
      role: 'seller',
      seller_id: acme!.id,
    });
    ui = await launchChromium();
  });
  afterAll(async () => {
    await ui?.close();
    await d?.stop();
    await db?.drop();
  });

  const signIn = async (email: string) => {
    const { page, context } = ui;
    await context.clearCookies();
    await page.goto(`${base}/console/sign-in`);
    await page.fill('input[name=email]', email);
    await page.fill('input[name=password]', PW);
    await page.click('button[type=submit]');
    await page.waitForURL(/\/console\/live$/, T);
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
    expect(await rows.count()).toBe(3);
    // Newest first: the rename, then the creation, then the seeded seller (no actor: system).
    expect(await rows.nth(0).textContent()).toContain('browser-seller → browser-seller-renamed');
    expect(await rows.nth(0).textContent()).toContain('admin@example.com');
    expect(await rows.nth(1).textContent()).toContain('create');
    expect(await rows.nth(2).textContent()).toContain('system');
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
    // A period that holds nothing.
    await page.fill('#audit-filter input[name=to]', '2020-01-01');
    await page.click('#audit-filter button[type=submit]');
    await page.getByText('No audit records match.').waitFor(T);
    // One a page: the pager walks them.
    await page.goto(`${base}/console/audit?limit=1`);
    await page.getByText('1–1 of 3').waitFor(T);
    await page.click('.pager a:has-text("next")');
    await page.getByText('2–2 of 3').waitFor(T);
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
});
