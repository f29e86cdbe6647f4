// Every main page of the console at a phone's width (390×844), a small laptop's (1100×800, the
// narrowest with the menu unfolded) and 1280×800, in a real headless Chromium, with rows in every
// list (long names, a long email, a long webhook URL, the widest tables). A page fails when it is
// wider than the window (document.scrollingElement.scrollWidth > innerWidth, the page made to hide it
// counting too), when a navigation entry is cut off or covered, or when a control (field, button,
// link) lies outside the window without a scrolling box of its own to reach it by. Each page is
// checked as it opens and again with every folded part open (create forms, a call's attempts, an
// audit row); the delete confirmations that list what a cascade removes are checked too, and below
// 1100 px the menu opened behind its button. Admins at the three sizes (a tablet's 768 px, between
// the phone's folded menu and 1100 px, was dropped to keep the suite short); staff, viewers and
// seller users (other menus, forms and rows) at a phone's width and at 1280×800, on the pages their
// role reaches. Each page is loaded once per role and judged at each size by resizing the window.
// Screenshots of each page (the admin's, at 390 and 1280 px; any page with a problem) go to
// test-results/console/layout/ (not committed).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/auth/keys.ts';
import { providerAccounts, webhookSubscriptions } from '../../src/db/schema/provisioning.ts';
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
import type { RoutingModule } from '../../src/routing/index.ts';
import { type Chromium, launchChromium, SCREENSHOTS } from '../helpers/chromium.ts';
import { addUser, consoleModules, fillSignIn } from '../helpers/console.ts';
import { freshDatabase, testConfig, journalDir } from '../helpers/env.ts';
import { waitFor } from '../helpers/wait.ts';

const log = createLogger({ level: 'silent' });
const PW = 'correct horse battery';
const EMAIL = 'a.very.long.operator.address@operations.example.com';
const T = { timeout: 60_000 };
const SIZES = [
  { width: 390, height: 844 },
  { width: 1100, height: 800 },
  { width: 1280, height: 800 },
] as const;
type Role = 'admin' | 'staff' | 'viewer' | 'seller';
const EVERYONE: Role[] = ['admin', 'staff', 'viewer', 'seller'];
const STAFF_READ: Role[] = ['admin', 'staff', 'viewer'];
/** Who signs in as each role (long addresses: the header must hold them) and at which sizes. */
const USERS: Array<{ role: Role; email: string; sizes: ReadonlyArray<(typeof SIZES)[number]> }> = [
  { role: 'admin', email: EMAIL, sizes: SIZES },
  {
    role: 'staff',
    email: 'a.staff.member.of.the.operations.team@operations.example.com',
    sizes: [SIZES[0], SIZES[2]],
  },
  {
    role: 'viewer',
    email: 'the.floor.supervisor.on.the.night.shift@operations.example.com',
    sizes: [SIZES[0], SIZES[2]],
  },
  {
    role: 'seller',
    email: 'account.manager@acme-lead-generation-international.example.com',
    sizes: [SIZES[0], SIZES[2]],
  },
];

/** Opens every folded part of the page (create forms, details of a row); how many were folded. */
const UNFOLD = `(() => {
  const folded = [...document.querySelectorAll('main details:not([open])')];
  for (const d of folded) d.open = true;
  return folded.length;
})()`;

/**
 * What is wrong with the page as laid out now (nothing: an empty list). Evaluated in the page (the
 * project's TypeScript has no DOM types, so it travels as the page's own JavaScript).
 */
