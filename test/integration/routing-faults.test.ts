// A call must always end, whatever fails under it: Redis refusing mid-call, Redis gone across an
// ARI reconnect. Simulator + daemon + real PostgreSQL + a private Redis this file stops and starts.
import { execFileSync } from 'node:child_process';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AsteriskModule, createAsteriskModule } from '../../src/asterisk/index.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { RedisKeys } from '../../src/platform/redis/keys.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { createRoutingModule, type RoutingModule } from '../../src/routing/index.ts';
import { PLAN_CHANNEL } from '../../src/routing/plan-changes.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { freshDatabase, testConfig, journalDir } from '../helpers/env.ts';
import { PrivateRedis } from '../helpers/redis-server.ts';
import { simEnv } from '../helpers/sim-env.ts';
import { seedCampaign, seedSeller } from '../helpers/seed.ts';
import { waitFor } from '../helpers/wait.ts';

const log = createLogger({ level: 'silent' });

describe('calls under dependency faults', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let redis: PrivateRedis;
  let sim: Simulator;
  let d: Daemon;
  let cdrDir: string;
  let sellerId: string;
  let n = 0;

  const routing = () => d.ctx.modules.get('routing') as RoutingModule;
  const redisCli = (...args: string[]) =>
    execFileSync('redis-cli', ['-p', String(redis.port), ...args], { encoding: 'utf8' });
  const metric = async (name: string) => {
    const text = await d.ctx.metrics.metrics();
    const line = text.split('\n').find((l) => l.startsWith(name));
    return line ? Number(line.split(' ').at(-1)) : 0;
  };

  beforeAll(async () => {
    db = await freshDatabase();
    redis = await PrivateRedis.create();
    sim = await startSimulator({ ariPort: 0, amiPort: 0 });
    cdrDir = journalDir();
    const config = testConfig({
      DATABASE_URL: db.url,
      REDIS_URL: redis.url,
      ...simEnv(sim),
      CDR_BUFFER_DIR: cdrDir,
      // Only a notification can make a plan change reach calls within this file.
      ROUTING_PLAN_TTL_S: '86400',
    });
    d = await startDaemon(config, log, [createAsteriskModule, createRoutingModule], { listen: false });
    await waitFor(async () => (await d.app.inject('/ready')).statusCode === 200);
    sellerId = await seedSeller(d.ctx.database.db, 'faults');
  });
  afterAll(async () => {
    await d?.stop();
    await sim?.stop();
    await redis?.stop();
    await db?.drop();
  });

  async function campaignWithOneClient() {
    const k = ++n;
    const did = `+1415666${String(1000 + k).padStart(4, '0')}`;
    const endpoint = `faults-${k}`;
    sim.setEndpoint(endpoint, { answerAfterMs: 10 });
    const c = await seedCampaign(d.ctx.database.db, {
      sellerId,
      campaign: { name: `f${k}`, strategy: 'priority' },
      dids: [did],
      clients: [endpoint],
      link: { concurrencyCap: 1 },
    });
    return { did, linkId: c.links[0]!.linkId };
  }

  const cdrsOf = async (did: string) => {
    await routing().cdr.flush();
    return d.ctx.database.sql<Array<{ disposition: string }>>`select * from call_records where did = ${did}`;
  };

  it('a slot release Redis refuses is retried: the call still ends, gets its CDR, and its slot comes back', async () => {
    const c = await campaignWithOneClient();
    const caller = sim.placeInboundCall({ did: c.did, callerNumber: '+12125550100' });
    const call = await waitFor(() =>
      routing()
        .router!.live()
        .find((x) => x.did === c.did && x.phase === 'bridged'),
    );
    // The answer is counted in Redis after the bridge: this test is about the release alone, so
    // Redis refuses only once the slot is marked answered.
    const slotKey = new RedisKeys(d.ctx.config.REDIS_KEY_PREFIX).routing.link(
      c.linkId,
      'slot',
      `${call.call_id}-1`,
    );
    await waitFor(() => redisCli('HGET', slotKey, 'state').trim() === 'answered');
    expect(await routing().slots.live(c.linkId)).toBe(1);
    // Redis refuses every script (as when it is out of memory or failing over): the release fails.
    redisCli('ACL', 'SETUSER', 'default', '-fcall', '-evalsha', '-eval');
    try {
      sim.hangup(caller, 16);
      const [r] = await waitFor(async () => ((await cdrsOf(c.did)).length ? cdrsOf(c.did) : undefined));
      expect(r!.disposition).toBe('answered');
      expect(routing().router!.live()).toHaveLength(0);
      expect(await metric('capconduit_call_effect_failures_total{effect="release"')).toBeGreaterThan(0);
    } finally {
      redisCli('ACL', 'SETUSER', 'default', '+@all');
    }
    await waitFor(async () => (await routing().slots.live(c.linkId)) === 0);
    expect(await cdrsOf(c.did)).toHaveLength(1);
  });

  it('a plan change made in PostgreSQL reaches the next calls at once, not after the plan cache expires', async () => {
    const c = await campaignWithOneClient();
    let placed = 0;
    const call = async () => {
      // The caller hangs up once bridged (an event, not a delay); a call nobody takes ends by itself.
      const caller = sim.placeInboundCall({ did: c.did, callerNumber: '+12125550102' });
      placed++;
      const rows = await waitFor(async () => {
        if (
          routing()
            .router!.live()
            .some((x) => x.did === c.did && x.phase === 'bridged')
        )
          sim.hangup(caller, 16);
        const r = await cdrsOf(c.did);
        return r.length === placed ? r : undefined;
      });
      return rows.at(-1)!.disposition;
    };
    expect(await call()).toBe('answered');
    // The plan is cached now (for a day, in this file). The link is switched off behind the API's back.
    await d.ctx.database.sql`update campaign_links set active = false where id = ${c.linkId}`;
    await waitFor(async () => (await call()) === 'no_client', 30_000);
  });

  it('only plan changes notify: the answered totals flushed every half second do not', async () => {
    const c = await campaignWithOneClient();
    const heard: string[] = [];
    // A connection of its own: the daemon's listening one may still hold notifications of the inserts above.
    const own = postgres(db.url, { max: 1, onnotice: () => {} });
    const l = await own.listen(PLAN_CHANNEL, (p) => heard.push(p));
    try {
      await d.ctx.database
        .sql`update campaign_links set total_answered = total_answered + 1 where id = ${c.linkId}`;
      await d.ctx.database
        .sql`update campaigns set ring_timeout_s = 25 where id = (select campaign_id from campaign_links where id = ${c.linkId})`;
      // Notifications arrive in commit order: the first one heard is the campaign's.
      await waitFor(() => heard.length > 0);
      expect(heard[0]).toBe('campaigns');
    } finally {
      await l.unlisten();
      await own.end();
    }
  });

  it('Redis down across an ARI reconnect: the daemon lives, and routes again once Redis is back', async () => {
    const asterisk = d.ctx.modules.get('asterisk') as AsteriskModule;
    const node = [...asterisk.nodes.values()][0]!;
    const before = node.health().ari.reconnects;
    await redis.stop();
    // The reconnect's resync reconciles slots in Redis: it must fail quietly, not kill the process.
    sim.dropWebSockets();
    await waitFor(() => node.health().ari.reconnects > before && node.health().ari.connected);
    await waitFor(async () => (await d.app.inject('/ready')).statusCode === 503);
    await redis.start();
    await waitFor(async () => (await d.app.inject('/ready')).statusCode === 200, 30_000);
    const c = await campaignWithOneClient();
    sim.placeInboundCall({ did: c.did, callerNumber: '+12125550101', hangupAfterMs: 10_000 });
    await waitFor(
      () =>
        routing()
          .router!.live()
          .find((x) => x.did === c.did && x.phase === 'bridged'),
      30_000,
    );
    expect(await metric('capconduit_unhandled_rejections_total')).toBe(0);
  });
});
