// The lists an operator narrows down, in a real headless Chromium: PBX users filtered by a name and
// sorted by a header with the filter kept, DIDs filtered by part of a number and by being routed
// nowhere, the caller-ID pools paged on the server, and a seller's delete that first counts what
// still names the seller (refused while a campaign and a DID are there; done, with its blocklist,
// once confirmed for a seller that has nothing else); a seller archived from its page, out of the
// default list and of a new DID's seller choice, restored; a DID switched off and filtered so.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/auth/keys.ts';
import { callerBlocks, campaigns, dids, sellers } from '../../src/db/schema/routing.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { type Chromium, launchChromium } from '../helpers/chromium.ts';
import { addUser, consoleModules, signInPage } from '../helpers/console.ts';
import { freshDatabase, testConfig } from '../helpers/env.ts';

const log = createLogger({ level: 'silent' });
const PW = 'correct horse battery';
/** Generous: the browser waits on what the page shows, never on the clock; this only bounds a hang. */
const T = { timeout: 60_000 };

describe('console lists in Chromium: filters, orders, pages and a counted delete', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let d: Daemon;
  let ui: Chromium;
  let base: string;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    const launching = launchChromium();
    launching.catch(() => {}); // met where it is awaited
    db = await freshDatabase();
    d = await startDaemon(testConfig({ DATABASE_URL: db.url, API_HOST: '127.0.0.1' }), log, consoleModules());
    base = d.address.replace('[::1]', '127.0.0.1');
    const x = d.ctx.database.db;
    const [acme] = await x.insert(sellers).values({ name: 'acme' }).returning();
    const [leaving] = await x.insert(sellers).values({ name: 'leaving' }).returning();
    ids.acme = acme!.id;
    ids.leaving = leaving!.id;
    const [c] = await x.insert(campaigns).values({ sellerId: acme!.id, name: 'sales' }).returning();
    await x.insert(dids).values([
      { number: '+14155550101', sellerId: acme!.id, campaignId: c!.id },
      { number: '+14155550102', sellerId: acme!.id },
      { number: '+12125550103', sellerId: acme!.id },
    ]);
    await x.insert(callerBlocks).values({ sellerId: leaving!.id, number: '+15550001111' });
    const key = (await createApiKey(x, { role: 'admin' })).key;
    const api = async (url: string, payload: object) => {
      const r = await d.app.inject({
        method: 'POST',
        url,
        headers: { authorization: `Bearer ${key}` },
        payload,
      });
      expect(r.statusCode, r.body).toBe(201);
    };
    for (const [name, email] of [
      ['Ann Baker', 'ann@pbx.test'],
      ['Bob Stone', 'bob@pbx.test'],
      ['Annie Ray', 'annie@pbx.test'],
    ])
      await api('/v1/pbx/users', { name, email });
    for (const id of ['east', 'north', 'west']) await api('/v1/cid-pools', { id });
    await addUser(d, { email: 'admin@example.com', password: PW, role: 'admin' });
    ui = await launching;
  });
  afterAll(async () => {
    await ui?.close();
    await d?.stop();
    await db?.drop();
  });

  const texts = (selector: string) => ui.page.locator(selector).allTextContents();

  it('narrows PBX users, DIDs and pools on the server, and a seller delete counts before it acts', async () => {
    const { page } = ui;
    await signInPage(page, base, 'admin@example.com', PW);

    // PBX users: "ann" is Ann and Annie; the Name header then orders them, the filter kept.
    await page.goto(`${base}/console/pbx`);
    expect(await texts('#pbx-users tbody tr td:nth-child(2)')).toEqual([
      'Ann Baker',
      'Bob Stone',
      'Annie Ray',
    ]);
    await page.fill('#pbx-user-filter input[name=uq]', 'ann');
    await Promise.all([page.waitForURL(/uq=ann/, T), page.click('#pbx-user-filter button[type=submit]')]);
    expect(await texts('#pbx-users tbody tr td:nth-child(2)')).toEqual(['Ann Baker', 'Annie Ray']);
    await Promise.all([page.waitForURL(/usort=name/, T), page.click('#pbx-users th a:text("Name")')]);
    expect(page.url()).toContain('uq=ann');
    expect(await page.inputValue('#pbx-user-filter input[name=uq]')).toBe('ann');
    expect(await texts('#pbx-users tbody tr td:nth-child(2)')).toEqual(['Ann Baker', 'Annie Ray']);
    await Promise.all([page.waitForURL(/udir=desc/, T), page.click('#pbx-users th a:text("Name")')]);
    expect(await texts('#pbx-users tbody tr td:nth-child(2)')).toEqual(['Annie Ray', 'Ann Baker']);

    // DIDs: part of a number typed as people write it, and routed nowhere.
    await page.goto(`${base}/console/dids`);
    await page.fill('#did-filters input[name=number]', '(415) 555');
    await page.selectOption('#did-filters select[name=routed]', 'false');
    await Promise.all([page.waitForURL(/routed=false/, T), page.click('#did-filters button[type=submit]')]);
    expect(await texts('#dids-list tbody tr td:first-child a')).toEqual(['+14155550102']);
    await page.selectOption('#did-filters select[name=routed]', '');
    await page.fill('#did-filters input[name=number]', '999');
    await Promise.all([page.waitForURL(/number=999/, T), page.click('#did-filters button[type=submit]')]);
    await page.getByText('No DIDs match this filter.').waitFor(T);

    // Caller-ID pools, one a page: the pager walks them in the server's order.
    await page.goto(`${base}/console/caller-ids?plimit=1`);
    expect(await texts('#pools tbody tr td:first-child')).toEqual(['east']);
    await page.click('section:has(#pools) nav.pager a:text("next →")');
    await page.waitForURL(/poffset=1/, T);
    expect(await texts('#pools tbody tr td:first-child')).toEqual(['north']);

    // A seller with a campaign and DIDs: the counts, and nothing deleted.
    await page.goto(`${base}/console/sellers`);
    await page.click(`form[action="/console/sellers/${ids.acme}/delete"] button[type=submit]`);
    await page.locator('#seller-kept').waitFor(T);
    const kept = await texts('#seller-kept li');
    expect(kept[0]).toMatch(/^1 campaign: delete them/);
    expect(kept[1]).toMatch(/^3 DIDs: delete them/);
    await page.click('a:text("Back to the seller")');
    await page.waitForURL(new RegExp(`/console/sellers/${ids.acme}$`), T);
    // One with only its blocklist: listed, then deleted once confirmed.
    await page.goto(`${base}/console/sellers`);
    await page.click(`form[action="/console/sellers/${ids.leaving}/delete"] button[type=submit]`);
    await page.locator('#seller-removed').waitFor(T);
    expect(await texts('#seller-removed li')).toEqual(['1 number on its blocklist']);
    await Promise.all([
      page.waitForURL(/\/console\/sellers\?done=deleted$/, T),
      page.click('#seller-delete-confirm button[type=submit]'),
    ]);
    expect(await page.locator(`form[action="/console/sellers/${ids.leaving}/delete"]`).count()).toBe(0);
    expect(await page.locator(`form[action="/console/sellers/${ids.acme}/delete"]`).count()).toBe(1);
    expect(ui.problems).toEqual([]);
  }, 300_000);

  it('archives a seller from its page, keeps it out of lists and picks, and restores it; switches a DID off', async () => {
    const { page } = ui;
    // Signed in by the test before (same browser): the sellers list is reachable.
    await page.goto(`${base}/console/sellers/${ids.acme}`);
    let asked = '';
    page.once('dialog', (dl) => {
      asked = dl.message();
      void dl.accept();
    });
    await Promise.all([
      page.waitForURL(/done=archived$/, T),
      page.click('#seller-archive button[type=submit]'),
    ]);
    expect(asked).toMatch(/^Archive seller acme\? Its DIDs stop taking calls/);
    await page.locator('#seller-archived').waitFor(T);
    expect(await page.locator('#seller-form input[name=name]').isDisabled()).toBe(true);
    // Out of the default list; the Archived filter shows it with when.
    await page.goto(`${base}/console/sellers`);
    await page.getByText('No sellers yet (archived ones').waitFor(T);
    await page.selectOption('#list-filters select[name=archived]', 'true');
    await Promise.all([page.waitForURL(/archived=true/, T), page.click('#list-filters button[type=submit]')]);
    expect(await texts('#sellers-list tbody tr td:first-child')).toEqual(['acme']);
    // Out of the pick list of a new DID, still naming its DIDs in the list.
    await page.goto(`${base}/console/dids`);
    expect(
      await page
        .locator(
          `form[method=post][action="/console/dids"] select[name=seller_id] option[value="${ids.acme}"]`,
        )
        .count(),
    ).toBe(0);
    expect(await texts('#dids-list tbody tr td:nth-child(2)')).toEqual(['acme', 'acme', 'acme']);
    // Restored from its row of the archived list: back in the default list.
    await page.goto(`${base}/console/sellers?archived=true`);
    await Promise.all([
      page.waitForURL(/done=restored$/, T),
      page.click(`form[action="/console/sellers/${ids.acme}/restore"] button[type=submit]`),
    ]);
    await page.goto(`${base}/console/sellers`);
    expect(await texts('#sellers-list tbody tr td input[name=name]')).toHaveLength(1);

    // A DID switched off from its page: filtered as such, and on again.
    await page.goto(`${base}/console/dids?number=2125550103`);
    await page.click('#dids-list tbody tr td:first-child a');
    await page.locator('#did-form').waitFor(T);
    await page.uncheck('#did-form input[name=active]');
    await Promise.all([page.waitForURL(/done=saved$/, T), page.click('#did-form button[type=submit]')]);
    await page.goto(`${base}/console/dids`);
    await page.selectOption('#did-filters select[name=active]', 'false');
    await Promise.all([page.waitForURL(/active=false/, T), page.click('#did-filters button[type=submit]')]);
    expect(await texts('#dids-list tbody tr td:first-child a')).toEqual(['+12125550103']);
    expect(ui.problems).toEqual([]);
  }, 300_000);
});
