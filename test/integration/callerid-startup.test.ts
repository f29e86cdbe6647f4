// A daemon starting on an empty Redis (first start, a FLUSHALL, a Redis without persistence) rebuilds
// the caller-ID state from PostgreSQL beside its work, never before it: it answers /health, routes
// calls and serves the API while the rebuild runs, /ready says `degraded` (200) and /next-cid answers
// NOT_READY only for a pool not placed yet. The rebuild is held for as long as the test needs by a
// lock on `caller_ids` that the test takes (a rebuild of a million numbers takes minutes): each step
// waits on a state (the rebuild's read waiting for the lock, the call bridged, its CDR), never on time.
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAsteriskModule } from '../../src/asterisk/index.ts';
import { createApiKey } from '../../src/auth/keys.ts';
import { createCallerIdModule } from '../../src/callerid/index.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { createRoutingModule, type RoutingModule } from '../../src/routing/index.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { freshDatabase, testConfig, journalDir } from '../helpers/env.ts';
import { simEnv } from '../helpers/sim-env.ts';
import { seedCampaign } from '../helpers/seed.ts';
import { waitFor } from '../helpers/wait.ts';

const log = createLogger({ level: process.env.TEST_LOG ? 'error' : 'silent' });
const NUMBERS = 3000;

interface ReadyBody {
  status: string;
  degraded: string[];
  checks: Record<string, { ok: boolean; error?: string }>;
}

describe('daemon start on an empty Redis', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let sql: postgres.Sql;
  let sim: Simulator;
  let d: Daemon | undefined;
  let cdrDir: string;

  beforeAll(async () => {
    db = await freshDatabase();
    sql = postgres(db.url, { max: 2, onnotice: () => {} });
    sim = await startSimulator({ ariPort: 0, amiPort: 0 });
    cdrDir = journalDir();
    // One pool, and the numbers of no pool (placed last).
    await sql`insert into cid_pools (id) values ('BIG')`;
    const numbers = Array.from({ length: NUMBERS }, (_, i) => `+1415${String(2000000 + i).padStart(7, '0')}`);
    await sql`insert into caller_ids ${sql(numbers.map((number) => ({ number, npa: '415', state: 'CA' })))}`;
    await sql`insert into cid_pool_members ${sql(numbers.slice(0, NUMBERS - 10).map((number) => ({ pool_id: 'BIG', number })))}`;
  });
  afterAll(async () => {
    await d?.stop();
    await sim?.stop();
    await sql?.end();
    await db?.drop();
  });

  it('answers /health, routes a call and serves the API while the caller-ID rebuild runs', {
    timeout: 180_000,
  }, async () => {
    // The rebuild's read of the numbers waits behind this lock until the test lets it go.
    const holder = await sql.reserve();
    await holder`begin`;
    await holder`lock table caller_ids in access exclusive mode`;
    let released = false;
    const release = async () => {
      if (released) return;
      released = true;
      await holder`commit`;
      holder.release();
    };
    /** The rebuild's read is in PostgreSQL, waiting for the test's lock. */
    const rebuildWaiting = async () =>
      (
        await sql<{ n: number }[]>`
          select count(*)::int as n from pg_locks
          where relation = 'caller_ids'::regclass and not granted`
      )[0]!.n > 0;
    try {
      const config = testConfig({
        DATABASE_URL: db.url,
        ...simEnv(sim),
        CDR_BUFFER_DIR: cdrDir,
        CID_FLUSH_INTERVAL_MS: '100000',
      });
      // Before: the daemon started only once the rebuild was done (here: never, while the lock is held).
      d = await startDaemon(config, log, [createAsteriskModule, createRoutingModule, createCallerIdModule], {
        listen: false,
      });
      const daemon = d;
      await waitFor(rebuildWaiting);

      expect((await daemon.app.inject('/health')).statusCode).toBe(200);
      const ready = await waitFor(async (): Promise<ReadyBody | undefined> => {
        const r = await daemon.app.inject('/ready');
        // Asterisk connected: only the caller-ID state is missing.
        return r.statusCode === 200 && r.json().degraded.join() === 'callerid' ? r.json() : undefined;
      });
      expect(ready.status).toBe('degraded');
      expect(ready.checks.callerid?.error).toMatch(/being rebuilt/);

      const dialer = (await createApiKey(daemon.ctx.database.db, { role: 'dialer' })).key;
      const next = () => daemon.app.inject({ url: '/next-cid?pool=BIG', headers: { 'x-api-key': dialer } });
      const notYet = await next();
      expect(notYet.statusCode).toBe(503);
      expect(notYet.json().error.code).toBe('NOT_READY');

      // A call routed end to end (plan, slot, client leg, bridge, CDR) while the rebuild still waits.
      const dbx = daemon.ctx.database.db;
      const did = '+14155559001';
      sim.setEndpoint('client-1', { answerAfterMs: 20 });
      await seedCampaign(dbx, {
        seller: 'acme',
        campaign: { name: 'c1', strategy: 'priority', maxAttempts: 1, ringTimeoutS: 30 },
        dids: [did],
        clients: [{ endpoint: 'client-1', link: { priority: 0 } }],
      });
      const routing = daemon.ctx.modules.get('routing') as RoutingModule;
      const caller = sim.placeInboundCall({ did, callerNumber: '+12125550000' });
      await waitFor(() => routing.router!.live().find((x) => x.did === did && x.phase === 'bridged'));
      sim.hangup(caller);
      const [cdr] = await waitFor(async () => {
        await routing.cdr.flush();
        const rows = await sql<
          { disposition: string }[]
        >`select disposition from call_records where did = ${did}`;
        return rows.length ? rows : undefined;
      });
      expect(cdr!.disposition).toBe('answered');
      expect(await rebuildWaiting()).toBe(true); // all of it before the rebuild ended

      await release();
      const served = await waitFor(async (): Promise<{ caller_id: string } | undefined> => {
        const r = await next();
        return r.statusCode === 200 ? r.json() : undefined;
      });
      expect(served.caller_id).toMatch(/^\+14152/);
      await waitFor(async () => (await daemon.app.inject('/ready')).json().status === 'ready');
    } finally {
      await release();
    }
  });
});
