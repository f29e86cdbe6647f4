// This process falling behind its own work (its event loop late), while Asterisk answers in time:
// new calls are shed as when a node falls behind (congestion at once, a CDR saying `shed`, counted
// by cause in /metrics, /ready degraded naming it), and admitted again once the loop has been calm
// for a few windows. The loop's delay is read through an injected sampler, so the test makes the
// process behind and calm again at will, whatever the machine's load.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAsteriskModule } from '../../src/asterisk/index.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { createRoutingModule, type RoutingModule } from '../../src/routing/index.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { freshDatabase, testConfig } from '../helpers/env.ts';
import { simEnv } from '../helpers/sim-env.ts';
import { seedCampaign } from '../helpers/seed.ts';
import { waitFor } from '../helpers/wait.ts';

const log = createLogger({ level: 'silent' });

describe('calls while this process falls behind its own event loop', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let sim: Simulator;
  let d: Daemon;
  let dir: string;
  /** What the injected sampler reports as the loop's delay (ms) for each window. */
  let delayMs = 0;
  const destroyed = new Map<string, number>();

  const routing = () => d.ctx.modules.get('routing') as RoutingModule;
  const ready = async () => {
    const r = await d.app.inject('/ready');
    return { code: r.statusCode, body: r.json() as { status: string; degraded: string[] } };
  };
  const metric = async (line: RegExp) => {
    const text = (await d.app.inject('/metrics')).body;
    return Number(line.exec(text)?.[1] ?? 0);
  };
  const cdrOf = async (caller: string) => {
    await routing().cdr.flush();
    const r = await d.ctx.database.sql<Array<{ disposition: string }>>`
      select disposition from call_records where caller_number = ${caller}`;
    return r.length ? r : undefined;
  };

  beforeAll(async () => {
    db = await freshDatabase();
    dir = mkdtempSync(join(tmpdir(), 'cc-loop-shed-'));
    sim = await startSimulator({ ariPort: 0, amiPort: 0 });
    sim.events.on('channel-destroyed', (id: string, cause: number) => destroyed.set(id, cause));
    d = await startDaemon(
      testConfig({
        DATABASE_URL: db.url,
        ...simEnv(sim),
        CDR_BUFFER_DIR: join(dir, 'cdr'),
        EVENT_LOOP_SHED_MS: '1000',
        EVENT_LOOP_RESUME_MS: '500',
      }),
      log,
      [createAsteriskModule, (ctx) => createRoutingModule(ctx, { loopSampler: () => delayMs })],
      { listen: false },
    );
    await waitFor(async () => (await ready()).body.status === 'ready');
  });
  afterAll(async () => {
    await d?.stop();
    await sim?.stop();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('sheds new calls while the loop is late, says so in /ready and /metrics, and admits them once it is calm', async () => {
    const dbx = d.ctx.database.db;
    const did = '+14157770001';
    sim.setEndpoint('loop-client', { answerAfterMs: 10 });
    await seedCampaign(dbx, {
      seller: 'loop',
      campaign: { name: 'loop', strategy: 'priority' },
      dids: [did],
      clients: [{ name: 'loop', endpoint: 'loop-client', link: { concurrencyCap: 5 } }],
    });

    // Late: the next reading says so; /ready stays 200 (the instance works) and names the cause.
    delayMs = 5000;
    const behind = await waitFor(async () => {
      const r = await ready();
      return r.body.degraded.includes('event-loop') && r;
    });
    expect(behind.code).toBe(200);
    expect(behind.body.status).toBe('degraded');
    expect(await metric(/^capconduit_event_loop_behind(?:\{[^}]*\})? (\S+)$/m)).toBe(1);

    // A new call is refused at once with congestion (cause 34), and its CDR says shed.
    const shed = sim.placeInboundCall({ did, callerNumber: '+12125552001' });
    await waitFor(() => destroyed.has(shed));
    expect(destroyed.get(shed)).toBe(34);
    expect((await waitFor(() => cdrOf('+12125552001')))[0]!.disposition).toBe('shed');
    expect(sim.channelCount('PJSIP/loop-client-')).toBe(0);
    expect(await metric(/^capconduit_calls_shed_total\{[^}]*cause="event_loop"[^}]*\} (\S+)$/m)).toBe(1);

    // Calm again: after a few calm windows the instance is ready and a new call is routed.
    delayMs = 10;
    await waitFor(async () => (await ready()).body.status === 'ready');
    expect(await metric(/^capconduit_event_loop_behind(?:\{[^}]*\})? (\S+)$/m)).toBe(0);
    const ok = sim.placeInboundCall({ did, callerNumber: '+12125552002' });
    await waitFor(
      () =>
        routing()
          .router!.live()
          .find((x) => x.caller === '+12125552002')?.phase === 'bridged',
    );
    sim.hangup(ok, 16);
    expect((await waitFor(() => cdrOf('+12125552002')))[0]!.disposition).toBe('answered');
    expect(await metric(/^capconduit_calls_shed_total\{[^}]*cause="event_loop"[^}]*\} (\S+)$/m)).toBe(1);
  });
});
