// A batch of 500 NPAs with every carrier fault mixed in, run by `capconduit worker` processes: the first
// is SIGKILLed mid-batch, a second takes over. The job ends with an exact per-item report (each NPA's
// fault decides its outcome), nothing is bought twice, and our records match the carrier's exactly.
import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/auth/keys.ts';
import { sellers } from '../../src/db/schema/routing.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { FakeCarrier, type NpaFault } from '../../src/provisioning/providers/fake/server.ts';
import { createProvisioningModule } from '../../src/provisioning/index.ts';
import { freshDatabase, redisPrefix, TEST_MASTER_KEY, testConfig } from '../helpers/env.ts';
import { waitFor } from '../helpers/wait.ts';

const CYCLE: Array<NpaFault | 'none'> = [
  'none',
  'no-inventory',
  'buy-420-succeeded',
  'buy-429-once',
  'buy-5xx-once',
  'taken-after-search',
  'buy-5xx-always',
];
const EXPECTED: Record<string, string> = {
  none: 'provisioned',
  'no-inventory': 'no_inventory',
  'buy-420-succeeded': 'provisioned',
  'buy-429-once': 'provisioned',
  'buy-5xx-once': 'provisioned',
  'taken-after-search': 'provisioned',
  'buy-5xx-always': 'failed',
};

describe('a 500-NPA batch across a SIGKILLed worker', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let d: Daemon;
  const fake = new FakeCarrier({ apiKey: 'crashkey', apiSecret: 'crash-secret', inventoryPerNpa: 3 });
  const prefix = redisPrefix();
  const workers: ChildProcess[] = [];
  const npas = Array.from({ length: 500 }, (_, i) => String(200 + i));
  const faultOf = (npa: string) => CYCLE[Number(npa) % CYCLE.length]!;

  const worker = () => {
    const p = spawn('node', ['bin/capconduit.js', 'worker'], {
      env: {
        ...process.env,
        DATABASE_URL: db.url,
        MASTER_KEY: TEST_MASTER_KEY,
        REDIS_KEY_PREFIX: prefix,
        PROVISIONING_LOCK_MS: '3000',
        PROVISIONING_ATTEMPTS: '4',
        LOG_LEVEL: process.env.CRASH_TEST_LOG ?? 'warn',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    workers.push(p);
    return p;
  };

  beforeAll(async () => {
    db = await freshDatabase();
    await fake.listen();
    const npa: Record<string, NpaFault> = {};
    for (const n of npas) if (faultOf(n) !== 'none') npa[n] = faultOf(n) as NpaFault;
    fake.setFaults({ npa });
    d = await startDaemon(
      testConfig({ DATABASE_URL: db.url, REDIS_KEY_PREFIX: prefix, PROVISIONING_WORKERS: 'false' }),
      createLogger({ level: 'silent' }),
      [(ctx) => createProvisioningModule(ctx)],
      { listen: false },
    );
  });
  afterAll(async () => {
    for (const w of workers) w.kill('SIGKILL');
    await d?.stop();
    await fake.close();
    await db?.drop();
  });

  it('ends with an exact report, nothing bought twice, records equal to the carrier', {
    timeout: 600_000,
  }, async () => {
    const admin = (await createApiKey(d.ctx.database.db, { role: 'admin' })).key;
    const [s] = await d.ctx.database.db.insert(sellers).values({ name: 'bulk' }).returning();
    const api = (method: string, url: string, payload?: unknown) =>
      d.app.inject({
        method: method as 'GET',
        url,
        headers: { 'x-api-key': admin },
        ...(payload ? { payload: payload as object } : {}),
      });
    const acc = await api('POST', '/v1/provider-accounts', {
      name: 'bulk',
      provider: 'vonage',
      rest_url: fake.url,
      api_url: fake.url,
      api_key: 'crashkey',
      api_secret: 'crash-secret',
      rate_per_s: 100,
      concurrency: 8,
      timeout_ms: 5000,
    });
    expect(acc.statusCode).toBe(201);
    const r = await api('POST', '/v1/numbers/provision/batch', {
      provider_account_id: acc.json().id,
      seller_id: s!.id,
      items: npas.map((npa) => ({ npa, count: 1 })),
    });
    expect(r.statusCode).toBe(202);
    const jobId = r.json().job_id as string;
    const done = async () =>
      (await api('GET', `/v1/jobs/${jobId}?items=false`)).json() as { done: number; status: string };

    const first = worker();
    await waitFor(async () => (await done()).done >= 60, 300_000);
    first.kill('SIGKILL');
    await new Promise((res) => first.once('exit', res));
    const atKill = (await done()).done;
    expect(atKill).toBeLessThan(500);
    worker();
    await waitFor(async () => (await done()).status === 'completed', 300_000);

    const view = (await api('GET', `/v1/jobs/${jobId}`)).json() as {
      items: Array<{ input: { npa: string }; outcome: string; result: { e164?: string } }>;
    };
    const report = Object.fromEntries(view.items.map((i) => [i.input.npa, i.outcome]));
    expect(report).toEqual(Object.fromEntries(npas.map((n) => [n, EXPECTED[faultOf(n)]])));
    const bought = fake.stats.buys.map((b) => b.msisdn);
    expect(new Set(bought).size).toBe(bought.length);
    const ours = view.items.filter((i) => i.outcome === 'provisioned').map((i) => i.result.e164!.slice(1));
    const sub = [...fake.accounts.values()].find((a) => a.primary)!.apiKey;
    expect([...fake.ownedBy(sub)].sort()).toEqual([...ours].sort());
    expect(new Set(bought)).toEqual(new Set(ours));
    const rows = await d.ctx.database.sql`select e164 from provisioned_numbers where status = 'owned'`;
    expect(rows.map((x) => x.e164.slice(1)).sort()).toEqual([...ours].sort());
    const didRows = await d.ctx.database.sql`select count(*)::int as n from dids where seller_id = ${s!.id}`;
    expect(didRows[0]!.n).toBe(ours.length);
  });
});
