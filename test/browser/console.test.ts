// The console in a real headless Chromium against a daemon routing calls from the simulator, on real
// PostgreSQL and Redis. Few tests, each a whole visit, so the suite pays for one browser start.
import { eq } from 'drizzle-orm';
import { Redis } from 'ioredis';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AsteriskModule, createAsteriskModule } from '../../src/asterisk/index.ts';
import { CdrRetention } from '../../src/cdr/retention.ts';
import { createCallerIdModule } from '../../src/callerid/index.ts';
import { type ConsoleModule, createConsoleModule } from '../../src/console/index.ts';
import { callRecords } from '../../src/db/schema/cdr.ts';
import { campaigns } from '../../src/db/schema/routing.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { RedisKeys } from '../../src/platform/redis/keys.ts';
import { createPbxModule } from '../../src/pbx/index.ts';
import { createReportsModule } from '../../src/reports/index.ts';
import { createRoutingModule, type RoutingModule, recordingDeleter } from '../../src/routing/index.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { type Chromium, launchChromium } from '../helpers/chromium.ts';
import { Browser, fillSignIn } from '../helpers/console.ts';
import { freshDatabase, redisPrefix, testConfig, journalDir } from '../helpers/env.ts';
import { seedCampaign } from '../helpers/seed.ts';
import { simEnv } from '../helpers/sim-env.ts';
import { waitFor } from '../helpers/wait.ts';

const log = createLogger({ level: 'silent' });
const PW = 'correct horse battery';
/** Generous: the browser waits on what the page shows, never on the clock; this only bounds a hang. */
const T = { timeout: 60_000 };
/** The page's player has read its file's header (HTMLMediaElement.HAVE_METADATA). */
const METADATA_READ = "document.querySelector('audio')?.readyState >= 1";

