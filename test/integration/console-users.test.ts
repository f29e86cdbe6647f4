// The console's users list on real PostgreSQL and Redis, driven through the daemon's app as a
// browser would: sorted on the server by an allow-listed column with the id breaking ties (pages of
// an order neither repeat nor skip a user), filtered by email, role, seller and state, paged with
// the filter and order kept in the links; sellers chosen by name.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsoleModule, createConsoleModule } from '../../src/console/index.ts';
import { sellers } from '../../src/db/schema/routing.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { createRoutingModule } from '../../src/routing/index.ts';
import { type Browser, signedIn } from '../helpers/console.ts';
import { freshDatabase, testConfig } from '../helpers/env.ts';

const log = createLogger({ level: 'silent' });
const PW = 'correct horse battery';

describe('console users list', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let d: Daemon;
  let admin: Browser;
  const ids: Record<string, string> = {};
  /** The emails of the users table, in page order. */
  const emails = async (q: string) => {
    const r = await admin.get(`/console/users${q}`);
    expect(r.statusCode, r.body).toBe(200);
    return [...r.body.matchAll(/<tr data-user="([^"]+)">/g)].map((m) => m[1]!);
  };

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
    const con = d.ctx.modules.get('console') as ConsoleModule;
    const x = d.ctx.database.db;
    const [acme] = await x.insert(sellers).values({ name: 'acme' }).returning();
    const [bolt] = await x.insert(sellers).values({ name: 'bolt' }).returning();
    ids.acme = acme!.id;
    ids.bolt = bolt!.id;
    const users = [
      ['admin@example.com', 'admin', undefined],
      ['staff-b@example.com', 'staff', undefined],
      ['staff-a@example.com', 'staff', undefined],
      ['viewer@example.com', 'viewer', undefined],
      ['one@acme.test', 'seller', acme!.id],
      ['two@acme.test', 'seller', acme!.id],
      ['one@bolt.test', 'seller', bolt!.id],
      ['sure_x@example.com', 'viewer', undefined],
    ] as const;
    for (const [email, role, seller_id] of users)
      ids[email] = (await con.services.users.create({ email, password: PW, role, seller_id })).id;
    await con.services.users.repo.update(ids['staff-b@example.com']!, { disabledAt: new Date() });
    await con.services.users.repo.update(ids['one@acme.test']!, { disabledAt: new Date() });
    admin = await signedIn(d.app, '10.4.0.1', 'admin@example.com', PW);
  });
  afterAll(async () => {
    await d?.stop();
    await db?.drop();
  });

  const all = [
    'admin@example.com',
    'one@acme.test',
    'one@bolt.test',
    'staff-a@example.com',
    'staff-b@example.com',
    'sure_x@example.com',
    'two@acme.test',
    'viewer@example.com',
  ];

  it('by email by default; any allow-listed column either way; anything else is the default', async () => {
    expect(await emails('')).toEqual(all);
    expect(await emails('?sort=email&dir=desc')).toEqual([...all].reverse());
    expect(await emails('?sort=password_hash&dir=asc')).toEqual(all);
    expect(await emails('?sort=email;drop table console_users&dir=up')).toEqual(all);
    // By seller name: acme's, then bolt's, then the users of no seller (nulls last going up).
    const bySeller = await emails('?sort=seller&dir=asc');
    expect(bySeller.slice(0, 3).sort()).toEqual(['one@acme.test', 'one@bolt.test', 'two@acme.test'].sort());
    expect(bySeller.slice(0, 2).every((e) => e.endsWith('@acme.test'))).toBe(true);
    expect(bySeller[2]).toBe('one@bolt.test');
    // Only the admin has signed in: last first going down, the never-signed-in after it.
    expect((await emails('?sort=last_sign_in&dir=desc')).at(-1)).toBe('admin@example.com');
    expect((await emails('?sort=last_sign_in&dir=asc'))[0]).toBe('admin@example.com');
  });

  it('pages of an order with ties (the role) neither repeat nor skip anyone, ties in id order', async () => {
    for (const dir of ['asc', 'desc']) {
      const seen: string[] = [];
      for (let offset = 0; offset < all.length; offset += 3)
        seen.push(...(await emails(`?sort=role&dir=${dir}&limit=3&offset=${offset}`)));
      expect([...seen].sort()).toEqual(all);
      // Within one role the id decides, in the list's direction.
      const seller = seen.filter((e) => e.endsWith('.test')).map((e) => ids[e]!);
      expect(seller).toEqual(
        [...seller].sort((a, b) => (dir === 'asc' ? a.localeCompare(b) : b.localeCompare(a))),
      );
    }
  });

  it('filters by email (any case, % and _ taken literally), role, seller and state; kept by the pager and headers', async () => {
    expect(await emails('?email=ACME')).toEqual(['one@acme.test', 'two@acme.test']);
    expect(await emails('?email=_')).toEqual(['sure_x@example.com']);
    expect(await emails('?email=%25')).toEqual([]);
    expect(await emails('?role=staff')).toEqual(['staff-a@example.com', 'staff-b@example.com']);
    expect(await emails(`?seller_id=${ids.acme}`)).toEqual(['one@acme.test', 'two@acme.test']);
    expect(await emails('?state=disabled')).toEqual(['one@acme.test', 'staff-b@example.com']);
    expect(await emails(`?state=active&seller_id=${ids.acme}`)).toEqual(['two@acme.test']);
    // A value that is not one of the form's choices is no filter.
    expect(await emails('?role=root&state=maybe&seller_id=nope')).toEqual(all);
    const none = await admin.get('/console/users?email=nobody');
    expect(none.body).toContain('No users match this filter.');

    const r = await admin.get('/console/users?role=seller&sort=email&dir=desc&limit=2');
    expect([...r.body.matchAll(/<tr data-user="([^"]+)">/g)].map((m) => m[1])).toEqual([
      'two@acme.test',
      'one@bolt.test',
    ]);
    expect(r.body).toContain('1–2 of 3');
    const next = /href="([^"]*offset=2[^"]*)"/.exec(r.body)![1]!.replace(/&amp;/g, '&');
    expect(Object.fromEntries(new URL(next, 'http://x').searchParams)).toMatchObject({
      role: 'seller',
      sort: 'email',
      dir: 'desc',
      limit: '2',
    });
    // A column header keeps the filter and goes back to the first page.
    const head = /<th aria-sort="none"><a href="([^"]*sort=seller[^"]*)"/
      .exec(r.body)![1]!
      .replace(/&amp;/g, '&');
    const hq = Object.fromEntries(new URL(head, 'http://x').searchParams);
    expect(hq).toMatchObject({ role: 'seller', sort: 'seller', dir: 'asc' });
    expect(hq.offset).toBeUndefined();
  });

  it('sellers are chosen by name when a user is made or changed', async () => {
    const page = await admin.get('/console/users');
    expect(page.body).toContain(`<option value="${ids.bolt}">bolt</option>`);
    const edit = await admin.get(`/console/users/${ids['one@acme.test']}`);
    expect(edit.body).toContain(`<option value="${ids.acme}" selected>acme</option>`);
    const made = await admin.post('/console/users', {
      _csrf: await admin.csrf(),
      email: 'three@bolt.test',
      password: PW,
      role: 'seller',
      seller_id: ids.bolt!,
    });
    expect(made.statusCode).toBe(303);
    expect(await emails(`?seller_id=${ids.bolt}`)).toEqual(['one@bolt.test', 'three@bolt.test']);
  });
});