const LAYOUT_PROBLEMS = `(() => {
  const W = window.innerWidth;
  const out = [];
  const name = (el) => {
    const id = el.id ? \`#\${el.id}\` : '';
    const text = (el.textContent ?? '').trim().slice(0, 30) || el.name || '';
    return \`\${el.tagName.toLowerCase()}\${id} "\${text}"\`;
  };
  const doc = document.scrollingElement;
  if (doc.scrollWidth > W) out.push(\`page \${doc.scrollWidth} px wide in a \${W} px window\`);
  for (const el of [document.documentElement, document.body])
    if (getComputedStyle(el).overflowX === 'hidden') out.push(\`\${el.tagName} hides what overflows\`);
  /** The nearest box that scrolls sideways (a wide table's), or one that cuts its content off. */
  const boxOf = (el) => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if (o === 'auto' || o === 'scroll' || o === 'hidden' || o === 'clip')
        return { p, scrolls: o !== 'hidden' && o !== 'clip' };
    }
    return null;
  };
  const shown = (el) => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden';
  };
  const controls = document.querySelectorAll(
    'header a, header button, main a, main button, main input:not([type=hidden]), main select, main textarea',
  );
  const seen = new Set();
  for (const el of controls) {
    if (!shown(el)) continue;
    const r = el.getBoundingClientRect();
    const box = boxOf(el);
    if (box?.scrolls) {
      // Reached by scrolling its box: the box itself must be in the window.
      const b = box.p.getBoundingClientRect();
      if ((b.left < -0.5 || b.right > W + 0.5) && !seen.has(box.p)) {
        seen.add(box.p);
        out.push(\`\${name(box.p)} (the scrolling box of \${name(el)}) out of the window\`);
      }
      continue;
    }
    if (box && !box.scrolls) {
      const b = box.p.getBoundingClientRect();
      // An ellipsis on a text link is fine; a control cut off by a box that does not scroll is not.
      if (el.matches('button, input, select, textarea') && (r.left < b.left - 0.5 || r.right > b.right + 0.5))
        out.push(\`\${name(el)} cut off by \${name(box.p)}\`);
    }
    if (r.left < -0.5 || r.right > W + 0.5)
      out.push(\`\${name(el)} at \${Math.round(r.left)}–\${Math.round(r.right)} px\`);
  }
  // From 1280 px (a laptop) every table fits its box: a sideways scroll is for narrower windows.
  if (W >= 1280)
    for (const box of document.querySelectorAll('main .scroll'))
      if (box.scrollWidth > box.clientWidth + 1)
        out.push(\`\${name(box.firstElementChild ?? box)} \${box.scrollWidth} px wide in its \${box.clientWidth} px box\`);
  // Navigation: each entry shown is whole and on top (nothing covers its middle).
  for (const a of document.querySelectorAll('header.top nav a, header.top .nav-toggle, header.top .me a')) {
    if (!shown(a)) continue;
    const r = a.getBoundingClientRect();
    if (r.left < -0.5 || r.right > W + 0.5) {
      out.push(\`nav \${name(a)} cut off\`);
      continue;
    }
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    if (r.top >= 0 && r.bottom <= window.innerHeight && hit && !a.contains(hit) && hit !== a)
      out.push(\`nav \${name(a)} covered by \${name(hit)}\`);
  }
  return out;
})()`;