describe('the console in a browser', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let sim: Simulator;
  let d: Daemon;
  let con: ConsoleModule;
  let ui: Chromium;
  let base: string;
  let cdrDir: string;
  const world = { acmeDid: '+14155550101', otherDid: '+14155550202' };

  beforeAll(async () => {
    db = await freshDatabase();
    sim = await startSimulator({ ariPort: 0, amiPort: 0 });
    cdrDir = journalDir();
    d = await startDaemon(
      testConfig({ DATABASE_URL: db.url, ...simEnv(sim), CDR_BUFFER_DIR: cdrDir, API_HOST: '127.0.0.1' }),
      log,
      [
        createAsteriskModule,
        createRoutingModule,
        createReportsModule,
        createPbxModule,
        (ctx) => createCallerIdModule(ctx),
        createConsoleModule,
      ],
    );
    base = d.address.replace('[::1]', '127.0.0.1');
    con = d.ctx.modules.get('console') as ConsoleModule;
    const p = { free: 3, baseMs: 600_000, maxMs: 3600_000, forgetMs: 3600_000 };
    // The browser signs in from one address all along: its source counter must not get in the way.
    con.services.lockout.policies = { source: { ...p, free: 100 }, account: p, device: p };
    // Two sellers, each with a campaign routed to its own answering call centre.
    const x = d.ctx.database.db;
    for (const [name, did] of [
      ['acme', world.acmeDid],
      ['other', world.otherDid],
    ] as const) {
      sim.setEndpoint(`${name}-centre`, { answerAfterMs: 20 });
      const { sellerId } = await seedCampaign(x, {
        seller: name,
        campaign: { name: `${name}-campaign` },
        dids: [did],
        clients: [`${name}-centre`],
        link: { concurrencyCap: 5, hourlyCap: 100 },
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
    await con.services.users.create({ email: 'second-admin@example.com', password: PW, role: 'admin' });
    ui = await launchChromium();
  });
  afterAll(async () => {
    await ui?.close();
    await d?.stop();
    await sim?.stop();
    await db?.drop();
  });

  const cdrOf = (did: string) => d.ctx.database.db.select().from(callRecords).where(eq(callRecords.did, did));
  const signIn = (email: string, password: string) => fillSignIn(ui.page, email, password);

  it('admin: sign-in, the live floor follows a simulated call without reload, CSRF refused, users, TOTP', async () => {
    const { page } = ui;
    // Signed out, every page leads to the sign-in form.
    await page.goto(`${base}/console/live`);
    expect(new URL(page.url()).pathname).toBe('/console/sign-in');
    await ui.shot('sign-in');
    await signIn('admin@example.com', 'not the password');
    await page.getByText('Wrong email or password').waitFor(T);
    await signIn('admin@example.com', PW);
    await page.waitForURL(/\/console\/live$/, T);
    await page.locator('#live-status', { hasText: 'Live' }).waitFor(T);
    // The simulator's node, as the instance sees it.
    await page.locator('#nodes tbody tr', { hasText: 'connected' }).first().waitFor(T);

    // Routing through the pages: a client with open hours, a campaign for acme linked to it under
    // caps, and a DID routed to the campaign.
    page.on('dialog', (d) => void d.accept());
    sim.setEndpoint('floor-centre', { answerAfterMs: 20 });
    await page.click('nav a[href="/console/clients"]');
    await page.fill('form[action="/console/clients"] input[name=name]', 'floor-centre');
    await page.fill('form[action="/console/clients"] input[name=endpoint]', 'floor-centre');
    await page.fill('form[action="/console/clients"] input[name=timezone]', 'America/New_York');
    await page.click('form[action="/console/clients"] button[type=submit]');
    await page.getByText('Created.').waitFor(T);
    // The schedule editor: a bad range is refused with the API's message, a good week is kept.
    await page.fill('input[name=schedule_1]', '09:00-25:00');
    await page.click('form.grid button[type=submit]');
    await page.getByText('VALIDATION_FAILED').waitFor(T);
    await page.goBack();
    for (let day = 0; day < 7; day++) await page.fill(`input[name=schedule_${day}]`, '00:00-24:00');
    await page.click('form.grid button[type=submit]');
    await page.getByText('Saved.').waitFor(T);
    expect(await page.inputValue('input[name=schedule_3]')).toBe('00:00-24:00');
    await ui.shot('client');
    // Lists filter on the server: part of a name in any case, the state; a header's order keeps them.
    await page.click('nav a[href="/console/clients"]');
    await page.fill('#list-filters input[name=name]', 'FLOOR');
    await page.click('#list-filters button[type=submit]');
    await page.locator('#list-filters input[name=name][value=FLOOR]').waitFor(T);
    expect(await page.locator('#clients-list tbody tr').count()).toBe(1);
    await page.click('#clients-list th a:has-text("Endpoint")');
    await page.locator('#clients-list th[aria-sort=ascending]', { hasText: 'Endpoint' }).waitFor(T);
    expect(await page.inputValue('#list-filters input[name=name]')).toBe('FLOOR');
    expect(await page.locator('#clients-list tbody tr').count()).toBe(1);
    await page.selectOption('#list-filters select[name=state]', 'inactive');
    await page.click('#list-filters button[type=submit]');
    await page.getByText('No clients match this filter.').waitFor(T);
    await page.goto(`${base}/console/sellers?name=cm`);
    expect(await page.locator('#sellers-list tbody tr').count()).toBe(1);
    expect(await page.inputValue('#sellers-list tbody tr input[name=name]')).toBe('acme');

    await page.click('nav a[href="/console/campaigns"]');
    await page.selectOption('form[method=post][action="/console/campaigns"] select[name=seller_id]', {
      label: 'acme',
    });
    await page.fill('form[method=post][action="/console/campaigns"] input[name=name]', 'floor-campaign');
    await page.click('form[method=post][action="/console/campaigns"] button[type=submit]');
    await page.getByText('Created.').waitFor(T);
    const campaignUrl = page.url();
    await page.selectOption('select[name=client_id]', { label: 'floor-centre' });
    await page.fill('form[action$="/links"] input[name=concurrency_cap]', '2');
    await page.fill('form[action$="/links"] input[name=daily_cap]', '50');
    await page.click('form[action$="/links"] button[type=submit]');
    await page.locator('#campaign-links tbody tr', { hasText: 'floor-centre' }).waitFor(T);
    await ui.shot('campaign');
    await page.click('nav a[href="/console/dids"]');
    await page.fill('form[method=post][action="/console/dids"] input[name=number]', '+1 (415) 555-0303');
    await page.selectOption('form[method=post][action="/console/dids"] select[name=seller_id]', {
      label: 'acme',
    });
    await page.selectOption('form[method=post][action="/console/dids"] select[name=campaign_id]', {
      label: 'floor-campaign',
    });
    await page.click('form[method=post][action="/console/dids"] button[type=submit]');
    await page.locator('table tr', { hasText: '+14155550303' }).waitFor(T);
    await ui.shot('dids');

    // A call placed on the simulator appears on the floor without reload, then leaves when it ends.
    await page.click('nav a[href="/console/live"]');
    await page.locator('#live-status', { hasText: 'Live' }).waitFor(T);
    const loads: string[] = [];
    page.on('load', () => loads.push(page.url()));
    const channel = sim.placeInboundCall({ did: '+14155550303', callerNumber: '+12125550123' });
    const row = page.locator('#calls tbody tr', { hasText: '+14155550303' });
    await row.filter({ hasText: 'bridged' }).waitFor(T);
    expect(await row.textContent()).toContain('floor-centre');
    const link = page.locator('#links tbody tr', { hasText: 'floor-campaign' });
    await link.locator('td:nth-child(4)', { hasText: '1 / 2' }).waitFor(T);
    await ui.shot('live-floor');
    sim.hangup(channel);
    await row.waitFor({ state: 'detached', ...T });
    await link.locator('td:nth-child(8)', { hasText: /^\s*1 \/ –/ }).waitFor(T);
    expect(loads).toEqual([]);

    // Once its record is written, the call is in the calls list with its campaign and client.
    await waitFor(async () => (await cdrOf('+14155550303')).length === 1);
    await page.click('nav a[href="/console/calls"]');
    const rec = page.locator('#calls-list tbody tr', { hasText: '+14155550303' });
    await rec.waitFor(T);
    expect(await rec.textContent()).toContain('floor-campaign');
    expect(await rec.textContent()).toContain('floor-centre');
    await ui.shot('calls');
    // Sorted by a column header, on the server.
    await page.click('#calls-list th a:has-text("Duration")');
    await page.locator('#calls-list th[aria-sort=ascending]', { hasText: 'Duration' }).waitFor(T);
    // Filtered by the API's DID and caller filters, typed as people write numbers.
    await page.fill('#call-filters input[name=did]', '+1 (415) 555-0303');
    await page.fill('#call-filters input[name=caller]', '+1 212 555 0123');
    await page.click('#call-filters button[type=submit]');
    // The page comes back with the numbers as the records hold them.
    await page.locator('#call-filters input[name=caller][value="+12125550123"]').waitFor(T);
    expect(await page.inputValue('#call-filters input[name=did]')).toBe('+14155550303');
    await rec.waitFor(T);
    expect(await page.locator('#calls-list tbody tr').count()).toBe(1);
    expect(await page.locator('#calls-list th[aria-sort=ascending]', { hasText: 'Duration' }).count()).toBe(
      1,
    );
    // Each filter counts: another caller, or another DID, matches nothing.
    await page.fill('#call-filters input[name=caller]', '+12125550999');
    await page.click('#call-filters button[type=submit]');
    await page.getByText('No calls match this filter.').waitFor(T);
    await page.fill('#call-filters input[name=caller]', '+12125550123');
    await page.fill('#call-filters input[name=did]', '+14155550399');
    await page.click('#call-filters button[type=submit]');
    await page.locator('#call-filters input[name=did][value="+14155550399"]').waitFor(T);
    await page.getByText('No calls match this filter.').waitFor(T);
    // Totals per campaign over the last seven days (the default period), from the reports.
    await page.click('nav.tabs a:has-text("Totals")');
    const total = page.locator('#totals tbody tr', { hasText: 'floor-campaign' });
    await total.waitFor(T);
    expect(await total.locator('td:nth-child(2)').textContent()).toBe('1');
    expect(await total.locator('td:nth-child(3)').textContent()).toBe('1');
    await page.selectOption('#totals-filters select[name=group_by]', 'client');
    await page.click('#totals-filters button[type=submit]');
    await page.locator('#totals tbody tr', { hasText: 'floor-centre' }).waitFor(T);
    await ui.shot('call-totals');

    // Deleting the campaign says what goes with it before it does anything.
    await page.goto(campaignUrl);
    await page.click('form[action$="/delete"] button.danger');
    await page.getByText('1 link(s) to clients are removed').waitFor(T);
    await page.getByText('1 DID(s) are detached').waitFor(T);
    await ui.shot('delete-confirm');
    await page.click('button:has-text("Delete all of it")');
    await page.getByText('Deleted.').waitFor(T);
    expect(await page.locator('main').textContent()).not.toContain('floor-campaign');

    // CSRF: the same change without the token is refused; with the page's token it goes through.
    const refused = await page.evaluate(async () => {
      const r = await fetch('/console/users', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          email: 'csrf@example.com',
          password: 'long enough password',
          role: 'viewer',
        }),
      });
      return { status: r.status, body: await r.text() };
    });
    expect(refused.status).toBe(403);
    expect(refused.body).toContain('CSRF_REFUSED');
    expect(await con.services.users.repo.byEmail('csrf@example.com')).toBeNull();

    // Users: an admin adds a viewer through the form.
    await page.click('nav a[href="/console/users"]');
    await page.fill('form[action="/console/users"] input[name=email]', 'viewer@example.com');
    await page.fill('form[action="/console/users"] input[name=password]', PW);
    await page.selectOption('form[action="/console/users"] select[name=role]', 'viewer');
    await page.click('form[action="/console/users"] button[type=submit]');
    await page.getByText('Created.').waitFor(T);
    await page.locator('table tr', { hasText: 'viewer@example.com' }).waitFor(T);
    await ui.shot('users');

    // Caller IDs: a file with a bad line is streamed with a progress bar; the bad line is listed,
    // the good ones land in the pool the file names.
    await page.click('nav a[href="/console/caller-ids"]');
    await page.setInputFiles('#cid-import input[name=file]', {
      name: 'cids.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(
        'caller_id,pool\n+14155550700,browser-pool\nnot a number,browser-pool\n+14155550701,browser-pool\n',
      ),
    });
    await page.click('#cid-import button[type=submit]');
    await page.locator('#import-rejected li', { hasText: 'line 3' }).waitFor(T);
    expect(await page.locator('#import-result').textContent()).toContain('2 of 3 line(s) imported');
    expect(await page.locator('#import-progress').getAttribute('value')).toBe('100');
    await ui.shot('caller-ids-import');
    await page.reload();
    await page.locator('#pools tr[data-pool="browser-pool"]').waitFor(T);
    await page.locator('#numbers tr[data-number="+14155550701"]').waitFor(T);
    await ui.shot('caller-ids');

    // PBX: a new user's credentials, with the SIP server to register to, are shown once.
    await page.click('nav a[href="/console/pbx"]');
    await page.fill('#pbx-user-form input[name=name]', 'Browser Agent');
    await page.fill('#pbx-user-form input[name=email]', 'agent@example.com');
    await page.click('#pbx-user-form button[type=submit]');
    const sipSecret = page.locator('[data-testid=sip-password]');
    await sipSecret.waitFor(T);
    const sipPassword = (await sipSecret.textContent())!.trim();
    expect(sipPassword.length).toBeGreaterThanOrEqual(16);
    expect(await page.locator('#pbx-credentials').textContent()).toContain('127.0.0.1');
    await ui.shot('pbx-user-created');
    await page.click('main a[href="/console/pbx"]');
    await page.locator('#pbx-users tr[data-extension="1000"]').waitFor(T);
    expect(await page.content()).not.toContain(sipPassword);
    await ui.shot('pbx');

    // TOTP: set up with the app's code, then asked for at the next sign-in.
    await page.goto(`${base}/console/account/totp`);
    const secret = (await page.locator('[data-testid=totp-secret]').textContent())!.trim();
    const totp = new TOTP({ secret: Secret.fromBase32(secret) });
    await page.fill('input[name=code]', totp.generate());
    await page.click('form[action="/console/account/totp"] button[type=submit]');
    await page.getByText('Two-factor sign-in is on.').waitFor(T);
    await ui.shot('account');
    await page.click('form[action="/console/sign-out"] button');
    await page.waitForURL(/\/console\/sign-in$/, T);
    await signIn('admin@example.com', PW);
    await page.getByText('Code from your authenticator app').waitFor(T);
    await page.fill('input[name=code]', totp.generate({ timestamp: Date.now() + 30_000 }));
    await page.click('button[type=submit]');
    await page.waitForURL(/\/console\/live$/, T);
    expect(ui.problems).toEqual([]);
  });

  it('live floor rates: another instance’s calls/s and answer rate charted, a silence of minutes not shown as one spike', async () => {
    const { page, context } = ui;
    await context.clearCookies();
    await page.goto(`${base}/console/live`);
    await signIn('second-admin@example.com', PW);
    await page.waitForURL(/\/console\/live$/, T);
    await page.locator('#live-status', { hasText: 'Live' }).waitFor(T);
    // Another instance's snapshots, as it publishes them: 10 calls finished in a second (80%
    // answered), then silent for two minutes (no console open anywhere, or Redis away) while 3,000
    // more finished (10% answered), then 10 more in a second. The gap only sets a new baseline:
    // folded into one 5-second bucket it would chart 600 calls/s.
    const now = Date.now();
    const node = (id: string) => ({
      id,
      ari: { connected: true, reconnects: 0, lastEventAt: null, error: null },
      ami: { connected: true, error: null },
    });
    const snaps = [
      { at: now - 120_000, routed: 1_000, answered: 800, nodes: [] },
      { at: now - 119_000, routed: 1_010, answered: 808, nodes: [] },
      { at: now - 1_000, routed: 4_010, answered: 1_108, nodes: [] },
      // The last one names a node of its own: a frame showing it was built after every snapshot.
      { at: now, routed: 4_020, answered: 1_116, nodes: [node('rates-after')] },
    ];
    for (const s of snaps)
      await d.ctx.redis.publish(
        con.hub.channel,
        JSON.stringify({ instance: 'rates-probe', calls: [], ...s }),
      );
    await page.locator('#nodes tbody tr', { hasText: 'rates-after' }).waitFor(T);
    // 10 calls in a 5-second bucket (the first test's one call counts 0.2/s in its own).
    expect(await page.locator('#rate-peak').textContent()).toBe('peak 2.0/s');
    // The probe's buckets at 80% answered (y = 58 - 0.8 × 56), none lower (the gap's 10% would be;
    // the earlier tests' calls were all answered); buckets without calls draw nothing, not 0%.
    const path = (await page.locator('#chart-answer path').getAttribute('d'))!;
    const ys = [...path.matchAll(/[ML][\d.]+,([\d.]+)/g)].map((m) => Number(m[1]));
    expect(ys).toContain(13.2);
    expect(ys.filter((y) => y > 13.2)).toEqual([]);
    await ui.shot('live-floor-rates');
    expect(ui.problems).toEqual([]);
  });

  it('seller: delayed after failures until an admin clears it, sees only its own rows, no admin pages', async () => {
    const { page, context } = ui;
    await context.clearCookies();
    await page.goto(`${base}/console/users`);
    expect(new URL(page.url()).pathname).toBe('/console/sign-in');
    for (let i = 0; i < 3; i++) {
      await signIn('seller@acme.test', 'wrong wrong wrong');
      await page.getByText('Wrong email or password').waitFor(T);
    }
    await signIn('seller@acme.test', PW);
    await page.getByText('Too many failed attempts').waitFor(T);
    await ui.shot('sign-in-delayed');
    // An admin clears the delay from the users page.
    const admin = new Browser(d.app, '10.9.0.1');
    expect((await admin.signIn('second-admin@example.com', PW)).statusCode).toBe(303);
    const seller = (await con.services.users.repo.byEmail('seller@acme.test'))!;
    expect(
      (await admin.post(`/console/users/${seller.id}/clear-lock`, { _csrf: await admin.csrf() })).statusCode,
    ).toBe(303);
    // Signed in, the browser goes where it was headed: the users page, which a seller may not see.
    await signIn('seller@acme.test', PW);
    await page.waitForURL(/\/console\/users$/, T);
    await page.getByText('Not allowed').waitFor(T);
    await ui.shot('forbidden');
    await page.click('nav a[href="/console/live"]');
    await page.locator('#live-status', { hasText: 'Live' }).waitFor(T);

    // Calls of both sellers are up; the seller sees its own only, and only its own links.
    const own = sim.placeInboundCall({ did: world.acmeDid, callerNumber: '+12125550001' });
    const foreign = sim.placeInboundCall({ did: world.otherDid, callerNumber: '+12125550002' });
    await page
      .locator('#calls tbody tr', { hasText: world.acmeDid })
      .filter({ hasText: 'bridged' })
      .waitFor(T);
    const router = (d.ctx.modules.get('routing') as RoutingModule).router!;
    await waitFor(() => router.live().some((c) => c.did === world.otherDid && c.phase === 'bridged'));
    // Wait for a frame built after the foreign call was bridged, then judge what it shows.
    const frames = Number(await page.locator('#live').getAttribute('data-frames'));
    await page.locator(`#live:not([data-frames="${frames}"]):not([data-frames="${frames + 1}"])`).waitFor(T);
    expect(await page.locator('#calls tbody').textContent()).not.toContain(world.otherDid);
    const linksText = await page.locator('#links tbody').textContent();
    expect(linksText).toContain('acme-campaign');
    expect(linksText).not.toContain('other-campaign');
    expect(await page.locator('nav').textContent()).not.toContain('Users');
    await ui.shot('live-floor-seller');
    sim.hangup(own);
    sim.hangup(foreign);

    // The calls list: the seller's own call is there once recorded, the other seller's never.
    await waitFor(
      async () => (await cdrOf(world.acmeDid)).length > 0 && (await cdrOf(world.otherDid)).length > 0,
    );
    await page.click('nav a[href="/console/calls"]');
    await page.locator('#calls-list tbody tr', { hasText: world.acmeDid }).first().waitFor(T);
    expect(await page.locator('main').textContent()).not.toContain(world.otherDid);
    await ui.shot('calls-seller');
    // Its totals: its own campaign's calls, none of the other seller's, no revenue or margin.
    await page.click('nav.tabs a:has-text("Totals")');
    await page.locator('#totals tbody tr', { hasText: 'acme-campaign' }).waitFor(T);
    expect(await page.locator('main').textContent()).not.toContain('other-campaign');
    expect(await page.locator('#totals thead').textContent()).not.toContain('Margin');
    await ui.shot('call-totals-seller');

    const r = await page.goto(`${base}/console/users`);
    expect(r!.status()).toBe(403);
    expect((await page.goto(`${base}/console/caller-ids`))!.status()).toBe(403);
    expect((await page.goto(`${base}/console/pbx`))!.status()).toBe(403);
    await page.click('form[action="/console/sign-out"] button');
    await page.waitForURL(/\/console\/sign-in$/, T);
    await page.goto(`${base}/console/account`);
    expect(new URL(page.url()).pathname).toBe('/console/sign-in');
    expect(ui.problems).toEqual([]);
  });

  it('recordings: a recorded call plays on its page (ranges, audio/wav), a seller hears only its own, retention shows as such', async () => {
    const { page, context } = ui;
    await context.clearCookies();
    await page.goto(`${base}/console/campaigns`);
    await signIn('second-admin@example.com', PW);
    await page.waitForURL(/\/console\/campaigns$/, T);
    // Recording turned on in the campaign's page; the other seller's campaign records too, so a
    // refusal below is the seller's scope, not a call without a recording.
    const x = d.ctx.database.db;
    const [acme] = await x.select().from(campaigns).where(eq(campaigns.name, 'acme-campaign'));
    await page.goto(`${base}/console/campaigns/${acme!.id}`);
    await page.check('#campaign-form input[name=record_calls]');
    await page.click('#campaign-form button[type=submit]');
    await page.getByText('Saved.').waitFor(T);
    expect(await page.isChecked('#campaign-form input[name=record_calls]')).toBe(true);
    await x.update(campaigns).set({ recordCalls: true }).where(eq(campaigns.name, 'other-campaign'));
    // Each centre answers and hangs up 1.5 s later: a recording of a second or more.
    for (const c of ['acme-centre', 'other-centre'])
      sim.setEndpoint(c, { answerAfterMs: 20, hangupAfterMs: 1500 });
    sim.placeInboundCall({ did: world.acmeDid, callerNumber: '+12125550301' });
    sim.placeInboundCall({ did: world.otherDid, callerNumber: '+12125550302' });
    const recorded = async (did: string) => {
      let id = '';
      await waitFor(async () => {
        const r = (await cdrOf(did)).find((c) => c.recordingName && (c.recordingS ?? 0) >= 1);
        id = r?.callId ?? '';
        return !!r;
      });
      return id;
    };
    const own = await recorded(world.acmeDid);
    const foreign = await recorded(world.otherDid);

    // From the calls list to the call's page; the player fetches the file from the daemon.
    await page.click('nav a[href="/console/calls"]');
    const row = page.locator(`#calls-list tr[data-call-id="${own}"]`);
    expect(await row.textContent()).toContain('recorded');
    const fetched = page.waitForResponse((r) => r.url().endsWith(`/console/calls/${own}/recording`), T);
    await row.locator('td:first-child a').click();
    const player = page.locator('#recording-player');
    await player.waitFor(T);
    const media = await fetched;
    expect([200, 206]).toContain(media.status());
    expect(media.headers()['content-type']).toBe('audio/wav');
    // The browser read the file's header: its length is the recording's.
    await page.waitForFunction(METADATA_READ, undefined, T);
    const [rec] = await x.select().from(callRecords).where(eq(callRecords.callId, own));
    expect(await player.evaluate((a) => Math.round((a as unknown as { duration: number }).duration))).toBe(
      rec!.recordingS,
    );
    await ui.shot('call-recording');
    // A part of it, as a seek asks: 206 with the WAV header's bytes.
    const probe = (url: string, range?: string) =>
      page.evaluate(
        async ([u, r]) => {
          const res = await fetch(u!, r ? { headers: { range: r } } : {});
          const b = new Uint8Array(await res.arrayBuffer());
          return {
            status: res.status,
            type: res.headers.get('content-type'),
            range: res.headers.get('content-range'),
            head: String.fromCharCode(...b.slice(0, 4)),
            length: b.length,
          };
        },
        [url, range] as const,
      );
    const part = await probe(`/console/calls/${own}/recording`, 'bytes=0-43');
    expect(part).toMatchObject({ status: 206, type: 'audio/wav', head: 'RIFF', length: 44 });
    expect(part.range).toMatch(/^bytes 0-43\/\d+$/);
    expect((await probe(`/console/calls/${foreign}/recording`)).status).toBe(200);

    // The seller: its own call plays, the other seller's does not exist for it.
    await page.click('form[action="/console/sign-out"] button');
    await page.waitForURL(/\/console\/sign-in$/, T);
    await page.goto(`${base}/console/calls/${own}`);
    await signIn('seller@acme.test', PW);
    await page.waitForURL(new RegExp(`/console/calls/${own}$`), T);
    await page.waitForFunction(METADATA_READ, undefined, T);
    expect(await page.locator('#call-record').textContent()).not.toContain('Margin');
    expect((await probe(`/console/calls/${own}/recording`, 'bytes=0-')).status).toBe(206);
    const refused = await probe(`/console/calls/${foreign}/recording`);
    expect([403, 404]).toContain(refused.status);
    expect((await page.goto(`${base}/console/calls/${foreign}`))!.status()).toBe(404);

    // Retention deletes the recordings: the page says so instead of a player; the file is gone.
    const asterisk = d.ctx.modules.get('asterisk') as AsteriskModule;
    const redis = new Redis(process.env.REDIS_URL!);
    const job = new CdrRetention(
      x,
      redis,
      new RedisKeys(redisPrefix()).cdrRetentionLock,
      { cdrDays: 0, callerNumberDays: 0, recordingDays: 30, batch: 100 },
      log,
      recordingDeleter(asterisk, log),
    );
    expect((await job.runOnce(Date.now() + 31 * 86_400_000))?.recordingsDeleted).toBeGreaterThanOrEqual(2);
    await redis.quit();
    await page.goto(`${base}/console/calls/${own}`);
    await page.locator('#recording-deleted', { hasText: 'Deleted by retention' }).waitFor(T);
    expect(await page.locator('audio').count()).toBe(0);
    await ui.shot('call-recording-deleted');
    expect((await probe(`/console/calls/${own}/recording`)).status).toBe(404);
    expect(ui.problems).toEqual([]);
  });
});
