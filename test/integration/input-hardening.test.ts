import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH } from '../../src/platform/http/input.ts';
import { createApiKey } from '../../src/auth/keys.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { createRoutingModule } from '../../src/routing/index.ts';
import { freshDatabase, testConfig } from '../helpers/env.ts';

// What every route does with bad input, checked once here for the app as a whole: the limits,
// the refused characters and the shared query/timestamp parsing.
describe('API input limits', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let d: Daemon;
  let staff: string;

  const send = (method: string, url: string, payload?: string, headers: Record<string, string> = {}) =>
    d.app.inject({
      method: method as 'POST',
      url,
      headers: { 'x-api-key': staff, 'content-type': 'application/json', ...headers },
      ...(payload !== undefined ? { payload } : {}),
    });
  const code = (r: { json(): { error: { code: string } } }) => r.json().error.code;

  beforeAll(async () => {
    db = await freshDatabase();
    d = await startDaemon(
      testConfig({ DATABASE_URL: db.url }),
      createLogger({ level: 'silent' }),
      [createRoutingModule],
      { listen: false },
    );
    staff = (await createApiKey(d.ctx.database.db, { role: 'staff' })).key;
  });
  afterAll(async () => {
    await d?.stop();
    await db?.drop();
  });

  it('answers an unknown route 404 without reading its body (invalid JSON is never parsed)', async () => {
    for (const headers of [{}, { 'x-api-key': '' }] as Record<string, string>[]) {
      const r = await send('POST', '/v1/nowhere', '{"a": [[[[ not json', headers);
      expect(r.statusCode).toBe(404);
      expect(code(r)).toBe('ROUTE_NOT_FOUND');
    }
    // Larger than any body limit: still a plain 404, not 413.
    const big = await send('POST', '/nope', 'x'.repeat(3 * 1024 * 1024));
    expect(big.statusCode).toBe(404);
  });

  it('answers a keyed route 401 before parsing a body', async () => {
    const r = await send('POST', '/v1/sellers', '{not json', { 'x-api-key': 'wrong' });
    expect(r.statusCode).toBe(401);
    const big = await send('POST', '/v1/sellers', `"${'x'.repeat(2 * 1024 * 1024)}"`, {
      'x-api-key': 'wrong',
    });
    expect(big.statusCode).toBe(401);
  });

  it('refuses bodies over 1 MiB with 413 PAYLOAD_TOO_LARGE', async () => {
    const r = await send('POST', '/v1/sellers', JSON.stringify({ name: 'x'.repeat(1024 * 1024) }));
    expect(r.statusCode).toBe(413);
    expect(code(r)).toBe('PAYLOAD_TOO_LARGE');
  });

  it('refuses JSON nested deeper than the limit with 400 JSON_TOO_DEEP, and malformed JSON with INVALID_JSON', async () => {
    const deep = (n: number) => `{"name":"n","x":${'['.repeat(n)}${']'.repeat(n)}}`;
    const r = await send('POST', '/v1/sellers', deep(MAX_JSON_DEPTH));
    expect(r.statusCode).toBe(400);
    expect(code(r)).toBe('JSON_TOO_DEEP');
    const huge = await send('POST', '/v1/sellers', deep(400_000));
    expect(code(huge)).toBe('JSON_TOO_DEEP');
    // Brackets inside strings are text, not nesting.
    const inString = await send('POST', '/v1/sellers', JSON.stringify({ name: '['.repeat(100) }));
    expect(inString.statusCode, inString.body).toBe(201);
    for (const bad of ['{"name":', '{"name":"a"}}', '{name:1}']) {
      const m = await send('POST', '/v1/sellers', bad);
      expect(m.statusCode).toBe(400);
      expect(code(m)).toBe('INVALID_JSON');
    }
  });

  it('refuses NUL and lone surrogates anywhere in a body, a query string or a path with 400 INVALID_TEXT', async () => {
    const before = await d.ctx.database.sql`select count(*)::int as n from sellers`;
    const bodies = [
      '{"name":"a\\u0000b"}',
      '{"name":"\\ud800"}',
      '{"name":"x\\udc00y"}',
      '{"name":"ok","\\u0000":1}',
      '{"name":"ok","extra":{"deep":["\\ud83d"]}}',
    ];
    for (const b of bodies) {
      const r = await send('POST', '/v1/sellers', b);
      expect(r.statusCode, b).toBe(400);
      expect(code(r)).toBe('INVALID_TEXT');
    }
    for (const url of ['/v1/sellers?limit=1%00', '/v1/dids?campaign_id=%00', '/v1/sellers/%00']) {
      const r = await send('GET', url);
      expect(r.statusCode, url + r.body).toBe(400);
      expect(code(r), r.body).toBe('INVALID_TEXT');
    }
    // A well-formed pair is text like any other.
    const emoji = await send('POST', '/v1/sellers', '{"name":"\\ud83d\\ude00 shop"}');
    expect(emoji.statusCode).toBe(201);
    const after = await d.ctx.database.sql`select count(*)::int as n from sellers`;
    expect(after[0]!.n).toBe(before[0]!.n + 1);
  });

  it('refuses a __proto__ key', async () => {
    const r = await send('POST', '/v1/sellers', '{"name":"p","__proto__":{"admin":true}}');
    expect(r.statusCode).toBe(400);
    expect(code(r)).toBe('INVALID_JSON');
  });

  it('answers PATCH {} (and a PATCH naming only unknown fields) 400, changing nothing', async () => {
    const s = await send('POST', '/v1/sellers', '{"name":"patchme"}');
    const id = s.json().id;
    for (const b of ['{}', '{"no_such_field":1}']) {
      const r = await send('PATCH', `/v1/sellers/${id}`, b);
      expect(r.statusCode, b).toBe(400);
      expect(code(r)).toBe('VALIDATION_FAILED');
    }
    const g = await send('GET', `/v1/sellers/${id}`);
    expect(g.json()).toEqual(s.json());
  });

  it('reads ?cascade strictly: false and 0 mean false, junk is refused', async () => {
    const c = await send(
      'POST',
      '/v1/clients',
      JSON.stringify({ name: 'casc', endpoint: 'casc-ep', timezone: 'UTC', schedule: {} }),
    );
    expect(c.statusCode, c.body).toBe(201);
    const seller = (await send('POST', '/v1/sellers', '{"name":"casc-seller"}')).json().id;
    const camp = await send('POST', '/v1/campaigns', JSON.stringify({ name: 'casc', seller_id: seller }));
    expect(camp.statusCode, camp.body).toBe(201);
    const link = await send(
      'POST',
      `/v1/campaigns/${camp.json().id}/links`,
      JSON.stringify({ client_id: c.json().id }),
    );
    expect(link.statusCode, link.body).toBe(201);
    for (const v of ['false', '0', 'FALSE']) {
      const r = await send('DELETE', `/v1/clients/${c.json().id}?cascade=${v}`);
      expect(r.statusCode, v + r.body).toBe(409);
      expect(code(r)).toBe('IN_USE');
    }
    for (const v of ['yes', 'no', '', '2']) {
      const r = await send('DELETE', `/v1/campaigns/${camp.json().id}?cascade=${v}`);
      expect(r.statusCode, v).toBe(400);
    }
    expect((await send('GET', `/v1/clients/${c.json().id}`)).statusCode).toBe(200);
    expect((await send('DELETE', `/v1/clients/${c.json().id}?cascade=1`)).statusCode).toBe(204);
  });

  it('refuses timestamps of year 0000 and cursors of negative years with 400', async () => {
    for (const t of ['0000-01-01T00:00:00Z', '0001-01-01T00:30:00%2B01:00', '2024-02-30T00:00:00Z']) {
      const r = await send('GET', `/v1/calls?from=${t}`);
      expect(r.statusCode, t).toBe(400);
    }
    const cursor = Buffer.from('-000001-01-01T00:00:00.000Z|x').toString('base64url');
    const r = await send('GET', `/v1/calls?cursor=${cursor}`);
    expect(r.statusCode).toBe(400);
    expect((await send('GET', '/v1/calls?from=0001-01-01T00:00:00Z')).statusCode).toBe(200);
  });
});
