// The daemon's public address in what the console prints for dialers, on real PostgreSQL and Redis:
// with PUBLIC_URL set, a pool's VICIdial snippet carries it whatever address or Host the request came
// in with (the fallback to the request's origin is followed in test/browser/console-admin.test.ts).
// Behind a reverse proxy that is not trusted and sends the daemon its own address as Host: an https
// PUBLIC_URL makes the cookies Secure, and changes are taken from its origin and no other.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CallerIdModule, createCallerIdModule } from '../../src/callerid/index.ts';
import { type ConsoleModule, createConsoleModule } from '../../src/console/index.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { createRoutingModule } from '../../src/routing/index.ts';
import { signedIn } from '../helpers/console.ts';
import { freshDatabase, testConfig } from '../helpers/env.ts';

const log = createLogger({ level: 'silent' });
const PW = 'correct horse battery';

describe('console public URL', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let d: Daemon;

  beforeAll(async () => {
    db = await freshDatabase();
    d = await startDaemon(
      testConfig({ DATABASE_URL: db.url, PUBLIC_URL: 'https://cc.example.com/capconduit/' }),
      log,
      [createRoutingModule, (ctx) => createCallerIdModule(ctx), createConsoleModule],
      { listen: false },
    );
    const con = d.ctx.modules.get('console') as ConsoleModule;
    await con.services.users.create({ email: 'staff@example.com', password: PW, role: 'staff' });
    await (d.ctx.modules.get('callerid') as CallerIdModule).service.createPool({ id: 'SALES01' });
  });
  afterAll(async () => {
    await d?.stop();
    await db?.drop();
  });

  it('the VICIdial snippet calls PUBLIC_URL, not the address the console was reached at', async () => {
    const b = await signedIn(d.app, '10.5.0.1', 'staff@example.com', PW);
    const r = await b.get('/console/caller-ids/pools/SALES01/vicidial');
    expect(r.statusCode).toBe(200);
    expect(r.body).toContain('CAPCONDUIT_URL=https://cc.example.com/capconduit\n');
    expect(r.body).toContain('its <code>PUBLIC_URL</code> setting');
    expect(r.body).not.toContain('localhost');
  });

  it('behind a proxy that rewrites Host: Secure cookies, changes from PUBLIC_URL’s origin only', async () => {
    const viaProxy = (url: string, origin: string, payload: string, cookie = '') =>
      d.app.inject({
        method: 'POST',
        url,
        remoteAddress: '10.5.0.2',
        headers: {
          host: '127.0.0.1:8080',
          origin,
          accept: 'text/html',
          'content-type': 'application/x-www-form-urlencoded',
          cookie,
        },
        payload,
      });
    const form = new URLSearchParams({ email: 'staff@example.com', password: PW }).toString();
    // Another site's page is refused before anything is checked.
    expect((await viaProxy('/console/sign-in', 'https://evil.example', form)).statusCode).toBe(403);
    const r = await viaProxy('/console/sign-in', 'https://cc.example.com', form);
    expect(r.statusCode, r.body).toBe(303);
    const cookies = [r.headers['set-cookie'] ?? []].flat();
    expect(cookies.length).toBeGreaterThan(0);
    for (const c of cookies) expect(c).toMatch(/; Secure/);
    const session = cookies.map((c) => c.split(';')[0]!).join('; ');
    const page = await d.app.inject({
      method: 'GET',
      url: '/console/account',
      remoteAddress: '10.5.0.2',
      headers: { host: '127.0.0.1:8080', cookie: session, accept: 'text/html' },
    });
    const csrf = /data-csrf="([^"]+)"/.exec(page.body)![1]!;
    const change = (origin: string) =>
      viaProxy(
        '/console/sellers',
        origin,
        new URLSearchParams({ _csrf: csrf, name: origin }).toString(),
        session,
      );
    expect((await change('https://evil.example')).statusCode).toBe(403);
    expect((await change('https://cc.example.com')).statusCode).toBe(303);
    const [n] = await d.ctx.database.sql<[{ n: number }]>`select count(*)::int n from sellers`;
    expect(n.n).toBe(1);
  });
});
