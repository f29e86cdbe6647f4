// The console's empty and error states as a person sees them, in a real headless Chromium, on a
// private PostgreSQL and a private Redis this file stops and starts (the shared ones stay up for the
// other files): every list with no rows says so in words; with the database down, then with Redis
// down, a page says which part is not answering and offers it again, the live floor says why it
// stands still, sign-in answers a clear refusal (not a 500), and each page comes back by itself
// (no click, no reload by the test) once the server is back. Screenshots go to
// test-results/console/states/ (not committed).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { type Chromium, launchChromium } from '../helpers/chromium.ts';
import { addUser, consoleModules, EMPTY_LISTS, fillSignIn, signInPage } from '../helpers/console.ts';
import { testConfig, journalDir } from '../helpers/env.ts';
import { PrivatePostgres } from '../helpers/private-pg.ts';
import { PrivateRedis } from '../helpers/redis-server.ts';

const log = createLogger({ level: 'silent' });
const PW = 'correct horse battery';
const EMAIL = 'admin@example.com';
const T = { timeout: 60_000 };

/** Tables shown with a header and no row (a list must say it is empty instead). Run in the page. */
const BARE_TABLES = `[...document.querySelectorAll('main table')]
  .filter((t) => t.getClientRects().length > 0 && t.tBodies.length > 0 && ![...t.tBodies].some((b) => b.rows.length))
  .map((t) => t.id || t.className || 'table')`;

