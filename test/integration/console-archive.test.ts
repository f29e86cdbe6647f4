// A seller archived from the console: through the routing service (its row audited under the console
// user), its seller user is refused at its next request and its open live-floor stream ends at the
// stream's next check (the user was disabled, its sessions were not ended); the seller is out of
// the users form's seller choice and binding a user to it is refused; restored from the list.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sellers } from '../../src/db/schema/routing.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { addUser, type Browser, consoleModules, signedIn } from '../helpers/console.ts';
import { freshDatabase, testConfig } from '../helpers/env.ts';
import { waitFor } from '../helpers/wait.ts';

const PW = 'correct horse battery';

describe('a seller archived from the console', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let d: Daemon;
  let base: string;
  let sellerId: string;

  beforeAll(async () => {
    db = await freshDatabase();
    d = await startDaemon(
      testConfig({ DATABASE_URL: db.url, API_HOST: '127.0.0.1' }),
      createLogger({ level: 'silent' }),
      consoleModules(),
    );
    base = d.address.replace('[::1]', '127.0.0.1');
    const [s] = await d.ctx.database.db.insert(sellers).values({ name: 'acme' }).returning();
    sellerId = s!.id;
    await addUser(d, { email: 'admin@example.com', password: PW, role: 'admin' });
    await addUser(d, { email: 'seller@acme.test', password: PW, role: 'seller', seller_id: sellerId });
  });
  afterAll(async () => {
    await d?.stop();
    await db?.drop();
  });

  /** Opens the live floor's event stream as `b` over real HTTP; resolves once the server ends it. */
  async function openStream(b: Browser) {
    const cookie = [...b.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const r = await fetch(`${base}/console/live/events`, {
      headers: { cookie, accept: 'text/event-stream' },
    });
    expect(r.status).toBe(200);
    const reader = r.body!.getReader();
    let ended = false;
    const done = (async () => {
      while (!(await reader.read()).done);
      ended = true;
    })();
    return { ended: () => ended, done, cancel: () => reader.cancel() };
  }

  it('stops its user at once and its open stream at the next check; restored, it is a seller again', async () => {
    const admin = await signedIn(d.app, '127.0.0.1', 'admin@example.com', PW);
    const seller = await signedIn(d.app, '127.0.0.2', 'seller@acme.test', PW);
    expect((await seller.get('/console/live')).statusCode).toBe(200);
    const stream = await openStream(seller);
    try {
      const csrf = await admin.csrf();
      const a = await admin.post(`/console/sellers/${sellerId}/archive`, { _csrf: csrf });
      expect(a.statusCode, a.body).toBe(303);
      expect(a.headers.location).toBe(`/console/sellers/${sellerId}?done=archived`);
      const page = await admin.get(`/console/sellers/${sellerId}`);
      expect(page.body).toContain('id="seller-archived"');
      expect(page.body).not.toContain('id="seller-archive"');

      // Its open stream ends by itself (no request of the user's comes between), and its user is
      // refused at its next request.
      await waitFor(() => stream.ended() || undefined, 60_000);
      const next = await seller.get('/console/live');
      expect(next.statusCode).toBe(303);
      expect(next.headers.location).toMatch(/^\/console\/sign-in/);
    } finally {
      await stream.cancel().catch(() => {});
    }

    // Out of the users form's choice; binding a user to it is refused with the code, nothing made.
    const users = await admin.get('/console/users');
    const form = users.body.slice(0, users.body.indexOf('id="user-filters"'));
    expect(form).not.toContain(`value="${sellerId}"`);
    const csrf = await admin.csrf();
    const refused = await admin.post('/console/users', {
      _csrf: csrf,
      email: 'new@acme.test',
      password: PW,
      role: 'seller',
      seller_id: sellerId,
    });
    expect(refused.statusCode).toBe(409);
    expect(refused.body).toContain('SELLER_ARCHIVED');
    const [n] = await d.ctx.database
      .sql`select count(*)::int as n from console_users where email = 'new@acme.test'`;
    expect(n!.n).toBe(0);
    // A change to it is refused the same way.
    const save = await admin.post(`/console/sellers/${sellerId}`, { _csrf: csrf, name: 'acme 2' });
    expect(save.statusCode).toBe(409);
    expect(save.body).toContain('SELLER_ARCHIVED');

    // Recorded under the console user.
    const [row] = await d.ctx.database.sql`
      select actor_type, actor_label from audit_log
      where resource = 'seller' and resource_id = ${sellerId} and action = 'update'`;
    expect(row).toMatchObject({ actor_type: 'console_user', actor_label: 'admin@example.com' });

    // Restored from the archived list: in the default list again.
    const r = await admin.post(`/console/sellers/${sellerId}/restore`, { _csrf: csrf });
    expect(r.headers.location).toBe(`/console/sellers/${sellerId}?done=restored`);
    expect((await admin.get('/console/sellers')).body).toContain(`/console/sellers/${sellerId}/delete`);
    expect((await admin.get('/console/sellers?archived=true')).body).toContain(
      'No sellers match this filter.',
    );
  }, 120_000);
});
