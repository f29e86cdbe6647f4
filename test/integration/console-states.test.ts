// The console's list pages when there is nothing to list and when PostgreSQL is not answering, on a
// private PostgreSQL this test stops and starts (and the shared Redis): each list says it is empty in
// words rather than showing a bare table, and with the database down each page is a 503 that says
// so, with a link to try the same page again, and works again once the database is back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { addUser, type Browser, consoleModules, EMPTY_LISTS, signedIn } from '../helpers/console.ts';
import { redisPrefix, testConfig, journalDir } from '../helpers/env.ts';
import { PrivatePostgres } from '../helpers/private-pg.ts';
import { waitFor } from '../helpers/wait.ts';

const log = createLogger({ level: 'silent' });
const PW = 'correct horse battery';

describe('console list pages: empty, and with the database down', () => {
  let pg: PrivatePostgres;
  let d: Daemon;
  let admin: Browser;
  // A journal of its own: records another daemon of this checkout left (a demo) must not show here.
  const cdrDir = journalDir();

  beforeAll(async () => {
    pg = await PrivatePostgres.create();
    d = await startDaemon(
      testConfig({ DATABASE_URL: pg.url, REDIS_KEY_PREFIX: redisPrefix(), CDR_BUFFER_DIR: cdrDir }),
      log,
      consoleModules(),
      { listen: false },
    );
    await addUser(d, { email: 'admin@example.com', password: PW, role: 'admin' });
    admin = await signedIn(d.app, '10.8.0.1', 'admin@example.com', PW);
  }, 120_000);
  afterAll(async () => {
    await d?.stop();
    pg?.destroy();
  });

  it('with no rows, every list says so in words; no table is left with an empty body', async () => {
    for (const [path, says] of EMPTY_LISTS) {
      const r = await admin.get(path);
      expect(r.statusCode, path).toBe(200);
      if (says) expect(r.body, path).toMatch(says);
      expect(r.body, path).toMatch(/<p class="empty">[^<]{8,}/);
      expect(r.body, path).not.toMatch(/<tbody>\s*<\/tbody>/);
    }
  });

  it('with PostgreSQL stopped, each page is a 503 that says so and offers it again; back once it is up', async () => {
    pg.stop();
    try {
      for (const [path] of EMPTY_LISTS) {
        const r = await admin.get(path);
        expect(r.statusCode, path).toBe(503);
        expect(r.headers['retry-after'], path).toBe('5');
        expect(r.body, path).toContain('DEPENDENCY_UNAVAILABLE');
        expect(r.body, path).toContain('the database is not answering right now');
        expect(r.body, path).toContain(`<a href="${path}" id="try-again">Try again</a>`);
      }
      // A change is refused the same way (its session is in Redis; its user is not readable).
      const r = await admin.post('/console/sellers', { _csrf: 'x', name: 'during the outage' });
      expect(r.statusCode).toBe(503);
    } finally {
      pg.start();
    }
    await waitFor(async () => ((await admin.get('/console/sellers')).statusCode === 200 ? true : undefined));
    for (const [path, says] of EMPTY_LISTS) {
      const r = await admin.get(path);
      expect(r.statusCode, path).toBe(200);
      expect(r.body, path).toMatch(says ?? /<p class="empty">/);
    }
  }, 120_000);
});
