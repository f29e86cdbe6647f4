// The hold queue across two daemon instances (two nodes, one Redis): a freed slot wakes the caller
// who waited longest wherever it waits, two slots freed together serve the first two in line, and
// calls arriving on either instance while someone waits never take the slot freed for the waiter.
// The safety poll is set far beyond the tests' waits, so only wake-ups can serve anyone here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAsteriskModule } from '../../src/asterisk/index.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { createRoutingModule, type RoutingModule } from '../../src/routing/index.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { freshDatabase, redisPrefix, testConfig } from '../helpers/env.ts';
import { livePhases } from '../helpers/live-calls.ts';
import { simEnv } from '../helpers/sim-env.ts';
import { seedCampaign, seedSeller } from '../helpers/seed.ts';
import { waitFor } from '../helpers/wait.ts';

const log = createLogger({ level: 'silent' });

describe('hold queue across two instances', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  const prefix = redisPrefix();
  const sims: Simulator[] = [];
  const daemons: Daemon[] = [];
  let sellerId = '';
  let n = 0;

  beforeAll(async () => {
    db = await freshDatabase();
    sellerId = await seedSeller(db.url);
    for (let i = 0; i < 2; i++) {
      const sim = await startSimulator({ ariPort: 0, amiPort: 0 });
      sims.push(sim);
      const config = testConfig({
        DATABASE_URL: db.url,
        REDIS_KEY_PREFIX: prefix,
        INSTANCE_ID: `inst-${i}`,
        HOLD_QUEUE_POLL_MS: '60000',
        ...simEnv(sim, `node-${i}`),
      });
      daemons.push(
        await startDaemon(config, log, [createAsteriskModule, createRoutingModule], { listen: false }),
      );
    }
    for (const d of daemons) await waitFor(async () => (await d.app.inject('/ready')).statusCode === 200);
  }, 120_000);
  afterAll(async () => {
    for (const d of daemons) await d.stop();
    for (const s of sims) await s.stop();
    await db?.drop();
  });

  const routing = (i: number) => daemons[i]!.ctx.modules.get('routing') as RoutingModule;

  /** A campaign with a hold queue and one link of this concurrency; its endpoint answers and stays up. */
  async function campaign(concurrencyCap: number): Promise<string> {
    return (await campaignLink(concurrencyCap)).did;
  }
  async function campaignLink(concurrencyCap: number): Promise<{ did: string; linkId: string }> {
    const k = ++n;
    const did = `+1415556${String(1000 + k)}`;
    const endpoint = `queued-client-${k}`;
    for (const s of sims) s.setEndpoint(endpoint, { answerAfterMs: 10 });
    const c = await seedCampaign(db.url, {
      sellerId,
      campaign: { name: `q${k}`, maxAttempts: 1, queueS: 600 },
      dids: [did],
      clients: [endpoint],
      link: { concurrencyCap },
    });
    return { did, linkId: c.links[0]!.linkId };
  }

  /** Places a call on instance `i` and waits until that instance has it in `phase`. */
  const placed = async (i: number, did: string, caller: string, phase: 'bridged' | 'queued') => {
    const id = sims[i]!.placeInboundCall({ did, callerNumber: caller });
    await phaseOf(i, caller, phase);
    return id;
  };
  const { phaseOf, phaseNow } = livePhases(routing);

  const answered = async (did: string, count: number) =>
    waitFor(async () => {
      await Promise.all([0, 1].map((i) => routing(i).cdr.flush()));
      const rows = await daemons[0]!.ctx.database.sql<{ caller_number: string; answered_at: Date }[]>`
        select caller_number, answered_at from call_records where did = ${did} and disposition = 'answered'
        order by answered_at`;
      return rows.length >= count ? rows : undefined;
    });

  it('a slot freed on one instance goes to the caller who waited longest on the other', async () => {
    const did = await campaign(1);
    const a = await placed(0, did, '+12125551000', 'bridged');
    // B waits first, on instance 1; C then waits on instance 0, where the slot will free.
    const b = await placed(1, did, '+12125551001', 'queued');
    const c = await placed(0, did, '+12125551002', 'queued');
    const e = await placed(1, did, '+12125551003', 'queued');
    sims[0]!.hangup(a);
    await phaseOf(1, '+12125551001', 'bridged');
    expect(phaseNow(0, '+12125551002')).toBe('queued');
    expect(phaseNow(1, '+12125551003')).toBe('queued');
    sims[1]!.hangup(b);
    await phaseOf(0, '+12125551002', 'bridged');
    expect(phaseNow(1, '+12125551003')).toBe('queued');
    sims[0]!.hangup(c);
    await phaseOf(1, '+12125551003', 'bridged');
    sims[1]!.hangup(e);
    const rows = await answered(did, 4);
    expect(rows.map((r) => r.caller_number)).toEqual([
      '+12125551000',
      '+12125551001',
      '+12125551002',
      '+12125551003',
    ]);
  }, 120_000);

  it('two slots freed at once serve the first two in line, wherever they wait; the third waits on', async () => {
    const did = await campaign(2);
    const a = await placed(0, did, '+12125552000', 'bridged');
    const b = await placed(1, did, '+12125552001', 'bridged');
    const w1 = await placed(1, did, '+12125552002', 'queued');
    const w2 = await placed(0, did, '+12125552003', 'queued');
    const w3 = await placed(1, did, '+12125552004', 'queued');
    sims[0]!.hangup(a);
    sims[1]!.hangup(b);
    await phaseOf(1, '+12125552002', 'bridged');
    await phaseOf(0, '+12125552003', 'bridged');
    expect(phaseNow(1, '+12125552004')).toBe('queued');
    sims[1]!.hangup(w1);
    await phaseOf(1, '+12125552004', 'bridged');
    sims[0]!.hangup(w2);
    sims[1]!.hangup(w3);
    const rows = await answered(did, 5);
    const callers = rows.map((r) => r.caller_number);
    // The first two in line in either order (their slots freed together), then the third.
    expect(callers.slice(2, 4).sort()).toEqual(['+12125552002', '+12125552003']);
    expect(callers[4]).toBe('+12125552004');
  }, 120_000);

  it('calls arriving on both instances while a caller waits never take the slot freed for it', async () => {
    const { did, linkId } = await campaignLink(1);
    const a = await placed(0, did, '+12125553000', 'bridged');
    const joinTurns = async () =>
      (await daemons[1]!.ctx.metrics.getSingleMetric('capconduit_queue_turns_total')!.get()).values.find(
        (v) => v.labels.by === 'join',
      )?.value ?? 0;
    const before = await joinTurns();
    const w = await placed(1, did, '+12125553001', 'queued');
    // Its look on joining is over (it found the link full): from now on only a wake-up serves it.
    await waitFor(async () => ((await joinTurns()) > before ? true : undefined));
    // The waiter's instance hears no wake-up (as while its subscription reconnects) and its poll is
    // a minute away: the slot A frees stays free, the window in which a newcomer could slip in.
    await routing(1).router!.queue.unlisten();
    sims[0]!.hangup(a);
    await waitFor(async () => ((await routing(0).slots.live(linkId)) === 0 ? true : undefined));
    // Ten arrivals at once, five on each instance: every one joins the line behind the waiter.
    const newcomers = Array.from({ length: 10 }, (_, i) => `+1212555310${i}`);
    const ids = newcomers.map((caller, i) => sims[i % 2]!.placeInboundCall({ did, callerNumber: caller }));
    for (const [i, caller] of newcomers.entries()) await phaseOf(i % 2, caller, 'queued');
    const line = await waitFor(async () => {
      const l = await routing(0).router!.queue.waiting(linkId);
      return l.length === 11 ? l : undefined;
    });
    expect(await routing(0).slots.live(linkId)).toBe(0);
    expect(phaseNow(1, '+12125553001')).toBe('queued');
    const waiterId = routing(1)
      .router!.live()
      .find((x) => x.caller === '+12125553001')!.call_id;
    expect(line[0]).toBe(waiterId);
    // A newcomer hanging up moves the line: the waiter, hearing again, is served, not a newcomer.
    await routing(1).router!.queue.listen();
    sims[0]!.hangup(ids[0]!);
    await phaseOf(1, '+12125553001', 'bridged');
    for (const [i, caller] of newcomers.entries()) if (i) expect(phaseNow(i % 2, caller)).toBe('queued');
    for (const [i, id] of ids.entries()) if (i) sims[i % 2]!.hangup(id);
    sims[1]!.hangup(w);
    for (const [i, caller] of newcomers.entries())
      await waitFor(() => (phaseNow(i % 2, caller) === undefined ? true : undefined));
    const rows = await answered(did, 2);
    expect(rows.map((r) => r.caller_number)).toEqual(['+12125553000', '+12125553001']);
  }, 120_000);
});
