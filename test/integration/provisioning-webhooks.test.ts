// Webhooks on real PostgreSQL, Redis and BullMQ with a loopback receiver: deliveries are signed so the
// documented check verifies them, a 500 is retried and the delivery stops after the configured
// attempts, the test endpoint delivers, a provisioning event reaches staff and the owning seller's
// subscription but never another seller's, and the signing secret is shown once and stored sealed.
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/auth/keys.ts';
import { sellers } from '../../src/db/schema/routing.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { FakeCarrier } from '../../src/provisioning/providers/fake/server.ts';
import { createProvisioningModule } from '../../src/provisioning/index.ts';
import { verify } from '../../src/provisioning/webhooks/sign.ts';
import { createRoutingModule } from '../../src/routing/index.ts';
import { freshDatabase, redisPrefix, testConfig } from '../helpers/env.ts';
import { waitFor } from '../helpers/wait.ts';
import { keyedRequests } from '../helpers/api.ts';

interface Received {
  path: string;
  body: string;
  signature: string;
  event: string;
}

describe('webhooks', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let d: Daemon;
  let receiver: Server;
  let base = '';
  const received: Received[] = [];
  const fake = new FakeCarrier({ apiKey: 'k1', apiSecret: 's1', inventoryPerNpa: 3 });
  let admin: string;
  const seller: Record<string, string> = {};
  const sellerKey: Record<string, string> = {};

  const api = keyedRequests(() => d.app);

  beforeAll(async () => {
    db = await freshDatabase();
    await fake.listen();
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push({
          path: req.url ?? '',
          body,
          signature: String(req.headers['capconduit-signature']),
          event: String(req.headers['capconduit-event']),
        });
        res.writeHead(req.url === '/fail' ? 500 : 204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(receiver.address() as { port: number }).port}`;
    d = await startDaemon(
      testConfig({
        DATABASE_URL: db.url,
        REDIS_KEY_PREFIX: redisPrefix(),
        WEBHOOK_ALLOW_PRIVATE: 'true',
        PROVISIONING_ATTEMPTS: '3',
      }),
      (await import('../../src/platform/logger.ts')).createLogger({ level: 'silent' }),
      [createRoutingModule, (ctx) => createProvisioningModule(ctx)],
      { listen: false },
    );
    admin = (await createApiKey(d.ctx.database.db, { role: 'admin' })).key;
    for (const name of ['acme', 'bolt']) {
      const [s] = await d.ctx.database.db.insert(sellers).values({ name }).returning();
      seller[name] = s!.id;
      sellerKey[name] = (await createApiKey(d.ctx.database.db, { role: 'seller', sellerId: s!.id })).key;
    }
  });
  afterAll(async () => {
    await d?.stop();
    await fake.close();
    receiver?.close();
    await db?.drop();
  });

  const subscribe = async (key: string, path: string, events: string[]) => {
    const r = await api(key, 'POST', '/v1/webhooks', { url: `${base}${path}`, events });
    expect(r.statusCode, r.body).toBe(201);
    return r.json() as { id: string; secret: string; seller_id: string | null };
  };

  it('signs deliveries so the documented check verifies them; the secret is shown once and sealed', async () => {
    const s = await subscribe(admin, '/ok', ['number.provisioned']);
    expect(s.secret).toMatch(/^whsec_/);
    expect(JSON.stringify((await api(admin, 'GET', '/v1/webhooks')).json())).not.toContain(s.secret);
    const [row] = await d.ctx.database.sql`select secret from webhook_subscriptions where id = ${s.id}`;
    expect(row!.secret).not.toContain(s.secret);
    const t = await api(admin, 'POST', `/v1/webhooks/${s.id}/test`);
    expect(t.statusCode).toBe(202);
    const got = await waitFor(() => received.find((x) => x.event === 'webhook.test'));
    expect(verify(s.secret, got.signature, got.body)).toBe(true);
    expect(verify(s.secret, got.signature, `${got.body} `)).toBe(false);
    expect(JSON.parse(got.body)).toMatchObject({ type: 'webhook.test', data: { subscription_id: s.id } });
    const log = await waitFor(async () => {
      const l = (await api(admin, 'GET', `/v1/webhooks/${s.id}/deliveries`)).json().items;
      return l[0]?.status === 'delivered' ? l : undefined;
    });
    expect(log[0]).toMatchObject({ event: 'webhook.test', attempts: 1, last_status: 204 });
  });

  it('retries a failing receiver and stops after the configured attempts', async () => {
    const s = await subscribe(admin, '/fail', ['job.completed']);
    await api(admin, 'POST', `/v1/webhooks/${s.id}/test`);
    const log = await waitFor(async () => {
      const l = (await api(admin, 'GET', `/v1/webhooks/${s.id}/deliveries`)).json().items;
      return l[0]?.status === 'failed' ? l : undefined;
    }, 60_000);
    expect(log[0]).toMatchObject({ attempts: 3, last_status: 500, last_error: 'HTTP 500' });
    expect(received.filter((x) => x.path === '/fail')).toHaveLength(3);
  });

  it("delivers a seller's events to staff and that seller only", async () => {
    const acme = await subscribe(sellerKey.acme!, '/acme', ['number.provisioned']);
    expect(acme.seller_id).toBe(seller.acme);
    await subscribe(sellerKey.bolt!, '/bolt', ['number.provisioned']);
    expect(
      (await api(sellerKey.bolt!, 'GET', '/v1/webhooks')).json().items.map((x: { url: string }) => x.url),
    ).toEqual([`${base}/bolt`]);
    expect((await api(sellerKey.bolt!, 'GET', `/v1/webhooks/${acme.id}/deliveries`)).statusCode).toBe(404);
    const acc = await api(admin, 'POST', '/v1/provider-accounts', {
      name: 'v',
      provider: 'vonage',
      rest_url: fake.url,
      api_url: fake.url,
      api_key: 'k1',
      api_secret: 's1',
      rate_per_s: 50,
    });
    const r = await api(admin, 'POST', '/v1/numbers/provision', {
      provider_account_id: acc.json().id,
      seller_id: seller.acme,
      npa: '617',
    });
    expect(r.statusCode, r.body).toBe(201);
    const got = await waitFor(() => received.find((x) => x.path === '/acme'));
    expect(JSON.parse(got.body).data).toMatchObject({ e164: r.json().e164, seller_id: seller.acme });
    await waitFor(() => received.find((x) => x.path === '/ok' && x.event === 'number.provisioned'));
    // Wait for the job's own event to be delivered too, then check bolt's receiver saw nothing.
    await waitFor(
      async () =>
        (await d.ctx.database.sql`select 1 from webhook_deliveries where event = 'job.completed'`).length > 0,
    );
    expect(received.filter((x) => x.path === '/bolt')).toEqual([]);
  });

  it('refuses a loopback URL when private destinations are not allowed', async () => {
    const strict = await startDaemon(
      testConfig({ DATABASE_URL: db.url, REDIS_KEY_PREFIX: redisPrefix(), PROVISIONING_WORKERS: 'false' }),
      (await import('../../src/platform/logger.ts')).createLogger({ level: 'silent' }),
      [(ctx) => createProvisioningModule(ctx)],
      { listen: false },
    );
    try {
      const r = await strict.app.inject({
        method: 'POST',
        url: '/v1/webhooks',
        headers: { 'x-api-key': admin },
        payload: { url: 'https://127.0.0.1/x', events: ['job.completed'] },
      });
      expect(r.statusCode).toBe(400);
      expect(r.json().error.message).toMatch(/private, loopback or link-local/);
    } finally {
      await strict.stop();
    }
  });
});
