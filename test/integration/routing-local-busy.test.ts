// A client reached through a Local/ dial string whose far side indicates busy or congestion: a real
// Asterisk keeps the Local leg up and reports the result only in the ARI Dial event (dialstatus
// BUSY/CONGESTION), so the router must act on that event to fail over at once. The ring timer here is
// 10 minutes (the most a campaign allows), past the test's wait: a router that waited for the leg to end (or for the timer) would never reach the next client.
// And a Local/ client without `/n` whose `;2` answers through app_dial (Dial() of the call centre's
// PJSIP endpoint): one half in the router's ARI bridge, the other in app_dial's, both up. Asterisk
// never optimises such a pair away (ARI bridges inhibit swaps and merges both ways: res_stasis.c
// bridge_create_common), so `;1` stays the call's leg: the call talks and ends from either side,
// with its CDR, and nothing is left in Asterisk.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAsteriskModule } from '../../src/asterisk/index.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { createRoutingModule, type RoutingModule } from '../../src/routing/index.ts';
import { DEFAULT_DIALPLAN, type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { freshDatabase, testConfig } from '../helpers/env.ts';
import { simEnv } from '../helpers/sim-env.ts';
import { seedCampaign } from '../helpers/seed.ts';
import { waitFor } from '../helpers/wait.ts';

const log = createLogger({ level: 'silent' });

describe('routing to Local/ clients', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let sim: Simulator;
  let d: Daemon;
  let dir: string;

  beforeAll(async () => {
    db = await freshDatabase();
    dir = mkdtempSync(join(tmpdir(), 'cc-local-busy-'));
    // The project's dialplan plus call centres reached through Local/: one busy, one congested
    // (each indicating for good, never hanging up), one that answers.
    const { readFileSync } = await import('node:fs');
    const dialplan = join(dir, 'extensions.conf');
    writeFileSync(
      dialplan,
      `${readFileSync(DEFAULT_DIALPLAN, 'utf8')}
[centres]
exten => busy,1,Busy()
exten => congested,1,Congestion()
exten => answers,1,Answer()
 same => n,Wait(3600)
exten => desk,1,Dial(PJSIP/deskep,30)
`,
    );
    sim = await startSimulator({
      ariPort: 0,
      amiPort: 0,
      dialplanPath: dialplan,
      endpoints: { deskep: { result: 'answer', answerAfterMs: 20 } },
    });
    d = await startDaemon(
      testConfig({ DATABASE_URL: db.url, ...simEnv(sim), CDR_BUFFER_DIR: join(dir, 'cdr') }),
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

  it('fails over at once on Dial BUSY and CONGESTION and records them as such', async () => {
    const dbx = d.ctx.database.db;
    const did = '+14155559001';
    const seeded = await seedCampaign(dbx, {
      seller: 'local-busy',
      campaign: { name: 'lb', strategy: 'priority', maxAttempts: 3, ringTimeoutS: 600 },
      dids: [did],
      clients: ['busy', 'congested', 'answers'].map((exten, i) => ({
        name: `centre-${exten}`,
        endpoint: `Local/${exten}@centres`,
        link: { priority: i },
      })),
    });
    const ids = seeded.links.map((l) => l.clientId);
    const routing = d.ctx.modules.get('routing') as RoutingModule;
    const caller = sim.placeInboundCall({ did, callerNumber: '+12125550077' });
    await waitFor(() => routing.router!.live().find((x) => x.did === did && x.phase === 'bridged'));
    sim.hangup(caller);
    const cdr = async () => {
      await routing.cdr.flush();
      return d.ctx.database.sql<
        Array<{
          disposition: string;
          client_id: string;
          attempts: Array<{ result: string; client_id: string }>;
        }>
      >`select disposition, client_id, attempts from call_records where did = ${did}`;
    };
    const [r] = await waitFor(async () => ((await cdr()).length ? cdr() : undefined));
    expect(r!.attempts.map((a) => [a.result, a.client_id])).toEqual([
      ['busy', ids[0]],
      ['congestion', ids[1]],
      ['answered', ids[2]],
    ]);
    expect(r).toMatchObject({ disposition: 'answered', client_id: ids[2] });
    // The busy and congested legs were hung up by the router, not left indicating.
    await waitFor(
      () => sim.channelCount('Local/busy@centres') === 0 && sim.channelCount('Local/congested@centres') === 0,
    );
  });

  describe('a Local/ client answered through app_dial', () => {
    const did = '+14155559021';
    let routing: RoutingModule;
    let clientId: string;
    beforeAll(async () => {
      const seeded = await seedCampaign(d.ctx.database.db, {
        seller: 'local-client',
        campaign: { name: 'lc', strategy: 'priority', maxAttempts: 1 },
        dids: [did],
        clients: [{ name: 'centre-desk', endpoint: 'Local/desk@centres', link: { priority: 0 } }],
      });
      clientId = seeded.links[0]!.clientId;
      routing = d.ctx.modules.get('routing') as RoutingModule;
    });

    const records = async (caller: string) => {
      await routing.cdr.flush();
      return d.ctx.database.sql<Array<{ disposition: string; client_id: string }>>`
      select disposition, client_id from call_records where caller_channel_id = ${caller}`;
    };

    /** A routed call bridged to the Local client, whose `;2` is in app_dial's bridge with the desk. */
    const bridgedCall = async () => {
      const caller = sim.placeInboundCall({ did, callerNumber: '+12125550078' });
      await waitFor(() => routing.router!.live().find((x) => x.did === did && x.phase === 'bridged'));
      // The desk answered through app_dial: its PJSIP channel is up beside the pair.
      await waitFor(() =>
        sim.liveChannels().some((c) => c.name.startsWith('PJSIP/deskep-') && c.state === 'Up'),
      );
      const live = sim.liveChannels();
      expect(
        live.filter((c) => c.name.startsWith('Local/desk@centres-')).map((c) => c.name.slice(-2)),
      ).toEqual([';1', ';2']);
      return { caller, desk: live.find((c) => c.name.startsWith('PJSIP/deskep-'))!.id };
    };

    const ended = async (caller: string) => {
      await waitFor(() => !routing.router!.live().some((x) => x.did === did));
      const [r] = await waitFor(async () => {
        const rows = await records(caller);
        return rows.length ? rows : undefined;
      });
      expect(r).toMatchObject({ disposition: 'answered', client_id: clientId });
      // Nothing left in Asterisk: the caller, both halves and the desk are gone.
      await waitFor(() => sim.channelCount() === 0);
    };

    it('the caller hanging up ends the call through the pair and the desk', async () => {
      const { caller } = await bridgedCall();
      sim.hangup(caller);
      await ended(caller);
    });

    it('the desk hanging up ends app_dial, then the pair, then the call', async () => {
      const { caller, desk } = await bridgedCall();
      sim.hangup(desk);
      await ended(caller);
    });
  });
});
