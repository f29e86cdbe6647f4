// What the console's tests share: the daemon's modules behind every page, the list pages with what
// each says when empty, the first admin; and a "browser" driving the console through Fastify inject
// (cookies kept per browser, same-origin headers, CSRF token read from the page); and the sign-in of a
// real headless browser through the form.
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { createAuditModule } from '../../src/audit/index.ts';
import { createCallerIdModule } from '../../src/callerid/index.ts';
import { type ConsoleModule, createConsoleModule } from '../../src/console/index.ts';
import type { Daemon } from '../../src/main.ts';
import type { App } from '../../src/platform/http/app.ts';
import type { UserCreate } from '../../src/console/schemas.ts';
import type { ModuleFactory } from '../../src/platform/module.ts';
import { createPbxModule } from '../../src/pbx/index.ts';
import { createProvisioningModule } from '../../src/provisioning/index.ts';
import { createReportsModule } from '../../src/reports/index.ts';
import { createRoutingModule } from '../../src/routing/index.ts';

/** Every module a console page reads (no Asterisk; provisioning without its workers). */
export function consoleModules(): ModuleFactory[] {
  return [
    createRoutingModule,
    createAuditModule,
    createReportsModule,
    createPbxModule,
    (ctx) => createCallerIdModule(ctx),
    createConsoleModule,
    (ctx) => createProvisioningModule(ctx, { workers: false }),
  ];
}

/**
 * Every list page, with the words it says when it has no rows (null: its empty paragraph is checked,
 * not its words).
 */
export const EMPTY_LISTS: ReadonlyArray<readonly [path: string, says: RegExp | null]> = [
  ['/console/sellers', /No sellers yet/],
  ['/console/clients', /No clients yet/],
  ['/console/groups', /No buyer groups yet/],
  ['/console/campaigns', /No campaigns/],
  ['/console/dids', /No DIDs/],
  ['/console/blocklist', null],
  ['/console/calls', null],
  ['/console/calls/totals', null],
  ['/console/caller-ids', null],
  ['/console/pbx', null],
  ['/console/pbx/audit', null],
  ['/console/numbers', /No numbers yet/],
  ['/console/numbers/accounts', /No provider account yet/],
  ['/console/numbers/webhooks', /No webhook subscriptions/],
  ['/console/audit', /No audit records match/],
  ['/console/api-keys', null],
];

/** A console user of the daemon (the first admin, or any role). */
export function addUser(d: Daemon, u: UserCreate) {
  return (d.ctx.modules.get('console') as ConsoleModule).services.users.create(u);
}

export class Browser {
  cookies = new Map<string, string>();
  constructor(
    private app: App,
    readonly ip = '127.0.0.1',
  ) {}

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private keep(setCookie: string | string[] | undefined) {
    for (const c of [setCookie ?? []].flat()) {
      const [pair, ...attrs] = c.split(';');
      const [k, ...v] = pair!.split('=');
      const expired = attrs.some(
        (a) => /expires=thu, 01 jan 1970/i.test(a.trim()) || /^max-age=0$/i.test(a.trim()),
      );
      if (expired) this.cookies.delete(k!.trim());
      else this.cookies.set(k!.trim(), v.join('='));
    }
  }

  async get(url: string, accept = 'text/html') {
    const r = await this.app.inject({
      method: 'GET',
      url,
      remoteAddress: this.ip,
      headers: { accept, cookie: this.cookieHeader() },
    });
    this.keep(r.headers['set-cookie']);
    return r;
  }

  async post(url: string, form: Record<string, string>, headers: Record<string, string> = {}) {
    const r = await this.app.inject({
      method: 'POST',
      url,
      remoteAddress: this.ip,
      headers: {
        accept: 'text/html',
        'content-type': 'application/x-www-form-urlencoded',
        origin: 'http://console.test',
        host: 'console.test',
        cookie: this.cookieHeader(),
        ...headers,
      },
      payload: new URLSearchParams(form).toString(),
    });
    this.keep(r.headers['set-cookie']);
    return r;
  }

  /** A POST with a body of the given type (a file streamed by the page's script, JSON). */
  async postRaw(url: string, payload: string, contentType: string, headers: Record<string, string> = {}) {
    const r = await this.app.inject({
      method: 'POST',
      url,
      remoteAddress: this.ip,
      headers: {
        accept: 'application/json',
        'content-type': contentType,
        origin: 'http://console.test',
        host: 'console.test',
        cookie: this.cookieHeader(),
        ...headers,
      },
      payload,
    });
    this.keep(r.headers['set-cookie']);
    return r;
  }

  /** The CSRF token of the signed-in session, read from a page as a browser's form would. */
  async csrf(): Promise<string> {
    const r = await this.get('/console/account');
    const m = /data-csrf="([^"]+)"/.exec(r.body);
    if (!m) throw new Error(`no CSRF token on the page (status ${r.statusCode})`);
    return m[1]!;
  }

  signIn(email: string, password: string) {
    return this.post('/console/sign-in', { email, password });
  }
}

/** A browser at `ip` signed in as `email` (the sign-in answered with its redirect). */
export async function signedIn(app: App, ip: string, email: string, password: string): Promise<Browser> {
  const b = new Browser(app, ip);
  expect((await b.signIn(email, password)).statusCode).toBe(303);
  return b;
}

/** Fills the sign-in form a real browser's page shows, and sends it. */
export async function fillSignIn(page: Page, email: string, password: string): Promise<void> {
  await page.fill('input[name=email]', email);
  await page.fill('input[name=password]', password);
  await page.click('button[type=submit]');
}

/**
 * Signs a real browser's page in through the form at `base`, and waits for the page the sign-in leads
 * to: the live floor, or `next` (a console path) when given.
 */
export async function signInPage(
  page: Page,
  base: string,
  email: string,
  password: string,
  next?: string,
): Promise<void> {
  await page.goto(`${base}/console/sign-in${next ? `?next=${encodeURIComponent(next)}` : ''}`);
  await fillSignIn(page, email, password);
  const landing = next ?? '/console/live';
  await page.waitForURL((u) => u.href.endsWith(landing), { timeout: 60_000 });
}
