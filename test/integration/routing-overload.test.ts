// Asterisk falling behind. A loaded Asterisk serves the REST requests of an events WebSocket one at a
// time, so they form a line inside it; the simulator holds that line at will
// (sim.stallWebSocketRequests: requests read, not served; events and HTTP go on). Meanwhile new calls
// are shed (a call is judged when it would take a slot), and what a call gives back — a shed caller,
// an ended call's client leg and bridge, its slot — is hung up or destroyed at once, not behind that
// line (the daemon's cleanup lane, its own HTTP connections). Once the line runs again, the requests
// served late leave nothing behind.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AsteriskModule, createAsteriskModule } from '../../src/asterisk/index.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { createRoutingModule, type RoutingModule } from '../../src/routing/index.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { freshDatabase, testConfig } from '../helpers/env.ts';
import { simEnv } from '../helpers/sim-env.ts';
import { seedCampaign, seedSeller } from '../helpers/seed.ts';
import { waitFor } from '../helpers/wait.ts';

const log = createLogger({ level: 'silent' });

describe('calls while Asterisk falls behind on its events WebSocket', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let sim: Simulator;
  let d: Daemon;
  let dir: string;
  let sellerId: string;
  let n = 0;
  const destroyed = new Set<string>();

  const routing = () => d.ctx.modules.get('routing') as RoutingModule;
  const node = () => (d.ctx.modules.get('asterisk') as AsteriskModule).nodes.get('asterisk-1')!;
  const cdrOf = async (caller: string) => {
    await routing().cdr.flush();
    return d.ctx.database.sql<Array<{ call_id: string; disposition: string }>>`
      select call_id, disposition from call_records where caller_number = ${caller}`;
  };
  const bridges = async () => {
    const auth = `Basic ${Buffer.from('asterisk:asterisk').toString('base64')}`;
    const r = await fetch(`${sim.ariUrl}/ari/bridges`, { headers: { authorization: auth } });
    return ((await r.json()) as Array<{ id: string }>).map((b) => b.id);
  };

  beforeAll(async () => {
    db = await freshDatabase();
    dir = mkdtempSync(join(tmpdir(), 'cc-overload-'));
    sim = await startSimulator({ ariPort: 0, amiPort: 0 });
    sim.events.on('channel-destroyed', (id: string) => destroyed.add(id));
    d = await startDaemon(
      testConfig({
        DATABASE_URL: db.url,
        ...simEnv(sim),
        CDR_BUFFER_DIR: join(dir, 'cdr'),
        ASTERISK_ARI_TRANSPORT: 'websocket',
        // Behind as soon as a request has waited this long (the line below never moves by itself).
        ASTERISK_ARI_OVERLOAD_WAIT_MS: '200',
        // A request in the line gets no answer within this (the second test waits for that).
        ASTERISK_ARI_TIMEOUT_MS: '3000',
      }),
      log,
      [createAsteriskModule, createRoutingModule],
      { listen: false },
    );
    await waitFor(async () => (await d.app.inject('/ready')).statusCode === 200);
    sellerId = await seedSeller(d.ctx.database.db, 'overload');
  });
  afterAll(async () => {
    await d?.stop();
    await sim?.stop();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function campaignWithOneClient(cap: number) {
    const k = ++n;
    const did = `+1415777${String(1000 + k).padStart(4, '0')}`;
    const endpoint = `overload-${k}`;
    sim.setEndpoint(endpoint, { answerAfterMs: 10 });
    const c = await seedCampaign(d.ctx.database.db, {
      sellerId,
      campaign: { name: `o${k}`, strategy: 'priority' },
      dids: [did],
      clients: [endpoint],
      link: { concurrencyCap: cap },
    });
    return { did, linkId: c.links[0]!.linkId, legs: () => sim.channelCount(`PJSIP/${endpoint}-`) };
  }

  /**
   * Asterisk slow to create a channel: the line of WebSocket requests stops at the first client-leg
   * create and holds everything behind it. A call's earlier requests (ringing, answer) are served,
   * so what the test sees does not hang on how fast a loaded machine gets a call to its create.
   */
  const stallAtCreate = async () => {
    // Nothing of an earlier call may still be in the line, or the node would be behind before the
    // call the test places reaches its create.
    await waitFor(() => {
      const l = node().ari.load();
      return l.websocket.inFlight + l.websocket.queued === 0 || undefined;
    });
    return sim.stallWebSocketRequests({
      from: (method, uri) => method === 'POST' && uri.startsWith('channels/create'),
    });
  };

  const callOf = (number: string) =>
    routing()
      .router!.live()
      .find((x) => x.caller === number);

  it('sheds new calls and hangs them up at once, frees an ended call’s leg, bridge and slot, and the late requests leave nothing', async () => {
    const c = await campaignWithOneClient(2);
    const a = sim.placeInboundCall({ did: c.did, callerNumber: '+12125551001' });
    const callA = await waitFor(() => {
      const x = callOf('+12125551001');
      return x?.phase === 'bridged' && x;
    });
    expect(await bridges()).toContain(callA.call_id);

    const release = await stallAtCreate();
    let b: string;
    try {
      // B's client leg is asked for and waits in the line: the node is behind.
      b = sim.placeInboundCall({ did: c.did, callerNumber: '+12125551002' });
      await waitFor(() => node().overloaded());
      expect(callOf('+12125551002')?.phase).toBe('dialing');

      // C is refused at once: congestion, its caller hung up over HTTP, its CDR written, no slot.
      const cc = sim.placeInboundCall({ did: c.did, callerNumber: '+12125551003' });
      await waitFor(() => destroyed.has(cc));
      const [shed] = await waitFor(async () => {
        const r = await cdrOf('+12125551003');
        return r.length ? r : undefined;
      });
      expect(shed!.disposition).toBe('shed');

      // A's caller hangs up: A's leg is hung up and its bridge destroyed although the line stands,
      // and its slot goes back (B's stays taken).
      sim.hangup(a, 16);
      await waitFor(() => destroyed.has(`${callA.call_id}-1`));
      await waitFor(async () => !(await bridges()).includes(callA.call_id));
      const [answered] = await waitFor(async () => {
        const r = await cdrOf('+12125551001');
        return r.length ? r : undefined;
      });
      expect(answered!.disposition).toBe('answered');
      expect(await routing().slots.live(c.linkId)).toBe(1);
      expect(c.legs()).toBe(0);
    } finally {
      release();
    }

    // The line runs again, B's requests in their order. Whichever way B went (its leg made and
    // answered, or its create given up on and the leg made late), once its caller is gone nothing
    // of it is left: no leg, no bridge, no slot, one CDR per call.
    await waitFor(() => callOf('+12125551002')?.phase === 'bridged' || destroyed.has(b));
    if (!destroyed.has(b)) sim.hangup(b, 16);
    await waitFor(async () => (await cdrOf('+12125551002')).length > 0);
    await waitFor(() => c.legs() === 0 && routing().router!.live().length === 0);
    await waitFor(async () => (await bridges()).length === 0);
    await waitFor(async () => (await routing().slots.live(c.linkId)) === 0);
    for (const caller of ['+12125551001', '+12125551002', '+12125551003'])
      expect(await cdrOf(caller)).toHaveLength(1);
  });

  it('a leg whose create got no answer keeps its slot until it is confirmed gone, and is hung up when Asterisk makes it late', async () => {
    const c = await campaignWithOneClient(1);
    // The line of the test before must be gone, or this call would be shed rather than routed.
    await waitFor(() => !node().overloaded());
    const release = await stallAtCreate();
    let callId: string;
    try {
      const b = sim.placeInboundCall({ did: c.did, callerNumber: '+12125552001' });
      // The create got no answer in time: the only client failed, the caller is told (over HTTP).
      const [r] = await waitFor(async () => {
        const x = await cdrOf('+12125552001');
        return x.length ? x : undefined;
      });
      expect(r!.disposition).toBe('all_failed');
      callId = r!.call_id;
      await waitFor(() => destroyed.has(b));
      // Asterisk may still make that leg (the create is in its line): its slot stays taken.
      expect(await routing().slots.live(c.linkId)).toBe(1);
      expect(routing().router!.live()).toHaveLength(0);
    } finally {
      release();
    }
    // Asterisk reaches the create and makes the leg late: it is hung up, then the slot goes back.
    await waitFor(() => destroyed.has(`${callId}-1`));
    await waitFor(async () => (await routing().slots.live(c.linkId)) === 0);
    expect(c.legs()).toBe(0);
    expect(await cdrOf('+12125552001')).toHaveLength(1);
  });
});
