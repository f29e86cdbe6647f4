// DID provisioning through the API on real PostgreSQL and Redis, the fake Vonage and BullMQ workers:
// a provider account (sealed credentials, never shown or logged; its carrier trunk written through the
// PBX module), one number bought as a seller's DID under a subaccount made on first use, configured and
// released (kept as history), a batch with every carrier fault, Idempotency-Key, and seller isolation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/auth/keys.ts';
import { sellers } from '../../src/db/schema/routing.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { createPbxModule } from '../../src/pbx/index.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { FakeCarrier } from '../../src/provisioning/providers/fake/server.ts';
import { createProvisioningModule } from '../../src/provisioning/index.ts';
import { createRoutingModule } from '../../src/routing/index.ts';
import { freshDatabase, redisPrefix, testConfig } from '../helpers/env.ts';
import { waitFor } from '../helpers/wait.ts';

const KEY = 'vkey0001';
const SECRET = 'vonage-Secret-77';

describe('provisioning API', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let d: Daemon;
  // Retry-After 0.2 s, not Vonage's 1 s: the batch's 429s hold the whole account back for it.
  const fake = new FakeCarrier({
    apiKey: KEY,
    apiSecret: SECRET,
    inventoryPerNpa: 6,
    faults: { retryAfterS: 0.2 },
  });
  const logLines: string[] = [];
  let admin: string;
  const seller: Record<string, string> = {};
  const sellerKey: Record<string, string> = {};
  let account: string;

  const api = (
    key: string,
    method: string,
    url: string,
    payload?: unknown,
    headers: Record<string, string> = {},
  ) =>
    d.app.inject({
      method: method as 'GET',
      url,
      headers: { 'x-api-key': key, ...headers },
      ...(payload !== undefined ? { payload: payload as object } : {}),
    });

  beforeAll(async () => {
    db = await freshDatabase();
    await fake.listen();
    const log = createLogger({
      level: 'trace',
      destination: { write: (s: string) => void logLines.push(s) },
    });
    d = await startDaemon(
      testConfig({
        DATABASE_URL: db.url,
        REDIS_KEY_PREFIX: redisPrefix(),
        LOG_LEVEL: 'trace',
        PROVISIONING_LOCK_MS: '5000',
        // A carrier answering 5xx always fails its item after the last attempt; the default 8 attempts
        // back off 31 s in all before that answer, 4 attempts 1.75 s. Exhausting them is the subject,
        // not their number.
        PROVISIONING_ATTEMPTS: '4',
      }),
      log,
      [createRoutingModule, createPbxModule, (ctx) => createProvisioningModule(ctx)],
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
    await db?.drop();
  });

  it('creates a provider account with sealed credentials and its carrier trunk', async () => {
    const r = await api(admin, 'POST', '/v1/provider-accounts', {
      name: 'vonage-main',
      provider: 'vonage',
      rest_url: fake.url,
      api_url: fake.url,
      api_key: KEY,
      api_secret: SECRET,
      rate_per_s: 50,
      concurrency: 4,
      timeout_ms: 2000,
      signalling_cidrs: ['216.147.0.0/18', '168.100.64.0/18'],
      voice: { type: 'sip', value: 'sip:{e164}@198.51.100.7' },
    });
    expect(r.statusCode).toBe(201);
    const body = r.json();
    account = body.id;
    expect(JSON.stringify(body)).not.toContain(SECRET);
    expect(JSON.stringify(body)).not.toContain(KEY);
    expect(body.trunk_endpoint).toMatch(/^carrier-/);
    const [row] = await d.ctx.database.sql`select credentials from provider_accounts where id = ${account}`;
    expect(row!.credentials).toMatch(/^v1\./);
    expect(row!.credentials).not.toContain(SECRET);
    const ids = await d.ctx.database
      .sql`select match from ps_endpoint_id_ips where endpoint = ${body.trunk_endpoint} order by match`;
    expect(ids.map((x) => x.match)).toEqual(['168.100.64.0/18', '216.147.0.0/18']);
    const [ep] = await d.ctx.database.sql`select context from ps_endpoints where id = ${body.trunk_endpoint}`;
    expect(ep!.context).toBe('from-carrier');
    expect((await api(sellerKey.acme!, 'GET', '/v1/provider-accounts')).statusCode).toBe(403);
  });

  it('searches an NPA', async () => {
    const r = await api(admin, 'POST', '/v1/numbers/search', {
      provider_account_id: account,
      npa: '415',
      size: 3,
    });
    expect(r.statusCode).toBe(200);
    expect(r.json().count).toBe(6);
    expect(r.json().numbers).toHaveLength(3);
    expect(r.json().numbers[0].e164).toMatch(/^\+1415\d{7}$/);
  });

  it('provisions one number as the seller DID under its subaccount, configures and releases it', async () => {
    const r = await api(
      admin,
      'POST',
      '/v1/numbers/provision',
      { provider_account_id: account, seller_id: seller.acme, npa: '212' },
      { 'idempotency-key': 'one-212' },
    );
    expect(r.statusCode, r.body).toBe(201);
    const { e164, did_id } = r.json();
    expect(e164).toMatch(/^\+1212/);
    const did = await api(sellerKey.acme!, 'GET', `/v1/dids/${did_id}`);
    expect(did.json()).toMatchObject({ number: e164, seller_id: seller.acme });
    const sub = fake.ownedBy(KEY).includes(e164.slice(1))
      ? KEY
      : [...fake.accounts.values()].find((a) => a.primary)!.apiKey;
    expect(sub).not.toBe(KEY); // bought under the seller's subaccount
    expect(fake.owned.get(e164.slice(1))).toMatchObject({
      voiceCallbackType: 'sip',
      voiceCallbackValue: `sip:${e164}@198.51.100.7`,
    });
    // The same Idempotency-Key answers the same job, buying nothing more.
    const again = await api(
      admin,
      'POST',
      '/v1/numbers/provision',
      { provider_account_id: account, seller_id: seller.acme, npa: '212' },
      { 'idempotency-key': 'one-212' },
    );
    expect(again.statusCode).toBe(201);
    expect(again.json().e164).toBe(e164);
    expect(fake.stats.buys.filter((b) => b.msisdn.startsWith('1212'))).toHaveLength(1);
    const other = await api(
      admin,
      'POST',
      '/v1/numbers/provision',
      { provider_account_id: account, seller_id: seller.acme, npa: '213' },
      { 'idempotency-key': 'one-212' },
    );
    expect(other.statusCode).toBe(409);

    const c = await api(admin, 'POST', `/v1/numbers/${encodeURIComponent(e164)}/configure`, {
      voice: { type: 'tel', value: '14155550000' },
    });
    expect(c.statusCode, c.body).toBe(200);
    expect(fake.owned.get(e164.slice(1))).toMatchObject({
      voiceCallbackType: 'tel',
      voiceCallbackValue: '14155550000',
    });

    const rel = await api(admin, 'POST', `/v1/numbers/${encodeURIComponent(e164)}/release`);
    expect(rel.statusCode, rel.body).toBe(200);
    expect(fake.owned.has(e164.slice(1))).toBe(false);
    expect((await api(sellerKey.acme!, 'GET', `/v1/dids/${did_id}`)).statusCode).toBe(404);
    const hist = await api(sellerKey.acme!, 'GET', '/v1/numbers?status=released');
    expect(hist.json().items).toEqual([expect.objectContaining({ e164, status: 'released', did_id: null })]);
    expect((await api(admin, 'POST', `/v1/numbers/${encodeURIComponent(e164)}/release`)).statusCode).toBe(
      404,
    );
  });

  it('answers no inventory as a clear 409', async () => {
    fake.setFaults({ npa: { '209': 'no-inventory' } });
    const r = await api(admin, 'POST', '/v1/numbers/provision', {
      provider_account_id: account,
      seller_id: seller.acme,
      npa: '209',
    });
    expect(r.statusCode).toBe(409);
    expect(r.json().error.details.reason).toBe('no_inventory');
  });

  it('refuses to buy or set up numbers for an archived seller (409 SELLER_ARCHIVED, no job made)', async () => {
    const [gone] = await d.ctx.database.db.insert(sellers).values({ name: 'gone' }).returning();
    const archived = await api(admin, 'POST', `/v1/sellers/${gone!.id}/archive`);
    expect(archived.statusCode, archived.body).toBe(200);
    const jobs = async () =>
      Number((await d.ctx.database.sql`select count(*)::int as n from provisioning_jobs`)[0]!.n);
    const before = await jobs();
    const one = { provider_account_id: account, seller_id: gone!.id };
    for (const [url, body] of [
      ['/v1/numbers/provision', { ...one, npa: '512' }],
      ['/v1/numbers/provision/batch', { ...one, country: 'US', items: [{ npa: '512', count: 2 }] }],
    ] as const) {
      const r = await api(admin, 'POST', url, body);
      expect(r.statusCode, r.body).toBe(409);
      expect(r.json().error.code).toBe('SELLER_ARCHIVED');
    }
    expect(await jobs()).toBe(before);
  });

  it('runs a batch with carrier faults to an exact per-item report, buying nothing twice', async () => {
    fake.setFaults({
      npa: {
        '305': 'buy-420-succeeded',
        '312': 'buy-429-once',
        '313': 'buy-5xx-once',
        '314': 'no-inventory',
        '315': 'taken-after-search',
        '316': 'buy-5xx-always',
      },
    });
    const items = ['305', '312', '313', '314', '315', '316', '646'].map((npa) => ({ npa, count: 2 }));
    const r = await api(
      admin,
      'POST',
      '/v1/numbers/provision/batch',
      { provider_account_id: account, seller_id: seller.bolt, items },
      { 'idempotency-key': 'batch-1' },
    );
    expect(r.statusCode).toBe(202);
    const jobId = r.json().job_id;
    expect(r.json().total).toBe(14);
    const view = await waitFor(async () => {
      const j = (await api(admin, 'GET', `/v1/jobs/${jobId}`)).json();
      return j.status === 'completed' ? j : undefined;
    }, 120_000);
    const byNpa = (npa: string) =>
      view.items
        .filter((i: { input: { npa: string } }) => i.input.npa === npa)
        .map((i: { outcome: string }) => i.outcome);
    for (const npa of ['305', '312', '313', '315', '646'])
      expect(byNpa(npa)).toEqual(['provisioned', 'provisioned']);
    expect(byNpa('314')).toEqual(['no_inventory', 'no_inventory']);
    expect(byNpa('316')).toEqual(['failed', 'failed']);
    expect(view.counts).toEqual({ provisioned: 10, no_inventory: 2, failed: 2 });
    const numbers = view.items
      .filter((i: { outcome: string }) => i.outcome === 'provisioned')
      .map((i: { result: { e164: string } }) => i.result.e164);
    expect(new Set(numbers).size).toBe(10);
    const bought = fake.stats.buys.map((b) => b.msisdn);
    expect(new Set(bought).size).toBe(bought.length); // nothing bought twice, ever
    const owned = await d.ctx.database
      .sql`select e164 from provisioned_numbers where seller_id = ${seller.bolt!} and status = 'owned'`;
    expect(owned.map((x) => x.e164).sort()).toEqual([...numbers].sort());
    // Seller isolation: bolt's job and numbers are invisible to acme's key.
    expect((await api(sellerKey.acme!, 'GET', `/v1/jobs/${jobId}`)).statusCode).toBe(404);
    expect((await api(sellerKey.bolt!, 'GET', `/v1/jobs/${jobId}`)).statusCode).toBe(200);
    const acmeNumbers = (await api(sellerKey.acme!, 'GET', '/v1/numbers')).json();
    expect(acmeNumbers.items.every((n: { seller_id: string }) => n.seller_id === seller.acme)).toBe(true);
    expect((await api(sellerKey.bolt!, 'GET', '/v1/numbers?status=owned')).json().total).toBe(10);
    expect(
      (
        await api(sellerKey.bolt!, 'POST', '/v1/numbers/provision/batch', {
          provider_account_id: account,
          seller_id: seller.bolt,
          items,
        })
      ).statusCode,
    ).toBe(403);
  });

  it('reconciles drift with the carrier, and fixes it on request', async () => {
    const [gone] = (
      await d.ctx.database
        .sql`select e164 from provisioned_numbers where seller_id = ${seller.bolt!} and status = 'owned' order by e164 limit 1`
    ).map((x) => x.e164 as string);
    fake.owned.delete(gone!.slice(1));
    const sub = fake.owned.get(
      (
        await d.ctx.database
          .sql`select e164 from provisioned_numbers where seller_id = ${seller.bolt!} and status = 'owned' order by e164 desc limit 1`
      )[0]!.e164.slice(1),
    )!.owner;
    fake.owned.set('19175550123', { owner: sub, country: 'US', type: 'landline', features: ['VOICE'] });
    const r = await api(admin, 'POST', '/v1/provisioning/reconcile', { provider_account_id: account });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json().missing_at_carrier).toEqual([{ e164: gone, seller_id: seller.bolt }]);
    expect(r.json().unknown_to_us).toEqual([
      { e164: '+19175550123', subaccount: sub, seller_id: seller.bolt, action: 'adopt' },
    ]);
    expect(r.json().fixed).toBeNull();
    const f = await api(admin, 'POST', '/v1/provisioning/reconcile', {
      provider_account_id: account,
      fix: true,
    });
    expect(f.json().fixed).toEqual({ released: 1, adopted: 1, released_at_carrier: 0 });
    const again = (
      await api(admin, 'POST', '/v1/provisioning/reconcile', { provider_account_id: account })
    ).json();
    expect([again.missing_at_carrier, again.unknown_to_us]).toEqual([[], []]);
    const bolt = (await api(sellerKey.bolt!, 'GET', '/v1/numbers?status=owned&limit=100'))
      .json()
      .items.map((n: { e164: string }) => n.e164);
    expect(bolt).toContain('+19175550123');
    expect(bolt).not.toContain(gone);
  });

  it('never logs the carrier secret', () => {
    expect(logLines.length).toBeGreaterThan(10);
    expect(logLines.join('\n')).not.toContain(SECRET);
  });
});
