// The ARI link cut (a switch or firewall between the daemon and Asterisk failing) at the worst
// moments: right after Asterisk made a client leg, before its answer came back; and right as a
// caller entered our app, before its StasisStart reached the daemon. Asterisk keeps an app's
// channels when the link goes, and ARI never replays events: what the daemon lost must be found
// again, and no channel left up nor any slot given to another call while its leg is still up.
// Simulator behind a TCP relay that can cut the link, daemon in-process, real PostgreSQL and Redis.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AsteriskModule, createAsteriskModule } from '../../src/asterisk/index.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { createRoutingModule, type RoutingModule } from '../../src/routing/index.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { type CuttableLink, cuttableLink } from '../helpers/cuttable-link.ts';
import { legsAndSlotsBack, rowsOnce } from '../helpers/call-end.ts';
import { metricValue } from '../helpers/daemon-process.ts';
import { freshDatabase, testConfig } from '../helpers/env.ts';
import { simEnv } from '../helpers/sim-env.ts';
import { seedCampaign, seedSeller } from '../helpers/seed.ts';
import { waitFor } from '../helpers/wait.ts';

const log = createLogger({ level: 'silent' });

describe('calls across an ARI link cut', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let sim: Simulator;
  let link: CuttableLink;
  let d: Daemon;
  let cdrDir: string;
  let sellerId: string;
  let n = 0;

  const routing = () => d.ctx.modules.get('routing') as RoutingModule;
  const up = (id: string) => sim.liveChannels().some((c) => c.id === id);
  const cdrsOf = async (did: string) => {
    await routing().cdr.flush();
    return d.ctx.database.sql<Array<{ disposition: string }>>`
      select disposition from call_records where did = ${did}`;
  };
  /** Cuts the link the moment the simulator emits the event `when` picks (before it answers or sends it). */
  const cutOn = (
    when: (ev: { type: string; channel?: { id: string; channelvars?: Record<string, string> } }) => boolean,
  ) => {
    const h = (_app: string, ev: Parameters<typeof when>[0]) => {
      if (!when(ev)) return;
      sim.events.off('ari-event', h);
      link.cut();
    };
    sim.events.on('ari-event', h);
  };

  beforeAll(async () => {
    db = await freshDatabase();
    sim = await startSimulator({ ariPort: 0, amiPort: 0 });
    link = await cuttableLink(sim.ariPort);
    cdrDir = mkdtempSync(join(tmpdir(), 'cc-cdr-'));
    const config = testConfig({
      DATABASE_URL: db.url,
      ...simEnv({ ariUrl: `http://127.0.0.1:${link.port}`, amiPort: sim.amiPort }),
      CDR_BUFFER_DIR: cdrDir,
    });
    d = await startDaemon(config, log, [createAsteriskModule, createRoutingModule], { listen: false });
    await waitFor(async () => (await d.app.inject('/ready')).statusCode === 200);
    sellerId = await seedSeller(d.ctx.database.db, 'link-cut');
  });
  afterAll(async () => {
    await d?.stop();
    await link?.close();
    await sim?.stop();
    await db?.drop();
    if (cdrDir) rmSync(cdrDir, { recursive: true, force: true });
  });

  async function campaignWithOneClient(answerAfterMs: number, concurrencyCap = 1) {
    const k = ++n;
    const did = `+1415777${String(1000 + k).padStart(4, '0')}`;
    const endpoint = `cut-${k}`;
    sim.setEndpoint(endpoint, { answerAfterMs });
    const c = await seedCampaign(d.ctx.database.db, {
      sellerId,
      campaign: { name: `cut${k}`, strategy: 'priority', maxAttempts: 1 },
      dids: [did],
      clients: [endpoint],
      link: { concurrencyCap },
    });
    return { did, endpoint, linkId: c.links[0]!.linkId };
  }

  /** The link back, and the daemon connected again (it reconnects by itself, with its backoff). */
  async function restore() {
    link.restore();
    await waitFor(async () => (await d.app.inject('/ready')).statusCode === 200, 120_000);
  }

  it('a leg made by a create whose answer was lost is hung up once Asterisk answers, and keeps its slot until then', async () => {
    const c = await campaignWithOneClient(600_000); // rings without answering
    const callerId = `cut-caller-${n}`;
    cutOn((ev) => ev.type === 'StasisStart' && ev.channel?.channelvars?.CAPCONDUIT_CALLER === callerId);
    sim.placeInboundCall({ channelId: callerId, did: c.did, callerNumber: '+12125550300' });
    // The create got no answer: the call fails over (none left here) and ends, link still cut.
    const [r] = await rowsOnce(() => cdrsOf(c.did));
    expect(r!.disposition).toBe('all_failed');
    // The leg Asterisk made is still up; its slot must not be free for another call meanwhile.
    expect(sim.channelCount(`PJSIP/${c.endpoint}-`)).toBe(1);
    expect(await routing().slots.live(c.linkId)).toBe(1);
    await restore();
    await legsAndSlotsBack(sim, c.endpoint, routing().slots, c.linkId);
    // The caller's congestion hangup was lost too: sent again once the link was back.
    await waitFor(() => !up(callerId));
    expect(await cdrsOf(c.did)).toHaveLength(1);
  });

  it('a caller whose StasisStart was lost with the link is routed once the link is back', async () => {
    await restore(); // whatever the test before left
    const c = await campaignWithOneClient(10);
    const callerId = `cut-caller-${n}`;
    cutOn((ev) => ev.type === 'StasisStart' && ev.channel?.id === callerId);
    sim.placeInboundCall({ channelId: callerId, did: c.did, callerNumber: '+12125550301' });
    await waitFor(() => !routing().router!.live().length && up(callerId));
    await restore();
    // Found in our app at the resync after the reconnect: routed and bridged to the client.
    await waitFor(() =>
      routing()
        .router!.live()
        .find((x) => x.did === c.did && x.phase === 'bridged'),
    );
    sim.hangup(callerId, 16);
    const rows = await rowsOnce(() => cdrsOf(c.did));
    expect(rows.map((x) => x.disposition)).toEqual(['answered']);
    await legsAndSlotsBack(sim, c.endpoint, routing().slots, c.linkId);
  });

  it('a call whose bridge request lost its answer with the link stays bridged: Asterisk is asked, not the call hung up', async () => {
    await restore(); // whatever the test before left
    const c = await campaignWithOneClient(10);
    const callerId = `cut-caller-${n}`;
    // Cut as Asterisk puts the caller in the bridge: the request was done, its answer never comes.
    cutOn((ev) => ev.type === 'ChannelEnteredBridge' && ev.channel?.id === callerId);
    sim.placeInboundCall({ channelId: callerId, did: c.did, callerNumber: '+12125550302' });
    await waitFor(() => (sim.hears(callerId) === 'bridge' ? true : undefined));
    await restore();
    // Asked once the link is back: bridged, so the call goes on, the leg and its slot kept.
    const lost = async (bridged: boolean) =>
      metricValue(
        (await d.app.inject('/metrics')).body,
        `capconduit_bridge_answers_lost_total{bridged="${bridged}"`,
      ) ?? 0;
    await waitFor(async () => ((await lost(true)) === 1 ? true : undefined));
    expect(await lost(false)).toBe(0);
    expect(up(callerId)).toBe(true);
    expect(sim.hears(callerId)).toBe('bridge');
    expect(
      routing()
        .router!.live()
        .find((x) => x.did === c.did)?.phase,
    ).toBe('bridged');
    expect(sim.channelCount(`PJSIP/${c.endpoint}-`)).toBe(1);
    sim.hangup(callerId, 16);
    const rows = await rowsOnce(() => cdrsOf(c.did));
    expect(rows.map((x) => x.disposition)).toEqual(['answered']);
    await legsAndSlotsBack(sim, c.endpoint, routing().slots, c.linkId);
  });

  it('among hundreds of calls (a channel list of many chunks), a call that ended while the link was down is settled once it is back', async () => {
    await restore(); // whatever the test before left
    const calls = 250;
    const c = await campaignWithOneClient(10, calls);
    const callers = Array.from({ length: calls }, (_, i) => `cut-many-${n}-${i}`);
    for (const [i, id] of callers.entries())
      sim.placeInboundCall({
        channelId: id,
        did: c.did,
        callerNumber: `+1212556${String(i).padStart(4, '0')}`,
      });
    // Every caller and every client leg in their bridge in Asterisk, and every answer back here: the
    // cut fails no request of theirs (a call whose bridging got no answer is hung up, made or not).
    const legs = () => sim.liveChannels().filter((x) => x.name.startsWith(`PJSIP/${c.endpoint}-`));
    const node = [...(d.ctx.modules.get('asterisk') as AsteriskModule).nodes.values()][0]!;
    const idle = () => {
      const l = node.ari.load();
      return [l.http, l.websocket, l.cleanup].every((f) => f.inFlight === 0 && f.queued === 0);
    };
    await waitFor(
      () =>
        callers.every((id) => sim.hears(id) === 'bridge') &&
        legs().length === calls &&
        legs().every((l) => sim.hears(l.id) === 'bridge') &&
        idle(),
    );
    // Three channels a call at ~450 bytes each: far more than one read of the socket.
    expect(JSON.stringify(sim.liveChannels()).length).toBeGreaterThan(4 * 65_536);
    link.cut();
    const gone = callers[calls >> 1]!;
    sim.hangup(gone, 16);
    await waitFor(() => !up(gone));
    await restore();
    // Its client leg hung up and its CDR written; every other call still bridged.
    await rowsOnce(() => cdrsOf(c.did));
    await legsAndSlotsBack(sim, c.endpoint, routing().slots, c.linkId, calls - 1);
    expect((await cdrsOf(c.did)).map((x) => x.disposition)).toEqual(['answered']);
    expect(callers.filter((id) => sim.hears(id) === 'bridge')).toEqual(callers.filter((id) => id !== gone));
    for (const id of callers) if (id !== gone) sim.hangup(id, 16);
    await legsAndSlotsBack(sim, c.endpoint, routing().slots, c.linkId);
  });
});
