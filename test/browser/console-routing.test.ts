// The routing side of the console in a real headless Chromium against a daemon routing simulated
// calls: the live floor's sellers, DIDs and buyer groups against their own caps, and the forms of
// the routing features (caps of sellers and DIDs, buyer groups, campaign filters and default route,
// a link's hours and money, blocklists).
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAsteriskModule } from '../../src/asterisk/index.ts';
import { type ConsoleModule, createConsoleModule } from '../../src/console/index.ts';
import { buyerGroups, campaigns, links } from '../../src/db/schema/routing.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { createRoutingModule } from '../../src/routing/index.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { type Chromium, launchChromium } from '../helpers/chromium.ts';
import { signInPage } from '../helpers/console.ts';
import { freshDatabase, testConfig, journalDir } from '../helpers/env.ts';
import { seedCampaign, seedSeller } from '../helpers/seed.ts';
import { simEnv } from '../helpers/sim-env.ts';

const log = createLogger({ level: 'silent' });
const PW = 'correct horse battery';
/** Generous: the browser waits on what the page shows, never on the clock; this only bounds a hang. */
const T = { timeout: 60_000 };

describe('the console in a browser: routing', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let sim: Simulator;
  let d: Daemon;
  let con: ConsoleModule;
  let ui: Chromium;
  let base: string;
  let cdrDir: string;

  beforeAll(async () => {
    db = await freshDatabase();
    sim = await startSimulator({ ariPort: 0, amiPort: 0 });
    cdrDir = journalDir();
    d = await startDaemon(
      testConfig({ DATABASE_URL: db.url, ...simEnv(sim), CDR_BUFFER_DIR: cdrDir, API_HOST: '127.0.0.1' }),
      log,
      [createAsteriskModule, createRoutingModule, createConsoleModule],
    );
    base = d.address.replace('[::1]', '127.0.0.1');
    con = d.ctx.modules.get('console') as ConsoleModule;
    const x = d.ctx.database.db;
    // Two sellers with caps of their own, each a capped DID; acme's client is in a capped buyer group.
    const [g] = await x
      .insert(buyerGroups)
      .values({ name: 'Acme Calls', hourlyCap: 30, timezone: 'Asia/Kolkata' })
      .returning();
    for (const [name, did] of [
      ['acme', '+14155550601'],
      ['other', '+14155550602'],
    ] as const) {
      sim.setEndpoint(`${name}-centre`, { answerAfterMs: 20 });
      const { sellerId } = await seedCampaign(x, {
        sellerId: await seedSeller(x, name, { concurrencyCap: 4, dailyCap: 100 }),
        campaign: { name: `${name}-campaign` },
        dids: [did],
        did: { concurrencyCap: 2 },
        clients: [{ endpoint: `${name}-centre`, client: { groupId: name === 'acme' ? g!.id : null } }],
        link: { concurrencyCap: 5 },
      });
      if (name === 'acme')
        await con.services.users.create({
          email: 'seller@acme.test',
          password: PW,
          role: 'seller',
          seller_id: sellerId,
        });
    }
    await con.services.users.create({ email: 'admin@example.com', password: PW, role: 'admin' });
    ui = await launchChromium();
  });
  afterAll(async () => {
    await ui?.close();
    await d?.stop();
    await sim?.stop();
    await db?.drop();
  });

  const signIn = async (email: string) => {
    await signInPage(ui.page, base, email, PW);
    await ui.page.locator('#live-status', { hasText: 'Live' }).waitFor(T);
  };

  it('live floor: sellers, DIDs and buyer groups follow a call against their caps; a seller sees its own and no group', async () => {
    const { page, context } = ui;
    await signIn('admin@example.com');
    const seller = page.locator('#sellers tbody tr', { hasText: 'acme' });
    const did = page.locator('#dids tbody tr', { hasText: '+14155550601' });
    const group = page.locator('#groups tbody tr', { hasText: 'Acme Calls' });
    await seller.locator('td:nth-child(2)', { hasText: '0 / 4' }).waitFor(T);
    await page.locator('#sellers tbody tr', { hasText: 'other' }).waitFor(T);
    expect(await group.locator('td:nth-child(2)').textContent()).toBe('Asia/Kolkata');

    const loads: string[] = [];
    page.on('load', () => loads.push(page.url()));
    const call = sim.placeInboundCall({ did: '+14155550601', callerNumber: '+12125550123' });
    // Bridged: one place taken on the seller, the DID and the group, without a reload.
    await seller.locator('td:nth-child(2)', { hasText: '1 / 4' }).waitFor(T);
    await did.locator('td:nth-child(3)', { hasText: '1 / 2' }).waitFor(T);
    await group.locator('td:nth-child(3)', { hasText: '1 / –' }).waitFor(T);
    await group.locator('td:nth-child(4)', { hasText: '1 / 30' }).waitFor(T);
    await ui.shot('live-floor-owners');
    sim.hangup(call);
    // The place is free again; the answered call stays counted for the day.
    await seller.locator('td:nth-child(2)', { hasText: '0 / 4' }).waitFor(T);
    expect(await seller.locator('td:nth-child(4)').textContent()).toContain('1 / 100');
    expect(
      await page.locator('#sellers tbody tr', { hasText: 'other' }).locator('td:nth-child(4)').textContent(),
    ).toContain('0 / 100');
    expect(loads).toEqual([]);

    // A seller: its own seller and DID only, and no buyer groups at all.
    await context.clearCookies();
    await signIn('seller@acme.test');
    await page.locator('#sellers tbody tr', { hasText: 'acme' }).waitFor(T);
    await page.locator('#dids tbody tr', { hasText: '+14155550601' }).waitFor(T);
    expect(await page.locator('#sellers tbody tr').count()).toBe(1);
    expect(await page.locator('#dids tbody tr').count()).toBe(1);
    expect(await page.locator('#groups').count()).toBe(0);
    await ui.shot('live-floor-seller-owners');
    expect(ui.problems).toEqual([]);
  });

  it('forms: seller caps, a buyer group and its member, campaign filters and default route, a link by the hour with money, DID caps, a blocked caller', async () => {
    const { page, context } = ui;
    await context.clearCookies();
    await signIn('admin@example.com');
    const x = d.ctx.database.db;
    const saved = () => page.getByText('Saved.').waitFor(T);

    // Seller caps on the seller's page; a bad one answered with the API's error, nothing saved.
    await page.click('nav a[href="/console/sellers"]');
    // Sorted by a header, on the server, the order in the address.
    await page.click('#sellers-list th a:has-text("Name")');
    await page.locator('#sellers-list th[aria-sort=ascending]', { hasText: 'Name' }).waitFor(T);
    expect(page.url()).toContain('sort=name&dir=asc');
    await page.click('#sellers-list th a:has-text("Name")');
    await page.locator('#sellers-list th[aria-sort=descending]', { hasText: 'Name' }).waitFor(T);
    expect(
      await page.locator('#sellers-list tbody tr').first().locator('input[name=name]').inputValue(),
    ).toBe('other');
    await page.click('#sellers-list a[aria-label="caps of acme"]');
    // The field's own min stops this in the browser; without it, the server answers as the API does.
    await page.$eval('#seller-form', (f) => {
      (f as unknown as { noValidate: boolean }).noValidate = true;
    });
    await page.fill('#seller-form input[name=hourly_cap]', '-3');
    await page.click('#seller-form button[type=submit]');
    await page.getByText('VALIDATION_FAILED').waitFor(T);
    await page.goBack();
    await page.fill('#seller-form input[name=hourly_cap]', '60');
    await page.click('#seller-form button[type=submit]');
    await saved();
    expect(await page.inputValue('#seller-form input[name=hourly_cap]')).toBe('60');
    await ui.shot('seller');

    // A buyer group with a shared daily cap, and a client put in it.
    await page.click('nav a[href="/console/groups"]');
    await page.fill('#group-create input[name=name]', 'North Sites');
    await page.fill('#group-create input[name=timezone]', 'America/Chicago');
    await page.fill('#group-create input[name=daily_cap]', '40');
    await page.click('#group-create button[type=submit]');
    await page.getByText('Created.').waitFor(T);
    await page.selectOption('#group-add select[name=client_id]', { label: 'other-centre' });
    await page.click('#group-add button[type=submit]');
    await page.locator('#group-members tbody tr', { hasText: 'other-centre' }).waitFor(T);
    await ui.shot('group');
    await page.click('#group-members button:has-text("Take out")');
    await page.getByText('No client is in this group yet.').waitFor(T);
    // A second group (newest first by default), and the list sorted by name on the server, either way.
    await page.click('nav a[href="/console/groups"]');
    await page.fill('#group-create input[name=name]', 'Alpha Sites');
    await page.click('#group-create button[type=submit]');
    await page.getByText('Created.').waitFor(T);
    await page.click('nav a[href="/console/groups"]');
    const groupRows = page.locator('#groups-list tbody tr');
    expect(await groupRows.first().textContent()).toContain('Alpha Sites');
    await page.click('#groups-list thead a:has-text("Name")');
    await page.waitForURL(/sort=name&dir=asc/, T);
    expect(await groupRows.first().textContent()).toContain('Acme Calls');
    expect(await groupRows.nth(1).textContent()).toContain('Alpha Sites');
    await page.click('#groups-list thead a:has-text("Name")');
    await page.waitForURL(/sort=name&dir=desc/, T);
    expect(await groupRows.first().textContent()).toContain('North Sites');

    // The campaign: caller filters, reroutes, and a default route to a dialplan context.
    await page.click('nav a[href="/console/campaigns"]');
    await page.click('a:has-text("acme-campaign")');
    const campaignUrl = page.url();
    await page.check('#campaign-form input[name=reject_anonymous]');
    await page.fill('#campaign-form input[name=repeat_window_s]', '300');
    await page.fill('#campaign-form input[name=max_reroutes]', '3');
    await page.selectOption('#campaign-form select[name=dr_kind]', 'context');
    await page.fill('#campaign-form input[name=dr_context]', 'overflow');
    await page.click('#campaign-form button[type=submit]');
    await saved();
    expect(await page.isChecked('#campaign-form input[name=reject_anonymous]')).toBe(true);
    expect(await page.inputValue('#campaign-form select[name=dr_kind]')).toBe('context');
    const [camp] = await x.select().from(campaigns).where(eq(campaigns.name, 'acme-campaign'));
    expect(camp).toMatchObject({ rejectAnonymous: true, repeatWindowS: 300, maxReroutes: 3 });
    expect(camp!.defaultRoute).toEqual({ kind: 'context', context: 'overflow' });
    await ui.shot('campaign-settings');

    // The link's own page: a live cap for Monday 09:00 and 10:00, revenue recovery, money.
    await page.click('#campaign-links a:has-text("More settings")');
    await page.fill('#link-form input[name=cs_1_9]', '2');
    await page.fill('#link-form input[name=cs_1_10]', '4');
    await page.fill('#link-form input[name=recovery_s]', '12');
    await page.fill('#link-form input[name=convert_after_s]', '60');
    await page.fill('#link-form input[name=payout]', '12.75');
    await page.fill('#link-form input[name=billing_increment]', '60/60');
    await page.click('#link-form button[type=submit]');
    await saved();
    expect(await page.inputValue('#link-form input[name=payout]')).toBe('12.75');
    const [l] = await x.select().from(links).where(eq(links.campaignId, camp!.id));
    expect(l).toMatchObject({
      recoveryS: 12,
      convertAfterS: 60,
      payoutMicros: 12_750_000,
      billingIncrement: '60/60',
    });
    expect(l!.concurrencySchedule!['1']!.slice(9, 11)).toEqual([2, 4]);
    await ui.shot('link-settings');
    await page.goto(campaignUrl);

    // The DID's caps, from the DIDs list.
    await page.click('nav a[href="/console/dids"]');
    await page.click('#dids-list a:has-text("+14155550601")');
    await page.fill('#did-form input[name=daily_cap]', '250');
    await page.click('#did-form button[type=submit]');
    await saved();
    await page.click('nav a[href="/console/dids"]');
    await page.locator('#dids-list tr', { hasText: '2 · – · 250 · – · –' }).waitFor(T);

    // A caller blocked for every seller.
    await page.click('nav a[href="/console/blocklist"]');
    await page.fill('#block-add input[name=number]', '+1 212 555 0199');
    await page.fill('#block-add input[name=note]', 'robocaller');
    await page.click('#block-add button[type=submit]');
    await page.locator('#blocklist tr', { hasText: '+12125550199' }).filter({ hasText: 'global' }).waitFor(T);
    await ui.shot('blocklist');
    expect(ui.problems).toEqual([]);
  });
});
