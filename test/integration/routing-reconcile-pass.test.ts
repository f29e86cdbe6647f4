// A reconcile pass is bounded: it settles what the channel list shows and judges the slots once the
// work it handed to calls has run, not once every call is idle. Under steady traffic some call
// always has work in progress; here one call's request is held in Asterisk's line (the simulator
// stalls the events WebSocket, and the request's bound is far beyond the test) while a pass runs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AsteriskModule, createAsteriskModule } from '../../src/asterisk/index.ts';
import type { AriChannel } from '../../src/asterisk/types.ts';
import { campaigns, clients, dids, links, sellers } from '../../src/db/schema/routing.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { createRoutingModule, type RoutingModule } from '../../src/routing/index.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { freshDatabase, testConfig } from '../helpers/env.ts';
import { simEnv } from '../helpers/sim-env.ts';
import { waitFor } from '../helpers/wait.ts';

const log = createLogger({ level: 'silent' });

describe('a reconcile pass while calls keep working', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let sim: Simulator;
  let d: Daemon;
  let dir: string;
  const destroyed = new Set<string>();

  const routing = () => d.ctx.modules.get('routing') as RoutingModule;
  const callOf = (number: string) =>
    routing()
      .router!.live()
      .find((x) => x.caller === number);
  const cdrOf = async (caller: string) => {
    await routing().cdr.flush();
    return d.ctx.database.sql<Array<{ disposition: string }>>`
      select disposition from call_records where caller_number = ${caller}`;
  };

  beforeAll(async () => {
    db = await freshDatabase();
    dir = mkdtempSync(join(tmpdir(), 'cc-reconcile-pass-'));
    sim = await startSimulator({ ariPort: 0, amiPort: 0 });
    sim.events.on('channel-destroyed', (id: string) => destroyed.add(id));
    d = await startDaemon(
      testConfig({
        DATABASE_URL: db.url,
        ...simEnv(sim),
        CDR_BUFFER_DIR: join(dir, 'cdr'),
        ASTERISK_ARI_TRANSPORT: 'websocket',
        // The held request gets no answer within the test: only the pass may end meanwhile.
        ASTERISK_ARI_TIMEOUT_MS: '600000',
        // Nothing is shed for the held request: B must be routed while it waits.
        ASTERISK_ARI_OVERLOAD_WAIT_MS: '600000',
        // No periodic pass: the test runs its own.
        RECONCILE_INTERVAL_S: '3600',
      }),
      log,
      [createAsteriskModule, createRoutingModule],
      { listen: false },
    );
    await waitFor(async () => (await d.app.inject('/ready')).statusCode === 200);
  });
  afterAll(async () => {
    await d?.stop();
    await sim?.stop();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('ends, settling a call whose caller is gone from the list, while another call waits on a request held in Asterisk', async () => {
    const dbx = d.ctx.database.db;
    const [s] = await dbx.insert(sellers).values({ name: 'pass' }).returning();
    const [c] = await dbx
      .insert(campaigns)
      .values({ sellerId: s!.id, name: 'pass', strategy: 'priority' })
      .returning();
    const did = '+14155559901';
    await dbx.insert(dids).values({ number: did, sellerId: s!.id, campaignId: c!.id });
    sim.setEndpoint('pass-client', { answerAfterMs: 10 });
    const [client] = await dbx
      .insert(clients)
      .values({ name: 'pass-client', endpoint: 'pass-client' })
      .returning();
    const [link] = await dbx
      .insert(links)
      .values({ campaignId: c!.id, clientId: client!.id, concurrencyCap: 10 })
      .returning();

    // A: bridged. It will be judged by the pass: its caller is left out of the list below.
    const a = sim.placeInboundCall({ did, callerNumber: '+12125553001' });
    const callA = await waitFor(() => {
      const x = callOf('+12125553001');
      return x?.phase === 'bridged' && x;
    });
    // Its requests all served (the bridge made), so that none of A's own waits in the line below.
    await waitFor(() => sim.hears(a) === 'bridge');
    const node = (d.ctx.modules.get('asterisk') as AsteriskModule).nodes.get(callA.node_id)!;

    const release = sim.stallWebSocketRequests();
    let b: string;
    try {
      // B: its client leg's create waits in Asterisk's line, unanswered: B's work is in progress.
      b = sim.placeInboundCall({ did, callerNumber: '+12125553002' });
      await waitFor(() => callOf('+12125553002')?.phase === 'dialing');
      await waitFor(() => node.ari.load().websocket.inFlight > 0);

      // The list as asked for now, without A's caller (gone while we were not looking).
      const listedAt = Date.now();
      await waitFor(() => Date.now() > listedAt, 5_000);
      const channels = (sim.liveChannels() as unknown as AriChannel[]).filter((ch) => ch.id !== a);
      await routing().router!.resync(callA.node_id, channels, listedAt);

      // The pass ended with B's request still held: it did not wait for B.
      expect(callOf('+12125553002')?.phase).toBe('dialing');
      expect(node.ari.load().websocket.inFlight).toBeGreaterThan(0);
      // A was settled by it: ended, its leg hung up (over HTTP), one CDR; B's slot stays taken.
      expect(callOf('+12125553001')).toBeUndefined();
      await waitFor(() => destroyed.has(`${callA.call_id}-1`));
      expect(await cdrOf('+12125553001')).toEqual([{ disposition: 'answered' }]);
      expect(await routing().slots.live(link!.id)).toBe(1);
    } finally {
      release();
    }
    // A's caller, left out of the list, now really leaves (the pass took it for gone already).
    sim.hangup(a, 16);
    // B goes on once the line runs again, and ends with nothing left.
    await waitFor(() => callOf('+12125553002')?.phase === 'bridged');
    sim.hangup(b, 16);
    await waitFor(async () => (await cdrOf('+12125553002')).length > 0);
    await waitFor(async () => (await routing().slots.live(link!.id)) === 0);
    await waitFor(() => sim.channelCount() === 0);
  });
});
