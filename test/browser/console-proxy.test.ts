// The console behind a path-less reverse proxy that terminates TLS, in a real headless Chromium: the
// proxy (here, on loopback) serves https://console.example.test:<port>/ from the daemon's plain
// HTTP port and, as nginx does by default, sends the daemon its own address as Host; it is not in
// TRUSTED_PROXIES. With PUBLIC_URL set to the proxy's address, sign-in sets Secure cookies, the pages'
// changes are accepted from that origin, the live floor streams through the proxy, redirects stay on
// it, and a pool's VICIdial snippet calls PUBLIC_URL. The certificate is a test fixture
// (test/fixtures/tls, self-signed for console.example.test, accepted by this browser only).
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer, type Server } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CallerIdModule, createCallerIdModule } from '../../src/callerid/index.ts';
import { type ConsoleModule, createConsoleModule } from '../../src/console/index.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { createRoutingModule } from '../../src/routing/index.ts';
import { type Chromium, launchChromium } from '../helpers/chromium.ts';
import { fillSignIn } from '../helpers/console.ts';
import { freshDatabase, testConfig } from '../helpers/env.ts';

const log = createLogger({ level: 'silent' });
const PW = 'correct horse battery';
const T = { timeout: 60_000 };
const HOST = 'console.example.test';
const TLS = join(import.meta.dirname, '..', 'fixtures', 'tls');

describe('the console behind a reverse proxy, with PUBLIC_URL', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let d: Daemon;
  let ui: Chromium;
  let proxy: Server;
  let publicUrl: string;
  let upstream = 0;
  /** The Host and X-Forwarded-Proto the daemon was sent, per path (the proxy's rewrites). */
  const seen: Array<{ host: string | undefined; url: string | undefined }> = [];

  beforeAll(async () => {
    db = await freshDatabase();
    proxy = createServer(
      { key: readFileSync(join(TLS, `${HOST}.key`)), cert: readFileSync(join(TLS, `${HOST}.crt`)) },
      (req, res) => {
        const headers = {
          ...req.headers,
          host: `127.0.0.1:${upstream}`,
          'x-forwarded-proto': 'https',
          'x-forwarded-for': req.socket.remoteAddress ?? '',
        };
        const up = request(
          { host: '127.0.0.1', port: upstream, method: req.method, path: req.url, headers },
          (r) => {
            seen.push({ host: headers.host, url: req.url });
            res.writeHead(r.statusCode ?? 502, r.headers);
            r.pipe(res);
          },
        );
        up.on('error', () => res.destroy());
        res.on('close', () => up.destroy());
        req.pipe(up);
      },
    );
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    publicUrl = `https://${HOST}:${(proxy.address() as { port: number }).port}`;
    d = await startDaemon(
      testConfig({ DATABASE_URL: db.url, API_HOST: '127.0.0.1', PUBLIC_URL: publicUrl }),
      log,
      [createRoutingModule, (ctx) => createCallerIdModule(ctx), createConsoleModule],
    );
    upstream = Number(new URL(d.address.replace('[::1]', '127.0.0.1')).port);
    const con = d.ctx.modules.get('console') as ConsoleModule;
    await con.services.users.create({ email: 'admin@example.com', password: PW, role: 'admin' });
    await (d.ctx.modules.get('callerid') as CallerIdModule).service.createPool({ id: 'SALES01' });
    ui = await launchChromium({
      args: ['--ignore-certificate-errors', `--host-resolver-rules=MAP ${HOST} 127.0.0.1`],
    });
  });
  afterAll(async () => {
    await ui?.close();
    await d?.stop();
    proxy?.close();
    await db?.drop();
  });

  it('signs in with Secure cookies, changes things, streams the live floor and prints PUBLIC_URL, all through the proxy', async () => {
    const { page, context } = ui;
    // Signed out: sent to the sign-in page on the proxy's address, not the daemon's.
    await page.goto(`${publicUrl}/console/live`);
    await page.waitForURL(`${publicUrl}/console/sign-in?next=%2Fconsole%2Flive`, T);
    await fillSignIn(page, 'admin@example.com', PW);
    await page.waitForURL(`${publicUrl}/console/live`, T);
    const cookies = (await context.cookies()).filter((c) => c.domain === HOST);
    const session = cookies.find((c) => c.path === '/console');
    expect(session).toMatchObject({ secure: true, httpOnly: true, sameSite: 'Strict', domain: HOST });
    for (const c of cookies) expect(c.secure, c.name).toBe(true);
    // The live floor's event stream comes through the proxy.
    await page.getByText('Live · updated').waitFor(T);
    await ui.shot('proxy-live');

    // A change from the pages: the browser says the public origin, the daemon is sent its own Host.
    await page.click('nav a[href="/console/sellers"]');
    await page.fill('form[action="/console/sellers"] input[name=name]', 'proxied-seller');
    await page.click('form[action="/console/sellers"] button[type=submit]');
    await page.getByText('Created.').waitFor(T);
    expect(page.url().startsWith(`${publicUrl}/console/sellers`)).toBe(true);
    expect(seen.some((s) => s.url === '/console/sellers' && s.host === `127.0.0.1:${upstream}`)).toBe(true);

    // The snippet calls the public address, whatever Host the daemon was sent.
    await page.goto(`${publicUrl}/console/caller-ids/pools/SALES01/vicidial`);
    const snippet = await page.locator('pre').first().textContent();
    expect(snippet).toContain(`CAPCONDUIT_URL=${publicUrl}\n`);
    expect(snippet).not.toContain(`127.0.0.1:${upstream}`);
    expect(await page.textContent('main')).toContain('PUBLIC_URL');
    await ui.shot('proxy-snippet');
    expect(ui.problems).toEqual([]);
  });
});
