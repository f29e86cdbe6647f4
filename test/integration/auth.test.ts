import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, KeyStore } from '../../src/auth/keys.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { freshDatabase, testConfig } from '../helpers/env.ts';
import { capturingLogger } from '../helpers/log.ts';

describe('API authentication and authorisation', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let d: Daemon;
  let behindProxy: Daemon;
  const logs = capturingLogger();
  const keys: Record<string, string> = {};
  const sellerId = '11111111-1111-4111-8111-111111111111';

  beforeAll(async () => {
    db = await freshDatabase();
    d = await startDaemon(testConfig({ DATABASE_URL: db.url, AUTH_FAIL_LIMIT_PER_MIN: '5' }), logs.log, [], {
      listen: false,
    });
    behindProxy = await startDaemon(
      testConfig({ DATABASE_URL: db.url, TRUSTED_PROXIES: '10.9.9.9' }),
      logs.log,
      [],
      { listen: false },
    );
    const mk = async (name: string, o: Parameters<typeof createApiKey>[1]) => {
      keys[name] = (await createApiKey(d.ctx.database.db, o)).key;
    };
    await mk('admin', { role: 'admin' });
    await mk('seller', { role: 'seller', sellerId });
    await mk('dialer', { role: 'dialer' });
    await mk('lan', { role: 'admin', allowIps: ['192.168.1.0/24'] });
  });
  afterAll(async () => {
    await d?.stop();
    await behindProxy?.stop();
    await db?.drop();
  });

  const get = (app: Daemon, url: string, headers: Record<string, string> = {}, remoteAddress = '127.0.0.1') =>
    app.app.inject({ method: 'GET', url, headers, remoteAddress });

  it('401 without a key, and with an unknown key', async () => {
    const a = await get(d, '/v1/api-keys', {}, '127.0.0.2');
    expect(a.statusCode).toBe(401);
    expect(a.json().error.code).toBe('UNAUTHENTICATED');
    const b = await get(d, '/v1/api-keys', { authorization: 'Bearer cc_nope_nope' }, '127.0.0.2');
    expect(b.statusCode).toBe(401);
    expect(b.json()).toEqual({ error: { code: 'UNAUTHENTICATED', message: 'unknown or revoked API key' } });
  });

  it('403 for a role that may not use the endpoint', async () => {
    for (const k of ['seller', 'dialer']) {
      const r = await get(d, '/v1/api-keys', { 'x-api-key': keys[k]! });
      expect(r.statusCode).toBe(403);
      expect(r.json().error.code).toBe('FORBIDDEN_ROLE');
    }
    const ok = await get(d, '/v1/whoami', { 'x-api-key': keys.seller! });
    expect(ok.json()).toMatchObject({ role: 'seller', seller_id: sellerId });
  });

  it('403 from an IP outside the key allow-list, 200 inside it', async () => {
    const out = await get(d, '/v1/whoami', { 'x-api-key': keys.lan! }, '10.0.0.7');
    expect(out.statusCode).toBe(403);
    expect(out.json().error.code).toBe('FORBIDDEN_IP');
    const inside = await get(d, '/v1/whoami', { 'x-api-key': keys.lan! }, '192.168.1.20');
    expect(inside.statusCode).toBe(200);
  });

  it('ignores X-Forwarded-For from an untrusted peer', async () => {
    const spoof = await get(
      d,
      '/v1/whoami',
      { 'x-api-key': keys.lan!, 'x-forwarded-for': '192.168.1.20' },
      '10.0.0.7',
    );
    expect(spoof.statusCode).toBe(403);
    expect(spoof.json().error.code).toBe('FORBIDDEN_IP');
    // Through the trusted proxy the forwarded address is the client's.
    const viaProxy = await get(
      behindProxy,
      '/v1/whoami',
      { 'x-api-key': keys.lan!, 'x-forwarded-for': '192.168.1.20' },
      '10.9.9.9',
    );
    expect(viaProxy.statusCode).toBe(200);
    expect(viaProxy.json().ip).toBe('192.168.1.20');
    // A client that is not the proxy cannot pretend through the same header on that daemon either.
    const notProxy = await get(
      behindProxy,
      '/v1/whoami',
      { 'x-api-key': keys.lan!, 'x-forwarded-for': '192.168.1.20' },
      '10.0.0.8',
    );
    expect(notProxy.statusCode).toBe(403);
  });

  it('rate-limits failed attempts per IP with 429 and Retry-After', async () => {
    const ip = '172.16.0.9';
    for (let i = 0; i < 5; i++)
      expect((await get(d, '/v1/whoami', { 'x-api-key': 'bad' }, ip)).statusCode).toBe(401);
    // Further failures from that IP are answered 429, well-formed unknown keys and junk alike...
    for (const bad of ['bad', `cc_abcdefgh_${'x'.repeat(43)}`, '']) {
      const r = await get(d, '/v1/whoami', bad ? { 'x-api-key': bad } : {}, ip);
      expect(r.statusCode).toBe(429);
      expect(r.json().error.code).toBe('AUTH_RATE_LIMITED');
      expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
    }
    // ...but valid keys from the same IP keep working: the limiter limits failures, not the
    // call centre behind one NAT address.
    for (const k of ['admin', 'dialer', 'seller'])
      expect((await get(d, '/v1/whoami', { 'x-api-key': keys[k]! }, ip)).statusCode).toBe(200);
    // A valid key from an address it is not allowed from is a failure too.
    expect((await get(d, '/v1/whoami', { 'x-api-key': keys.lan! }, ip)).statusCode).toBe(429);
    // Another IP is unaffected.
    expect((await get(d, '/v1/whoami', { 'x-api-key': 'bad' }, '172.16.0.10')).statusCode).toBe(401);
  });

  it('creates keys through the API, shows them once, stores only a hash, and revokes them', async () => {
    const c = await d.app.inject({
      method: 'POST',
      url: '/v1/api-keys',
      headers: { 'x-api-key': keys.admin! },
      payload: { role: 'dialer', allow_ips: ['10.0.0.0/8'], label: 'vicidial-1' },
    });
    expect(c.statusCode).toBe(201);
    const created = c.json();
    expect(created.key).toMatch(/^cc_/);
    const list = await get(d, '/v1/api-keys', { 'x-api-key': keys.admin! });
    expect(list.body).not.toContain(created.key);
    expect(list.json().items.find((k: { id: string }) => k.id === created.id)).not.toHaveProperty('key');
    const rows = await d.ctx.database.sql`select * from api_keys`;
    const dump = JSON.stringify(rows);
    for (const k of [...Object.values(keys), created.key]) expect(dump).not.toContain(k);

    const bad = await d.app.inject({
      method: 'POST',
      url: '/v1/api-keys',
      headers: { 'x-api-key': keys.admin! },
      payload: { role: 'dialer', allow_ips: ['not-an-ip'] },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('VALIDATION_FAILED');

    const rev = await d.app.inject({
      method: 'DELETE',
      url: `/v1/api-keys/${created.id}`,
      headers: { 'x-api-key': keys.admin! },
    });
    expect(rev.statusCode).toBe(200);
    expect((await get(d, '/v1/whoami', { 'x-api-key': created.key }, '10.1.1.1')).statusCode).toBe(401);
  });

  it('lookups of one key share one PostgreSQL read, and a revoke drops reads in flight', async () => {
    const store = new KeyStore(d.ctx.database.db, 30_000);
    const got = await Promise.all(Array.from({ length: 50 }, () => store.lookup(keys.dialer!)));
    expect(store.reads).toBe(1);
    expect(new Set(got.map((p) => p?.role))).toEqual(new Set(['dialer']));
    expect(await store.lookup(keys.dialer!)).toEqual(got[0]); // cached
    expect(store.reads).toBe(1);
    // A read in flight when the cache is invalidated (a key revoked) is not kept: the next lookup
    // reads again instead of trusting what was seen before the revoke.
    store.invalidate();
    const before = store.lookup(keys.seller!);
    store.invalidate();
    await before;
    await store.lookup(keys.seller!);
    expect(store.reads).toBe(3);
  });

  it('a key over its own request limit gets 429 KEY_RATE_LIMITED with Retry-After; other keys do not', async () => {
    // The limit counts per minute: a run that straddles a minute boundary starts again with a new key.
    for (let attempt = 0; ; attempt++) {
      const minute = Math.floor(Date.now() / 60_000);
      const created = await d.app.inject({
        method: 'POST',
        url: '/v1/api-keys',
        headers: { authorization: `Bearer ${keys.admin}` },
        payload: { role: 'admin', rate_limit_per_min: 3, label: 'limited' },
      });
      expect(created.statusCode, created.body).toBe(201);
      expect(created.json().rate_limit_per_min).toBe(3);
      const limited = { authorization: `Bearer ${created.json().key}` };
      const codes: number[] = [];
      for (let i = 0; i < 5; i++) codes.push((await get(d, '/v1/whoami', limited)).statusCode);
      const refused = await get(d, '/v1/whoami', limited);
      const other = await get(d, '/v1/whoami', { authorization: `Bearer ${keys.admin}` });
      if (Math.floor(Date.now() / 60_000) !== minute && attempt < 3) continue;
      expect(codes).toEqual([200, 200, 200, 429, 429]);
      expect(refused.statusCode).toBe(429);
      expect(refused.json().error.code).toBe('KEY_RATE_LIMITED');
      const wait = Number(refused.headers['retry-after']);
      expect(wait).toBeGreaterThanOrEqual(1);
      expect(wait).toBeLessThanOrEqual(60);
      expect(other.statusCode).toBe(200);
      // Lifted through the API (0: no limit); the change reaches the key at once on this instance.
      const id = created.json().id;
      const patched = await d.app.inject({
        method: 'PATCH',
        url: `/v1/api-keys/${id}`,
        headers: { authorization: `Bearer ${keys.admin}` },
        payload: { rate_limit_per_min: 0 },
      });
      expect(patched.statusCode, patched.body).toBe(200);
      expect(patched.json().rate_limit_per_min).toBe(0);
      expect((await get(d, '/v1/whoami', limited)).statusCode).toBe(200);
      const bad = await d.app.inject({
        method: 'PATCH',
        url: `/v1/api-keys/${id}`,
        headers: { authorization: `Bearer ${keys.admin}` },
        payload: { rate_limit_per_min: -1 },
      });
      expect(bad.statusCode).toBe(400);
      break;
    }
  });

  it('never writes a key to the logs, even passed as ?key=', async () => {
    await get(d, `/v1/whoami?key=${keys.dialer}`, { authorization: `Bearer ${keys.admin}` });
    await get(d, '/v1/whoami', { 'x-api-key': keys.seller! });
    const all = logs.lines.join('\n');
    expect(all.length).toBeGreaterThan(0);
    for (const k of Object.values(keys)) expect(all).not.toContain(k);
  });
});