describe('the console at a phone’s, a tablet’s and a laptop’s width', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let d: Daemon;
  let ui: Chromium;
  let base: string;
  let cdrDir: string;
  /** Each page with the roles that reach it (the others are refused it: not checked here). */
  const pages: Array<{ path: string; roles: Role[] }> = [];
  /** Pages whose delete asks first what its cascade removes, with the roles that may delete. */
  const cascades: Array<{ path: string; roles: Role[] }> = [];
  /** The seller's page: its delete asks first, counting what still names it. */
  let sellerPath = '';
  const shots = join(SCREENSHOTS, 'layout');

  beforeAll(async () => {
    // The browser starts while the database and the daemon do, and the rows are written.
    const launching = launchChromium();
    launching.catch(() => {}); // its failure is met where it is awaited, not as an unhandled one
    db = await freshDatabase();
    cdrDir = journalDir();
    d = await startDaemon(
      testConfig({ DATABASE_URL: db.url, API_HOST: '127.0.0.1', CDR_BUFFER_DIR: cdrDir }),
      log,
      consoleModules(),
    );
    base = d.address.replace('[::1]', '127.0.0.1');
    const x = d.ctx.database.db;
    // Rows in every list, with names as long as people make them.
    const [s] = await x
      .insert(sellers)
      .values({ name: 'Acme Lead Generation International Holdings (West Coast)', dailyCap: 500 })
      .returning();
    const [g] = await x
      .insert(buyerGroups)
      .values({ name: 'North American Insurance Call Centres', timezone: 'America/Chicago', dailyCap: 40 })
      .returning();
    const [cl] = await x
      .insert(clients)
      .values({
        name: 'Northern Insurance Call Centre Number Seven',
        endpoint: 'northern-insurance-call-centre-7',
        groupId: g!.id,
        timezone: 'America/New_York',
      })
      .returning();
    const [c] = await x
      .insert(campaigns)
      .values({ sellerId: s!.id, name: 'Final Expense Insurance Inbound Calls (Spanish)' })
      .returning();
    const [l] = await x
      .insert(links)
      .values({ campaignId: c!.id, clientId: cl!.id, concurrencyCap: 5, hourlyCap: 100, dailyCap: 400 })
      .returning();
    const [did] = await x
      .insert(dids)
      .values({ number: '+14155550101', sellerId: s!.id, campaignId: c!.id })
      .returning();
    await x
      .insert(callerBlocks)
      .values({ number: '+12125550123', note: 'asked not to be called again, twice' });
    const [acct] = await x
      .insert(providerAccounts)
      .values({
        name: 'vonage-main-account-for-the-west-coast',
        provider: 'vonage',
        restUrl: 'https://rest.nexmo.com',
        apiUrl: 'https://api.nexmo.com',
        credentials: 'sealed',
        signallingCidrs: ['216.147.0.0/18', '168.100.64.0/18'],
      })
      .returning();
    const [hook] = await x
      .insert(webhookSubscriptions)
      .values({
        url: 'https://hooks.operations.example.com/capconduit/provisioning/events/v2?tenant=west-coast-operations',
        events: ['number.provisioned', 'number.released', 'job.completed', 'subaccount.created'],
        secret: 'sealed',
      })
      .returning();
    const admin = (await createApiKey(x, { role: 'admin', label: 'operations desk automation' })).key;
    const api = (method: 'POST', url: string, payload: string | object, type = 'application/json') =>
      d.app.inject({
        method,
        url,
        headers: { authorization: `Bearer ${admin}`, 'content-type': type },
        payload,
      });
    const imp = await api(
      'POST',
      '/v1/caller-ids/import',
      'caller_id,carrier,area_code,state,hourly_limit,daily_limit,pool\n+14155550110,Carrier With A Long Name,415,CA,10,100,west-coast-outbound-pool\n+14155550111,Carrier With A Long Name,415,CA,10,100,west-coast-outbound-pool\n',
      'text/csv',
    );
    expect(imp.statusCode, imp.body).toBe(200);
    // A number in use: its row carries a last-used time and a live state, as on a working floor.
    const cid = await d.app.inject({
      method: 'GET',
      url: '/next-cid?pool=west-coast-outbound-pool&to=%2B12125550123',
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(cid.statusCode, cid.body).toBe(200);
    const pu = await api('POST', '/v1/pbx/users', { name: 'Dana Agent-Longname', email: 'dana@example.com' });
    expect(pu.statusCode, pu.body).toBe(201);
    // Calls: answered and not, with the names a CDR carries.
    const cdrs = (d.ctx.modules.get('routing') as RoutingModule).cdr;
    // The second call is one a call page shows at its fullest: a long id (as Asterisk's unique ids
    // run with a node prefix), a recording, two attempts and a link not offered the call.
    const callId = (i: number) =>
      i === 1
        ? 'layout-1-node-west-coast-01-1765000000.123456-0f6d2a4e-8c1b-4e7a-9f2d-5b6c7d8e9f01'
        : `layout-${i}`;
    for (let i = 0; i < 3; i++) {
      const start = Date.now() - (i + 1) * 3_600_000;
      await cdrs.write({
        call_id: callId(i),
        node_id: 'n1',
        seller_id: s!.id,
        seller_name: s!.name,
        campaign_id: c!.id,
        campaign_name: c!.name,
        did: did!.number,
        did_id: did!.id,
        caller_number: '+12125550000',
        client_id: i ? cl!.id : null,
        client_name: i ? cl!.name : null,
        link_id: i ? l!.id : null,
        started_at: new Date(start).toISOString(),
        answered_at: i ? new Date(start + 5_000).toISOString() : null,
        ended_at: new Date(start + 65_000).toISOString(),
        duration_s: 65,
        talk_s: i ? 60 : 0,
        billable_s: i ? 60 : 0,
        disposition: i ? 'answered' : 'no_client',
        hangup_cause: 16,
        attempts:
          i === 1
            ? [
                { client_id: cl!.id, link_id: l!.id, result: 'busy', ring_ms: 2_300, answered_at: null },
                {
                  client_id: cl!.id,
                  link_id: l!.id,
                  result: 'answered',
                  ring_ms: 4_100,
                  answered_at: new Date(start + 5_000).toISOString(),
                },
              ]
            : [],
        ...(i === 1
          ? {
              not_routed: [{ link_id: l!.id, client_id: cl!.id, reason: 'seller_concurrency' }],
              recording_name: `capconduit/2026-12-06/${callId(1)}`,
              recording_s: 60,
              end_reason: 'caller_hangup_after_client_answered_and_talked',
            }
          : {}),
        converted: i === 1,
        payout_micros: 10_000_000,
        revenue_micros: 25_000_000,
        cost_micros: 1_000,
      });
    }
    await cdrs.flush();
    await waitFor(async () => {
      const [n] = await d.ctx.database.sql<[{ n: number }]>`select count(*)::int n from call_records`;
      return n.n === 3 || undefined;
    });
    const me = await addUser(d, { email: EMAIL, password: PW, role: 'admin' });
    const [pool] = await d.ctx.database.sql<[{ id: string }]>`select id from cid_pools limit 1`;
    for (const u of USERS.slice(1))
      await addUser(d, {
        email: u.email,
        password: PW,
        role: u.role,
        ...(u.role === 'seller' ? { seller_id: s!.id } : {}),
      });
    const ADMIN: Role[] = ['admin'];
    const NOT_SELLER = STAFF_READ;
    pages.push(
      { path: '/console/live', roles: EVERYONE },
      { path: '/console/sellers', roles: NOT_SELLER },
      { path: `/console/sellers/${s!.id}`, roles: NOT_SELLER },
      { path: '/console/clients', roles: NOT_SELLER },
      { path: `/console/clients/${cl!.id}`, roles: NOT_SELLER },
      { path: '/console/groups', roles: NOT_SELLER },
      { path: `/console/groups/${g!.id}`, roles: NOT_SELLER },
      { path: '/console/campaigns', roles: EVERYONE },
      { path: `/console/campaigns/${c!.id}`, roles: EVERYONE },
      { path: `/console/links/${l!.id}`, roles: EVERYONE },
      { path: '/console/dids', roles: EVERYONE },
      { path: `/console/dids/${did!.id}`, roles: EVERYONE },
      { path: '/console/blocklist', roles: EVERYONE },
      { path: '/console/calls', roles: EVERYONE },
      { path: '/console/calls/totals', roles: EVERYONE },
      { path: `/console/calls/${callId(1)}`, roles: EVERYONE },
      { path: '/console/caller-ids', roles: NOT_SELLER },
      { path: `/console/caller-ids/pools/${pool.id}/vicidial`, roles: NOT_SELLER },
      { path: '/console/pbx', roles: NOT_SELLER },
      { path: '/console/pbx/audit', roles: NOT_SELLER },
      { path: '/console/numbers', roles: EVERYONE },
      { path: '/console/numbers/accounts', roles: NOT_SELLER },
      { path: `/console/numbers/accounts/${acct!.id}`, roles: NOT_SELLER },
      { path: '/console/numbers/webhooks', roles: EVERYONE },
      { path: `/console/numbers/webhooks/${hook!.id}`, roles: NOT_SELLER },
      { path: '/console/audit', roles: NOT_SELLER },
      { path: '/console/api-keys', roles: ADMIN },
      { path: '/console/users', roles: ADMIN },
      { path: `/console/users/${me.id}`, roles: ADMIN },
      { path: '/console/account', roles: EVERYONE },
    );
    sellerPath = `/console/sellers/${s!.id}`;
    cascades.push(
      { path: `/console/campaigns/${c!.id}`, roles: ['admin', 'staff', 'seller'] },
      { path: `/console/clients/${cl!.id}`, roles: ['admin', 'staff'] },
      { path: `/console/groups/${g!.id}`, roles: ['admin', 'staff'] },
    );
    mkdirSync(shots, { recursive: true });
    ui = await launching;
  });
  afterAll(async () => {
    await ui?.close();
    await d?.stop();
    await db?.drop();
  });

  for (const u of USERS)
    it(`${u.role} at ${u.sizes.map((z) => `${z.width}×${z.height}`).join(', ')}: every page fits, folded parts and cascade confirmations open — no sideways page, no cut-off menu, every control in reach`, async () => {
      const { page } = ui;
      /** Problems per window width. */
      const found = new Map<number, string[]>(u.sizes.map((z) => [z.width, []]));
      const tag = u.role === 'admin' ? '' : `${u.role}-`;
      // Each page is loaded once and judged at every size by resizing the window (a relayout costs a
      // tenth of a load). A full-page screenshot costs a second on a busy machine, a check a few
      // milliseconds: in the admin's run, where every page is, one screenshot a page (folded parts
      // open, when it has any) at a phone's width and at 1280 px; at 1100 px and for the other roles
      // only a page with a problem, and their open menu.
      const check = async (label: string, shot = u.role === 'admin') => {
        for (const size of u.sizes) {
          await page.setViewportSize(size);
          const p = (await page.evaluate(LAYOUT_PROBLEMS)) as string[];
          for (const x of p) found.get(size.width)!.push(`${label}: ${x}`);
          if ((shot && size.width !== 1100) || p.length)
            await page.screenshot({
              path: join(shots, `${tag}${label.replace(/[^a-z0-9]+/gi, '_')}-${size.width}.jpeg`),
              fullPage: true,
              type: 'jpeg',
              quality: 85,
            });
        }
      };
      const label = (path: string) => path.replace(/[0-9a-f-]{36}/, 'id');
      await ui.context.clearCookies();
      await page.goto(`${base}/console/sign-in`);
      if (u.role === 'admin') await check('sign-in');
      await fillSignIn(page, u.email, PW);
      await page.waitForURL(/\/console\/live$/, T);
      const mine = pages.filter((p) => p.roles.includes(u.role));
      for (const { path } of mine) {
        const r = await page.goto(`${base}${path}`);
        expect(r!.status(), path).toBe(200);
        // As it opens, then with its create forms and folded rows open.
        const folded = (await page.evaluate(
          `document.querySelectorAll('main details:not([open])').length`,
        )) as number;
        await check(label(path), folded === 0 && u.role === 'admin');
        if (folded > 0) {
          await page.evaluate(UNFOLD);
          await check(`${label(path)}-unfolded`);
        }
      }
      // A delete that takes other rows with it first lists them: that page fits too.
      for (const { path } of cascades.filter((x) => x.roles.includes(u.role))) {
        await page.goto(`${base}${path}`);
        const [answer] = await Promise.all([
          page.waitForResponse((x) => x.request().method() === 'POST' && x.url().endsWith('/delete')),
          page.click(`form[action="${path}/delete"] button[type=submit]`),
        ]);
        expect(answer.status(), path).toBe(409);
        await page.getByText('This delete takes other rows with it').waitFor(T);
        // Its text is there before its stylesheet and script may be (a busy machine): judged once loaded.
        await page.waitForLoadState('load');
        await check(`${label(path)}-delete-confirm`);
      }
      // A seller's delete counts what still names it (its campaign, DID, user...) before anything.
      if (u.role === 'admin' || u.role === 'staff') {
        await page.goto(`${base}/console/sellers`);
        const [answer] = await Promise.all([
          page.waitForResponse((x) => x.request().method() === 'POST' && x.url().endsWith('/delete')),
          page.click(`form[action="${sellerPath}/delete"] button[type=submit]`),
        ]);
        expect(answer.status()).toBe(409);
        await page.locator('#seller-kept').waitFor(T);
        await page.waitForLoadState('load');
        await check('seller-delete-confirm');
      }
      // Below 1100 px the menu folds behind its button; opened, every entry is in the window. From
      // 1100 px the button is not there.
      const toggle = page.locator('button.nav-toggle');
      for (const size of u.sizes) {
        await page.setViewportSize(size);
        expect(await toggle.isVisible(), `menu button at ${size.width} px`).toBe(size.width < 1100);
      }
      for (const size of u.sizes.filter((z) => z.width < 1100)) {
        await page.setViewportSize(size);
        await toggle.click();
        expect(await page.locator('nav[aria-label=main] a').first().isVisible()).toBe(true);
        const p = (await page.evaluate(LAYOUT_PROBLEMS)) as string[];
        for (const x of p) found.get(size.width)!.push(`menu-open: ${x}`);
        await page.screenshot({
          path: join(shots, `${tag}menu_open-${size.width}.jpeg`),
          fullPage: true,
          type: 'jpeg',
          quality: 85,
        });
        await toggle.click();
      }
      // Every problem, for a person to read beside the screenshots (a diff shows only the first ones).
      for (const [width, list] of found)
        writeFileSync(join(shots, `problems-${tag}${width}.txt`), list.join('\n'));
      expect([...found.values()].flat()).toEqual([]);
      expect(ui.problems).toEqual([]);
    }, 600_000);
});
