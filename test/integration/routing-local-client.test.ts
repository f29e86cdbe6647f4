// A client reached through a `Local/` dial string without `/n`, whose `;2` half answers through
// app_dial (Dial() of the call centre's PJSIP endpoint): the pair has one half in the router's
// ARI bridge and the other in app_dial's, both up. Asterisk never optimises such a pair away
// (ARI bridges inhibit swaps and merges both ways: res_stasis.c bridge_create_common), so the
// Local `;1` stays the call's leg: the call talks and ends from either side, with its CDR, and
// nothing is left in Asterisk.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAsteriskModule } from '../../src/asterisk/index.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { createRoutingModule, type RoutingModule } from '../../src/routing/index.ts';
import { DEFAULT_DIALPLAN, type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { freshDatabase, testConfig } from '../helpers/env.ts';
import { seedCampaign } from '../helpers/seed.ts';
import { simEnv } from '../helpers/sim-env.ts';
import { waitFor } from '../helpers/wait.ts';

const log = createLogger({ level: 'silent' });

describe('routing to a Local/ client answered through app_dial', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let sim: Simulator;
  let d: Daemon;
  let dir: string;
  let routing: RoutingModule;
  let clientId: string;
  const did = '+14155559021';

  beforeAll(async () => {
    db = await freshDatabase();
    dir = mkdtempSync(join(tmpdir(), 'cc-local-client-'));
    const dialplan = join(dir, 'extensions.conf');
    writeFileSync(
      dialplan,
      `${readFileSync(DEFAULT_DIALPLAN, 'utf8')}
[centres]
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
    const seeded = await seedCampaign(d.ctx.database.db, {
      seller: 'local-client',
      campaign: { name: 'lc', strategy: 'priority', maxAttempts: 1 },
      dids: [did],
      clients: [{ name: 'centre-desk', endpoint: 'Local/desk@centres', link: { priority: 0 } }],
    });
    clientId = seeded.links[0]!.clientId;
    routing = d.ctx.modules.get('routing') as RoutingModule;
  });
  afterAll(async () => {
    await d?.stop();
    await sim?.stop();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
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
    expect(live.filter((c) => c.name.startsWith('Local/desk@centres-')).map((c) => c.name.slice(-2))).toEqual(
      [';1', ';2'],
    );
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
