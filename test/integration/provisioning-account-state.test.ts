// Provider accounts that can be disabled, and webhook subscriptions paused and resumed, through the
// API on real PostgreSQL and Redis with the fake carrier and BullMQ workers: a disabled account takes
// no new search, job or reconcile (409 account_disabled, nothing made); its unfinished job waits (its
// queue paused in Redis, the job saying why) while another account's job runs, and finishes once it
// is enabled; the workers' refresh puts a lost pause right; both changes are in the audit trail
// without the sealed secrets; an inactive subscription is written no deliveries.
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/auth/keys.ts';
import { sellers } from '../../src/db/schema/routing.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { FakeCarrier } from '../../src/provisioning/providers/fake/server.ts';
import { createProvisioningModule, type ProvisioningModule } from '../../src/provisioning/index.ts';
import { createRoutingModule } from '../../src/routing/index.ts';
import { freshDatabase, redisPrefix, testConfig } from '../helpers/env.ts';
import { waitFor } from '../helpers/wait.ts';
import { keyedRequests } from '../helpers/api.ts';

const KEY = 'vkey0001';
const SECRET = 'vonage-Secret-77';
const log = createLogger({ level: 'silent' });

describe('provider accounts disabled, webhooks paused', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let d: Daemon;
  const fake = new FakeCarrier({ apiKey: KEY, apiSecret: SECRET, inventoryPerNpa: 6 });
  let admin: string;
  let staff: string;
  let acme: string;
  let acmeKey: string;
  let boltKey: string;
  const prov = () => d.ctx.modules.get('provisioning') as ProvisioningModule;

  const api = keyedRequests(() => d.app);
  const newAccount = async (name: string) => {
    const r = await api(admin, 'POST', '/v1/provider-accounts', {
      name,
      provider: 'vonage',
      rest_url: fake.url,
      api_url: fake.url,
      api_key: KEY,
      api_secret: SECRET,
      rate_per_s: 50,
      use_subaccounts: false,
      voice: { type: 'sip', value: 'sip:{e164}@198.51.100.7' },
    });
    expect(r.statusCode, r.body).toBe(201);
    expect(r.json().active).toBe(true);
    return r.json().id as string;
  };
  const buy = (account: string, npa: string, count: number) =>
    api(admin, 'POST', '/v1/numbers/provision/batch', {
      provider_account_id: account,
      seller_id: acme,
      items: [{ npa, count }],
    });
  const job = async (id: string) => (await api(admin, 'GET', `/v1/jobs/${id}`)).json();

  beforeAll(async () => {
    db = await freshDatabase();
    await fake.listen();
    d = await startDaemon(
      testConfig({ DATABASE_URL: db.url, REDIS_KEY_PREFIX: redisPrefix(), WEBHOOK_ALLOW_PRIVATE: 'true' }),
      log,
      // The workers start when the test says: the job on a disabled account is made before any run.
      [createRoutingModule, (ctx) => createProvisioningModule(ctx, { workers: false })],
      { listen: false },
    );
    const x = d.ctx.database.db;
    admin = (await createApiKey(x, { role: 'admin', label: 'ops desk' })).key;
    staff = (await createApiKey(x, { role: 'staff' })).key;
    const [a] = await x.insert(sellers).values({ name: 'acme' }).returning();
    const [b] = await x.insert(sellers).values({ name: 'bolt' }).returning();
    acme = a!.id;
    acmeKey = (await createApiKey(x, { role: 'seller', sellerId: a!.id })).key;
    boltKey = (await createApiKey(x, { role: 'seller', sellerId: b!.id })).key;
  });
  afterAll(async () => {
    await d?.stop();
    await fake.close();
    await db?.drop();
  });

  it('a disabled account takes no new work; its job waits while another account’s runs, and ends once enabled', async () => {
    const main = await newAccount('vonage-main');
    const spare = await newAccount('vonage-spare');
    const waiting = await buy(main, '415', 3);
    expect(waiting.statusCode).toBe(202);
    const jobId = waiting.json().job_id as string;

    // Only an admin changes it; a bad value changes nothing.
    expect((await api(staff, 'PATCH', `/v1/provider-accounts/${main}`, { active: false })).statusCode).toBe(
      403,
    );
    const bad = await api(admin, 'PATCH', `/v1/provider-accounts/${main}`, { active: 'no' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('VALIDATION_FAILED');
    const off = await api(admin, 'PATCH', `/v1/provider-accounts/${main}`, { active: false });
    expect(off.statusCode).toBe(200);
    expect(off.json().active).toBe(false);
    expect((await api(admin, 'GET', `/v1/provider-accounts/${main}`)).json().active).toBe(false);

    // Nothing new: a search, a job, a reconcile are refused with the reason, and no job is made.
    const jobsBefore = await d.ctx.database.sql`select count(*)::int n from provisioning_jobs`;
    for (const [url, body] of [
      ['/v1/numbers/search', { provider_account_id: main, npa: '415' }],
      [
        '/v1/numbers/provision/batch',
        { provider_account_id: main, seller_id: acme, items: [{ npa: '415', count: 1 }] },
      ],
      ['/v1/numbers/provision', { provider_account_id: main, seller_id: acme, npa: '415' }],
      ['/v1/provisioning/reconcile', { provider_account_id: main }],
    ] as const) {
      const r = await api(admin, 'POST', url, body);
      expect(r.statusCode, url).toBe(409);
      expect(r.json().error.details).toMatchObject({ reason: 'account_disabled', provider_account_id: main });
    }
    expect(await d.ctx.database.sql`select count(*)::int n from provisioning_jobs`).toEqual(jobsBefore);

    // The unfinished job says why it waits; its queue is paused in Redis for every instance.
    expect(await job(jobId)).toMatchObject({ status: 'queued', account_disabled: true, done: 0 });
    const queue = { isPaused: () => prov().queues.isPaused(main) };
    expect(await queue.isPaused()).toBe(true);

    // With the workers running, the other account's job is bought to the end; this one's items wait.
    await prov().startWorkers();
    const other = (await buy(spare, '646', 2)).json().job_id as string;
    const done = await waitFor(async () => {
      const j = await job(other);
      return j.status === 'completed' ? j : undefined;
    }, 120_000);
    expect(done.counts).toEqual({ provisioned: 2 });
    const still = await job(jobId);
    expect(still).toMatchObject({ status: 'queued', account_disabled: true, done: 0 });
    expect(still.counts).toEqual({ queued: 3 });

    const on = await api(admin, 'PATCH', `/v1/provider-accounts/${main}`, { active: true });
    expect(on.json().active).toBe(true);
    const finished = await waitFor(async () => {
      const j = await job(jobId);
      return j.status === 'completed' ? j : undefined;
    }, 120_000);
    expect(finished.counts).toEqual({ provisioned: 3 });
    expect(finished.account_disabled).toBe(false);
    expect(
      (await api(admin, 'POST', '/v1/numbers/search', { provider_account_id: main, npa: '415' })).statusCode,
    ).toBe(200);

    // Changed behind the service's back (a crash between the row and Redis): the workers' refresh
    // pauses and resumes the queue as the row says.
    await d.ctx.database.sql`update provider_accounts set active = false where id = ${main}`;
    await prov().queues.refresh();
    expect(await queue.isPaused()).toBe(true);
    await d.ctx.database.sql`update provider_accounts set active = true where id = ${main}`;
    await prov().queues.refresh();
    expect(await queue.isPaused()).toBe(false);

    // The trail: who disabled it, the state before and after, the sealed credentials left out.
    const trail = await d.ctx.database.sql<
      {
        action: string;
        actor_label: string | null;
        before: Record<string, unknown>;
        after: Record<string, unknown>;
      }[]
    >`select action, actor_label, before, after from audit_log where resource = 'provider_account'
      and resource_id = ${main} order by id`;
    expect(trail[0]).toMatchObject({ action: 'create', actor_label: 'ops desk' });
    const disabling = trail.find((t) => t.before?.active === true && t.after?.active === false)!;
    expect(disabling).toMatchObject({ action: 'update', actor_label: 'ops desk' });
    for (const t of trail) {
      expect(JSON.stringify(t)).not.toMatch(/v1\./);
      if (t.after) expect(t.after.credentials).toBe('sealed');
    }
  });

  it('an account made while the workers run gets one worker with its first job, not at the next refresh', async () => {
    // The periodic refresh (every 10 s) is stopped: only the job's hand-over can start the worker.
    clearInterval((prov().queues as unknown as { refreshTimer: NodeJS.Timeout }).refreshTimer);
    const workers = async (account: string) => {
      const q = new Queue(`items-${account}`, {
        connection: d.ctx.redis,
        prefix: `${d.ctx.config.REDIS_KEY_PREFIX}:bull`,
      });
      try {
        return await q.getWorkersCount();
      } finally {
        await q.close();
      }
    };
    const bought = async (account: string, npa: string) => {
      const r = await buy(account, npa, 1);
      expect(r.statusCode).toBe(202);
      return waitFor(async () => {
        const j = await job(r.json().job_id);
        return j.status === 'completed' ? j : undefined;
      }, 120_000);
    };
    const late = await newAccount('vonage-late');
    expect((await bought(late, '718')).counts).toEqual({ provisioned: 1 });
    expect(await workers(late)).toBe(1);
    // Refreshes at once (the timer's and jobs' hand-overs) still start one worker per account.
    const later = await newAccount('vonage-later');
    await Promise.all([1, 2, 3, 4].map(() => prov().queues.refresh()));
    expect((await bought(later, '719')).counts).toEqual({ provisioned: 1 });
    expect(await workers(later)).toBe(1);
  });

  it('new credentials are recorded as changed, never shown', async () => {
    const id = await newAccount('vonage-rotated');
    const r = await api(admin, 'PATCH', `/v1/provider-accounts/${id}`, { api_key: KEY, api_secret: SECRET });
    expect(r.statusCode).toBe(200);
    const [t] = await d.ctx.database.sql<
      { before: { credentials: string }; after: { credentials: string } }[]
    >`
      select before, after from audit_log where resource = 'provider_account' and resource_id = ${id}
      and action = 'update' order by id desc limit 1`;
    expect(t).toMatchObject({ before: { credentials: 'sealed' }, after: { credentials: 'sealed, changed' } });
  });

  it('webhooks: PATCH active pauses and resumes; an inactive subscription gets no deliveries', async () => {
    const mk = async (key: string, url: string) => {
      const r = await api(key, 'POST', '/v1/webhooks', { url, events: ['job.completed'] });
      expect(r.statusCode).toBe(201);
      return r.json().id as string;
    };
    const paused = await mk(acmeKey, 'http://127.0.0.1:9/paused');
    const live = await mk(acmeKey, 'http://127.0.0.1:9/live');
    // Another seller's subscription is not found; a bad body changes nothing.
    expect((await api(boltKey, 'PATCH', `/v1/webhooks/${paused}`, { active: false })).statusCode).toBe(404);
    for (const body of [{ active: 'no' }, {}, { active: false, url: 'http://example.com' }]) {
      const r = await api(acmeKey, 'PATCH', `/v1/webhooks/${paused}`, body);
      expect(r.statusCode).toBe(400);
      expect(r.json().error.code).toBe('VALIDATION_FAILED');
    }
    const off = await api(acmeKey, 'PATCH', `/v1/webhooks/${paused}`, { active: false });
    expect(off.statusCode).toBe(200);
    expect(off.json()).toMatchObject({ id: paused, active: false });
    const listed = (await api(acmeKey, 'GET', '/v1/webhooks')).json().items;
    expect(listed.find((s: { id: string }) => s.id === paused).active).toBe(false);

    const hooks = prov().webhooks;
    await hooks.emit('job.completed', acme, { id: 'j1' });
    const count = async (id: string) =>
      (
        await d.ctx.database.sql<{ n: number }[]>`select count(*)::int n from webhook_deliveries
        where subscription_id = ${id} and event = 'job.completed'`
      )[0]!.n;
    expect(await count(paused)).toBe(0);
    expect(await count(live)).toBe(1);
    expect((await api(acmeKey, 'PATCH', `/v1/webhooks/${paused}`, { active: true })).json().active).toBe(
      true,
    );
    await hooks.emit('job.completed', acme, { id: 'j2' });
    expect(await count(paused)).toBe(1);

    // In the trail, named by the key, without the sealed signing secret.
    const trail = await d.ctx.database.sql<
      {
        action: string;
        before: { secret: string } | null;
        after: { secret: string; active: boolean } | null;
      }[]
    >`
      select action, before, after from audit_log where resource = 'webhook' and resource_id = ${paused} order by id`;
    expect(trail.map((t) => [t.action, t.after?.active])).toEqual([
      ['create', true],
      ['update', false],
      ['update', true],
    ]);
    for (const t of trail) expect(t.after?.secret).toBe('sealed');
  });
});