describe('console: empty pages, and PostgreSQL or Redis down, in Chromium', () => {
  let pg: PrivatePostgres;
  let redis: PrivateRedis;
  let redisDir: string;
  let d: Daemon;
  let ui: Chromium;
  let base: string;
  // A journal of its own: records another daemon of this checkout left (a demo) must not show here.
  const cdrDir = journalDir();

  beforeAll(async () => {
    // Redis keeps its data across the restart (as a production one with its append-only file does):
    // the sessions are still there when it is back.
    redisDir = mkdtempSync(join(tmpdir(), 'cc-states-redis-'));
    // The browser starts while the servers and the daemon do.
    [ui, d] = await Promise.all([
      launchChromium(),
      Promise.all([PrivatePostgres.create(), PrivateRedis.create({ persistDir: redisDir })]).then(
        ([p, r]) => {
          [pg, redis] = [p, r];
          return startDaemon(
            testConfig({
              DATABASE_URL: pg.url,
              REDIS_URL: redis.url,
              API_HOST: '127.0.0.1',
              CDR_BUFFER_DIR: cdrDir,
            }),
            log,
            consoleModules(),
          );
        },
      ),
    ]);
    base = d.address.replace('[::1]', '127.0.0.1');
    await addUser(d, { email: EMAIL, password: PW, role: 'admin' });
  }, 120_000);
  afterAll(async () => {
    await ui?.close();
    await d?.stop();
    await redis?.stop();
    pg?.destroy();
    if (redisDir) rmSync(redisDir, { recursive: true, force: true });
  });

  const shot = (name: string, page: Page = ui.page) =>
    page.screenshot({ path: join('test-results', 'console', 'states', `${name}.png`), fullPage: true });
  const status = (page: Page) => page.locator('#live-status');

  it('signed in on an empty database, every list says it is empty in words, the live floor too', async () => {
    const { page } = ui;
    await signInPage(page, base, EMAIL, PW);
    await page.locator('#live-status[data-state=live]').waitFor(T);
    for (const id of ['calls', 'links', 'sellers', 'dids', 'groups', 'nodes'])
      expect(await page.locator(`#${id}-empty`).isVisible(), id).toBe(true);
    await shot('live-empty');
    for (const [path, says] of EMPTY_LISTS) {
      const r = await page.goto(`${base}${path}`);
      expect(r!.status(), path).toBe(200);
      const empty = page.locator('main p.empty').first();
      expect(await empty.isVisible(), path).toBe(true);
      const text = (await empty.innerText()).trim();
      expect(text.length, path).toBeGreaterThanOrEqual(8);
      if (says) expect(await page.locator('main').innerText(), path).toMatch(says);
      expect(await page.evaluate(BARE_TABLES), path).toEqual([]);
      await shot(`empty${path.replace(/\//g, '_')}`);
    }
    expect(ui.problems).toEqual([]);
  });

  it('PostgreSQL down: pages say the database is not answering, the floor says why it stands still; both come back by themselves', async () => {
    const floor = ui.page;
    await floor.goto(`${base}/console/live`);
    await floor.locator('#live-status[data-state=live]').waitFor(T);
    const list = await ui.context.newPage();
    pg.stop();
    try {
      const r = await list.goto(`${base}/console/sellers`);
      expect(r!.status()).toBe(503);
      expect(r!.headers()['retry-after']).toBe('5');
      await list.getByText('the database is not answering right now').waitFor(T);
      expect(await list.locator('#try-again').getAttribute('href')).toBe('/console/sellers');
      await shot('pg-down-sellers', list);
      // The floor's lists of links and names are kept a few seconds; then a frame cannot be built.
      await floor.locator('#live-status[data-state=down]').waitFor(T);
      expect(await status(floor).innerText()).toContain('the database is not answering');
      await shot('pg-down-live', floor);
    } finally {
      pg.start();
    }
    // Nobody clicks: the error page reloads itself and the stream's next frame builds.
    await list.locator('main h1', { hasText: 'Sellers' }).waitFor(T);
    await list.getByText('No sellers yet').waitFor(T);
    await floor.locator('#live-status[data-state=live]').waitFor(T);
    await list.close();
    expect(ui.problems).toEqual([]);
  });

  it('Redis down: each page names Redis and what it holds, sign-in refuses clearly, the floor says why; all back by themselves', async () => {
    const floor = ui.page;
    await floor.goto(`${base}/console/live`);
    await floor.locator('#live-status[data-state=live]').waitFor(T);
    const cids = await ui.context.newPage();
    const sellers = await ui.context.newPage();
    const signIn = await ui.context.newPage();
    await redis.stop();
    try {
      // The live floor: the usage against caps lives in Redis.
      await floor.locator('#live-status[data-state=down]').waitFor(T);
      expect(await status(floor).innerText()).toMatch(
        /Not updating: Redis is not answering.*Trying again by itself/,
      );
      await shot('redis-down-live', floor);
      // Caller IDs (their usage is counted in Redis) and any other page (its session is there).
      const r = await cids.goto(`${base}/console/caller-ids`);
      expect(r!.status()).toBe(503);
      expect(r!.headers()['retry-after']).toBe('5');
      await cids.getByText('Redis is not answering right now, so caller-ID pages are unavailable').waitFor(T);
      expect(await cids.locator('#try-again').getAttribute('href')).toBe('/console/caller-ids');
      await shot('redis-down-caller-ids', cids);
      expect((await sellers.goto(`${base}/console/sellers`))!.status()).toBe(503);
      await sellers.getByText('the sessions that sign you in are kept there').waitFor(T);
      // Sign-in: the form is shown (the old session cookie cannot be read, it is not an error), and
      // a sign-in is refused in words with a 503, not a 500.
      expect((await signIn.goto(`${base}/console/sign-in`))!.status()).toBe(200);
      const [answer] = await Promise.all([
        signIn.waitForResponse(
          (x) => x.request().method() === 'POST' && x.url().endsWith('/console/sign-in'),
        ),
        fillSignIn(signIn, EMAIL, PW),
      ]);
      expect(answer.status()).toBe(503);
      await signIn.getByText('Redis is not answering right now, so sign-in is unavailable').waitFor(T);
      await shot('redis-down-sign-in', signIn);
    } finally {
      await redis.start();
    }
    await cids.locator('main h1', { hasText: 'Caller IDs' }).waitFor(T);
    await sellers.getByText('No sellers yet').waitFor(T);
    await floor.locator('#live-status[data-state=live]').waitFor(T);
    // And sign-in works again from the same form.
    await signIn.goto(`${base}/console/sign-in`);
    expect(new URL(signIn.url()).pathname).toBe('/console/live');
    for (const p of [cids, sellers, signIn]) await p.close();
    expect(ui.problems).toEqual([]);
  });

  it('signed out in another tab, the open live floor stops and offers to sign in again', async () => {
    const floor = ui.page;
    await floor.goto(`${base}/console/live`);
    await floor.locator('#live-status[data-state=live]').waitFor(T);
    const other = await ui.context.newPage();
    await other.goto(`${base}/console/account`);
    await other.click('form[action="/console/sign-out"] button');
    await other.waitForURL(/\/console\/sign-in/, T);
    // The stream ends at its next session check; its reconnection is refused (401) and the page
    // asks whether it is signed out rather than retrying for ever.
    await floor.locator('#live-status[data-state=stopped]').waitFor(T);
    expect(await status(floor).innerText()).toContain('Stopped: you are signed out');
    expect(await floor.locator('#live-status a').getAttribute('href')).toBe(
      '/console/sign-in?next=%2Fconsole%2Flive',
    );
    await shot('signed-out-live', floor);
    await other.close();
    expect(ui.problems).toEqual([]);
  });
});
