// Invariant 4 through the whole flow: PostgreSQL stops while calls are being routed; known DIDs keep
// routing from the last plan, every CDR is kept locally and arrives exactly once when it returns.
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAsteriskModule } from '../../src/asterisk/index.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { createDatabase } from '../../src/platform/db.ts';
import { RouteCatalog } from '../../src/routing/catalog.ts';
import { createRoutingModule, type RoutingModule } from '../../src/routing/index.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { testConfig, journalDir } from '../helpers/env.ts';
import { PrivatePostgres } from '../helpers/private-pg.ts';
import { waitFor } from '../helpers/wait.ts';
import { simEnv } from '../helpers/sim-env.ts';

describe('routing through a PostgreSQL outage', () => {
  let pg: PrivatePostgres;
  let sim: Simulator;
  let d: Daemon;
  let dir: string;
  const did = '+14155558000';

  beforeAll(async () => {
    pg = await PrivatePostgres.create();
    const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
    const [s] = await sql`insert into sellers (name) values ('s') returning id`;
    const [c] = await sql`insert into campaigns (seller_id, name) values (${s!.id}, 'c') returning id`;
    await sql`insert into dids (number, seller_id, campaign_id) values (${did}, ${s!.id}, ${c!.id})`;
    const [cl] =
      await sql`insert into clients (name, endpoint) values ('pg-client', 'pg-client') returning id`;
    await sql`insert into campaign_links (campaign_id, client_id) values (${c!.id}, ${cl!.id})`;
    await sql.end();
    sim = await startSimulator({
      ariPort: 0,
      amiPort: 0,
      endpoints: { 'pg-client': { answerAfterMs: 10, hangupAfterMs: 50 } },
    });
    dir = journalDir();
    const config = testConfig({
      DATABASE_URL: pg.url,
      CDR_BUFFER_DIR: dir,
      ...simEnv(sim),
    });
    d = await startDaemon(
      config,
      createLogger({ level: 'silent' }),
      [createAsteriskModule, createRoutingModule],
      { listen: false },
    );
    await waitFor(async () => (await d.app.inject('/ready')).statusCode === 200 || undefined);
  });
  afterAll(async () => {
    await d?.stop();
    await sim?.stop();
    pg?.destroy();
  });

  it('routes known DIDs and keeps every CDR while PostgreSQL is down', async () => {
    const count = async () => {
      const sql = postgres(pg.url, { max: 1, onnotice: () => {}, connect_timeout: 2 });
      try {
        return Number(
          (await sql`select count(distinct call_id)::int as n from call_records where did = ${did}`)[0]!.n,
        );
      } finally {
        await sql.end({ timeout: 1 });
      }
    };
    const cdr = (d.ctx.modules.get('routing') as RoutingModule).cdr;
    sim.placeInboundCall({ did, callerNumber: '+12125550000', hangupAfterMs: 2000 });
    await waitFor(async () => {
      await cdr.flush();
      return (await count()) === 1 || undefined;
    });

    pg.stop();
    for (let i = 0; i < 10; i++)
      sim.placeInboundCall({ did, callerNumber: `+1212555${1000 + i}`, hangupAfterMs: 2000 });
    await waitFor(() => sim.liveChannels().length === 0 || undefined);
    // The records are journalled just after the calls end; none can reach PostgreSQL.
    await waitFor(async () => {
      await cdr.flush();
      return cdr.pending === 10 || undefined;
    });
    expect(cdr.pending).toBe(10);
    const ready = await d.app.inject('/ready');
    expect(ready.statusCode).toBe(503);

    pg.start();
    await waitFor(async () => {
      await cdr.flush();
      return (await count()) === 11 || undefined;
    });
    const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
    const rows =
      await sql`select disposition, count(*)::int as n from call_records where did = ${did} group by 1`;
    await sql.end();
    expect(rows.map((r) => [r.disposition, r.n])).toEqual([['answered', 11]]);
  }, 60_000);

  it('keeps serving the last plan of a known DID when a refresh fails, and fails unknown DIDs', async () => {
    const database = createDatabase(pg.url, { max: 1 });
    try {
      const catalog = new RouteCatalog(database.db, 1000);
      const t0 = Date.now();
      const fresh = await catalog.plan(did, t0);
      expect(fresh?.campaign).not.toBeNull();
      pg.stop();
      // Past the cache TTL the refresh fails; the stale plan is used.
      expect(await catalog.plan(did, t0 + 60_000)).toEqual(fresh);
      await expect(catalog.plan('+19990000000', t0 + 60_000)).rejects.toThrow();
    } finally {
      pg.start();
      await database.close();
    }
  }, 30_000);

  it('answers a plan past its TTL at once and refreshes it in the background', async () => {
    const database = createDatabase(pg.url, { max: 1 });
    const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
    try {
      const catalog = new RouteCatalog(database.db, 1000);
      const t0 = Date.now();
      const before = await catalog.plan(did, t0);
      expect(before?.links[0]?.caps.hourly).toBeNull();
      await sql`update campaign_links set hourly_cap = 7`;
      // Past the TTL the call gets the cached plan without waiting for the read that had to see 7...
      expect((await catalog.plan(did, t0 + 2000))?.links[0]?.caps.hourly).toBeNull();
      // ...and the read it started brings the change to the calls after it.
      await waitFor(
        async () => (await catalog.plan(did, t0 + 2000))?.links[0]?.caps.hourly === 7 || undefined,
      );
    } finally {
      await sql`update campaign_links set hourly_cap = null`;
      await sql.end();
      await database.close();
    }
  }, 30_000);
});
