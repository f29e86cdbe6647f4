// Console sign-in, sessions, CSRF, failure delays and TOTP on real PostgreSQL and Redis, driven
// through the daemon's app as a browser would (cookies, forms, same-origin headers).
import { TOTP, Secret } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsoleModule } from '../../src/console/index.ts';
import { createConsoleModule } from '../../src/console/index.ts';
import { SessionStore } from '../../src/console/sessions.ts';
import { sellers } from '../../src/db/schema/routing.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { RedisKeys } from '../../src/platform/redis/keys.ts';
import { createRoutingModule } from '../../src/routing/index.ts';
import { main as cli } from '../../src/cli/index.ts';
import { Browser } from '../helpers/console.ts';
import { freshDatabase, redisPrefix, testConfig } from '../helpers/env.ts';

const log = createLogger({ level: 'silent' });
const PW = 'correct horse battery';

describe('console sign-in and sessions', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let d: Daemon;
  let con: ConsoleModule;
  let sellerId: string;

  beforeAll(async () => {
    db = await freshDatabase();
    d = await startDaemon(
      testConfig({ DATABASE_URL: db.url }),
      log,
      [createRoutingModule, createConsoleModule],
      {
        listen: false,
      },
    );
    con = d.ctx.modules.get('console') as ConsoleModule;
    // Three free failures, then ten minutes: a delay no machine's slowness can outlast in a test.
    const p = { free: 3, baseMs: 600_000, maxMs: 3600_000, forgetMs: 3600_000 };
    con.services.lockout.policies = { source: p, account: p, device: p };
    const [s] = await d.ctx.database.db.insert(sellers).values({ name: 'acme' }).returning();
    sellerId = s!.id;
    // The first admin comes from the CLI, as an operator would create it.
    process.env.DATABASE_URL = db.url;
    process.env.CAPCONDUIT_PASSWORD = PW;
    expect(await cli(['create-user', '--role', 'admin', '--email', 'Admin@Example.com'])).toBe(0);
    expect(await cli(['create-user', '--role', 'seller', '--email', 'x@example.com'])).toBe(2);
    process.env.CAPCONDUIT_PASSWORD = 'short';
    expect(await cli(['create-user', '--role', 'viewer', '--email', 'v@example.com'])).toBe(2);
    delete process.env.CAPCONDUIT_PASSWORD;
    process.env.DATABASE_URL = undefined;
    await con.services.users.create({ email: 'viewer@example.com', password: PW, role: 'viewer' });
    await con.services.users.create({
      email: 'seller@example.com',
      password: PW,
      role: 'seller',
      seller_id: sellerId,
    });
  });
  afterAll(async () => {
    await d?.stop();
    await db?.drop();
  });

  it('no console page is reachable signed out; pages redirect to sign-in, other requests get 401', async () => {
    const b = new Browser(d.app, '10.0.0.1');
    for (const url of ['/console/live', '/console/users', '/console/account', '/console/live?x=1']) {
      const r = await b.get(url);
      expect(r.statusCode, url).toBe(303);
      expect(r.headers.location).toMatch(/^\/console\/sign-in/);
    }
    expect((await b.get('/console/live/events', 'text/event-stream')).statusCode).toBe(401);
    // An unknown path is answered 404 before anything else, with nothing of the console in it.
    const unknown = await b.get('/console/nope');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.body).not.toContain('<');
    const post = await b.post('/console/users', { email: 'a@b.c', password: 'x'.repeat(20), role: 'admin' });
    expect(post.statusCode).toBe(401);
    expect((await b.get('/console/sign-in')).statusCode).toBe(200);
    expect((await b.get('/console/assets/console.js', '*/*')).statusCode).toBe(200);
  });

  it('every console route but sign-in and the assets needs a session, whatever it is', async () => {
    // From the routes as registered, so a page added later is covered without being named here.
    const open = con.routeList.filter((r) => r.public).map((r) => `${r.method} ${r.url}`);
    expect(new Set(open)).toEqual(
      new Set([
        'GET /console/sign-in',
        'HEAD /console/sign-in',
        'POST /console/sign-in',
        // The second step of a sign-in (its pending token is checked there), and /console itself.
        'POST /console/sign-in/totp',
        'GET /console',
        'HEAD /console',
        'HEAD /console/',
        'GET /console/assets/console.css',
        'HEAD /console/assets/console.css',
        'GET /console/assets/console.js',
        'HEAD /console/assets/console.js',
      ]),
    );
    const closed = con.routeList.filter((r) => !r.public && r.method !== 'HEAD');
    expect(closed.length).toBeGreaterThan(60);
    const b = new Browser(d.app, '10.0.0.9');
    for (const r of closed) {
      const url = r.url.replace(/:\w+/g, '00000000-0000-0000-0000-000000000000');
      if (r.method === 'GET') {
        const page = await b.get(url);
        expect(page.statusCode, url).toBe(303);
        expect(page.headers.location, url).toMatch(/^\/console\/sign-in/);
        expect((await b.get(url, 'application/json')).statusCode, url).toBe(401);
      } else {
        expect(r.method, url).toBe('POST');
        expect((await b.post(url, { _csrf: 'x' })).statusCode, url).toBe(401);
      }
    }
  });

  it('signs in with the right password, case-blind email; strict headers, no inline script', async () => {
    const b = new Browser(d.app, '10.0.0.2');
    const bad = await b.signIn('admin@example.com', 'wrong password!');
    expect(bad.statusCode).toBe(401);
    expect(bad.body).toContain('Wrong email or password');
    const ok = await b.signIn('ADMIN@example.com', PW);
    expect(ok.statusCode).toBe(303);
    expect(ok.headers.location).toBe('/console/live');
    const cookie = [ok.headers['set-cookie']].flat().find((c) => c?.startsWith('cc_session='))!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    const page = await b.get('/console/live');
    expect(page.statusCode).toBe(200);
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(page.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(page.body).not.toMatch(/\son[a-z]+=/);
  });

  it('refuses a change without the CSRF token, with a wrong one, or from another site', async () => {
    const b = new Browser(d.app, '10.0.0.3');
    await b.signIn('admin@example.com', PW);
    const token = await b.csrf();
    const form = { email: 'new@example.com', password: PW, role: 'staff' };
    for (const [body, headers] of [
      [form, {}],
      [{ ...form, _csrf: 'x'.repeat(43) }, {}],
      [{ ...form, _csrf: token }, { origin: 'http://evil.example' }],
      [{ ...form, _csrf: token }, { 'sec-fetch-site': 'cross-site' }],
    ] as const) {
      const r = await b.post('/console/users', body, headers);
      expect(r.statusCode).toBe(403);
      expect(r.body).toContain('CSRF_REFUSED');
    }
    expect(await con.services.users.repo.byEmail('new@example.com')).toBeNull();
    const ok = await b.post('/console/users', { ...form, _csrf: token });
    expect(ok.statusCode).toBe(303);
    expect(await con.services.users.repo.byEmail('new@example.com')).not.toBeNull();
  });

  it('roles: a viewer and a seller cannot reach user management; nobody but admin changes users', async () => {
    for (const email of ['viewer@example.com', 'seller@example.com']) {
      const b = new Browser(d.app, '10.0.0.4');
      expect((await b.signIn(email, PW)).statusCode).toBe(303);
      expect((await b.get('/console/users')).statusCode).toBe(403);
      const r = await b.post('/console/users', {
        email: 'z@example.com',
        password: PW,
        role: 'admin',
        _csrf: await b.csrf(),
      });
      expect(r.statusCode).toBe(403);
      expect((await b.get('/console/live')).body).not.toContain('href="/console/users"');
    }
  });

  it('sessions: listed per user, signed out everywhere, ended by idle and absolute timeouts', async () => {
    const a = new Browser(d.app, '10.0.0.5');
    const b = new Browser(d.app, '10.0.0.6');
    await a.signIn('viewer@example.com', PW);
    await b.signIn('viewer@example.com', PW);
    const me = (await con.services.users.repo.byEmail('viewer@example.com'))!;
    expect((await con.services.sessions.list(me.id)).length).toBeGreaterThanOrEqual(2);
    const page = await a.get('/console/account');
    expect(page.body).toContain('10.0.0.6');
    const r = await a.post('/console/account/sign-out-others', { _csrf: await a.csrf() });
    expect(r.statusCode).toBe(303);
    expect((await b.get('/console/live')).statusCode).toBe(303);
    expect((await a.get('/console/live')).statusCode).toBe(200);
    expect((await con.services.sessions.list(me.id)).length).toBe(1);
    // Sign-out ends the session server-side: the old cookie is worthless afterwards.
    const old = a.cookies.get('cc_session')!;
    await a.post('/console/sign-out', { _csrf: await a.csrf() });
    a.cookies.set('cc_session', old);
    expect((await a.get('/console/live')).statusCode).toBe(303);

    const store = new SessionStore(d.ctx.redis, new RedisKeys(redisPrefix()), 60_000, 3600_000);
    const t0 = Date.now();
    const s1 = await store.create('u1', { ip: '1.1.1.1', userAgent: 'x' }, t0);
    expect(await store.get(s1.token, t0 + 59_000)).not.toBeNull(); // touched at t0+59s
    expect(await store.get(s1.token, t0 + 59_000 + 59_000)).not.toBeNull();
    expect(await store.get(s1.token, t0 + 59_000 + 59_000 + 60_000)).toBeNull(); // idle a full minute
    const s2 = await store.create('u1', { ip: '1.1.1.1', userAgent: 'x' }, t0);
    for (let t = t0; t < t0 + 3600_000; t += 50_000) expect(await store.get(s2.token, t)).not.toBeNull();
    expect(await store.get(s2.token, t0 + 3600_000)).toBeNull(); // absolute limit, however active
    expect(await store.list('u1', t0 + 3600_000)).toEqual([]);
  });

  it('failed sign-ins: an attacker slows the account for unknown browsers, never for the owner’s; an admin clears it', async () => {
    const owner = new Browser(d.app, '10.1.0.1');
    expect((await owner.signIn('seller@example.com', PW)).statusCode).toBe(303); // a known browser now
    // Three wrong guesses from three addresses (so no source delay) put the account-wide delay on.
    for (let i = 0; i < 3; i++) {
      const r = await new Browser(d.app, `10.2.0.${i}`).signIn('seller@example.com', 'guess guess guess');
      expect(r.statusCode).toBe(401);
    }
    const attacker = new Browser(d.app, '10.2.0.99');
    const refused = await attacker.signIn('seller@example.com', PW);
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    // The owner's browser is not delayed: its own counter is empty.
    const o2 = new Browser(d.app, '10.1.0.2');
    o2.cookies.set('cc_device', owner.cookies.get('cc_device')!);
    expect((await o2.signIn('seller@example.com', PW)).statusCode).toBe(303);
    // Still delayed for unknown browsers (the owner's success does not clear a foreign counter)…
    const fresh = new Browser(d.app, '10.2.0.100');
    expect((await fresh.signIn('seller@example.com', PW)).statusCode).toBe(429);
    // …until an admin clears it from the users page.
    const admin = new Browser(d.app, '10.0.0.7');
    await admin.signIn('admin@example.com', PW);
    const users = await admin.get('/console/users');
    expect(users.body).toMatch(/seller@example\.com[\s\S]*?delayed/);
    const sellerRow = (await con.services.users.repo.byEmail('seller@example.com'))!;
    expect(
      (await admin.post(`/console/users/${sellerRow.id}/clear-lock`, { _csrf: await admin.csrf() }))
        .statusCode,
    ).toBe(303);
    expect((await fresh.signIn('seller@example.com', PW)).statusCode).toBe(303);
  });

  it('one address guessing many accounts is slowed down on its own', async () => {
    const b = new Browser(d.app, '10.3.0.1');
    for (let i = 0; i < 3; i++)
      expect((await b.signIn(`nobody${i}@example.com`, 'guess guess')).statusCode).toBe(401);
    const r = await b.signIn('admin@example.com', PW);
    expect(r.statusCode).toBe(429);
    // Another address is not affected.
    expect((await new Browser(d.app, '10.3.0.2').signIn('admin@example.com', PW)).statusCode).toBe(303);
  });

  it('sign-in bodies are small and rate-limited before they are read', async () => {
    const b = new Browser(d.app, '10.4.0.1');
    const big = await b.post('/console/sign-in', { email: 'a@b.c', password: 'x'.repeat(5000) });
    expect(big.statusCode).toBe(413);
    let limited = 0;
    for (let i = 0; i < 32; i++) {
      const r = await d.app.inject({
        method: 'POST',
        url: '/console/sign-in',
        remoteAddress: '10.4.0.2',
        payload: 'not even a form',
      });
      if (r.statusCode === 429) limited++;
    }
    expect(limited).toBeGreaterThan(0);
  });

  it('TOTP: set up with a confirming code, then required at sign-in, each code once', async () => {
    await con.services.users.create({ email: 'totp@example.com', password: PW, role: 'staff' });
    const b = new Browser(d.app, '10.5.0.1');
    await b.signIn('totp@example.com', PW);
    const setup = await b.get('/console/account/totp');
    const secret = /data-testid="totp-secret">([A-Z2-7]+)</.exec(setup.body)![1]!;
    const totp = new TOTP({ secret: Secret.fromBase32(secret) });
    const wrong = await b.post('/console/account/totp', {
      code: '000000' === totp.generate() ? '111111' : '000000',
      _csrf: await b.csrf(),
    });
    expect(wrong.statusCode).toBe(400);
    const on = await b.post('/console/account/totp', { code: totp.generate(), _csrf: await b.csrf() });
    expect(on.statusCode).toBe(303);
    const row = (await con.services.users.repo.byEmail('totp@example.com'))!;
    expect(row.totpSecret).toMatch(/^v1\./); // sealed, not the base32 secret
    expect(row.totpSecret).not.toContain(secret);

    const c = new Browser(d.app, '10.5.0.2');
    const first = await c.signIn('totp@example.com', PW);
    expect(first.statusCode).toBe(200);
    expect(first.body).toContain('Two-factor code');
    expect(c.cookies.has('cc_session')).toBe(false);
    const nope = await c.post('/console/sign-in/totp', { code: '12345x' });
    expect(nope.statusCode).toBe(400);
    // A code a step ahead (drift) is fine; the step the set-up used is spent already.
    const next = totp.generate({ timestamp: Date.now() + 30_000 });
    const okr = await c.post('/console/sign-in/totp', { code: next });
    expect(okr.statusCode).toBe(303);
    expect(c.cookies.has('cc_session')).toBe(true);
    // The same code again, in another browser: refused as a replay.
    const e = new Browser(d.app, '10.5.0.3');
    await e.signIn('totp@example.com', PW);
    expect((await e.post('/console/sign-in/totp', { code: next })).statusCode).toBe(401);
    // Without the pending step (no password first) a code gets nowhere.
    expect(
      (await new Browser(d.app, '10.5.0.4').post('/console/sign-in/totp', { code: next })).statusCode,
    ).toBe(401);
  });

  it('the last admin cannot be demoted, disabled or deleted', async () => {
    const admin = new Browser(d.app, '10.6.0.1');
    await admin.signIn('admin@example.com', PW);
    const me = (await con.services.users.repo.byEmail('admin@example.com'))!;
    const r = await admin.post(`/console/users/${me.id}`, {
      role: 'staff',
      reauth_password: PW,
      _csrf: await admin.csrf(),
    });
    expect(r.statusCode).toBe(409);
    expect((await con.services.users.repo.byId(me.id))!.role).toBe('admin');
  });
});
