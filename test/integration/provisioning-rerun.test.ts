// Two runs of one job item at the same time — what BullMQ does when an item's lock lapses under load
// (the stalled check hands the item to a worker while the first run still goes on) — buy one number
// between them, never two; a run that arrives after the item has its answer changes nothing. The runs
// are ordered by gates on the carrier client (the real fake carrier answers), not by timing. And a
// purchase that lands after its item stopped waiting is drift that reconcile settles by its rule.
import { Counter, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sellers } from '../../src/db/schema/routing.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { ItemRunner } from '../../src/provisioning/jobs/items.ts';
import type { ProvisioningModule } from '../../src/provisioning/index.ts';
import { createProvisioningModule } from '../../src/provisioning/index.ts';
import { FakeCarrier } from '../../src/provisioning/providers/fake/server.ts';
import type { Provider } from '../../src/provisioning/providers/types.ts';
import { freshDatabase, redisPrefix, testConfig } from '../helpers/env.ts';

/** A promise with its resolver, to hold one call until the test lets it go. */
function gate() {
  let open!: () => void;
  const p = new Promise<void>((r) => {
    open = r;
  });
  return { p, open };
}

describe('a job item run twice at once', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let d: Daemon;
  let m: ProvisioningModule;
  let runner: ItemRunner;
  let sellerId: string;
  let accountId: string;
  const events: Array<{ event: string; data: Record<string, unknown> }> = [];
  const fake = new FakeCarrier({ apiKey: 'rerunkey', apiSecret: 'rerun-Secret-1', inventoryPerNpa: 4 });

  beforeAll(async () => {
    db = await freshDatabase();
    await fake.listen();
    d = await startDaemon(
      testConfig({ DATABASE_URL: db.url, REDIS_KEY_PREFIX: redisPrefix(), PROVISIONING_WORKERS: 'false' }),
      createLogger({ level: 'silent' }),
      [(ctx) => createProvisioningModule(ctx)],
      { listen: false },
    );
    m = d.ctx.modules.get('provisioning') as ProvisioningModule;
    // The workers stay off: this test is the only one running items. Events are counted here.
    m.service.queue = null;
    m.service.events = { emit: async (event, _s, data) => void events.push({ event, data }) };
    runner = new ItemRunner(
      m.service,
      new Counter({
        name: 'items',
        help: 'items',
        labelNames: ['kind', 'outcome'],
        registers: [new Registry()],
      }),
    );
    const [s] = await d.ctx.database.db.insert(sellers).values({ name: 'rerun' }).returning();
    sellerId = s!.id;
    const a = await m.service.createAccount(
      {
        name: 'rerun',
        provider: 'vonage',
        rest_url: fake.url,
        api_url: fake.url,
        api_key: 'rerunkey',
        api_secret: 'rerun-Secret-1',
        use_subaccounts: false,
      },
      null,
    );
    accountId = a.id;
  });
  afterAll(async () => {
    await d?.stop();
    await fake.close();
    await db?.drop();
  });

  const provisionJob = async (npa: string) => {
    const { job } = await m.service.createJob(
      { kind: 'provision', accountId, sellerId, keyId: null, idem: null },
      { npa },
      [{ npa, count: 1 }],
    );
    const [item] = await m.service.repo.items(job.id);
    return { job, item: item! };
  };
  const provider = async (): Promise<Provider> => m.service.providerFor(await m.service.account(accountId));
  const ownedInNpa = (npa: string) => fake.ownedBy('rerunkey').filter((n) => n.startsWith(`1${npa}`));

  it('a second run that searched after the first bought adopts the first run’s number', async () => {
    const p = await provider();
    const search = p.search.bind(p);
    const first = gate();
    const second = gate();
    const searching = [gate(), gate()];
    let calls = 0;
    p.search = async (q) => {
      // Only the item's candidate searches are held (a `size` of 20), one gate per run in turn.
      if (q.size !== 20) return search(q);
      const n = calls++;
      searching[n]?.open();
      await (n === 0 ? first.p : second.p);
      return search(q);
    };
    try {
      const { job, item } = await provisionJob('415');
      const a = runner.run(item.id, false);
      await searching[0]!.p; // run A has read the item (nothing chosen yet) and is searching
      const b = runner.run(item.id, false);
      await searching[1]!.p; // run B read the item before A chose: it searches too
      first.open();
      await a; // A chose, bought and recorded its number
      second.open(); // B's search no longer offers A's number
      await b;
      const bought = ownedInNpa('415');
      expect(bought).toHaveLength(1);
      const [row] = await m.service.repo.items(job.id);
      expect(row!.outcome).toBe('provisioned');
      expect(row!.result!.e164).toBe(`+${bought[0]}`);
      const held = await d.ctx.database.sql`select e164 from provisioned_numbers where status = 'owned'
        and e164 like ${'+1415%'}`;
      expect(held.map((x) => x.e164)).toEqual([`+${bought[0]}`]);
    } finally {
      p.search = search;
    }
  });

  it('two runs that both find the item’s recorded number not bought yet buy it once', async () => {
    const p = await provider();
    const buy = p.buy.bind(p);
    const held = [gate(), gate()];
    const buying = [gate(), gate()];
    let calls = 0;
    p.buy = async (n, acct) => {
      const k = calls++;
      buying[k]?.open();
      await held[k]?.p;
      return buy(n, acct);
    };
    try {
      const { job, item } = await provisionJob('646');
      const a = runner.run(item.id, false);
      await buying[0]!.p; // A recorded its number and is about to buy it
      const b = runner.run(item.id, false);
      await buying[1]!.p; // B found the number recorded, not owned yet, and is buying it too
      held[0]!.open();
      await a;
      held[1]!.open();
      await b;
      const bought = ownedInNpa('646');
      expect(bought).toHaveLength(1);
      expect(fake.stats.buys.filter((x) => x.msisdn === bought[0])).toHaveLength(1);
      const [row] = await m.service.repo.items(job.id);
      expect(row!.result!.e164).toBe(`+${bought[0]}`);
      // One item, one answer: the event goes out once although both runs saw the number bought.
      expect(
        events.filter((e) => e.event === 'number.provisioned' && e.data.e164 === `+${bought[0]}`),
      ).toHaveLength(1);
    } finally {
      p.buy = buy;
    }
  });

  it('a purchase that landed after its item stopped waiting is found by reconcile and settled by the rule', async () => {
    // Item A ended failed holding X; the carrier holds X for us (the 5xx had hidden a success).
    const a = await provisionJob('212');
    expect(await m.service.repo.choose(a.item.id, '12125550177')).toBe('chosen');
    await m.service.repo.finishItem(m.service.repo.db, a.item.id, 'failed', 'failed', {
      reason: 'uncertain',
    });
    fake.owned.set('12125550177', {
      owner: 'rerunkey',
      country: 'US',
      type: 'landline',
      features: ['VOICE'],
    });
    // Item B got a number, but one it had given up on as someone else's turned out ours too.
    const b = await provisionJob('213');
    await runner.run(b.item.id, false);
    const [bRow] = await m.service.repo.items(b.job.id);
    expect(bRow!.outcome).toBe('provisioned');
    await d.ctx.database.sql`update provisioning_job_items set tried = array_append(tried, '12135550188')
      where id = ${b.item.id}`;
    fake.owned.set('12135550188', {
      owner: 'rerunkey',
      country: 'US',
      type: 'landline',
      features: ['VOICE'],
    });
    // And one bought by hand on the primary account, which no item claims.
    fake.owned.set('13055550199', {
      owner: 'rerunkey',
      country: 'US',
      type: 'landline',
      features: ['VOICE'],
    });

    const seen = await m.service.reconcile(accountId, false);
    const byNumber = Object.fromEntries(seen.unknown_to_us.map((u) => [u.e164, u]));
    expect(byNumber['+12125550177']).toMatchObject({
      action: 'adopt_for_item',
      item_id: a.item.id,
      seller_id: sellerId,
    });
    expect(byNumber['+12135550188']).toMatchObject({ action: 'release', item_id: b.item.id });
    expect(byNumber['+13055550199']).toMatchObject({ action: 'report', seller_id: null });
    expect(seen.fixed).toBeNull();

    events.length = 0;
    const fixed = await m.service.reconcile(accountId, true);
    expect(fixed.fixed).toEqual({ released: 0, adopted: 1, released_at_carrier: 1 });
    const [aRow] = await m.service.repo.items(a.job.id);
    expect([aRow!.state, aRow!.outcome, aRow!.result!.e164]).toEqual(['done', 'provisioned', '+12125550177']);
    expect(fake.owned.has('12135550188')).toBe(false);
    const held = await d.ctx.database.sql`select e164 from provisioned_numbers where status = 'owned'
      and e164 in ('+12125550177', '+12135550188', '+13055550199')`;
    expect(held.map((x) => x.e164)).toEqual(['+12125550177']);
    const did = await d.ctx.database.sql`select seller_id from dids where number = '+12125550177'`;
    expect(did.map((x) => x.seller_id)).toEqual([sellerId]);
    expect(events.filter((e) => e.event === 'number.provisioned').map((e) => e.data.e164)).toEqual([
      '+12125550177',
    ]);
    // Settled: only the unclaimed number on the primary account is left to report.
    const after = await m.service.reconcile(accountId, true);
    expect(after.unknown_to_us.map((u) => [u.e164, u.action])).toEqual([['+13055550199', 'report']]);
    expect(after.missing_at_carrier).toEqual([]);
    expect(after.fixed).toEqual({ released: 0, adopted: 0, released_at_carrier: 0 });
  });
});
