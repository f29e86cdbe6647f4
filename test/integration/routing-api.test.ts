import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/auth/keys.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { createRoutingModule } from '../../src/routing/index.ts';
import { freshDatabase, testConfig } from '../helpers/env.ts';
import { keyedRequests } from '../helpers/api.ts';

describe('routing resources API', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let d: Daemon;
  let staff: string;
  const sellerKey: Record<string, string> = {};
  const seller: Record<string, string> = {};

  const call = keyedRequests(() => d.app);

  beforeAll(async () => {
    db = await freshDatabase();
    d = await startDaemon(
      testConfig({ DATABASE_URL: db.url }),
      createLogger({ level: 'silent' }),
      [createRoutingModule],
      {
        listen: false,
      },
    );
    staff = (await createApiKey(d.ctx.database.db, { role: 'staff' })).key;
    for (const name of ['acme', 'bolt']) {
      const r = await call(staff, 'POST', '/v1/sellers', { name });
      expect(r.statusCode).toBe(201);
      seller[name] = r.json().id;
      sellerKey[name] = (
        await createApiKey(d.ctx.database.db, { role: 'seller', sellerId: seller[name] })
      ).key;
    }
  });
  afterAll(async () => {
    await d?.stop();
    await db?.drop();
  });

  it('runs the whole setup: client, campaign, DID (normalised to E.164), link with caps', async () => {
    const c = await call(staff, 'POST', '/v1/clients', {
      name: 'Call Centre One',
      endpoint: 'client-one',
      timezone: 'America/New_York',
      schedule: { '1': [['09:00', '17:00']] },
    });
    expect(c.statusCode, c.body).toBe(201);
    const camp = await call(sellerKey.acme!, 'POST', '/v1/campaigns', {
      name: 'auto insurance',
      strategy: 'round_robin',
    });
    expect(camp.statusCode).toBe(201);
    expect(camp.json()).toMatchObject({
      seller_id: seller.acme,
      strategy: 'round_robin',
      ring_timeout_s: 30,
      max_attempts: 3,
    });
    const did = await call(sellerKey.acme!, 'POST', '/v1/dids', {
      number: '+1 (415) 555-0134',
      campaign_id: camp.json().id,
    });
    expect(did.statusCode).toBe(201);
    expect(did.json().number).toBe('+14155550134');
    const link = await call(sellerKey.acme!, 'POST', `/v1/campaigns/${camp.json().id}/links`, {
      client_id: c.json().id,
      concurrency_cap: 5,
      daily_cap: 100,
    });
    expect(link.statusCode).toBe(201);
    expect(link.json()).toMatchObject({ concurrency_cap: 5, daily_cap: 100, hourly_cap: null, weight: 1 });
    const dup = await call(sellerKey.acme!, 'POST', `/v1/campaigns/${camp.json().id}/links`, {
      client_id: c.json().id,
    });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().error.code).toBe('DUPLICATE');
    // Deleting a linked client is refused unless cascading.
    const del = await call(staff, 'DELETE', `/v1/clients/${c.json().id}`);
    expect(del.statusCode).toBe(409);
    expect(del.json().error.code).toBe('IN_USE');
    expect((await call(staff, 'DELETE', `/v1/clients/${c.json().id}?cascade=true`)).statusCode).toBe(204);
    expect(
      (await call(sellerKey.acme!, 'GET', `/v1/campaigns/${camp.json().id}/links`)).json().items,
    ).toEqual([]);
  });

  it('rejects bad input with VALIDATION_FAILED and changes nothing', async () => {
    const before = (await call(staff, 'GET', '/v1/clients')).json().total;
    for (const body of [
      { name: 'x', endpoint: 'bad endpoint!' },
      { name: 'x', endpoint: 'ok', timezone: 'Mars/Base' },
      // An empty range (17:00-09:00 is valid now: it runs overnight).
      { name: 'x', endpoint: 'ok', schedule: { '1': [['09:00', '09:00']] } },
      { name: '', endpoint: 'ok' },
      { name: 'x', endpoint: 'ok', surprise: 1 },
    ]) {
      const r = await call(staff, 'POST', '/v1/clients', body);
      expect(r.statusCode).toBe(400);
      expect(r.json().error.code).toBe('VALIDATION_FAILED');
    }
    const badDid = await call(sellerKey.acme!, 'POST', '/v1/dids', { number: '555-12' });
    expect(badDid.statusCode).toBe(400);
    // A staff key must name the owning seller: a validation error that names the field, not a 404.
    for (const [url, body] of [
      ['/v1/dids', { number: '+13125550177' }],
      ['/v1/campaigns', { name: 'no seller' }],
    ] as const) {
      const r = await call(staff, 'POST', url, body);
      expect(r.statusCode, url).toBe(400);
      expect(r.json().error).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ path: 'seller_id' }] });
    }
    // The document says so.
    const doc = (await d.app.inject('/docs/json')).json();
    for (const path of ['/v1/dids', '/v1/campaigns']) {
      const schema = doc.paths[path].post.requestBody.content['application/json'].schema;
      expect(schema.properties.seller_id.description, path).toContain('Required with a staff or admin key');
    }
    expect((await call(staff, 'GET', '/v1/clients')).json().total).toBe(before);
  });

  it('a seller cannot read or change another seller rows (404), nor list them', async () => {
    const camp = (await call(sellerKey.bolt!, 'POST', '/v1/campaigns', { name: 'bolt solar' })).json();
    const did = (
      await call(sellerKey.bolt!, 'POST', '/v1/dids', { number: '+12125550199', campaign_id: camp.id })
    ).json();
    const acme = sellerKey.acme!;
    for (const [m, u, body] of [
      ['GET', `/v1/campaigns/${camp.id}`],
      ['PATCH', `/v1/campaigns/${camp.id}`, { active: false }],
      ['DELETE', `/v1/campaigns/${camp.id}`],
      ['GET', `/v1/dids/${did.id}`],
      ['PATCH', `/v1/dids/${did.id}`, { campaign_id: null }],
      ['DELETE', `/v1/dids/${did.id}`],
      ['GET', `/v1/campaigns/${camp.id}/links`],
    ] as const) {
      const r = await call(acme, m, u, body);
      expect(r.statusCode, `${m} ${u}`).toBe(404);
      expect(r.json().error.code).toBe('NOT_FOUND');
    }
    // Attaching own DID to another seller's campaign is a 404 too.
    const mine = (await call(acme, 'POST', '/v1/dids', { number: '+13105550123' })).json();
    expect((await call(acme, 'PATCH', `/v1/dids/${mine.id}`, { campaign_id: camp.id })).statusCode).toBe(404);
    // Lists only show own rows.
    const list = (await call(acme, 'GET', '/v1/campaigns')).json();
    expect(list.items.every((c: { seller_id: string }) => c.seller_id === seller.acme)).toBe(true);
    expect(
      (await call(acme, 'GET', '/v1/dids')).json().items.map((x: { number: string }) => x.number),
    ).not.toContain('+12125550199');
    // Bolt's rows are intact.
    expect((await call(sellerKey.bolt!, 'GET', `/v1/campaigns/${camp.id}`)).json().active).toBe(true);
    // Sellers cannot manage clients or sellers at all.
    expect((await call(acme, 'GET', '/v1/clients')).statusCode).toBe(403);
  });

  it('refuses to delete a seller that still owns campaigns', async () => {
    const r = await call(staff, 'DELETE', `/v1/sellers/${seller.bolt}`);
    expect(r.statusCode).toBe(409);
    expect(r.json().error.code).toBe('IN_USE');
  });

  it('answers a seller one generic 409 NUMBER_UNAVAILABLE for a number it cannot take, whoever owns it', async () => {
    // bolt holds the number (earlier test): bolt asking again and acme asking get the same bytes,
    // so nothing tells acme that another seller's row exists.
    const own = await call(sellerKey.bolt!, 'POST', '/v1/dids', { number: '12125550199' });
    const other = await call(sellerKey.acme!, 'POST', '/v1/dids', { number: '12125550199' });
    for (const r of [own, other]) {
      expect(r.statusCode).toBe(409);
      expect(r.json()).toEqual({
        error: { code: 'NUMBER_UNAVAILABLE', message: 'number +12125550199 cannot be taken' },
      });
    }
    expect(own.body).toBe(other.body);
    // Staff see why.
    const staffDup = await call(staff, 'POST', '/v1/dids', { number: '12125550199', seller_id: seller.bolt });
    expect(staffDup.statusCode).toBe(409);
    expect(staffDup.json().error.code).toBe('DUPLICATE');
  });
});
